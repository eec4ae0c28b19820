"""Read score files into one row per (prompt, metric or sub-metric), with the aggregation of each kind.

Sub-metrics are derived from kind-specific fields of the score records:

- ``judge_single``: ``<m>`` = rating x LID match (``value``), ``<m>.before_lid`` = the rating before
  the LID check (``rating``), ``<m>.lid_gap`` = their difference per prompt (Chen et al., figure 6);
- ``judge_criteria``: ``<m>`` = mean of the scored criteria, ``<m>.<criterion>`` per criterion
  (a criterion the judge skipped, ``null``, counts as skipped, not as an error);
- ``judge_pairwise``: ``<m>`` = 1 win / 0.5 tie / 0 loss, ``<m>.win|tie|loss`` as 0/1 indicators.

A record with ``"value": null`` could not be scored: it is counted as an error, never dropped silently.
A judge record also counts the judge answers it used (``answered``) and those that gave no usable
verdict (``unparsed``), kept per prompt on the metric's own row (``NaN`` for other metrics and for
records written before the counts existed).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd

from ..errors import DataError
from ..io import iter_jsonl
from .specs import ScoreInput

log = logging.getLogger(__name__)

CRITERIA = ("helpfulness", "language_correctness", "fluency", "factual_accuracy", "logical_coherence",
            "harmlessness")
PAIRWISE_OUTCOMES = {"win": 1.0, "tie": 0.5, "loss": 0.0}

# How a run's prompts are aggregated into one number, per metric kind. Chen et al. sum the 0-3 judge
# scores over the test set (0-150 for 50 prompts); every other metric is a mean over prompts.
AGGREGATION_BY_KIND = {
    "lid": "mean",
    "spellcheck": "mean",
    "relevance": "mean",
    "judge_single": "sum",
    "judge_criteria": "mean",
    "judge_pairwise": "mean",
}
# Allowed values per kind (a value outside is a bad record, reported as path:line).
VALUE_RANGE = {
    "lid": (0.0, 1.0), "spellcheck": (0.0, 1.0), "relevance": (0.0, 1.0), "judge_single": (0.0, 3.0),
    "judge_criteria": (1.0, 3.0), "judge_pairwise": (0.0, 1.0),
}
PROMPT_COLUMNS = ["model", "trainset", "tuning", "testset", "lang", "metric", "kind", "id", "value", "error", "skipped",
                  "answered", "unparsed"]
KEY_COLUMNS = ["model", "trainset", "tuning", "testset", "lang", "metric"]


def submetrics(metric: str, kind: str) -> list[str]:
    """The metric and the sub-metrics derived from it, in table order."""
    if kind == "judge_single":
        return [metric, f"{metric}.before_lid", f"{metric}.lid_gap"]
    if kind == "judge_criteria":
        return [metric] + [f"{metric}.{c}" for c in CRITERIA]
    if kind == "judge_pairwise":
        return [metric] + [f"{metric}.{o}" for o in PAIRWISE_OUTCOMES]
    return [metric]


def aggregation(kind: str) -> str:
    try:
        return AGGREGATION_BY_KIND[kind]
    except KeyError:
        raise ValueError(f"no aggregation defined for metric kind {kind!r}") from None


def _number(value, what: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"{what} must be a number or null, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{what} {value!r} is outside [{lo:g}, {hi:g}]")
    return float(value)


def _record_values(record: dict, inp: ScoreInput) -> dict[str, float | None]:
    """sub-metric -> value (None: skipped criterion) for one scored record; raises ValueError if malformed."""
    lo, hi = VALUE_RANGE[inp.kind]
    value = _number(record["value"], "'value'", lo, hi)
    m = inp.metric
    if inp.kind == "judge_single":
        if record.get("rating") is None:
            raise ValueError("a judge_single record with a value needs 'rating' (the score before the LID check)")
        rating = _number(record["rating"], "'rating'", 1.0, 3.0)
        if value > rating:
            raise ValueError(f"'value' {value:g} is larger than 'rating' {rating:g}")
        return {m: value, f"{m}.before_lid": rating, f"{m}.lid_gap": rating - value}
    if inp.kind == "judge_criteria":
        crit = record.get("criteria")
        if not isinstance(crit, dict):
            raise ValueError("a judge_criteria record with a value needs a 'criteria' object")
        out = {m: value}
        for c in CRITERIA:
            v = crit.get(c)
            out[f"{m}.{c}"] = None if v is None else _number(v, f"criteria.{c}", 1.0, 3.0)
        return out
    if inp.kind == "judge_pairwise":
        if value not in PAIRWISE_OUTCOMES.values():
            raise ValueError(f"a pairwise 'value' must be 1, 0.5 or 0, got {value!r}")
        return {m: value, **{f"{m}.{o}": float(value == v) for o, v in PAIRWISE_OUTCOMES.items()}}
    return {m: value}


def _answer_counts(record: dict) -> dict:
    """``answered``/``unparsed`` of a judge record (both counted by the judge stage), else nothing."""
    answered, unparsed = record.get("answered"), record.get("unparsed")
    if isinstance(answered, int) and isinstance(unparsed, int) and 0 <= unparsed <= answered:
        return {"answered": answered, "unparsed": unparsed}
    return {}


def read_score_file(inp: ScoreInput, on_bad_line: str = "fail") -> list[dict]:
    """Rows (one per prompt and sub-metric) of one score file; errors name ``path:line``."""
    rows: list[dict] = []
    seen: set = set()
    names = submetrics(inp.metric, inp.kind)
    base = {"model": inp.model, "trainset": inp.trainset, "tuning": inp.tuning, "testset": inp.testset,
            "lang": inp.lang, "kind": inp.kind}

    def check(record: dict) -> None:
        for key in ("id", "value"):
            if key not in record:
                raise ValueError(f"missing {key!r}")
        if record.get("lang", inp.lang) != inp.lang:
            raise ValueError(f"'lang' is {record['lang']!r} but the file is for {inp.lang!r}")
        if record.get("metric", inp.metric) != inp.metric:
            raise ValueError(f"'metric' is {record['metric']!r} but the file is for {inp.metric!r}")
        if record["id"] in seen:
            raise ValueError(f"duplicate id {record['id']!r}")
        values = None if record["value"] is None else _record_values(record, inp)
        seen.add(record["id"])
        record["_values"] = values

    n_errors = 0
    for record in iter_jsonl(inp.path, on_bad_line=on_bad_line, check=check):
        values = record["_values"]
        answers = _answer_counts(record)
        if values is None:
            n_errors += 1
            for name in names:
                rows.append({**base, "metric": name, "id": record["id"], "value": math.nan, "error": True,
                             "skipped": False, **(answers if name == inp.metric else {})})
            continue
        for name in names:
            v = values[name]
            rows.append({**base, "metric": name, "id": record["id"], "value": math.nan if v is None else v,
                         "error": False, "skipped": v is None, **(answers if name == inp.metric else {})})
    if n_errors:
        log.debug("%s: %d of %d prompts have no value (errors)", inp.path, n_errors, len(seen))
    if not seen:
        log.warning("%s: no records", inp.path)
    return rows


def not_judged(inputs: list[ScoreInput]) -> set[str]:
    """Score files whose every record says the run was not judged by design (``not_selected``: the study's
    LR selection did not choose it). Figures leave these runs out; tables list them, as errors."""
    out = set()
    for inp in inputs:
        path = Path(inp.path)
        if path.is_file():
            flags = [bool(r.get("not_selected")) for r in iter_jsonl(path, on_bad_line="skip")]
            if flags and all(flags):
                out.add(inp.path)
    return out


def load_prompt_scores(inputs: list[ScoreInput], on_bad_line: str = "fail") -> pd.DataFrame:
    """One row per (score file record, sub-metric); ``value`` NaN for errors and skipped criteria.

    Missing files are reported all at once, so a failed study lists everything it lacks.
    """
    missing = [inp.path for inp in inputs if not Path(inp.path).is_file()]
    if missing:
        shown = "\n  ".join(missing[:50]) + (f"\n  ... and {len(missing) - 50} more" if len(missing) > 50 else "")
        raise DataError(f"{len(missing)} of {len(inputs)} score files are missing:\n  {shown}")
    rows: list[dict] = []
    files_with_errors = prompts_with_errors = 0
    for inp in inputs:
        file_rows = read_score_file(inp, on_bad_line)
        errors = sum(r["error"] for r in file_rows if r["metric"] == inp.metric)
        files_with_errors += errors > 0
        prompts_with_errors += errors
        rows.extend(file_rows)
    if files_with_errors:
        log.warning("%d of %d score files have prompts without a value (%d prompts in all); "
                    "they are counted in n_errors", files_with_errors, len(inputs), prompts_with_errors)
    frame = pd.DataFrame(rows, columns=PROMPT_COLUMNS)
    frame["value"] = frame["value"].astype(float)
    frame["error"] = frame["error"].astype(bool)
    frame["skipped"] = frame["skipped"].astype(bool)
    frame["answered"] = frame["answered"].astype(float)
    frame["unparsed"] = frame["unparsed"].astype(float)
    return frame


def require_scores(frame: pd.DataFrame, inputs: list[ScoreInput], what: str) -> None:
    """Fail with the list of inputs when none of them holds a single value."""
    if frame["value"].notna().any():
        return
    shown = "\n  ".join(inp.path for inp in inputs[:50])
    more = f"\n  ... and {len(inputs) - 50} more" if len(inputs) > 50 else ""
    n_err = int(frame.loc[frame["metric"].isin({i.metric for i in inputs}), "error"].sum())
    raise DataError(f"{what}: no scores in any of its {len(inputs)} score files "
                    f"({n_err} records are errors, the rest are empty):\n  {shown}{more}")
