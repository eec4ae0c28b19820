"""``polyalpaca judge-parse``: what the parsers read in judge answers.

* Per answer: a JSON Lines file with a ``judgment`` field (other fields ignored) -> one
  ``{"value": ..., "error": ...}`` per line, in order, with the parser of one format.
* Per judge and template: the score files of a finished run keep the raw judge answers (``raw``;
  ``raw_ab``/``raw_ba`` for pairwise), so the current parsers are run over them again and the answers
  are counted as parsed or unparsed, with the reasons. Only the last answer of an item is kept in
  its record, so an answer a parse retry replaced is not seen here (the record's ``unparsed`` counts it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ...errors import ConfigError
from ...io import iter_jsonl
from .parsers import (
    parse_binary_0_1,
    parse_criteria_json,
    parse_pair_scores,
    parse_pair_verdict,
    parse_rating,
    parse_vicuna_pair,
)
from .templates import BUILTIN, TEMPLATE_DIR, builtin_template_path, load_template
from .verdicts import Parsed

FORMATS = ("rating", "criteria", "pair", "pair-scores", "vicuna-pair", "binary")
# a template's output_format -> the audit's format name
_BY_OUTPUT_FORMAT = {"rating_1_3": "rating", "criteria_json": "criteria", "pair_verdict": "pair",
                     "pair_scores": "pair-scores", "vicuna_pair": "vicuna-pair", "binary_0_1": "binary"}
DEFAULT_CRITERIA = ("helpfulness", "language_correctness", "fluency", "factual_accuracy", "logical_coherence",
                    "harmlessness")


def parse_scale(text: str) -> tuple[int, ...]:
    """``"1-10"`` -> (1, ..., 10)."""
    try:
        low, high = (int(part) for part in text.split("-"))
    except ValueError:
        raise ConfigError(f"--scale {text!r}: expected LOW-HIGH, e.g. 1-10") from None
    if low > high:
        raise ConfigError(f"--scale {text!r}: LOW is above HIGH")
    return tuple(range(low, high + 1))


def parser_for(fmt: str, scale: tuple[int, ...] = (1, 2, 3),
               criteria: tuple[str, ...] = DEFAULT_CRITERIA) -> Callable[[str | None], Parsed]:
    parsers = {
        "rating": lambda text: parse_rating(text, scale),
        "criteria": lambda text: parse_criteria_json(text, criteria),
        "pair": parse_pair_verdict,
        "pair-scores": parse_pair_scores,
        "vicuna-pair": parse_vicuna_pair,
        "binary": parse_binary_0_1,
    }
    if fmt not in parsers:
        raise ConfigError(f"--format {fmt!r}: one of {', '.join(FORMATS)}")
    return parsers[fmt]


def _has_judgment(record: dict) -> None:
    if "judgment" not in record:
        raise ValueError("no 'judgment' field")
    if record["judgment"] is not None and not isinstance(record["judgment"], str):
        raise ValueError(f"'judgment' is not text: {record['judgment']!r}")


def parse_lines(path: str | Path, parse: Callable[[str | None], Parsed], on_bad_line: str = "fail") -> Iterator[dict]:
    """One ``{"value", "error"}`` per record of ``path``, in order."""
    if not Path(path).is_file():
        raise ConfigError(f"{path}: no such file")
    for record in iter_jsonl(path, on_bad_line=on_bad_line, check=_has_judgment):
        parsed = parse(record["judgment"])
        value = list(parsed.value) if isinstance(parsed.value, tuple) else parsed.value
        yield {"value": value, "error": parsed.error}


# ---------------------------------------------------------------- a run's score files
@dataclass
class ParseCount:
    """Answers of one judge and template: how many the current parser reads, and why not the others."""

    answers: int = 0
    parsed: int = 0
    reasons: Counter = field(default_factory=Counter)

    @property
    def unparsed(self) -> int:
        return self.answers - self.parsed

    @property
    def share(self) -> float:
        return self.unparsed / self.answers if self.answers else float("nan")

    def add(self, parsed: Parsed) -> None:
        self.answers += 1
        if parsed.ok:
            self.parsed += 1
        else:
            self.reasons[parsed.reason or "other"] += 1


def record_format(record: dict) -> str:
    """The output format a score record's answers were asked in: its built-in template's, else its fields'."""
    label = record.get("template")
    if label in BUILTIN.values():
        kind = next(k for k, name in BUILTIN.items() if name == label)
        return _BY_OUTPUT_FORMAT[load_template(builtin_template_path(kind), kind).output_format]
    if label and (TEMPLATE_DIR / f"{label}.yaml").is_file() and "raw_ab" in record:  # another built-in pairwise
        return _BY_OUTPUT_FORMAT[load_template(TEMPLATE_DIR / f"{label}.yaml", "judge_pairwise").output_format]
    if "raw_ab" in record:
        return "pair-scores" if "scores_ab" in record else "pair"
    if "criteria" in record:
        return "criteria"
    return "rating" if "rating" in record else "binary"


def _raw_answers(record: dict) -> list[str]:
    return [record[key] for key in ("raw", "raw_ab", "raw_ba") if isinstance(record.get(key), str)]


def score_files(paths: Iterable[str | Path]) -> list[Path]:
    """The ``.jsonl`` files of ``paths`` (directories are searched recursively)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(path.rglob("*.jsonl")))
        elif path.is_file():
            files.append(path)
        else:
            raise ConfigError(f"{path}: no such file or directory")
    return files


def audit_scores(paths: Iterable[str | Path], *, scale: tuple[int, ...] = (1, 2, 3),
                 on_bad_line: str = "fail") -> dict[tuple[str, str], ParseCount]:
    """(judge, template) -> counts over every judge answer kept in the score files under ``paths``."""
    counts: dict[tuple[str, str], ParseCount] = {}
    for path in score_files(paths):
        for record in iter_jsonl(path, on_bad_line=on_bad_line):
            answers = _raw_answers(record)
            if "judge" not in record or not answers:  # not a judge metric, or nothing was judged
                continue
            fmt = record_format(record)
            criteria = tuple(record["criteria"]) if isinstance(record.get("criteria"), dict) else DEFAULT_CRITERIA
            parse = parser_for(fmt, scale, criteria)
            count = counts.setdefault((record["judge"], record.get("template", "?")), ParseCount())
            for text in answers:
                count.add(parse(text))
    return counts


def format_counts(counts: dict[tuple[str, str], ParseCount]) -> str:
    """A table: one line per judge and template, and the total."""
    lines = [f"{'judge':<20} {'template':<16} {'answers':>7} {'parsed':>7} {'unparsed':>8} {'share':>6}  reasons"]
    total = ParseCount()
    for (judge, template), count in sorted(counts.items()):
        reasons = ", ".join(f"{reason}: {n}" for reason, n in count.reasons.most_common())
        lines.append(f"{judge:<20} {template:<16} {count.answers:>7} {count.parsed:>7} {count.unparsed:>8} "
                     f"{count.share:>6.3f}  {reasons or '-'}")
        total.answers += count.answers
        total.parsed += count.parsed
        total.reasons.update(count.reasons)
    lines.append(f"{'total':<37} {total.answers:>7} {total.parsed:>7} {total.unparsed:>8} {total.share:>6.3f}")
    return "\n".join(lines)
