"""Audit a language-ID setting on texts whose language is known: accuracy and confusions per language.

Used three ways: ``polyalpaca lid-audit FILE...`` (any of the project's source formats), the log of
every LID scoring job, and the per-language LID ceiling of a study (the LID metric run on the test
prompts themselves, see :mod:`polyalpaca.evaluate.lid_score`). Everything here reads LID score
records (``value``, ``pred_lang``, ``label``, ``uncertain``), so the three agree by construction.

A record without a value (empty text, or no language found) counts against accuracy, as ``none``;
an uncertain prediction counts as its ``value`` says (a match by default) and is reported apart.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .errors import ConfigError, DataError

log = logging.getLogger(__name__)

NONE = "none"
LANG_SUFFIX = re.compile(r"_([a-z]{2,3})$")


@dataclass
class LanguageAudit:
    """Outcomes of one language's records."""

    lang: str
    n: int = 0
    matches: int = 0
    uncertain: int = 0
    confusions: Counter = field(default_factory=Counter)  # what a mismatch was taken for -> count

    @property
    def accuracy(self) -> float:
        return self.matches / self.n if self.n else math.nan

    def confusion_text(self) -> str:
        """``da:17 en:2 sv:2``: most frequent first, ties by name."""
        return " ".join(f"{k}:{v}" for k, v in sorted(self.confusions.items(), key=lambda kv: (-kv[1], kv[0])))

    def line(self) -> str:
        """``no 29/50 da:17 en:2 sv:2`` (+ `` uncertain:3`` when some predictions were uncertain)."""
        parts = [f"{self.lang} {self.matches}/{self.n}", self.confusion_text()]
        if self.uncertain:
            parts.append(f"uncertain:{self.uncertain}")
        return " ".join(p for p in parts if p)


def audit_scores(scores: Iterable[Mapping]) -> dict[str, LanguageAudit]:
    """Per language (in order of appearance), from LID score records."""
    out: dict[str, LanguageAudit] = {}
    for rec in scores:
        audit = out.setdefault(rec["lang"], LanguageAudit(rec["lang"]))
        audit.n += 1
        audit.uncertain += bool(rec.get("uncertain"))
        if rec.get("value") == 1.0:
            audit.matches += 1
        elif rec.get("value") is None:
            audit.confusions[NONE] += 1
        else:  # what it was taken for: a label outside the table by its raw name; no candidate scored: the top label
            audit.confusions[rec.get("pred_lang") or rec.get("label") or rec.get("top_label") or NONE] += 1
    return out


def total_line(audits: Mapping[str, LanguageAudit]) -> str:
    n = sum(a.n for a in audits.values())
    matches = sum(a.matches for a in audits.values())
    return f"accuracy={matches / n if n else math.nan:.4f} n={n}"


# ---------------------------------------------------------------- reading texts of any project format
def record_text(record: dict) -> str:
    """The text to identify in a record of one of the project's formats (raises ValueError otherwise):
    a generation's ``response``, a test prompt's ``prompt``, Vicuna's first turn, LIMA's first exchange,
    or instruction + input/context + output/response of Alpaca, Dolly, AlpacaFarm and source records."""
    def text(key: str) -> str:
        value = record.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValueError(f"field {key!r} is not a string")
        return value

    if "prompt" in record:
        return text("response") if "response" in record else text("prompt")
    if "turns" in record or "conversations" in record:
        key = "turns" if "turns" in record else "conversations"
        turns = record[key]
        if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
            raise ValueError(f"{key!r} is not a non-empty list of strings")
        return turns[0] if key == "turns" else "\n".join(turns[:2])
    if "instruction" in record:
        parts = [text("instruction"), text("input") or text("context"), text("output") or text("response")]
        return "\n".join(p for p in parts if p)
    raise ValueError("no text to identify (expected 'response', 'prompt', 'turns', 'conversations' or 'instruction')")


def file_lang(path: Path) -> str | None:
    """``test_no.jsonl`` -> ``no``: the ``_{lang}`` suffix of the file name, if any."""
    stem = path.name.split(".")[0]
    match = LANG_SUFFIX.search(stem)
    return match.group(1) if match else None


def read_audit_records(paths: Sequence[str | Path], languages: Mapping, on_bad_line: str = "fail") -> list[dict]:
    """``{"id", "lang", "text", "where"}`` per record of the files; the language is the record's
    ``lang`` or the file name's ``_{lang}`` suffix, and must be a key of ``languages``."""
    from .data.readers import BadRecord, iter_raw

    out: list[dict] = []
    for path in map(Path, paths):
        fallback = file_lang(path)
        before = len(out)
        for item in iter_raw(path):
            try:
                if isinstance(item, BadRecord):
                    raise item
                where, record = item
                lang = record.get("lang", fallback)
                if lang is None:
                    raise BadRecord(where, "no 'lang' field and no _{lang} suffix in the file name")
                if lang not in languages:
                    raise BadRecord(where, f"language {lang!r} is not in the config's languages "
                                           f"({', '.join(sorted(languages))})")
                try:
                    text = record_text(record)
                except ValueError as err:
                    raise BadRecord(where, str(err)) from None
            except BadRecord as err:
                if on_bad_line == "fail":
                    raise DataError(str(err)) from None
                log.warning("skipping bad line %s", err)
                continue
            out.append({"id": str(record.get("id", where)), "lang": lang, "text": text, "where": where})
        if len(out) == before:
            log.warning("%s: no records", path)
    if not out:
        raise DataError(f"no records to audit in {', '.join(map(str, paths))}")
    return out


def resolve_candidates(value: str | None, records: list[dict]) -> list[str] | None:
    """``all`` (or None) -> None; ``study`` -> the audited records' languages; ``en,fr`` -> a list."""
    if value is None or value == "all":
        return None
    if value == "study":
        return list(dict.fromkeys(r["lang"] for r in records))
    codes = [c.strip() for c in value.split(",") if c.strip()]
    if not codes:
        raise ConfigError(f"--candidates {value!r}: expected all, study or comma-separated language codes")
    return codes


def run_audit(paths: Sequence[str | Path], languages: Mapping, *, model: str = "lid176",
              candidates: str | None = None, equivalents: Mapping | None = None, min_prob: float | None = None,
              uncertain: str = "match", openlid_path: str | None = None,
              on_bad_line: str = "fail") -> tuple[dict[str, LanguageAudit], list[dict]]:
    """Identify the language of every record of ``paths``; returns the audit and the score records."""
    from .evaluate.lid_score import LidParams, lid_score_records

    records = read_audit_records(paths, languages, on_bad_line)
    params = LidParams(model=model, openlid_path=openlid_path,
                       candidates=resolve_candidates(candidates, records), equivalents=equivalents or {},
                       min_prob=min_prob, uncertain=uncertain)
    scores = lid_score_records(records, "lid-audit", params.identifier(languages), params, text_field="text",
                               candidates_key="--candidates")
    return audit_scores(scores), scores
