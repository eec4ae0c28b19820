"""Distill the responses of one translated source language (Bactrian-X §3.1) through the judge client.

Each translated instruction (and input) is sent to a chat model, and its answer becomes the record's
``output``. The requests go through the judge stage's engine: the same answer cache (a rerun, or an
interrupted job's rerun, pays nothing for what was answered), bounded concurrency, rate limits, retries with
backoff, the judge's budget (a pre-flight estimate stops the job before anything is sent) and its cost.

Every answer is checked; a flagged answer is never a silent training target:

* ``empty`` — no text (or only whitespace), or the request failed for this item;
* ``truncated`` — the model stopped at the token limit (``finish_reason: length``; the local backend's
  ``finished: false``);
* ``wrong_language`` — language ID names another language with probability >= ``min_prob`` (below it the
  answer counts as ``uncertain_language`` and is kept).

Flags listed in ``drop`` leave the record out of the output (the aligned pool then leaves that id out of every
trainset of the source, so budgets stay equal); every flagged record goes to the flagged file with its
reasons, and the report counts them. A job that keeps nothing, or drops more than
``max_dropped_fraction``, fails after writing the report.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Mapping

from ..errors import DataError
from ..evaluate.judge.cache import JudgeCache
from ..evaluate.judge.calls import Answer, Call, ItemError
from ..evaluate.judge.engine import Budget, Engine, gather_or_cancel
from ..evaluate.judge.limits import estimate_prompt_tokens
from ..evaluate.judge.run import make_backend, secret_scrubbed
from ..evaluate.judge.settings import JudgeConfig, JudgeSettings
from ..io import read_jsonl, write_json, write_jsonl
from ..lid import LanguageIdentifier
from .settings import DistillSpec
from .templates import DistillTemplate, load_distill_template

log = logging.getLogger(__name__)
EXAMPLES_SHOWN = 5


def _check(record: dict) -> None:
    for name in ("id", "instruction"):
        if not isinstance(record.get(name), str):
            raise ValueError(f"field {name!r} is missing or not a string")
    if not isinstance(record.get("input", ""), str):
        raise ValueError("field 'input' is not a string")


def _call(template: DistillTemplate, record: dict, lang: str, language: str, params: dict) -> Call:
    return Call(messages=template.messages(instruction=record["instruction"], input=record.get("input", ""),
                                           lang=lang, language=language),
                params=params, template=None)


def _truncated(answer: Answer) -> bool:
    return answer.extra.get("finish_reason") == "length" or answer.extra.get("finished") is False


def distill_responses(
    spec: DistillSpec,
    judge: JudgeConfig,
    settings: JudgeSettings,
    *,
    translation: str | Path,
    lang: str,
    languages: Mapping[str, Mapping],
    output: str | Path,
    flagged: str | Path,
    report: str | Path,
    template: str | Path,
    model_dir: str | Path | None = None,
    openlid_path: str | None = None,
    threads: int = 1,
    on_bad_line: str = "fail",
) -> dict:
    """Distill every record of ``translation`` (lang ``lang``); write the kept records, the flagged ones and
    the report; return the report."""
    started = time.monotonic()
    tmpl = load_distill_template(template)
    records = read_jsonl(translation, on_bad_line=on_bad_line, check=_check)
    if not records:
        raise DataError(f"{translation}: no translated records to distill ({spec.where})")
    ids = Counter(r["id"] for r in records)
    duplicate = next((i for i, n in ids.items() if n > 1), None)
    if duplicate is not None:
        raise DataError(f"{translation}: id {duplicate!r} occurs {ids[duplicate]} times")
    language = languages[lang]["name"]
    identifier = LanguageIdentifier(spec.lid_model, path=openlid_path, languages=languages,
                                    equivalents={lang: list(spec.equivalents.get(lang, []))})
    backend = make_backend(judge, settings, model_dir, threads)
    params = spec.sampling(judge.backend, judge.local_max_new_tokens, settings.seed)
    calls = [_call(tmpl, record, lang, language, params) for record in records]
    with secret_scrubbed(getattr(backend, "secret", None)), JudgeCache(settings.cache_dir,
                                                                        settings.cache_journal_mode) as cache:
        answers, stats = asyncio.run(_answer_all(spec, judge, settings, backend, cache, calls))
    predictions = identifier.predict([a.text or "" if isinstance(a, Answer) else "" for a in answers])

    kept, flagged_records, counts = [], [], Counter()
    for record, answer, pred in zip(records, answers, predictions):
        flags, error = [], None
        if not isinstance(answer, Answer):
            flags, error = ["empty"], answer  # the request failed: no answer to train on
        elif not (answer.text or "").strip():
            flags.append("empty")
        else:
            if _truncated(answer):
                flags.append("truncated")
            if pred.label is not None and pred.lang != lang and pred.prob >= spec.min_prob:
                flags.append("wrong_language")
            elif pred.lang != lang:
                counts["uncertain_language"] += 1
        counts.update(flags)
        text = answer.text if isinstance(answer, Answer) else None
        out = {**record, "output": text, "distiller": judge.name,
               "distill_model": answer.model if isinstance(answer, Answer) else None}
        if flags:
            flagged_records.append({**out, "flags": flags, "error": error, "pred_lang": pred.lang,
                                    "lid_prob": round(pred.prob, 4)})
        if not set(flags) & set(spec.drop):
            kept.append(out)
        else:
            counts["dropped"] += 1

    summary = {
        "source": spec.source, "lang": lang, "judge": judge.name, "model": judge.model, "items": len(records),
        "kept": len(kept), "dropped": counts["dropped"], "drop": list(spec.drop),
        "flags": {flag: counts[flag] for flag in ("empty", "truncated", "wrong_language")},
        "uncertain_language": counts["uncertain_language"],
        "flagged_examples": [{"id": r["id"], "flags": r["flags"], "output": (r["output"] or "")[:80]}
                             for r in flagged_records[:EXAMPLES_SHOWN]],
        **stats, "seconds": round(time.monotonic() - started, 3),
    }
    log.info("%s/%s: %s", spec.source, lang, {k: v for k, v in summary.items() if k != "flagged_examples"})
    share = counts["dropped"] / len(records)
    if not kept or share > spec.max_dropped_fraction:
        for record in flagged_records[:20]:  # a failed job's outputs are removed: its log keeps the evidence
            log.warning("flagged %s %s (LID %s %.2f): %r", record["id"], record["flags"], record["pred_lang"],
                        record["lid_prob"], (record["output"] or record["error"] or "")[:120])
        what = ("every one" if not kept else f"{counts['dropped']} ({share:.0%})") + f" of the {len(records)} {lang} answers"
        raise DataError(f"{spec.where}.max_dropped_fraction: {what} were dropped ({summary['flags']}, drop: "
                        f"{', '.join(spec.drop)}), more than {spec.max_dropped_fraction:.0%}; the job's log lists "
                        f"the first flagged ones. Nothing is lost: answers are cached, a rerun pays nothing.")
    write_jsonl(flagged, flagged_records)
    write_jsonl(output, kept)
    write_json(report, summary)
    return summary


async def _answer_all(spec, judge, settings, backend, cache, calls) -> tuple[list, dict]:
    """Every call's Answer (or the error text of an item that failed), and the job's request counts."""
    try:
        tokens_before = cache.tokens_used(judge.name)
        budget = Budget(judge, judge.cost_usd(*tokens_before))
        engine = Engine(backend, cache, judge, settings, budget)
        uncached = [call for call in calls if engine.cached(call) is None]
        estimate = judge.cost_usd(sum(estimate_prompt_tokens(c.messages) for c in uncached),
                                  spec.max_tokens * len(uncached))
        log.info("%s: %d answers to distill, %d not cached, estimated cost $%.4f (budget %s, spent so far $%.4f)",
                 spec.where, len(calls), len(uncached), estimate,
                 "none" if judge.budget_usd is None else f"${judge.budget_usd:.4f}", budget.spent_before)
        budget.check_estimate(estimate, len(uncached))

        async def one(call):
            try:
                return await engine.answer(call)
            except ItemError as err:
                return str(err)

        answers = await gather_or_cancel(one(call) for call in calls)
    finally:
        await backend.aclose()
    s = engine.stats
    used = [a for a in answers if isinstance(a, Answer)]
    return answers, {"requests": s.requests, "new_answers": s.answered, "cached_answers": s.cached,
                     "retries": s.retries, "failed_calls": s.failed_calls,
                     "prompt_tokens": sum(a.prompt_tokens for a in used),
                     "completion_tokens": sum(a.completion_tokens for a in used),
                     "cost_usd": round(judge.cost_usd(sum(a.prompt_tokens for a in used),
                                                      sum(a.completion_tokens for a in used)), 6),
                     "new_cost_usd": round(budget.spent_now, 6)}
