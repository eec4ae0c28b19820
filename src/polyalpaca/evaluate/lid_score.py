"""Language correctness: does the response's identified language match the prompt's language?

Per response: ``value`` 1.0/0.0; the raw ``label`` chosen (the best among the metric's candidate
languages when it has a candidate set), ``pred_lang`` (our ISO code of that label, None when it is
outside the config's table or no candidate got any probability) and ``prob``; the model's own top
label ``top_label`` / ``top_prob``; ``uncertain: true`` when ``prob`` is below the metric's
``min_prob`` (then ``value`` is 1.0 unless the metric says ``uncertain: predicted``). An empty
response, or one in which the model finds no language, has no value (``error``).

The same scoring runs on the test prompts themselves (:func:`score_lid` with ``text_field="prompt"``):
their language is known by construction, so the share of matches is the LID ceiling of a language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ..errors import ConfigError
from ..io import iter_jsonl, write_jsonl
from ..lid import LID_MODELS, LanguageIdentifier, normalize_text
from ..lid_audit import audit_scores

log = logging.getLogger(__name__)

UNCERTAIN = ("match", "predicted")


@dataclass(frozen=True)
class LidParams:
    """A LID metric's settings (``metrics.<m>``), resolved for one test set.

    ``candidates``: ISO codes a prediction is restricted to (None: every language the model knows);
    ``equivalents``: ISO code -> more raw labels of that language; ``min_prob``/``uncertain``: below
    ``min_prob`` a prediction is uncertain and counts as a match (``match``) or as it is (``predicted``).
    """

    model: str = "lid176"
    openlid_path: str | None = None
    candidates: tuple[str, ...] | None = None
    equivalents: Mapping[str, list[str]] = field(default_factory=dict)
    min_prob: float | None = None
    uncertain: str = "match"

    def __post_init__(self):
        if self.model not in LID_MODELS:
            raise ConfigError(f"lid_model: {self.model!r} is not one of {', '.join(LID_MODELS)}")
        if self.uncertain not in UNCERTAIN:
            raise ConfigError(f"uncertain: {self.uncertain!r} is not one of {', '.join(UNCERTAIN)}")
        if self.min_prob is not None and not 0.0 <= self.min_prob <= 1.0:
            raise ConfigError(f"min_prob: {self.min_prob!r} is not a probability")
        if self.candidates is not None:
            object.__setattr__(self, "candidates", tuple(self.candidates))

    def identifier(self, languages: Mapping[str, Mapping]) -> LanguageIdentifier:
        path = self.openlid_path if self.model == "openlid" else None
        return LanguageIdentifier(self.model, path=path, languages=languages, candidates=self.candidates,
                                  equivalents=self.equivalents)


def _checker(text_field: str):
    def check(record: dict) -> None:
        for key in ("id", "lang", text_field):
            if key not in record:
                raise ValueError(f"record has no {key!r}")
        if not isinstance(record[text_field], str):
            raise ValueError(f"record {record['id']!r}: {text_field!r} is not a string")
    return check


def _expected(record: dict, text_field: str) -> str:
    """The language the text must be in: the prompt's, or for a response the one a task modifier asks for
    (``reply_lang``)."""
    return (record.get("reply_lang") if text_field == "response" else None) or record["lang"]


def lid_score_records(records: list[dict], metric: str, identifier: LanguageIdentifier,
                      params: LidParams = LidParams(), text_field: str = "response",
                      candidates_key: str | None = None) -> list[dict]:
    """Score records for ``records`` (same order), identifying the language of ``record[text_field]``."""
    if identifier.candidates is not None:
        outside = sorted({_expected(r, text_field) for r in records} - set(identifier.candidates))
        if outside:
            raise ConfigError(f"{candidates_key or f'metrics.{metric}.candidates'}: {', '.join(outside)} is not "
                              f"among the candidates {', '.join(identifier.candidates)}, so no {text_field} "
                              "in it could ever match")
    predictions = identifier.predict([r[text_field] for r in records])
    scores = []
    for rec, pred in zip(records, predictions):
        base = {"id": rec["id"], "lang": rec["lang"], "metric": metric}
        if rec.get("reply_lang") and text_field == "response":
            base["reply_lang"] = rec["reply_lang"]
        if pred.top_label is None:
            empty = not normalize_text(rec[text_field])
            scores.append({**base, "value": None,
                           "error": f"empty {text_field}" if empty else f"{identifier.model} finds no language"})
            continue
        score = {**base, "value": 1.0 if pred.lang == _expected(rec, text_field) else 0.0, "label": pred.label,
                 "pred_lang": pred.lang, "prob": round(pred.prob, 6), "top_label": pred.top_label,
                 "top_prob": round(pred.top_prob, 6)}
        if params.min_prob is not None and pred.label is not None and pred.prob < params.min_prob:
            score["uncertain"] = True
            if params.uncertain == "match":
                score["value"] = 1.0
        scores.append(score)
    return scores


def score_lid(input_path: str | Path, output_path: str | Path, metric: str,
              languages: Mapping[str, Mapping], params: LidParams = LidParams(), on_bad_line: str = "fail",
              text_field: str = "response", ceiling_floor: float | None = None) -> int:
    """Write one LID score record per input record (generations, or test prompts with
    ``text_field="prompt"``); returns the count. With ``ceiling_floor`` (test prompts), a language
    identified on fewer of its own prompts than that gets a warning."""
    records = list(iter_jsonl(input_path, on_bad_line=on_bad_line, check=_checker(text_field)))
    scores = lid_score_records(records, metric, params.identifier(languages), params, text_field)
    setting = f"{params.model}, candidates {','.join(params.candidates) if params.candidates else 'all'}"
    for audit in audit_scores(scores).values():
        log.info("%s: %s (%s)", input_path, audit.line(), setting)
        if ceiling_floor is not None and not audit.accuracy >= ceiling_floor:
            log.warning("LID ceiling of %s is %.3f, below the floor %.2f (evaluate.lid_ceiling_floor): metric %s "
                        "(%s) on the language's own test prompts: %s", audit.lang, audit.accuracy, ceiling_floor,
                        metric, setting, audit.line())
    return write_jsonl(output_path, scores)
