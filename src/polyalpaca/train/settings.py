"""Typed, validated parameters of one fine-tuning run, resolved from the config.

A tuning preset (``tunings.<name>``) is resolved for one model: the family's maximum length
(``max_length_by_family``) and LoRA target modules (``families.<family>.lora_target_modules``) are
filled in, and the stage's caps (``train.caps``, used by the smoke profile) applied. The resolved
tuning is what the rule passes as a param, so a change to any of it marks the run stale, and what
``train_log.json`` records.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..effects import effect_of, schema_defaults
from ..errors import ConfigError

METHODS = ("lora", "full")
SCHEDULERS = ("cosine", "linear", "constant", "inverse_sqrt")


@dataclass(frozen=True)
@schema_defaults("tunings", "*", "lora")
class LoraParams:
    r: int
    alpha: float
    dropout: float
    target_modules: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "target_modules", tuple(self.target_modules))
        if self.r < 1 or self.alpha <= 0 or not 0 <= self.dropout <= 1:
            raise ConfigError(f"lora: need r >= 1, alpha > 0, 0 <= dropout <= 1 (got r={self.r}, "
                              f"alpha={self.alpha}, dropout={self.dropout})")
        if not self.target_modules:
            raise ConfigError("lora: no target modules (set families.<family>.lora_target_modules)")


@dataclass(frozen=True)
@schema_defaults("tunings", "*")
class TuningParams:
    """One tuning preset resolved for one model family (see ``$defs/tuning`` in the config schema)."""

    name: str
    method: str
    learning_rate: float
    prompt_template: str
    max_length: int
    loss_on: str
    lora: LoraParams | None = None
    weight_decay: float
    global_batch_size: int | None = None
    micro_batch_size: int
    batch_tokens: int | None = None
    gradient_accumulation_steps: int | None = None
    epochs: float | None = None
    max_steps: int | None = None
    lr_scheduler: str
    warmup_ratio: float
    select_best: str
    eval_every: int | None = None
    deepspeed_stage: int
    bf16: bool

    def __post_init__(self) -> None:
        where = f"tunings.{self.name}"
        if isinstance(self.lora, dict):
            object.__setattr__(self, "lora", LoraParams(**self.lora))
        if self.method not in METHODS:
            raise ConfigError(f"{where}.method: {self.method!r} is not one of {', '.join(METHODS)}")
        if self.method == "lora" and self.lora is None:
            raise ConfigError(f"{where}: method 'lora' needs a 'lora' block (r, alpha, dropout)")
        if self.lr_scheduler not in SCHEDULERS:
            raise ConfigError(f"{where}.lr_scheduler: {self.lr_scheduler!r} is not one of {', '.join(SCHEDULERS)}")
        if self.loss_on not in ("all", "response"):
            raise ConfigError(f"{where}.loss_on: {self.loss_on!r} is not 'all' or 'response'")
        if self.select_best not in ("val_loss", "last"):
            raise ConfigError(f"{where}.select_best: {self.select_best!r} is not 'val_loss' or 'last'")
        if self.epochs is None and self.max_steps is None:
            raise ConfigError(f"{where}: set 'epochs' or 'max_steps'")
        if self.token_batches:
            if self.gradient_accumulation_steps is None:
                raise ConfigError(f"{where}: 'batch_tokens' needs 'gradient_accumulation_steps'")
            if self.batch_tokens < self.max_length:
                raise ConfigError(f"{where}.batch_tokens: {self.batch_tokens} is smaller than max_length "
                                  f"{self.max_length}, so a long example would not fit in a batch")
        elif self.global_batch_size is None:
            raise ConfigError(f"{where}: set 'global_batch_size' (or 'batch_tokens' and 'gradient_accumulation_steps')")
        if self.lr_scheduler == "inverse_sqrt" and self.warmup_ratio:
            raise ConfigError(f"{where}.warmup_ratio: the inverse_sqrt schedule runs without warmup (set 0)")
        if self.deepspeed_stage not in (0, 2, 3):
            raise ConfigError(f"{where}.deepspeed_stage: {self.deepspeed_stage!r} is not 0, 2 or 3")

    @property
    def token_batches(self) -> bool:
        return self.batch_tokens is not None

    def accumulation_steps(self, processes: int) -> int:
        """Micro batches each process accumulates per optimizer step, keeping the global batch constant.

        Example-based: ``global_batch_size / (micro_batch_size * processes)``. Token-based:
        ``gradient_accumulation_steps`` counts the micro batches of one optimizer step over all
        processes (``batch_tokens`` padded tokens each), so each process does ``/ processes``.
        A global batch that does not divide is an error, never a silent change.
        """
        if processes < 1:
            raise ConfigError(f"tunings.{self.name}: need at least one process, got {processes}")
        if self.token_batches:
            total, unit, what = self.gradient_accumulation_steps, processes, "gradient_accumulation_steps"
            if total % unit:
                raise ConfigError(
                    f"tunings.{self.name}.{what}: {total} micro batches per step cannot be split over "
                    f"{processes} processes; choose a multiple of {processes} or another GPU count")
            return total // unit
        unit = self.micro_batch_size * processes
        if self.global_batch_size % unit:
            raise ConfigError(
                f"tunings.{self.name}.global_batch_size: {self.global_batch_size} is not divisible by "
                f"micro_batch_size x processes = {self.micro_batch_size} x {processes} = {unit}; "
                f"change global_batch_size, micro_batch_size or the GPU count")
        return self.global_batch_size // unit

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TuningParams":
        return cls(**data)


@dataclass(frozen=True)
class Caps:
    """Upper limits applied to every tuning (smoke runs); ``None`` leaves the preset alone."""

    max_steps: int | None = None
    global_batch_size: int | None = None
    batch_tokens: int | None = None
    max_length: int | None = None
    max_train_examples: int | None = None
    max_val_examples: int | None = None


@dataclass(frozen=True)
@schema_defaults("train")
class TrainSettings:
    """The ``train:`` block of the config (schemas/settings/train.schema.yaml)."""

    checkpoint_root: str
    keep_checkpoints: bool
    save_total_limit: int
    evals_per_epoch: int
    evals_per_step_budget: int
    logging_steps: int
    group_by_length: bool
    length_group_size: int
    dataloader_workers: int
    gradient_checkpointing: bool | str
    max_grad_norm: float
    cpu_processes: int
    probe_examples: int
    caps: Caps = field(default_factory=Caps)

    def __post_init__(self) -> None:
        if isinstance(self.caps, dict):
            object.__setattr__(self, "caps", Caps(**self.caps))
        if self.save_total_limit < 2:
            raise ConfigError(f"train.save_total_limit: must be >= 2 (the last checkpoint must survive until the "
                              f"output is published), got {self.save_total_limit}")
        for name in ("evals_per_epoch", "evals_per_step_budget", "logging_steps",
                     "length_group_size", "cpu_processes", "probe_examples"):
            if getattr(self, name) < 1:
                raise ConfigError(f"train.{name}: must be >= 1, got {getattr(self, name)}")
        if self.gradient_checkpointing not in ("auto", True, False):
            raise ConfigError(f"train.gradient_checkpointing: auto, true or false, got {self.gradient_checkpointing!r}")

    def checkpoints_activations(self, method: str) -> bool:
        """Whether a run of ``method`` recomputes activations (``auto``: full fine-tuning only)."""
        if self.gradient_checkpointing == "auto":
            return method == "full"
        return bool(self.gradient_checkpointing)

    @classmethod
    def from_config(cls, block: dict[str, Any] | None) -> "TrainSettings":
        block = dict(block or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(block) - known)
        if unknown:
            raise ConfigError(f"train: unknown setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        return cls(**block)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def resolve_tuning(config: dict, model: str, tuning: str) -> TuningParams:
    """The preset ``tunings.<tuning>`` for ``models.<model>``: family length and LoRA modules, caps applied."""
    if tuning not in config["tunings"]:
        raise ConfigError(f"tunings: {tuning!r} is not defined (defined: {', '.join(sorted(config['tunings']))})")
    if model not in config["models"]:
        raise ConfigError(f"models: {model!r} is not defined (defined: {', '.join(sorted(config['models']))})")
    raw = dict(config["tunings"][tuning])
    family = config["models"][model]["family"]
    caps = TrainSettings.from_config(config.get("train")).caps

    max_length = raw.pop("max_length_by_family", {}).get(family, raw["max_length"])
    lora = None
    if raw.get("method") == "lora":
        targets = raw["lora"].get("target_modules_by_family", {}).get(family) \
            or config["families"].get(family, {}).get("lora_target_modules")
        if not targets:
            raise ConfigError(f"families.{family}.lora_target_modules: not set (needed by tunings.{tuning})")
        lora = LoraParams(r=raw["lora"]["r"], alpha=raw["lora"]["alpha"], dropout=raw["lora"]["dropout"],
                          target_modules=tuple(targets))
    raw.pop("lora", None)
    known = {f.name for f in dataclasses.fields(TuningParams)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"tunings.{tuning}: unknown key(s) {', '.join(unknown)}")
    raw.update(name=tuning, lora=lora, max_length=max_length)

    if caps.max_length is not None:
        raw["max_length"] = min(raw["max_length"], caps.max_length)
    if caps.max_steps is not None:
        raw["max_steps"] = min(raw.get("max_steps") or caps.max_steps, caps.max_steps)
    if caps.global_batch_size is not None and raw.get("global_batch_size") is not None:
        raw["global_batch_size"] = min(raw["global_batch_size"], caps.global_batch_size)
        raw["micro_batch_size"] = min(raw.get("micro_batch_size", 4), raw["global_batch_size"])
    if caps.batch_tokens is not None and raw.get("batch_tokens") is not None:
        raw["batch_tokens"] = min(raw["batch_tokens"], caps.batch_tokens)
        raw["max_length"] = min(raw["max_length"], raw["batch_tokens"])
    return TuningParams(**raw)


@dataclass(frozen=True)
class TrainJob:
    """Everything one run needs: inputs, outputs, the resolved tuning and the stage settings."""

    model: str
    family: str
    trainset: str
    base_model: str
    train_file: str
    val_file: str
    output_dir: str
    checkpoint_dir: str
    tuning: TuningParams
    settings: TrainSettings = field(default_factory=TrainSettings)
    processes: int = 1
    gpus: int = 0  # what the job was given (resources.gpu): checked against what torch sees
    threads: int = 1
    seed: int = 42
    on_bad_line: str = "fail"

    def __post_init__(self) -> None:
        if isinstance(self.tuning, dict):
            object.__setattr__(self, "tuning", TuningParams.from_dict(self.tuning))
        if isinstance(self.settings, dict):
            object.__setattr__(self, "settings", TrainSettings(**self.settings))
        if self.processes < 1:
            raise ConfigError(f"train job {self.run_id}: processes must be >= 1, got {self.processes}")
        if self.on_bad_line not in ("fail", "skip"):
            raise ConfigError(f"on_bad_line: {self.on_bad_line!r} is not 'fail' or 'skip'")
        self.tuning.accumulation_steps(self.processes)  # fail early on a global batch that does not divide

    @property
    def run_id(self) -> str:
        return f"{self.model}/{self.trainset}/{self.tuning.name}"

    @property
    def staging_dir(self) -> Path:
        """Where the final output is assembled before the atomic rename (a hidden sibling)."""
        out = Path(self.output_dir)
        return out.parent / f".{out.name}.partial"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, path: str | Path) -> "TrainJob":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))

    def fingerprint(self) -> dict[str, Any]:
        """What a checkpoint depends on: resuming under a different fingerprint would mix two runs."""
        data = self.to_dict()
        for key in ("output_dir", "checkpoint_dir", "threads", "gpus"):  # gpus: already in processes
            data.pop(key)
        # the same declaration as the rule's params (x-effect in the schema): every result setting
        data["settings"] = {k: v for k, v in data["settings"].items() if effect_of(("train", k)) == "result"}
        return data
