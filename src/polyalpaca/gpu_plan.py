"""``polyalpaca plan --gpu-mem-gb N``: per training configuration and generation model, the GPUs a job
gets, its estimated memory per GPU, hours and host memory; and every run no GPU count fits.

The sizing is the one the rules use (polyalpaca.resources, polyalpaca.gpu_memory), for the GPU memory
given on the command line instead of ``resources.gpu.mem_gb``, so a plan for 40 GB cards shows what a
40 GB partition would run, before anything is queued.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from . import grid
from .gpu_memory import GB, fit_train, model_arch
from .plan import train_gpu_hours, train_saves
from .resources import context_tokens, fit_for, mem_mb_for, save_bytes


@dataclass(frozen=True)
class SizingRow:
    kind: str  # train / generate / judge / benchmark
    model: str
    tuning: str  # '' for inference
    runs: int
    gpus: int | None
    gb_per_gpu: float
    breakdown: str
    hours: float | None  # wall hours of the longest run (checkpoint saves included)
    host_gb: float
    reason: str


def with_gpu_memory(config: dict, gpu_mem_gb: float | None) -> dict:
    """The config with ``resources.gpu.mem_gb`` replaced and GPUs switched on (a copy)."""
    config = copy.deepcopy(config)
    config["resources"]["use_gpus"] = True
    if gpu_mem_gb is not None:
        config["resources"]["gpu"]["mem_gb"] = float(gpu_mem_gb)
    return config


def _train_rows(config: dict) -> list[SizingRow]:
    runs: dict[tuple[str, str], list[str]] = {}
    for job in grid.grid_jobs(config):
        if job.rule == "train_run":
            runs.setdefault((job.get("model"), job.get("tuning")), []).append(job.get("trainset"))
    rows = []
    write = config["resources"]["memory"]["write_gb_per_s"]
    for (model, tuning), trainsets in sorted(runs.items()):
        fit = fit_train(config, model, tuning)
        hours = None
        if fit.gpus:
            known = [h for h in (train_gpu_hours(config, model, ts, tuning) for ts in trainsets) if h is not None]
            saves = train_saves(config, tuning) * save_bytes(config, model, tuning) / GB / write / 3600
            hours = max(known) / fit.gpus + saves if known else None
        host = mem_mb_for(config, "train", model, 1, tuning) / 1024 if fit.gpus else 0.0
        rows.append(SizingRow("train", model, tuning, len(trainsets), fit.gpus, fit.footprint.total,
                              fit.footprint.breakdown(), hours, host, fit.reason))
    return rows


def _inference_rows(config: dict) -> list[SizingRow]:
    from .evaluate.judge.targets import local_judge_model

    models: dict[tuple[str, str], int] = {}
    for job in grid.grid_jobs(config):
        if job.rule == "generate_responses":
            key = ("generate", job.get("model"))
        elif (job.rule in ("score", "judge_pair") and config["metrics"][job.get("metric")]["kind"] in grid.JUDGE_KINDS
              and local_judge_model(config, job.get("metric"))):
            key = ("judge", local_judge_model(config, job.get("metric")))
        elif job.rule == "lm_eval_task":  # sized like generation of the run's base model (rules/benchmark.smk)
            key = ("benchmark", job.get("model"))
        else:
            continue
        models[key] = models.get(key, 0) + 1
    rows = []
    for (kind, model), jobs in sorted(models.items()):
        stage = "generate" if kind == "benchmark" else kind
        fit = fit_for(config, stage, model)
        host = mem_mb_for(config, stage, model) / 1024
        rows.append(SizingRow(kind, model, "", jobs, fit.gpus, fit.footprint.total, fit.footprint.breakdown(),
                              None, host, fit.reason))
    return rows


def sizing_rows(config: dict) -> list[SizingRow]:
    return _train_rows(config) + _inference_rows(config)


def format_sizing(config: dict, rows: list[SizingRow]) -> str:
    gpu = config["resources"]["gpu"]
    lines = [f"GPU sizing for {gpu['mem_gb']:g} GB GPUs ({gpu['usable_fraction']:.0%} usable, at most "
             f"{gpu['max_per_job']} per job; generation context {context_tokens(config)} tokens x batch "
             f"{config['generate']['batch_size']})",
             f"{'kind':<9} {'model':<14} {'tuning':<20} {'jobs':>5} {'GPUs':>5} {'GB/GPU':>7} {'hours':>7} "
             f"{'host GB':>8}  memory per GPU (GB)"]
    for row in rows:
        gpus = str(row.gpus) if row.gpus else "-"
        hours = f"{row.hours:.1f}" if row.hours is not None else ""
        lines.append(f"{row.kind:<9} {row.model:<14} {row.tuning:<20} {row.runs:>5} {gpus:>5} "
                     f"{row.gb_per_gpu:>7.1f} {hours:>7} {row.host_gb:>8.0f}  {row.breakdown}")
    cap = config["resources"]["max_runtime_min"] / 60
    long = [row for row in rows if row.hours is not None and row.hours > cap]
    if long:
        lines.append(f"longer than one job's time limit (resources.max_runtime_min = {cap:g} h): "
                     + ", ".join(f"{r.model} {r.tuning} (~{r.hours / cap:.1f} limits)" for r in long)
                     + "; each attempt resumes from the last checkpoint, so the profile's `retries` must cover them")
    estimated = sorted({row.model for row in rows if model_arch(config, row.model).estimated})
    if estimated:
        lines.append("shape estimated from params_b (set models.<m>.arch): " + ", ".join(estimated))
    unfit = [row for row in rows if row.gpus is None]
    if unfit:
        lines += ["", f"{len(unfit)} configuration(s) cannot run on {gpu['mem_gb']:g} GB GPUs:"]
        lines += [f"  {row.kind} {row.model}" + (f" with {row.tuning}" if row.tuning else "")
                  + f" ({row.runs} jobs): {row.reason}" for row in unfit]
    return "\n".join(lines)
