"""Typed settings of response distillation: one entry of ``distillations:`` (keyed by source).

Defaults live in the schema (``$defs/distillation``); ``max_dropped_fraction`` is operational (whether a job
fails, not what it writes) and is read at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..effects import schema_defaults
from ..errors import ConfigError

FLAGS = ("empty", "truncated", "wrong_language")


@dataclass(frozen=True)
@schema_defaults("distillations", "*")
class DistillSpec:
    source: str
    judge: str
    template: str
    max_tokens: int
    temperature: float
    lid_model: str
    min_prob: float
    drop: tuple[str, ...]
    max_dropped_fraction: float
    equivalents: Mapping[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.drop) - set(FLAGS)
        if unknown:
            raise ConfigError(f"{self.where}.drop: {sorted(unknown)} are not flags ({', '.join(FLAGS)})")
        if "empty" not in self.drop:
            raise ConfigError(f"{self.where}.drop: must include 'empty' (an answer without text, or whose request "
                              f"failed, is no training target); the other flags may be kept and counted")
        object.__setattr__(self, "drop", tuple(self.drop))

    @property
    def where(self) -> str:
        return f"distillations.{self.source}"

    @classmethod
    def from_config(cls, source: str, raw: Mapping) -> "DistillSpec":
        return cls(source=source, **dict(raw))

    def sampling(self, backend: str, local_max_new_tokens: int, seed: int) -> dict:
        """The request's sampling parameters (part of the cache key): an API gets max_tokens/temperature/seed;
        the local backend generates (capped at the judge's local_max_new_tokens)."""
        if backend == "local":
            return {"method": "generate", "max_new_tokens": min(self.max_tokens, local_max_new_tokens),
                    "temperature": self.temperature, "seed": seed}
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "seed": seed}
