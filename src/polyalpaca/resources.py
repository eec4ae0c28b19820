"""Compute resources per job, sized from the config: GPUs from a model's ``params_b``, host memory, time.

Rules take them as ``resources: **rule_resources(config, "train")``: callables of the job's wildcards
(``model``, ``tuning``, ``trainset``) and of ``attempt``, so a retried job gets more memory (x attempt)
and more time (x 2^(attempt-1)). The Slurm profile maps ``gpu``, ``mem_mb`` and ``runtime`` to sbatch
options (``--gpus``, ``--mem``, ``-t``); partitions and accounts stay in the profile. With
``resources.use_gpus: false`` (the smoke config) no job asks for a GPU.

GPU count: a job needs ``params_b x bytes_per_param[kind]`` GB of GPU memory (kind: ``train_full``
sharded by ZeRO-3, ``train_lora``, ``inference``); it gets ``ceil(need / (gpu.mem_gb x usable_fraction))``
GPUs rounded up to a power of two (so global batch sizes stay divisible), at most ``gpu.max_per_job``.
A multi-GPU job is ONE Slurm task: the training rule launches ``torchrun --nproc_per_node {resources.gpu}``
itself (never set ``tasks``/``tasks_per_gpu``: the plugin would start one copy per GPU).
"""

from __future__ import annotations

import logging
import math
from typing import Callable

from .errors import ConfigError

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


def memory_kind(config: dict, stage: str, tuning: str | None = None) -> str:
    """``train_full``, ``train_lora`` or ``inference``: which ``resources.bytes_per_param`` entry applies."""
    if stage != "train":
        return "inference"
    if tuning is None:
        raise ValueError("sizing a train job needs its tuning (lora and full need different memory)")
    if tuning not in config["tunings"]:
        raise ConfigError(f"tunings: {tuning!r} is not defined")
    return "train_full" if config["tunings"][tuning]["method"] == "full" else "train_lora"


def gpu_memory_gb(config: dict, stage: str, model: str, tuning: str | None = None) -> float:
    """GPU memory (GB) a job of ``stage`` on ``model`` needs in total, over all its GPUs."""
    kind = memory_kind(config, stage, tuning)
    return _model(config, model)["params_b"] * _settings(config)["bytes_per_param"][kind]


def gpus_for(config: dict, stage: str, model: str | None = None, tuning: str | None = None) -> int:
    """GPUs a job of ``stage`` needs for ``model`` (0 when the config runs on CPU or the stage is CPU-only)."""
    _check_stage(stage)
    settings = _settings(config)
    if not settings["use_gpus"] or stage not in GPU_STAGES:
        return 0
    if model is None:  # translation: the NLLB models fit one GPU
        return 1
    gpu = settings["gpu"]
    need = gpu_memory_gb(config, stage, model, tuning)
    per_gpu = gpu["mem_gb"] * gpu["usable_fraction"]
    count = 2 ** math.ceil(math.log2(max(1.0, need / per_gpu)))
    if count > gpu["max_per_job"]:
        raise ConfigError(
            f"models.{model}: params_b={_model(config, model)['params_b']} needs ~{need:.0f} GB of GPU memory for "
            f"{stage} ({memory_kind(config, stage, tuning)}), {count} GPUs of {gpu['mem_gb']} GB, more than "
            f"resources.gpu.max_per_job={gpu['max_per_job']} (multi-node jobs are not supported)"
        )
    return count


def mem_mb_for(config: dict, stage: str, model: str | None = None, attempt: int = 1) -> int:
    """Host memory (MB): the stage's floor, or enough to load the model in fp32, times ``attempt``."""
    _check_stage(stage)
    settings = _settings(config)
    floor = settings["mem_mb"][stage]
    if model is not None and stage in GPU_STAGES:
        model_mb = _model(config, model)["params_b"] * settings["host_bytes_per_param"] * MB_PER_GB
        floor = max(floor, int(model_mb) + 4000)
    return int(floor * max(1, attempt))


def runtime_for(config: dict, stage: str, model: str | None = None, tuning: str | None = None,
                trainset: str | None = None, attempt: int = 1) -> int:
    """Time limit (minutes): the stage's floor (a train job: at least ``runtime_safety`` x its estimated
    wall time on its GPUs), doubled on each retry, capped at ``max_runtime_min``."""
    _check_stage(stage)
    settings = _settings(config)
    minutes = float(settings["runtime_min"][stage])
    if stage == "train" and model and tuning and trainset and settings["use_gpus"]:
        from .plan import train_gpu_hours  # plan imports nothing from here; local import keeps startup light

        hours = train_gpu_hours(config, model, trainset, tuning)
        if hours is None:
            log.warning("no size estimate for trainset %s (resources.estimates.sources): time limit %d min",
                        trainset, minutes)
        else:
            gpus = max(1, gpus_for(config, stage, model, tuning))
            minutes = max(minutes, hours * 60 / gpus * settings["runtime_safety"])
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
        return mem_mb_for(config, stage, job_model(wildcards), attempt)

    def runtime(wildcards, attempt) -> int:
        return runtime_for(config, stage, job_model(wildcards), _wildcard(wildcards, "tuning"),
                           _wildcard(wildcards, "trainset"), attempt)

    return {"gpu": gpu, "mem_mb": mem_mb, "runtime": runtime}
