"""Typed parameters of the generate stage, built from the config and validated with clear errors."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..pairs import study_generation_runs
from ..effects import schema_defaults
from ..errors import ConfigError
from ..templates import get_template, stop_strings

BACKENDS = ("transformers", "vllm")
DTYPES = ("auto", "float32", "bfloat16", "float16")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
@schema_defaults("decodings", "*")
class DecodingParams:
    """Decoding settings of one ``decodings.<name>`` preset (plus the template's stop strings): greedy, or
    beam search when ``num_beams`` > 1 (never sampled)."""

    name: str
    max_new_tokens: int
    repetition_penalty: float
    no_repeat_ngram_size: int
    stop: tuple[str, ...]
    num_beams: int

    def __post_init__(self):
        where = f"decodings.{self.name}"
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 1:
            raise ConfigError(f"{where}.max_new_tokens: expected an integer >= 1, got {self.max_new_tokens!r}")
        if not isinstance(self.num_beams, int) or self.num_beams < 1:
            raise ConfigError(f"{where}.num_beams: expected an integer >= 1, got {self.num_beams!r}")
        if not self.repetition_penalty > 0:
            raise ConfigError(f"{where}.repetition_penalty: expected a number > 0, got {self.repetition_penalty!r}")
        if not isinstance(self.no_repeat_ngram_size, int) or self.no_repeat_ngram_size < 0:
            raise ConfigError(f"{where}.no_repeat_ngram_size: expected an integer >= 0, got {self.no_repeat_ngram_size!r}")
        if any(not isinstance(s, str) or not s for s in self.stop):
            raise ConfigError(f"{where}.stop: expected non-empty strings, got {list(self.stop)!r}")

    @classmethod
    def from_config(cls, config: dict, name: str, template: str | None = None) -> "DecodingParams":
        """The preset ``decodings.<name>``; ``template``'s stop strings are added to the preset's."""
        presets = config["decodings"]
        if name not in presets:
            raise ConfigError(f"decodings: {name!r} is not defined (defined: {', '.join(sorted(presets)) or 'none'})")
        preset = presets[name]
        stops = list(preset["stop"])
        if template is not None:
            stops += [s for s in stop_strings(template) if s not in stops]
        return cls(name=name, max_new_tokens=preset["max_new_tokens"], num_beams=int(preset["num_beams"]),
                   repetition_penalty=float(preset["repetition_penalty"]),
                   no_repeat_ngram_size=int(preset["no_repeat_ngram_size"]), stop=tuple(stops))


@dataclass(frozen=True)
@schema_defaults("generate")
class GenerateSettings:
    """The ``generate:`` block of the config (how, not what, to generate)."""

    backend: str
    batch_size: int
    dtype: str
    device: str
    merge_lora: bool
    sort_by_length: bool
    threads: int

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ConfigError(f"generate.backend: {self.backend!r} is not one of {', '.join(BACKENDS)}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ConfigError(f"generate.batch_size: expected an integer >= 1, got {self.batch_size!r}")
        if self.dtype not in DTYPES:
            raise ConfigError(f"generate.dtype: {self.dtype!r} is not one of {', '.join(DTYPES)}")
        if self.device not in DEVICES:
            raise ConfigError(f"generate.device: {self.device!r} is not one of {', '.join(DEVICES)}")
        if not isinstance(self.threads, int) or self.threads < 1:
            raise ConfigError(f"generate.threads: expected an integer >= 1, got {self.threads!r}")

    @classmethod
    def from_config(cls, config: dict) -> "GenerateSettings":
        block = dict(config.get("generate") or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(block) - known)
        if unknown:
            raise ConfigError(f"generate: unknown keys {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        return cls(**block)


@dataclass(frozen=True)
class RunId:
    """Which fine-tuned model a generation file belongs to (copied into every record)."""

    model: str
    trainset: str
    tuning: str
    testset: str
    lang: str
    prompt_template: str = field(default="alpaca")

    def __post_init__(self):
        get_template(self.prompt_template)  # unknown template -> ConfigError naming the known ones


def studies_by_run(config: dict) -> dict[tuple[str, str, str, str], list[str]]:
    """(model, trainset, tuning, testset) -> the studies that evaluate that run on that test set.

    Built once per workflow (a rule's params look it up per job: re-expanding every study's runs per
    job cost most of the paper grid's dry run)."""
    index: dict[tuple[str, str, str, str], list[str]] = {}
    for name, study in config["studies"].items():
        for r in study_generation_runs(config, name):
            studies = index.setdefault((r.model, r.trainset, r.tuning, study["testset"]), [])
            if name not in studies:
                studies.append(name)
    return index


def decoding_for(config: dict, model: str, trainset: str, tuning: str, testset: str,
                 index: dict | None = None) -> str:
    """The ``decodings`` key of the study that generates for this run on this test set.

    Several studies may share a run and a test set only if they agree on the decoding. ``index`` is
    :func:`studies_by_run` of ``config`` when the caller has it.
    """
    index = studies_by_run(config) if index is None else index
    studies = index.get((model, trainset, tuning, testset), [])
    run = f"{model}/{trainset}/{tuning}"
    if not studies:
        raise ConfigError(f"studies: no study evaluates run {run} on testset {testset!r}")
    names = {config["studies"][s]["decoding"] for s in studies}
    if len(names) > 1:
        detail = ", ".join(f"studies.{s}.decoding={config['studies'][s]['decoding']}" for s in studies)
        raise ConfigError(f"run {run} on testset {testset!r} has conflicting decodings: {detail}")
    return names.pop()


def generation_jobs(config: dict) -> list[tuple[str, str, str, str, str]]:
    """Every (model, trainset, tuning, testset, lang) the studies generate for, each once, sorted."""
    jobs = set()
    for name, study in config["studies"].items():
        for run in study_generation_runs(config, name):
            for lang in run.languages:
                jobs.add((run.model, run.trainset, run.tuning, study["testset"], lang))
    return sorted(jobs)

