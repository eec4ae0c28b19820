"""What the engine sends and receives, and the errors backends raise (already classified)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ...errors import PolyalpacaError


@dataclass(frozen=True)
class Call:
    """One request: rendered chat messages, sampling parameters, and the template (for the local backend)."""

    messages: list[dict]
    params: dict[str, Any]
    template: Any = field(compare=False, repr=False)


@dataclass
class Answer:
    """One judge answer as cached: raw text, the model and fingerprint the endpoint reported, token usage."""

    text: str | None
    model: str
    fingerprint: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usage_estimated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    cached: bool = False

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("cached")
        return data

    @classmethod
    def from_dict(cls, data: dict, cached: bool = True) -> "Answer":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "cached"},
                   cached=cached)


class RetryableError(Exception):
    """A transient failure (429, 5xx, timeout, connection, malformed body): retried with backoff."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class ItemError(Exception):
    """This item's request cannot succeed (e.g. HTTP 400, prompt too long): recorded as the item's error."""


class JudgeFatalError(PolyalpacaError):
    """The whole job must stop (bad key, unknown model, budget exhausted, repeated failures)."""


class BudgetExceededError(JudgeFatalError):
    """The pre-flight estimate or the running spend exceeds ``judges.<name>.budget_usd``."""


_KEY_LIKE = re.compile(r"\b(?:sk|key|rk|pk)-[A-Za-z0-9_\-*.]{6,}")


def redact(text: str, secret: str | None) -> str:
    """``text`` without the secret (or anything shaped like an API key, e.g. a masked key echoed by an endpoint)."""
    if secret:
        text = text.replace(secret, "[REDACTED]")
    return _KEY_LIKE.sub("[REDACTED]", text)
