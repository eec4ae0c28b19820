"""Language correctness: does the response's identified language match the prompt's language?

Per response: ``value`` 1.0/0.0, the raw model ``label``, ``pred_lang`` (our ISO code, None when the
label is outside the config's table) and ``prob``. An empty response has no value (``error``).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..errors import ConfigError
from ..io import iter_jsonl, write_jsonl
from ..lid import LID_MODELS, LanguageIdentifier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LidParams:
    """Which LID model (``metrics.<m>.lid_model``) and where OpenLID is (``evaluate.openlid_path``)."""

    model: str = "lid176"
    openlid_path: str | None = None

    def __post_init__(self):
        if self.model not in LID_MODELS:
            raise ConfigError(f"lid_model: {self.model!r} is not one of {', '.join(LID_MODELS)}")

    def identifier(self, languages: Mapping[str, Mapping]) -> LanguageIdentifier:
        path = self.openlid_path if self.model == "openlid" else None
        return LanguageIdentifier(self.model, path=path, languages=languages)


def _check_generation(record: dict) -> None:
    for key in ("id", "lang", "response"):
        if key not in record:
            raise ValueError(f"generation record has no {key!r}")
    if not isinstance(record["response"], str):
        raise ValueError(f"generation {record['id']!r}: 'response' is not a string")


def lid_score_records(records: list[dict], metric: str, identifier: LanguageIdentifier) -> list[dict]:
    """Score records for generation records (same order)."""
    predictions = identifier.predict([r["response"] for r in records])
    scores = []
    for rec, pred in zip(records, predictions):
        base = {"id": rec["id"], "lang": rec["lang"], "metric": metric}
        if pred.label is None:
            scores.append({**base, "value": None, "error": "empty response"})
        else:
            scores.append({**base, "value": 1.0 if pred.lang == rec["lang"] else 0.0, "label": pred.label,
                           "pred_lang": pred.lang, "prob": round(pred.prob, 6)})
    return scores


def score_lid(generations_path: str | Path, output_path: str | Path, metric: str,
              languages: Mapping[str, Mapping], params: LidParams = LidParams(), on_bad_line: str = "fail") -> int:
    """Write one LID score record per generation record; returns the count."""
    records = list(iter_jsonl(generations_path, on_bad_line=on_bad_line, check=_check_generation))
    scores = lid_score_records(records, metric, params.identifier(languages))
    values = [s["value"] for s in scores if s["value"] is not None]
    log.info("%s: %d responses, %d in the prompt's language, %d empty; predicted: %s", generations_path,
             len(scores), int(sum(values)), len(scores) - len(values),
             dict(Counter(s.get("pred_lang") or s.get("label") for s in scores if s["value"] is not None)))
    return write_jsonl(output_path, scores)
