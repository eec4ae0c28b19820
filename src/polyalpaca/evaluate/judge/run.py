"""Score one generations file with one judge metric: check inputs, estimate, judge, write atomically.

Order of work (nothing is sent before every check passed):
1. read the template, the generations and the LID scores / reference generations the kind needs, and
   check that every item has what it needs (FastChat: check before spending);
2. look every first request up in the cache, estimate the cost of the rest and stop if it does not
   fit the judge's budget;
3. judge every item concurrently (answers are committed to the cache as they arrive);
4. write one record per item, in input order, atomically.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import contextmanager
from pathlib import Path

from ...errors import DataError
from ...io import read_jsonl, write_jsonl
from ..lr_selection import not_judged_reason, read_selection
from .cache import JudgeCache
from .calls import JudgeFatalError, redact
from .engine import Budget, Engine, gather_or_cancel
from .limits import estimate_prompt_tokens
from .settings import JudgeConfig, JudgeJob, JudgeSettings
from .scoring import Scorer
from .templates import load_template

log = logging.getLogger(__name__)


def _require(field_names):
    def check(record: dict) -> None:
        missing = [f for f in field_names if f not in record]
        if missing:
            raise ValueError(f"missing field(s) {', '.join(missing)}")
    return check


def _by_id(path, records: list[dict], what: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for record in records:
        if record["id"] in out:
            raise DataError(f"{path}: duplicate id {record['id']!r} in the {what}")
        out[record["id"]] = record
    return out


def make_backend(judge: JudgeConfig, settings: JudgeSettings, model_dir: str | Path | None = None, threads: int = 1):
    if judge.backend == "local":
        from .local_backend import LocalBackend

        if model_dir is None:
            raise ValueError("the local judge backend needs model_dir (resources/models/{model})")
        return LocalBackend(judge, settings, model_dir, threads=threads)
    from .openai_backend import OpenAIBackend

    return OpenAIBackend(judge, settings)


class _SecretFilter(logging.Filter):
    """Scrubs the API key from every log record passing through the handlers it is attached to."""

    def __init__(self, secret: str | None):
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secret:
            message = record.getMessage()
            if self.secret in message:
                record.msg, record.args = redact(message, self.secret), ()
        return True


@contextmanager
def secret_scrubbed(secret: str | None):
    """While inside: every log handler drops the API key from its records, and an error leaving the block
    carries no key in its message (a judge job and a distillation job both run inside one)."""
    secret_filter = _SecretFilter(secret)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(secret_filter)
    try:
        yield
    except JudgeFatalError as err:
        raise type(err)(redact(str(err), secret)) from None
    except Exception as err:  # an unexpected error must not carry the key into a log or a report
        if secret and secret in str(err):
            raise RuntimeError(redact(f"{type(err).__name__}: {err}", secret)) from None
        raise
    finally:
        for handler in handlers:
            handler.removeFilter(secret_filter)


def score_generations(
    job: JudgeJob,
    judge: JudgeConfig,
    settings: JudgeSettings,
    *,
    template: str | Path,
    generations: str | Path,
    output: str | Path,
    lid: str | Path | None = None,
    reference: str | Path | None = None,
    model_dir: str | Path | None = None,
    threads: int = 1,
    selection: str | Path | None = None,
) -> dict:
    """Judge every generation in ``generations``; write ``output``; return a summary (counts, tokens).
    With ``selection`` (the study's LR selection table), a run it does not choose is not judged: its
    records say why (``not_selected``) and nothing is sent."""
    started = time.monotonic()
    tmpl = load_template(template, job.kind)
    items = read_jsonl(generations, on_bad_line=job.on_bad_line, check=_require(("id", "prompt", "response")))
    _by_id(generations, items, "generations")
    if selection is not None:
        reason = not_judged_reason(read_selection(selection), job.run_id)
        if reason:
            write_jsonl(output, [{"id": item["id"], "lang": item.get("lang", job.lang), "metric": job.metric,
                                  "value": None, "judge": judge.name, "template": tmpl.label, "not_selected": True,
                                  "error": reason} for item in items])
            log.info("%s on %s: %s", job.metric, job.run_id, reason)
            return {"items": len(items), "errors": len(items), "requests": 0}
    lids = refs = None
    if job.kind in ("judge_single", "judge_criteria"):
        if lid is None:
            raise ValueError(f"metric {job.metric} ({job.kind}) needs the language-ID scores")
        lids = _by_id(lid, read_jsonl(lid, on_bad_line=job.on_bad_line, check=_require(("id", "value"))), "LID scores")
        missing = [item["id"] for item in items if item["id"] not in lids]
        if missing:
            raise DataError(f"{lid}: no language-ID score for {len(missing)} generation id(s) of {generations}, "
                            f"e.g. {missing[:3]}")
    if job.kind == "judge_pairwise":
        if reference is None:
            raise ValueError(f"metric {job.metric} (judge_pairwise) needs the generations of the pair's second run")
        refs = _by_id(reference, read_jsonl(reference, on_bad_line=job.on_bad_line,
                                            check=_require(("id", "prompt", "response"))), "reference generations")
        missing = [item["id"] for item in items if item["id"] not in refs]
        if missing:
            raise DataError(f"{reference}: the pair's second run {job.reference_run} has no response for "
                            f"{len(missing)} id(s) of {generations}, e.g. {missing[:3]}")

    backend = make_backend(judge, settings, model_dir, threads)
    with secret_scrubbed(getattr(backend, "secret", None)), JudgeCache(settings.cache_dir,
                                                                        settings.cache_journal_mode) as cache:
        summary = asyncio.run(_judge_all(job, judge, settings, tmpl, backend, cache, items, lids, refs, output))
    summary["seconds"] = round(time.monotonic() - started, 3)
    log.info("%s on %s: %s", job.metric, job.run_id, summary)
    return summary


async def _judge_all(job, judge, settings, tmpl, backend, cache, items, lids, refs, output) -> dict:
    try:
        prompt_tokens_before, completion_tokens_before = cache.tokens_used(judge.name)
        budget = Budget(judge, judge.cost_usd(prompt_tokens_before, completion_tokens_before))
        engine = Engine(backend, cache, judge, settings, budget)
        scorer = Scorer(job, judge, tmpl, backend, engine)
        ref_of = (lambda item: refs[item["id"]]) if refs else (lambda item: None)
        # pre-flight: cost of the first attempt of every call not in the cache
        uncached = [call for item in items if isinstance(item["response"], str)
                    and isinstance((ref_of(item) or item)["response"], str)
                    for call in scorer.first_calls(item, ref_of(item)) if engine.cached(call) is None]
        estimate = judge.cost_usd(sum(estimate_prompt_tokens(c.messages) for c in uncached),
                                  sum(int(c.params.get("max_tokens", 0)) for c in uncached))
        log.info("%s: %d items, %d first requests not cached, estimated cost $%.4f (budget %s, spent so far $%.4f)",
                 job.metric, len(items), len(uncached), estimate,
                 "none" if judge.budget_usd is None else f"${judge.budget_usd:.4f}", budget.spent_before)
        budget.check_estimate(estimate, len(uncached))

        progress = _Progress(len(items), engine)

        async def one(item):
            record = await scorer.score(item, lids.get(item["id"]) if lids else None, ref_of(item))
            progress.done(record)
            return record

        records = await gather_or_cancel(one(item) for item in items)
    finally:
        await backend.aclose()
    write_jsonl(output, records)
    stats = engine.stats
    return {"items": len(records), "errors": sum("error" in r for r in records), "requests": stats.requests,
            "new_answers": stats.answered, "cached_answers": stats.cached, "retries": stats.retries,
            "failed_calls": stats.failed_calls, "new_prompt_tokens": stats.prompt_tokens,
            "new_completion_tokens": stats.completion_tokens, "new_cost_usd": round(budget.spent_now, 6)}


class _Progress:
    """Logs progress about every 10% of the items."""

    def __init__(self, total: int, engine: Engine):
        self.total, self.engine, self.count, self.errors = total, engine, 0, 0
        self.step = max(1, total // 10)

    def done(self, record: dict) -> None:
        self.count += 1
        self.errors += "error" in record
        if self.count % self.step == 0 or self.count == self.total:
            s = self.engine.stats
            log.info("%d/%d items (%d with error); %d requests, %d cached answers, %d retries",
                     self.count, self.total, self.errors, s.requests, s.cached, s.retries)
