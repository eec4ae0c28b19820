"""Compute resources per job, sized from the config: GPUs from a per-GPU memory model, host memory, time.

Rules take them as ``resources: **rule_resources(config, "train")``: callables of the job's wildcards
(``model``, ``tuning``, ``trainset``) and of ``attempt``, so a retried job gets more memory (x attempt)
and more time (x 2^(attempt-1)). The Slurm profile maps ``gpu``, ``mem_mb`` and ``runtime`` to sbatch
options (``--gpus``, ``--mem``, ``-t``); partitions and accounts stay in the profile. With
``resources.use_gpus: false`` (the smoke config) no job asks for a GPU.

GPU count: the fewest GPUs (a power of two, at most ``gpu.max_per_job``) whose per-GPU memory, as
``polyalpaca.gpu_memory`` models it (sharded model states, per-GPU activations and logits, ZeRO
buffers), fits ``gpu.mem_gb x usable_fraction`` and over which the tuning's global batch divides; a
run no count fits is a config error naming why (``polyalpaca plan --gpu-mem-gb`` lists them all).
A multi-GPU job is ONE Slurm task: the training rule launches ``torchrun --nproc_per_node {resources.gpu}``
itself (never set ``tasks``/``tasks_per_gpu``: the plugin would start one copy per GPU).
"""

from __future__ import annotations

import logging
import math
from typing import Callable

from .errors import ConfigError
from .gpu_memory import GB, Fit, fit_inference, fit_train, model_params

log = logging.getLogger(__name__)

GPU_STAGES = ("translate", "train", "generate", "judge")
STAGES = ("data", "translate", "recipes", "train", "generate", "evaluate", "judge", "figures")
MB_PER_GB = 1024


def _settings(config: dict) -> dict:
    if "resources" not in config or "gpu" not in config["resources"]:
        raise ConfigError("resources: settings missing; validate the config first (polyalpaca.config.validate_config)")
    return config["resources"]


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")


def _model(config: dict, model: str) -> dict:
    if model not in config["models"]:
        raise ConfigError(f"models: {model!r} is not defined (defined: {', '.join(sorted(config['models']))})")
    return config["models"][model]


def context_tokens(config: dict) -> int:
    """Prompt + the longest decoding's new tokens: the KV cache a generation batch holds."""
    longest = max((d["max_new_tokens"] for d in config["decodings"].values()), default=0)
    return _settings(config)["memory"]["prompt_tokens"] + longest


def fit_for(config: dict, stage: str, model: str, tuning: str | None = None) -> Fit:
    """The GPU count and per-GPU memory of a job of ``stage`` on ``model`` (polyalpaca.gpu_memory)."""
    _model(config, model)
    if stage == "train":
        if tuning is None:
            raise ValueError("sizing a train job needs its tuning (lora and full need different memory)")
        if tuning not in config["tunings"]:
            raise ConfigError(f"tunings: {tuning!r} is not defined")
        return fit_train(config, model, tuning)
    return fit_inference(config, model, context_tokens(config), config["generate"]["batch_size"])


def gpus_for(config: dict, stage: str, model: str | None = None, tuning: str | None = None) -> int:
    """GPUs a job of ``stage`` needs for ``model`` (0 when the config runs on CPU or the stage is CPU-only)."""
    _check_stage(stage)
    settings = _settings(config)
    if not settings["use_gpus"] or stage not in GPU_STAGES:
        return 0
    if model is None:  # translation: the NLLB models fit one GPU
        return 1
    fit = fit_for(config, stage, model, tuning)
    if fit.gpus is None:
        where = f"models.{model}" + (f" with tunings.{tuning}" if tuning else f" ({stage})")
        raise ConfigError(f"{where}: no GPU count up to resources.gpu.max_per_job={settings['gpu']['max_per_job']} "
                          f"works: {fit.reason} (polyalpaca plan --gpu-mem-gb lists every such run)")
    return fit.gpus


def _train_shape(config: dict, model: str, tuning: str) -> tuple[float, int, int]:
    """(parameters, GPUs, checkpoint saves) of a train job."""
    from .plan import train_saves  # plan imports nothing from here; local import keeps startup light

    gpus = max(1, gpus_for(config, "train", model, tuning))
    return model_params(config, model), gpus, train_saves(config, tuning)


