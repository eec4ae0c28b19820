"""The run's train_log.json, and publishing from a checkpoint that already holds the whole run."""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from ..io import write_json
from .models import PROBE_FILE, load_base_model, model_dtype, probe_logits
from .settings import TrainJob

log = logging.getLogger(__name__)


def history(log_history: list[dict]) -> tuple[list[dict], list[dict]]:
    """Training-loss and validation-loss entries of the Trainer's log history."""
    losses = [{"step": h["step"], "epoch": h.get("epoch"), "loss": h["loss"], "learning_rate": h.get("learning_rate"),
               "grad_norm": h.get("grad_norm")} for h in log_history if "loss" in h]
    val = [{"step": h["step"], "epoch": h.get("epoch"), "loss": h["eval_loss"]} for h in log_history if "eval_loss" in h]
    return losses, val


def finished(checkpoint: str, total_steps: int) -> bool:
    """Whether a checkpoint already holds every optimizer step of the run."""
    state = json.loads((Path(checkpoint) / "trainer_state.json").read_text(encoding="utf-8"))
    return state["global_step"] >= total_steps


MODEL_FILES = ("adapter_config.json", "adapter_model.safetensors", "config.json", "generation_config.json",
               "model.safetensors", "model.safetensors.index.json")


def publish_from_checkpoint(job: TrainJob, resume: str, tokenizer, probe: dict, info: dict) -> dict:
    """Stage the selected checkpoint's model files (rank 0) as if training had just ended."""
    import torch
    from transformers import TrainerState

    state = TrainerState.load_from_json(str(Path(resume) / "trainer_state.json"))
    chosen = Path(resume)
    if job.tuning.select_best == "val_loss" and state.best_model_checkpoint:
        chosen = Path(job.checkpoint_dir) / Path(state.best_model_checkpoint).name
    staging = job.staging_dir
    staging.mkdir(parents=True)
    for path in chosen.iterdir():
        if path.name in MODEL_FILES or (path.name.startswith("model-") and path.suffix == ".safetensors"):
            shutil.copy2(path, staging / path.name)
    tokenizer.save_pretrained(str(staging))
    dtype = model_dtype(job, info["cuda"])
    model = load_base_model(job.base_model, dtype)
    if job.tuning.method == "lora":
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(staging))
    else:
        model = load_base_model(staging, dtype)
    if info["cuda"]:
        model.to("cuda")
    torch.save({**probe, "logits": probe_logits(model, probe), "dtype": str(dtype), "deepspeed": False},
               Path(job.checkpoint_dir) / PROBE_FILE)
    selected = str(chosen) if job.tuning.select_best == "val_loss" else None
    return write_train_log(job, info, state, 0.0, None, None, selected)


def write_train_log(job: TrainJob, info: dict, state, train_seconds: float, train_loss: float | None,
                     final_val: float | None, selected: str | None) -> dict:
    import peft
    import torch
    import transformers

    t, s = job.tuning, job.settings
    losses, val_losses = history(state.log_history)
    seen: set[int] = set()  # the final evaluation of the selected model repeats the last step's entry
    val_losses = [v for v in val_losses if not (v["step"] in seen or seen.add(v["step"]))]
    best = min(val_losses, key=lambda v: (v["loss"], v["step"])) if val_losses else None
    train_stats, val_stats = info["stats"]
    tokens = int(state.num_input_tokens_seen)
    train_log = {
        "run": job.run_id, "model": job.model, "family": job.family, "trainset": job.trainset,
        "tuning": t.name, "method": t.method, "base_model": str(job.base_model),
        "output_format": "peft_adapter" if t.method == "lora" else "full_weights",
        "hyperparameters": t.to_dict(),
        "resolved": {**info["schedule"], "processes": job.processes, "device": "cuda" if info["cuda"] else "cpu",
                     "precision": "bf16" if info["bf16"] else "fp32", "deepspeed_config": info["deepspeed"],
                     "global_batch": (f"{t.gradient_accumulation_steps} micro batches x {t.batch_tokens} tokens"
                                      if t.token_batches else t.global_batch_size),
                     "group_by_length": s.group_by_length, "length_group_size": s.length_group_size,
                     "seed": job.seed, "lr_scheduler_note": "HF inverse_sqrt (timescale 10000, no warmup)"
                     if t.lr_scheduler == "inverse_sqrt" else None},
        "data": {"train": vars(train_stats), "val": vars(val_stats)},
        "steps": state.global_step, "epochs": state.epoch, "tokens": tokens,
        "train_seconds": round(train_seconds, 3), "worker_seconds": round(time.time() - info["started"], 3),
        "tokens_per_second": round(tokens / train_seconds, 1) if train_seconds else None,
        "train_loss": train_loss, "losses": losses, "val_losses": val_losses,
        "best": {"step": best["step"], "val_loss": best["loss"]} if best else None,
        "selected": "best_val_loss" if t.select_best == "val_loss" else "last",
        "selected_checkpoint": selected, "final_val_loss": final_val, "resumed_from": info["resume"],
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
    }
    write_json(job.staging_dir / "train_log.json", train_log)
    log.info("%s: %d steps, %d tokens, %.1f s, best val loss %s", job.run_id, state.global_step, tokens,
             train_seconds, train_log["best"])
    return train_log
