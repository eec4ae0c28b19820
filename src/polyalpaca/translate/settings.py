"""Typed settings of the translate stage, built from the config's ``translate:`` block.

``TranslateSettings`` drives translation (rule translate_shard); ``FilterSettings`` drives the quality
filter (rule merge_translations), so changing a filter threshold re-merges without re-translating.
Defaults live in ``schemas/settings/translate.schema.yaml``; the dataclasses check values again so the
library gives the same clear errors when called without the schema.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

from ..effects import schema_defaults
from ..errors import ConfigError
from .segment import PROTECTIONS

ACTIONS = ("drop", "flag", "off")
REASONS = ("length_ratio", "repetition", "wrong_language")
DEVICES = ("cpu", "cuda")


def _check(cond: bool, key: str, message: str) -> None:
    if not cond:
        raise ConfigError(f"translate.{key}: {message}")


def _build(cls, values: Mapping[str, Any] | None, prefix: str):
    values = dict(values or {})
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"translate{prefix}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return cls(**values)


@dataclass(frozen=True)
@schema_defaults("translate")
class TranslateSettings:
    """How sentences are cut, batched and decoded."""

    device: str
    compute_type: str
    threads: int
    beam_size: int
    batch_tokens: int
    max_input_tokens: int
    max_sentence_chars: int
    length_factor: float
    length_offset: int
    repetition_penalty: float
    no_repeat_ngram_size: int
    checkpoint_segments: int
    sentence_split: bool
    protect: tuple[str, ...]

    def __post_init__(self):
        if self.device == "auto":  # the rule resolves auto from the job's GPUs; without it there are none
            object.__setattr__(self, "device", "cpu")
        _check(self.device in DEVICES, "device", f"must be one of {', '.join(DEVICES)} (auto is resolved by the rule), "
               f"not {self.device!r}")
        for key in ("threads", "beam_size", "max_input_tokens", "checkpoint_segments"):
            _check(isinstance(getattr(self, key), int) and getattr(self, key) >= 1, key, "must be an integer >= 1")
        _check(isinstance(self.batch_tokens, int) and self.batch_tokens >= 16, "batch_tokens", "must be an integer >= 16")
        _check(self.batch_tokens >= self.max_input_tokens + 2, "batch_tokens",
               f"must hold one sentence of max_input_tokens ({self.max_input_tokens}) + 2 tokens")
        _check(isinstance(self.max_sentence_chars, int) and self.max_sentence_chars >= 20, "max_sentence_chars",
               "must be an integer >= 20")
        _check(self.length_factor > 0, "length_factor", "must be > 0")
        _check(self.length_offset >= 0, "length_offset", "must be >= 0")
        _check(self.repetition_penalty > 0, "repetition_penalty", "must be > 0")
        object.__setattr__(self, "protect", tuple(self.protect))
        bad = sorted(set(self.protect) - set(PROTECTIONS))
        _check(not bad, "protect", f"unknown {bad} (known: {', '.join(PROTECTIONS)})")

    @classmethod
    def from_config(cls, block: Mapping[str, Any] | None, device: str | None = None) -> "TranslateSettings":
        """From the ``translate:`` block (``filters`` ignored); ``device`` overrides the block's (resolved) one."""
        values = {k: v for k, v in dict(block or {}).items() if k != "filters"}
        if device is not None:
            values["device"] = device
        return _build(cls, values, "")

    def as_dict(self) -> dict:
        out = asdict(self)
        out["protect"] = list(self.protect)
        return out


@dataclass(frozen=True)
@schema_defaults("translate", "filters", "length_ratio")
class LengthRatioFilter:
    action: str
    min: float
    max: float
    min_tokens: int

    def __post_init__(self):
        _check(self.action in ACTIONS, "filters.length_ratio.action", f"must be one of {', '.join(ACTIONS)}")
        _check(0 <= self.min < self.max, "filters.length_ratio", f"needs 0 <= min < max, got min={self.min} max={self.max}")
        _check(self.min_tokens >= 1, "filters.length_ratio.min_tokens", "must be >= 1")


@dataclass(frozen=True)
@schema_defaults("translate", "filters", "repetition")
class RepetitionFilter:
    action: str
    max_ngram: int
    max_repeats: int

    def __post_init__(self):
        _check(self.action in ACTIONS, "filters.repetition.action", f"must be one of {', '.join(ACTIONS)}")
        _check(self.max_ngram >= 1, "filters.repetition.max_ngram", "must be >= 1")
        _check(self.max_repeats >= 2, "filters.repetition.max_repeats", "must be >= 2")


@dataclass(frozen=True)
@schema_defaults("translate", "filters", "wrong_language")
class LanguageFilter:
    action: str
    min_prob: float
    min_chars: int

    def __post_init__(self):
        _check(self.action in ACTIONS, "filters.wrong_language.action", f"must be one of {', '.join(ACTIONS)}")
        _check(0 <= self.min_prob <= 1, "filters.wrong_language.min_prob", "must be in [0, 1]")
        _check(self.min_chars >= 1, "filters.wrong_language.min_chars", "must be >= 1")


@dataclass(frozen=True)
class FilterSettings:
    """Thresholds and the action (drop, flag, off) of each reason of the quality filter."""

    length_ratio: LengthRatioFilter = field(default_factory=LengthRatioFilter)
    repetition: RepetitionFilter = field(default_factory=RepetitionFilter)
    wrong_language: LanguageFilter = field(default_factory=LanguageFilter)

    @classmethod
    def from_config(cls, block: Mapping[str, Any] | None) -> "FilterSettings":
        """From the ``translate.filters`` block (or the whole ``translate`` block)."""
        block = dict(block or {})
        if "filters" in block:
            block = dict(block["filters"] or {})
        unknown = sorted(set(block) - set(REASONS))
        if unknown:
            raise ConfigError(f"translate.filters: unknown reason(s) {', '.join(unknown)} (known: {', '.join(REASONS)})")
        return cls(
            length_ratio=_build(LengthRatioFilter, block.get("length_ratio"), ".filters.length_ratio"),
            repetition=_build(RepetitionFilter, block.get("repetition"), ".filters.repetition"),
            wrong_language=_build(LanguageFilter, block.get("wrong_language"), ".filters.wrong_language"),
        )

    def action(self, reason: str) -> str:
        return getattr(self, reason).action

    def as_dict(self) -> dict:
        return asdict(self)