def save_bytes(config: dict, model: str, tuning: str) -> float:
    """Bytes one checkpoint of a run writes: the 16-bit model, plus for full fine-tuning the ZeRO
    optimizer states (fp32 master weights and Adam moments 12N, bf16 weight shards 2N)."""
    _model(config, model)
    n = model_params(config, model)
    return 2 * n * (8 if config["tunings"][tuning]["method"] == "full" else 0.01)


def mem_mb_for(config: dict, stage: str, model: str | None = None, attempt: int = 1,
               tuning: str | None = None) -> int:
    """Host memory (MB), times ``attempt``: the stage's floor, or enough to load the model
    (``host_bytes_per_param``). A GPU train job adds, per worker, ``memory.host_gb_per_process``,
    and holds the largest of loading and saving: a full fine-tuning save gathers the 16-bit weights
    on rank 0 (2N) while every rank serializes its fp32 optimizer shards (4N in all)."""
    _check_stage(stage)
    settings = _settings(config)
    floor = settings["mem_mb"][stage]
    if model is not None and stage in GPU_STAGES:
        _model(config, model)
        n = model_params(config, model)
        need = n * settings["host_bytes_per_param"] / GB
        if stage == "train" and tuning is not None and settings["use_gpus"]:
            _, gpus, _ = _train_shape(config, model, tuning)
            if config["tunings"][tuning]["method"] == "full":
                need = max(need, 6 * n / GB)
            need += gpus * settings["memory"]["host_gb_per_process"]
        floor = max(floor, int(need * MB_PER_GB) + 4000)
    return int(floor * max(1, attempt))


def runtime_for(config: dict, stage: str, model: str | None = None, tuning: str | None = None,
                trainset: str | None = None, attempt: int = 1) -> int:
    """Time limit (minutes): the stage's floor (a train job: at least ``runtime_safety`` x its estimated
    wall time on its GPUs, checkpoint writes at ``memory.write_gb_per_s`` included), doubled on each
    retry, capped at ``max_runtime_min``."""
    _check_stage(stage)
    settings = _settings(config)
    minutes = float(settings["runtime_min"][stage])
    if stage == "train" and model and tuning and trainset and settings["use_gpus"]:
        from .plan import train_gpu_hours

        hours = train_gpu_hours(config, model, trainset, tuning)
        if hours is None:
            log.warning("no size estimate for trainset %s (resources.estimates.sources): time limit %d min",
                        trainset, minutes)
        else:
            _, gpus, saves = _train_shape(config, model, tuning)
            save_min = saves * save_bytes(config, model, tuning) / GB / settings["memory"]["write_gb_per_s"] / 60
            minutes = max(minutes, (hours * 60 / gpus + save_min) * settings["runtime_safety"])
    minutes *= 2 ** (max(1, attempt) - 1)
    return int(min(math.ceil(minutes), settings["max_runtime_min"]))


def _wildcard(wildcards, name: str) -> str | None:
    return wildcards.get(name) if hasattr(wildcards, "get") else getattr(wildcards, name, None)


def rule_resources(config: dict, stage: str, model: str | Callable | None = None) -> dict[str, Callable]:
    """``gpu``, ``mem_mb`` and ``runtime`` for a rule, as callables Snakemake evaluates per job.

    The model, tuning and trainset come from the job's wildcards of those names; ``model`` overrides the
    model (a name, or a function of the wildcards, e.g. a local judge's model).
    """
    _check_stage(stage)

    def job_model(wildcards) -> str | None:
        if callable(model):
            return model(wildcards)
        return model if model is not None else _wildcard(wildcards, "model")

    def gpu(wildcards) -> int:
        return gpus_for(config, stage, job_model(wildcards), _wildcard(wildcards, "tuning"))

    def mem_mb(wildcards, attempt) -> int:
        return mem_mb_for(config, stage, job_model(wildcards), attempt, _wildcard(wildcards, "tuning"))

    def runtime(wildcards, attempt) -> int:
        return runtime_for(config, stage, job_model(wildcards), _wildcard(wildcards, "tuning"),
                           _wildcard(wildcards, "trainset"), attempt)

    return {"gpu": gpu, "mem_mb": mem_mb, "runtime": runtime}
