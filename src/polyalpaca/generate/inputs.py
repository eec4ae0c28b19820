"""Input functions and targets of the generate rules, as plain functions of ``(config, wildcards)``."""

from __future__ import annotations

from dataclasses import asdict

from ..grid import OUTPUTS, outputs
from ..pairs import is_published, prompt_template_of
from .settings import DecodingParams, RunId, decoding_for

GENERATIONS = "results/generations/{model}/{trainset}/{tuning}/{testset}/{lang}.jsonl"


def run_weights(config: dict, model: str, trainset: str, tuning: str) -> str:
    """What generation loads on the base model: the fine-tuned run's folder; for a baseline (run
    ``{model}/published/{baseline}``) its published adapter, or the full model itself."""
    if is_published(trainset):
        if "adapter" in config["baselines"][tuning]:
            return OUTPUTS["fetch_adapter"].format(baseline=tuning)
        return OUTPUTS["fetch_model"].format(model=model)
    return OUTPUTS["train_run"].format(model=model, trainset=trainset, tuning=tuning)


def generation_inputs(config: dict, wc) -> dict[str, str]:
    """The fine-tuned run (or baseline), its base model (a LoRA adapter is loaded on it) and the test prompts."""
    return {
        "run": run_weights(config, wc.model, wc.trainset, wc.tuning),
        "base": OUTPUTS["fetch_model"].format(model=wc.model),
        "prompts": f"results/testsets/{wc.testset}/{wc.lang}.jsonl",
    }


def run_params(config: dict, wc) -> dict:
    """The fields of :class:`RunId` for the job (the prompt template comes from the tuning, or the baseline)."""
    template = prompt_template_of(config, wc.trainset, wc.tuning)
    return asdict(RunId(wc.model, wc.trainset, wc.tuning, wc.testset, wc.lang, template))


def decoding_params(config: dict, wc, index: dict | None = None) -> dict:
    """The decoding preset of the study that generates for this run on this test set, with the stop
    strings of the tuning's prompt template added (``index``: ``studies_by_run(config)``, built once)."""
    name = decoding_for(config, wc.model, wc.trainset, wc.tuning, wc.testset, index)
    template = prompt_template_of(config, wc.trainset, wc.tuning)
    params = asdict(DecodingParams.from_config(config, name, template))
    params["stop"] = list(params["stop"])
    return params


def generation_targets(config: dict) -> list[str]:
    """Every generation file the studies need."""
    return outputs(config, "generate_responses")
