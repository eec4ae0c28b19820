"""Typed, validated settings of a judging job.

* :class:`JudgeConfig` — one entry of ``judges:`` (endpoint, limits, prices, budget). Holds the NAME of
  the environment variable with the API key, never the key itself.
* :class:`JudgeSettings` — the ``evaluate.judge`` block (cache, retry policy, seed).
* :class:`JudgeJob` — what one Snakemake job scores: a metric for one run, test set and language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from ...effects import schema_defaults
from ...errors import ConfigError

KINDS = ("judge_single", "judge_criteria", "judge_pairwise", "relevance")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _known(cls, raw: dict, where: str) -> dict:
    names = {f.name for f in fields(cls)}
    unknown = set(raw) - names
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)} (allowed: {', '.join(sorted(names))})")
    return raw


@dataclass(frozen=True)
@schema_defaults("judges", "*")
class JudgeConfig:
    name: str
    backend: str
    model: str
    base_url: str | None = None
    api_key_env: str | None = None
    max_concurrency: int
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    timeout_s: float
    max_retries: int
    parse_retries: int
    json_mode: bool
    local_answer: str
    local_max_new_tokens: int
    price_per_1k_input: float
    price_per_1k_output: float
    budget_usd: float | None = None

    def __post_init__(self) -> None:
        where = f"judges.{self.name}"
        if self.backend not in ("openai", "local"):
            raise ConfigError(f"{where}.backend: {self.backend!r} is not one of openai, local")
        if not self.model:
            raise ConfigError(f"{where}.model: required")
        if self.local_answer not in ("label_probs", "generate"):
            raise ConfigError(f"{where}.local_answer: {self.local_answer!r} is not one of label_probs, generate")
        if self.local_answer == "generate" and self.backend != "local":
            raise ConfigError(f"{where}.local_answer: generate is for backend local (an API judge always writes text)")
        if self.api_key_env is not None and not _ENV_NAME.match(self.api_key_env):
            raise ConfigError(f"{where}.api_key_env: {self.api_key_env!r} must be the NAME of an environment "
                              "variable (e.g. OPENAI_API_KEY), not the key itself")
        for key in ("max_concurrency", "requests_per_minute", "tokens_per_minute"):
            value = getattr(self, key)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigError(f"{where}.{key}: must be a positive integer, got {value!r}")
        for key in ("max_retries", "parse_retries"):
            if not isinstance(getattr(self, key), int) or getattr(self, key) < 0:
                raise ConfigError(f"{where}.{key}: must be an integer >= 0")
        if self.timeout_s <= 0:
            raise ConfigError(f"{where}.timeout_s: must be > 0")
        for key in ("price_per_1k_input", "price_per_1k_output", "budget_usd"):
            value = getattr(self, key)
            if value is not None and value < 0:
                raise ConfigError(f"{where}.{key}: must be >= 0")

    @classmethod
    def from_config(cls, name: str, raw: dict) -> "JudgeConfig":
        return cls(name=name, **_known(cls, dict(raw), f"judges.{name}"))

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_per_1k_input + completion_tokens * self.price_per_1k_output) / 1000.0


@dataclass(frozen=True)
@schema_defaults("evaluate", "judge")
class JudgeSettings:
    """The ``evaluate.judge`` block of the config (see schemas/settings/evaluate.schema.yaml)."""

    cache_dir: str
    cache_journal_mode: str
    seed: int
    parse_retry_temperature: float
    backoff_initial_s: float
    max_backoff_s: float
    max_consecutive_failures: int
    local_threads: int

    def __post_init__(self) -> None:
        where = "evaluate.judge"
        if self.cache_journal_mode not in ("wal", "delete"):
            raise ConfigError(f"{where}.cache_journal_mode: {self.cache_journal_mode!r} is not one of wal, delete")
        if not 0 <= self.parse_retry_temperature <= 2:
            raise ConfigError(f"{where}.parse_retry_temperature: must be within 0-2")
        if self.backoff_initial_s <= 0 or self.max_backoff_s < self.backoff_initial_s:
            raise ConfigError(f"{where}: need 0 < backoff_initial_s <= max_backoff_s")
        if self.max_consecutive_failures < 1:
            raise ConfigError(f"{where}.max_consecutive_failures: must be >= 1")

    @classmethod
    def from_config(cls, raw: dict | None) -> "JudgeSettings":
        return cls(**_known(cls, dict(raw or {}), "evaluate.judge"))


@dataclass(frozen=True)
class JudgeJob:
    """One scoring job: ``metric`` (of ``kind``) for run ``model/trainset/tuning`` on ``testset``/``lang``."""

    metric: str
    kind: str
    judge: str
    model: str
    trainset: str
    tuning: str
    testset: str
    lang: str
    language: str
    reference_run: str | None = None
    on_bad_line: str = "fail"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"metrics.{self.metric}.kind: {self.kind!r} is not a judge kind ({', '.join(KINDS)})")
        if self.kind == "judge_pairwise" and not self.reference_run:
            raise ConfigError(f"metrics.{self.metric}: a judge_pairwise job needs the second run of its pair")

    @property
    def run_id(self) -> str:
        return f"{self.model}/{self.trainset}/{self.tuning}"
