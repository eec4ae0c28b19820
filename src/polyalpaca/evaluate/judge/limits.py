"""Request-rate and token-rate limits (token buckets) and token estimates for the pre-flight check."""

from __future__ import annotations

import asyncio
import math
import time

# Estimate: one token per 3 UTF-8 bytes. Overestimates English (~4 chars/token) and is about right for
# CJK (3 bytes/char, ~1 token/char) — a conservative estimate is what a budget check needs.
BYTES_PER_TOKEN = 3
TOKENS_PER_MESSAGE = 4


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)


def estimate_prompt_tokens(messages: list[dict]) -> int:
    return sum(estimate_tokens(m["content"]) + TOKENS_PER_MESSAGE for m in messages) + 2


class _Bucket:
    """``per_minute`` units per minute, refilled continuously; holds at most one second's worth
    (or one request's worth if larger), so traffic is smooth instead of a burst every minute."""

    def __init__(self, per_minute: int, clock):
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.level = self.capacity
        self.clock = clock
        self.stamp = clock()

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` is available (0 if now); refills first."""
        now = self.clock()
        self.level = min(max(self.capacity, amount), self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.level >= amount else (amount - self.level) / self.rate

    def take(self, amount: float) -> None:
        self.level -= amount


class RateLimiter:
    """Async limiter for requests per minute and tokens per minute, plus a shared pause that a
    ``429 Retry-After`` sets for every concurrent worker, not only the one that was told."""

    def __init__(self, requests_per_minute: int | None = None, tokens_per_minute: int | None = None,
                 clock=time.monotonic):
        self.clock = clock
        self.requests = _Bucket(requests_per_minute, clock) if requests_per_minute else None
        self.tokens = _Bucket(tokens_per_minute, clock) if tokens_per_minute else None
        self.paused_until = 0.0

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    async def acquire(self, tokens: int = 0) -> None:
        while True:
            wait = max(0.0, self.paused_until - self.clock())
            if self.requests:
                wait = max(wait, self.requests.wait_for(1))
            if self.tokens and tokens:
                wait = max(wait, self.tokens.wait_for(tokens))
            if wait <= 0:  # no await between the check and the take: atomic within the event loop
                if self.requests:
                    self.requests.take(1)
                if self.tokens and tokens:
                    self.tokens.take(tokens)
                return
            await asyncio.sleep(wait)
