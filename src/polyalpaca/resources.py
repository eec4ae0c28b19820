"""Compute resources per job, sized from the config (GPUs by model size).

Rules call these through input-function-like lambdas in their ``resources:``; the Slurm profile maps
them to sbatch options. On the smoke profile no GPU is requested.
"""

from __future__ import annotations


def gpus_for(config: dict, stage: str, model: str | None = None) -> int:
    """GPUs a job of ``stage`` needs for ``model`` (0 when the config says to run on CPU)."""
    settings = config.get("resources", {})
    if not settings.get("use_gpus", False) or model is None:
        return 0
    params_b = config["models"][model]["params_b"]
    per_gpu = settings.get("params_b_per_gpu", {}).get(stage, 7.0)
    return max(1, int(-(-params_b // per_gpu)))
