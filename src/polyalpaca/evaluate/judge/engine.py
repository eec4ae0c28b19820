"""The request engine: cache first, then bounded concurrency, rate limits, retries, budget.

``Engine.answer(call)`` returns the cached answer when there is one; otherwise it sends the call
through the backend under a semaphore (``max_concurrency``) and the rate limiter, retries transient
failures with exponential backoff and jitter (tenacity) honouring ``Retry-After``, commits the answer
to the cache the moment it arrives and adds its cost to the budget. Identical calls in flight at the
same time are sent once. After ``max_consecutive_failures`` calls in a row fail, the job stops with a
clear message instead of grinding through the rest.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from .cache import JudgeCache, cache_key
from .calls import Answer, BudgetExceededError, Call, ItemError, JudgeFatalError, RetryableError
from .limits import RateLimiter, estimate_prompt_tokens
from .settings import JudgeConfig, JudgeSettings

log = logging.getLogger(__name__)


@dataclass
class EngineStats:
    requests: int = 0          # HTTP attempts (or local forward passes), retries included
    answered: int = 0          # new answers received and cached
    cached: int = 0            # answers served from the cache
    retries: int = 0
    failed_calls: int = 0      # calls that ended without an answer
    prompt_tokens: int = 0     # of new answers
    completion_tokens: int = 0


class Budget:
    """Spend of a judge: what its cache records as paid, plus this job's new answers, against ``budget_usd``."""

    def __init__(self, judge: JudgeConfig, spent_before_usd: float):
        self.judge = judge
        self.spent_before = spent_before_usd
        self.spent_now = 0.0

    @property
    def limit(self) -> float | None:
        return self.judge.budget_usd

    def check_estimate(self, estimate_usd: float, n_calls: int) -> None:
        """Pre-flight: stop before sending anything if the estimate does not fit."""
        if self.limit is None or n_calls == 0:
            return
        if self.spent_before + estimate_usd > self.limit:
            raise BudgetExceededError(
                f"judges.{self.judge.name}.budget_usd: {n_calls} uncached requests are estimated at "
                f"${estimate_usd:.4f}; with ${self.spent_before:.4f} already spent by this judge this exceeds "
                f"the budget of ${self.limit:.4f}. Nothing was sent. Raise budget_usd or judge fewer items.")

    def check_can_send(self) -> None:
        if self.limit is not None and self.spent_before + self.spent_now >= self.limit:
            raise BudgetExceededError(
                f"judges.{self.judge.name}.budget_usd: the budget of ${self.limit:.4f} is used up "
                f"(${self.spent_before + self.spent_now:.4f} spent); stopping. Answers so far are cached.")

    def add(self, answer: Answer) -> None:
        self.spent_now += self.judge.cost_usd(answer.prompt_tokens, answer.completion_tokens)


async def gather_or_cancel(coroutines) -> list:
    """Run ``coroutines`` concurrently and return their results in order; when one raises (a fatal judge error,
    an interrupt), cancel the others and wait for them before re-raising, so no request is left in flight."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class Engine:
    def __init__(self, backend, cache: JudgeCache, judge: JudgeConfig, settings: JudgeSettings, budget: Budget,
                 limiter: RateLimiter | None = None):
        self.backend = backend
        self.cache = cache
        self.judge = judge
        self.settings = settings
        self.budget = budget
        self.limiter = limiter or RateLimiter(judge.requests_per_minute, judge.tokens_per_minute)
        self.stats = EngineStats()
        self._semaphore = asyncio.Semaphore(backend.max_concurrency)
        self._locks: dict[str, asyncio.Lock] = {}
        self._consecutive_failures = 0

    def key(self, call: Call) -> str:
        return cache_key(self.backend.cache_model, call.messages, call.params)

    def cached(self, call: Call) -> Answer | None:
        hit = self.cache.get(self.key(call))
        return Answer.from_dict(hit) if hit is not None else None

    async def answer(self, call: Call) -> Answer:
        """The answer to ``call``; raises :class:`ItemError` (this call failed) or :class:`JudgeFatalError`."""
        key = self.key(call)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # an identical call in flight: wait for it and take its cached answer
            hit = self.cache.get(key)
            if hit is not None:
                self.stats.cached += 1
                return Answer.from_dict(hit)
            answer = await self._send(call)
            self.cache.put(key, judge=self.judge.name, model=self.backend.cache_model,
                           request={"messages": call.messages, "params": call.params}, answer=answer.to_dict())
        self.budget.add(answer)
        self.stats.answered += 1
        self.stats.prompt_tokens += answer.prompt_tokens
        self.stats.completion_tokens += answer.completion_tokens
        return answer

    def _wait(self, retry_state) -> float:
        """Seconds before the next attempt: the server's Retry-After (shared by all workers), else
        exponential backoff with jitter, capped at ``max_backoff_s``."""
        error = retry_state.outcome.exception()
        cap = self.settings.max_backoff_s
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            wait = min(retry_after, cap)
            self.limiter.pause(wait)
            return wait + random.uniform(0, 0.1 * wait)
        exponential = min(cap, self.settings.backoff_initial_s * 2 ** (retry_state.attempt_number - 1))
        return random.uniform(exponential / 2, exponential)

    def _before_sleep(self, retry_state) -> None:
        self.stats.retries += 1
        log.warning("judge %s: %s; attempt %d of %d, retrying in %.2f s", self.judge.name,
                    retry_state.outcome.exception(), retry_state.attempt_number, self.judge.max_retries + 1,
                    retry_state.next_action.sleep)

    async def _send(self, call: Call) -> Answer:
        self.budget.check_can_send()
        tokens = estimate_prompt_tokens(call.messages) + int(call.params.get("max_tokens", 0))
        retrying = AsyncRetrying(stop=stop_after_attempt(self.judge.max_retries + 1), wait=self._wait,
                                 retry=retry_if_exception_type(RetryableError), before_sleep=self._before_sleep,
                                 reraise=True)
        try:
            # the slot is held through the backoff sleeps too: while an endpoint fails, no fresh calls pile
            # up behind the failing ones, so a dead endpoint stops the job after a bounded number of requests
            async with self._semaphore:
                async for attempt in retrying:
                    with attempt:
                        await self.limiter.acquire(tokens)
                        self.stats.requests += 1
                        answer = await self.backend.complete(call)
        except (RetryableError, ItemError) as err:
            self.stats.failed_calls += 1
            self._consecutive_failures += 1
            reason = (f"no answer after {self.judge.max_retries + 1} attempts, last: {err}"
                      if isinstance(err, RetryableError) else str(err))
            if self._consecutive_failures >= self.settings.max_consecutive_failures:
                raise JudgeFatalError(
                    f"judge {self.judge.name}: {self._consecutive_failures} requests in a row failed ({reason}); "
                    f"stopping instead of continuing. Answers received so far are cached: fix the endpoint "
                    f"(judges.{self.judge.name}) and rerun to resume.") from None
            raise ItemError(reason) from None
        self._consecutive_failures = 0
        return answer
