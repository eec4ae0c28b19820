"""Input functions and targets of the generate rules, as plain functions of ``(config, wildcards)``."""

from __future__ import annotations

from dataclasses import asdict

from ..grid import outputs
from .settings import DecodingParams, RunId, decoding_for

GENERATIONS = "results/generations/{model}/{trainset}/{tuning}/{testset}/{lang}.jsonl"


def generation_inputs(config: dict, wc) -> dict[str, str]:
    """The fine-tuned run, its base model (a LoRA adapter is loaded on it) and the test prompts."""
    return {
        "run": f"results/models/{wc.model}/{wc.trainset}/{wc.tuning}",
        "base": f"resources/models/{wc.model}",
        "prompts": f"results/testsets/{wc.testset}/{wc.lang}.jsonl",
    }


def run_params(config: dict, wc) -> dict:
    """The fields of :class:`RunId` for the job (the prompt template comes from the tuning)."""
    template = config["tunings"][wc.tuning]["prompt_template"]
    return asdict(RunId(wc.model, wc.trainset, wc.tuning, wc.testset, wc.lang, template))


def decoding_params(config: dict, wc, index: dict | None = None) -> dict:
    """The decoding preset of the study that generates for this run on this test set, with the stop
    strings of the tuning's prompt template added (``index``: ``studies_by_run(config)``, built once)."""
    name = decoding_for(config, wc.model, wc.trainset, wc.tuning, wc.testset, index)
    template = config["tunings"][wc.tuning]["prompt_template"]
    params = asdict(DecodingParams.from_config(config, name, template))
    params["stop"] = list(params["stop"])
    return params


def generation_targets(config: dict) -> list[str]:
    """Every generation file the studies need."""
    return outputs(config, "generate_responses")
