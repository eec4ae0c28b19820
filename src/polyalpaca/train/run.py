"""Run one fine-tuning job end to end: prepare, launch the workers, verify, publish atomically.

Checkpoints live in ``job.checkpoint_dir`` (outside the rule's declared output), so a preempted job
resumes from its last checkpoint when it is started again. Checkpoints written under different
resolved parameters are discarded, not resumed. The final folder is assembled in a hidden sibling
of the output and renamed only after the saved model passed :func:`verify_saved_run`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Sequence

from ..errors import ConfigError, DataError, PolyalpacaError
from ..io import write_json
from .launch import launch_command, uses_deepspeed
from .settings import TrainJob
from .models import PROBE_FILE
from .trainer import train_worker
from .verify import read_train_log, verify_saved_run

log = logging.getLogger(__name__)

FINGERPRINT_FILE = "job_fingerprint.json"


class TrainLaunchError(PolyalpacaError):
    """The training workers failed (the message has the exit code and the log's tail)."""


def check_inputs(job: TrainJob) -> None:
    base = Path(job.base_model)
    if not (base / "config.json").is_file():
        raise ConfigError(f"models.{job.model}: base model folder {base} has no config.json "
                          "(build or download it first: rule fetch_model)")
    for path in (job.train_file, job.val_file):
        if not Path(path).is_file():
            raise DataError(f"{path}: trainset split not found (rule build_trainset makes it)")


def prepare_checkpoint_dir(job: TrainJob) -> Path:
    """Create the checkpoint folder; discard checkpoints of a run with other parameters."""
    ckpt = Path(job.checkpoint_dir)
    stamp = ckpt / FINGERPRINT_FILE
    fingerprint = json.loads(json.dumps(job.fingerprint()))  # as it reads back (tuples become lists)
    if ckpt.is_dir() and any(ckpt.glob("checkpoint-*")):
        old = json.loads(stamp.read_text(encoding="utf-8")) if stamp.is_file() else None
        if old != fingerprint:
            log.warning("%s: checkpoints in %s were made with other parameters; starting afresh", job.run_id, ckpt)
            shutil.rmtree(ckpt)
    ckpt.mkdir(parents=True, exist_ok=True)
    write_json(stamp, fingerprint)
    return ckpt


def _run_workers(cmd: list[str], job: TrainJob, env: dict[str, str] | None = None) -> None:
    """Run the launcher command, forwarding its output line by line into our log."""
    log.info("launching %d worker processes: %s", job.processes, " ".join(cmd))
    tail: list[str] = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env={**os.environ, **(env or {})}) as proc:
        for line in proc.stdout:
            line = line.rstrip("\n")
            log.info("[workers] %s", line)
            tail = (tail + [line])[-30:]
    if proc.returncode:
        raise TrainLaunchError(f"{job.run_id}: training workers exited with code {proc.returncode}; last lines:\n"
                               + "\n".join(tail))


def publish(staging: Path, output: Path) -> None:
    """Rename the verified staging folder to the declared output (atomic on one file system)."""
    if output.exists():
        shutil.rmtree(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, output)


def check_gpus(job: TrainJob) -> None:
    """A job given GPUs must see them: with a driver too old for torch's CUDA build, or devices hidden,
    ``torch.cuda.is_available()`` is false and training would silently run on CPU until the time limit."""
    if job.gpus == 0:
        return
    import torch

    seen = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if seen < job.gpus:
        raise PolyalpacaError(
            f"{job.run_id}: the job was given {job.gpus} GPU(s) (resources.gpu) but torch sees {seen} (torch "
            f"{torch.__version__}, built for CUDA {torch.version.cuda}; CUDA_VISIBLE_DEVICES="
            f"{os.environ.get('CUDA_VISIBLE_DEVICES')!r}). Not training on CPU: check the node's NVIDIA driver "
            "against torch's CUDA version, or run without GPUs (resources.gpu 0)")


def launches_workers(job: TrainJob) -> bool:
    """Whether the job runs under torchrun: several processes, or DeepSpeed even on one GPU (its ZeRO-3
    loading calls ``init_distributed``, which without torchrun's RANK/MASTER_* variables falls back to MPI
    discovery and dies importing mpi4py)."""
    return job.processes > 1 or uses_deepspeed(job.tuning.method, job.tuning.deepspeed_stage, job.gpus > 0)


def run_training(job: TrainJob, *, callbacks: Sequence[Any] = (), worker_env: dict[str, str] | None = None) -> Path:
    """Train ``job`` and publish its output folder; returns the output path.

    One process without DeepSpeed trains in this process; otherwise :func:`launches_workers` and
    torchrun starts ``job.processes`` workers. ``callbacks`` (in-process runs only) are extra
    ``TrainerCallback`` objects.
    """
    started = time.time()
    check_gpus(job)
    check_inputs(job)
    ckpt = prepare_checkpoint_dir(job)
    staging, output = job.staging_dir, Path(job.output_dir)
    shutil.rmtree(staging, ignore_errors=True)
    (ckpt / PROBE_FILE).unlink(missing_ok=True)
    if not launches_workers(job):
        train_worker(job, callbacks=callbacks)
    else:
        if callbacks:
            raise ValueError("callbacks work only for single-process runs")
        job_json = ckpt / "job.json"
        job.to_json(job_json)
        _run_workers(launch_command(job.processes, job_json), job, env=worker_env)
    verification = verify_saved_run(staging, job.base_model, job.tuning.method, ckpt / PROBE_FILE)
    train_log = read_train_log(staging)
    train_log["verification"] = verification
    train_log["wall_seconds"] = round(time.time() - started, 3)
    write_json(staging / "train_log.json", train_log)
    publish(staging, output)
    if not job.settings.keep_checkpoints:
        shutil.rmtree(ckpt, ignore_errors=True)
    log.info("%s: wrote %s", job.run_id, output)
    return output
