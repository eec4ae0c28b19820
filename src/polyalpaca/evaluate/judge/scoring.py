"""From a generation to a score record, per metric kind.

* ``judge_single``: rating 1-3; ``value`` = rating x language-ID match (Chen et al.: 0 when the
  response is not in the prompt's language); ``rating`` and ``lid_match`` are kept separately.
* ``judge_criteria``: six criteria 1-3; for a wrong-language response only ``language_correctness`` is
  kept, the others are ``null`` and listed in ``skipped``; ``value`` = mean of the scored criteria.
* ``relevance``: ``value`` 0/1.
* ``judge_pairwise``: this run against the reference (the second member of its pair), judged in both orders; a verdict that changes
  with the order is a tie; ``value`` 1.0 win / 0.5 tie / 0.0 loss.

An unparseable answer is asked again ``parse_retries`` times, then recorded with ``error`` and the
raw text. Every record ends with a ``value`` or an ``error``, and counts the judge answers it used
(``answered``) and how many of them gave no usable verdict (``unparsed``): the study tables report
that share per judge and language.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from .calls import Answer, Call, ItemError
from .parsers import pair_scores_verdict, parse_answer

log = logging.getLogger(__name__)

PAIR_VALUES = {"win": 1.0, "tie": 0.5, "loss": 0.0}


@dataclass
class Judgment:
    """The outcome of asking one question until it parses: value or error, and every answer used."""

    value: object = None
    error: str | None = None
    answers: list[Answer] = field(default_factory=list)
    unparsed: int = 0  # answers that gave no usable verdict

    @property
    def raw(self) -> str | None:
        return self.answers[-1].text if self.answers else None


class Scorer:
    """Builds the calls of an item and turns the parsed answers into its score record."""

    def __init__(self, job, judge, template, backend, engine=None):
        self.job, self.judge, self.template, self.backend, self.engine = job, judge, template, backend, engine

    # ------------------------------------------------------------ calls
    def questions(self, item: dict, reference: dict | None) -> list[dict]:
        """Template variables of each question asked about ``item`` (two orders for pairwise)."""
        common = {"question": item["prompt"], "language": self.job.language, "lang": self.job.lang}
        if self.job.kind == "judge_pairwise":
            return [dict(common, answer_a=item["response"], answer_b=reference["response"]),
                    dict(common, answer_a=reference["response"], answer_b=item["response"])]
        if self.job.kind == "judge_criteria":  # a task-modified prompt's appended sentence (else empty)
            common["modifier"] = item.get("modifier_text", "")
        return [dict(common, answer=item["response"])]

    def call(self, variables: dict, attempt: int) -> Call:
        return Call(self.template.render(**variables), self.backend.params(self.template, attempt), self.template)

    def first_calls(self, item: dict, reference: dict | None) -> list[Call]:
        return [self.call(v, 0) for v in self.questions(item, reference)]

    async def ask(self, variables: dict) -> Judgment:
        judgment = Judgment()
        last_error = None
        for attempt in range(self.judge.parse_retries + 1):
            try:
                answer = await self.engine.answer(self.call(variables, attempt))
            except ItemError as err:
                judgment.error = str(err)
                return judgment
            judgment.answers.append(answer)
            parsed = parse_answer(answer.text, self.template)
            if parsed.ok:
                judgment.value = parsed.value
                return judgment
            last_error = parsed.error
            judgment.unparsed += 1
            log.debug("unparseable answer (%s), attempt %d", parsed.error, attempt + 1)
        judgment.error = f"unparseable answer after {len(judgment.answers)} attempts: {last_error}"
        return judgment

    # ------------------------------------------------------------ records
    async def score(self, item: dict, lid: dict | None, reference: dict | None) -> dict:
        record = {"id": item["id"], "lang": item.get("lang", self.job.lang), "metric": self.job.metric, "value": None}
        missing = [name for name, rec in (("this run", item), ("the reference", reference))
                   if rec is not None and not isinstance(rec.get("response"), str)]
        if missing:  # a failed generation is not judged (and not scored as if it were an empty answer)
            record.update(judge=self.judge.name, template=self.template.label,
                          error=f"no response text from {' and '.join(missing)} (generation failed?)")
            return record
        judgments = list(await asyncio.gather(*(self.ask(v) for v in self.questions(item, reference))))
        combine = {"judge_single": self._single, "judge_criteria": self._criteria, "relevance": self._relevance,
                   "judge_pairwise": self._pairwise}[self.job.kind]
        combine(record, judgments, lid)
        answers = [a for j in judgments for a in j.answers]
        record.update(answered=len(answers), unparsed=sum(j.unparsed for j in judgments))
        record.update(self._provenance(answers))
        if record.get("error") is None:
            record.pop("error", None)
        return record

    def _provenance(self, answers: list[Answer]) -> dict:
        last = answers[-1] if answers else None
        out = {"judge": self.judge.name, "judge_model": last.model if last else None,
               "fingerprint": last.fingerprint if last else None, "template": self.template.label,
               "usage": {"prompt_tokens": sum(a.prompt_tokens for a in answers),
                         "completion_tokens": sum(a.completion_tokens for a in answers),
                         "answers": len(answers), "cached": sum(a.cached for a in answers)}}
        if last is not None and "probs" in last.extra:
            out["probs"] = last.extra["probs"]
        return out

    @staticmethod
    def _lid_match(lid: dict | None) -> tuple[float | None, str | None]:
        if lid is None:
            return None, "no language-ID record"
        if lid.get("value") is None:
            return None, f"language ID failed: {lid.get('error', 'no value')}"
        return float(lid["value"]), None

    def _single(self, record: dict, judgments: list[Judgment], lid: dict | None) -> None:
        j = judgments[0]
        lid_match, lid_error = self._lid_match(lid)
        record.update(rating=j.value, lid_match=lid_match, raw=j.raw)
        if j.error:
            record["error"] = j.error
        elif lid_error:
            record["error"] = lid_error
        else:
            record["value"] = j.value * lid_match

    def _criteria(self, record: dict, judgments: list[Judgment], lid: dict | None) -> None:
        j = judgments[0]
        lid_match, lid_error = self._lid_match(lid)
        names = self.template.criteria
        record.update(criteria={name: None for name in names}, skipped=[], lid_match=lid_match, raw=j.raw)
        if j.error:
            record["error"] = j.error
            return
        scores = dict(j.value)
        if lid_match == 0.0:  # wrong language: only language correctness (or the template's choice) counts
            keep = set(self.template.kept_in_wrong_language) & set(names)
            record["skipped"] = [n for n in names if n not in keep]
            scores = {n: v for n, v in scores.items() if n in keep}
        record["criteria"].update(scores)
        if lid_error:
            record["error"] = lid_error
        elif scores:
            record["value"] = sum(scores.values()) / len(scores)
        else:
            record["error"] = "every criterion was skipped"

    def _relevance(self, record: dict, judgments: list[Judgment], lid: dict | None) -> None:
        j = judgments[0]
        record["raw"] = j.raw
        if j.error:
            record["error"] = j.error
        else:
            record["value"] = j.value

    def _pairwise(self, record: dict, judgments: list[Judgment], lid: dict | None) -> None:
        ab, ba = judgments
        if self.template.output_format in ("pair_scores", "vicuna_pair"):  # (score A, score B) -> A | B | tie
            record.update(scores_ab=ab.value, scores_ba=ba.value, **pair_score_means(ab.value, ba.value))
            ab.value = pair_scores_verdict(ab.value) if ab.value else None
            ba.value = pair_scores_verdict(ba.value) if ba.value else None
        # order ab: A = this run; order ba: A = the reference
        to_run_ab = {"A": "win", "B": "loss", "tie": "tie"}
        to_run_ba = {"A": "loss", "B": "win", "tie": "tie"}
        verdict_ab = to_run_ab.get(ab.value) if ab.value else None
        verdict_ba = to_run_ba.get(ba.value) if ba.value else None
        record.update(verdict=None, verdict_ab=verdict_ab, verdict_ba=verdict_ba, reference=self.job.reference_run,
                      raw_ab=ab.raw, raw_ba=ba.raw)
        errors = [f"{name}: {j.error}" for name, j in (("order ab", ab), ("order ba", ba)) if j.error]
        if errors:
            record["error"] = "; ".join(errors)
            return
        record["verdict"] = pairwise_verdict(verdict_ab, verdict_ba)
        record["value"] = PAIR_VALUES[record["verdict"]]


def pair_score_means(scores_ab, scores_ba) -> dict:
    """This run's and the reference's mean 0-10 score over the orders that gave scores (order ab: the run
    is assistant A/1; order ba: it is B/2): the per-model averages of Bactrian-X §6.1."""
    run = [s[i] for s, i in ((scores_ab, 0), (scores_ba, 1)) if s]
    ref = [s[i] for s, i in ((scores_ab, 1), (scores_ba, 0)) if s]
    return {"run_score": sum(run) / len(run) if run else None,
            "reference_score": sum(ref) / len(ref) if ref else None}


def pairwise_verdict(verdict_ab: str, verdict_ba: str) -> str:
    """Both orders agree -> that verdict; a verdict that changes with the order -> tie (FastChat's rule)."""
    return verdict_ab if verdict_ab == verdict_ba else "tie"
