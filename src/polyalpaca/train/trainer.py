"""One training worker (every process of a run runs this): HF Trainer, PEFT LoRA or full weights.

The same code serves CPU smoke runs (single process, fp32) and GPU runs (bf16, DeepSpeed ZeRO for
full fine-tuning, one process per GPU under torchrun). The worker writes the final model into the
run's staging folder and the trained model's logits on a few probe examples into the checkpoint
folder; :mod:`polyalpaca.train.run` verifies the saved model against them and renames the folder.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
import warnings
from pathlib import Path
from typing import Any, Sequence

from ..errors import ConfigError, DataError
from ..io import write_json
from .data import (EncodeStats, EncodedDataset, LengthGroupedBatchSampler, PadCollator, encode_records,
                   make_batches, read_records)
from .launch import uses_deepspeed, write_deepspeed_config
from .params import TrainJob

log = logging.getLogger(__name__)

PROBE_FILE = "probe_logits.pt"
PROBE_MAX_TOKENS = 64


def model_dtype(job: TrainJob, cuda: bool):
    """LoRA on a GPU loads the frozen base in bf16; full fine-tuning keeps fp32 master weights; CPU is fp32."""
    import torch

    if cuda and job.tuning.bf16 and job.tuning.method == "lora":
        return torch.bfloat16
    return torch.float32


def load_tokenizer(path: str | Path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    return tokenizer


def load_base_model(path: str | Path, dtype):
    import transformers
    from transformers import AutoModelForCausalLM

    transformers.utils.logging.disable_progress_bar()

    return AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype)


def apply_lora(model, job: TrainJob):
    from peft import LoraConfig, get_peft_model

    lora = job.tuning.lora
    config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                        target_modules=list(lora.target_modules), bias="none", task_type="CAUSAL_LM")
    try:
        model = get_peft_model(model, config)
    except ValueError as err:
        names = sorted({n.rsplit(".", 1)[-1] for n, _ in model.named_modules() if n})
        raise ConfigError(f"families.{job.family}.lora_target_modules: {list(lora.target_modules)} do not match "
                          f"modules of {job.base_model} ({err}); module names there: {', '.join(names)}") from None
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    log.info("LoRA r=%d alpha=%s on %s: %d trainable of %d parameters", lora.r, lora.alpha,
             ",".join(lora.target_modules), trainable, total)
    return model


def _probe_batch(dataset: EncodedDataset, count: int, pad_token_id: int) -> dict:
    features = [{"input_ids": e["input_ids"][:PROBE_MAX_TOKENS], "labels": e["labels"][:PROBE_MAX_TOKENS]}
                for e in dataset.examples[:count]]
    batch = PadCollator(pad_token_id)(features)
    batch.pop("labels")
    return batch


def probe_logits(model, batch: dict):
    import torch

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(**{k: v.to(device) for k, v in batch.items()}).logits.float().cpu()
    model.train(was_training)
    return logits


def _schedule(job: TrainJob, batches: int) -> dict[str, int]:
    """Steps per epoch, total steps, eval/save interval and warmup steps, as the Trainer will count them."""
    t, s = job.tuning, job.settings
    accumulation = t.accumulation_steps(job.processes)
    per_process = math.ceil(batches / job.processes)
    steps_per_epoch = max(math.ceil(per_process / accumulation), 1)
    total = t.max_steps if t.max_steps else max(1, math.ceil(steps_per_epoch * t.epochs))
    if t.eval_every:
        eval_steps = t.eval_every
    elif t.epochs is not None and t.max_steps is None:
        eval_steps = max(1, steps_per_epoch // s.evals_per_epoch)
    else:
        eval_steps = max(1, total // s.evals_per_step_budget)
    return {"accumulation_steps": accumulation, "batches_per_epoch": batches, "steps_per_epoch": steps_per_epoch,
            "total_steps": total, "eval_steps": min(eval_steps, total),
            "warmup_steps": math.ceil(total * t.warmup_ratio)}


def _load_splits(job: TrainJob, tokenizer):
    t, caps = job.tuning, job.settings.caps
    splits = {}
    for split, path, limit in (("train", job.train_file, caps.max_train_examples),
                               ("val", job.val_file, caps.max_val_examples)):
        stats = EncodeStats()
        records = read_records(path, on_bad_line=job.on_bad_line, limit=limit, stats=stats)
        dataset = encode_records(tokenizer, records, template=t.prompt_template, max_length=t.max_length,
                                 loss_on=t.loss_on, stats=stats, where=str(path))
        splits[split] = (dataset, stats)
    if not len(splits["train"][0]):
        raise DataError(f"{job.train_file}: no usable training example (read {splits['train'][1].records})")
    if not len(splits["val"][0]) and t.select_best == "val_loss":
        raise DataError(f"{job.val_file}: no usable validation example, but tunings.{t.name}.select_best is "
                        "'val_loss' (give the trainset a validation split or use select_best: last)")
    return splits


def _make_trainer_class():
    from torch.utils.data import DataLoader
    from transformers import Trainer

    class RunTrainer(Trainer):
        """Trainer whose data loaders use our length-grouped (or token-budget) batch sampler."""

        def __init__(self, *args, train_batches, eval_batches, **kwargs):
            super().__init__(*args, **kwargs)
            self._train_batches, self._eval_batches = train_batches, eval_batches

        def _loader(self, dataset, batches):
            return self.accelerator.prepare(DataLoader(
                dataset, batch_sampler=batches, collate_fn=self.data_collator,
                num_workers=self.args.dataloader_num_workers, pin_memory=self.args.dataloader_pin_memory))

        def get_train_dataloader(self):
            return self._loader(self.train_dataset, self._train_batches)

        def _load_best_model(self):
            # transformers' own loader uses a non-strict load_state_dict of the raw checkpoint, which
            # silently skips renamed keys (GPT-NeoX's embed_out -> lm_head): the "best" model would
            # keep the last step's output layer. Full weights without DeepSpeed: reload properly.
            from peft import PeftModel

            if self.is_deepspeed_enabled or isinstance(self.model, PeftModel):
                return super()._load_best_model()
            best_dir = self.state.best_model_checkpoint
            dtype = next(self.model.parameters()).dtype
            best = load_base_model(best_dir, dtype)
            self.model.load_state_dict(best.state_dict(), strict=True)
            log.info("loaded the best checkpoint %s (val loss %s)", best_dir, self.state.best_metric)

        def get_eval_dataloader(self, eval_dataset=None):
            if eval_dataset is not None and not isinstance(eval_dataset, str) and eval_dataset is not self.eval_dataset:
                raise ValueError("RunTrainer evaluates its own validation set only")
            return self._loader(self.eval_dataset, self._eval_batches)

    return RunTrainer


def _callbacks(sampler: LengthGroupedBatchSampler, accumulation: int):
    from transformers import TrainerCallback

    class SamplerEpoch(TrainerCallback):
        """Set the sampler's epoch from the step count (also right after a resume mid-epoch, where
        the Trainer's own ``set_epoch`` cannot reach a sampler wrapped for skipping and sharding)."""

        def on_epoch_begin(self, args, state, control, train_dataloader=None, **kwargs):
            per_epoch = max(math.ceil(len(train_dataloader) / accumulation), 1)
            sampler.set_epoch(state.global_step // per_epoch)

    class LogToLogger(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and logs:
                log.info("step %d: %s", state.global_step,
                         ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in logs.items()))

    return [SamplerEpoch(), LogToLogger()]


def _history(log_history: list[dict]) -> tuple[list[dict], list[dict]]:
    losses = [{"step": h["step"], "epoch": h.get("epoch"), "loss": h["loss"], "learning_rate": h.get("learning_rate"),
               "grad_norm": h.get("grad_norm")} for h in log_history if "loss" in h]
    val = [{"step": h["step"], "epoch": h.get("epoch"), "loss": h["eval_loss"]} for h in log_history if "eval_loss" in h]
    return losses, val


def _check_selected(job: TrainJob, val_losses: list[dict], final_val: float | None, *, low_precision: bool) -> None:
    """The model we are about to save must have the validation loss of the checkpoint we selected."""
    if final_val is None or not val_losses:
        return
    target = (min(v["loss"] for v in val_losses) if job.tuning.select_best == "val_loss"
              else max(val_losses, key=lambda v: v["step"])["loss"])
    tolerance = (2e-2 if low_precision else 1e-4) * max(1.0, abs(target))
    if abs(final_val - target) > tolerance:
        from .verify import TrainCheckError

        raise TrainCheckError(f"{job.run_id}: the selected model's validation loss is {final_val:.6g}, "
                              f"but the {job.tuning.select_best} checkpoint had {target:.6g}")


def train_worker(job: TrainJob, *, callbacks: Sequence[Any] = ()) -> dict | None:
    """Train one run in this process (one of ``job.processes``); rank 0 returns the train log."""
    import torch
    import transformers
    from transformers import TrainingArguments
    from transformers.trainer_callback import PrinterCallback
    from transformers.trainer_utils import get_last_checkpoint

    started = time.time()
    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*is deprecated")  # transformers-internal
    t, s = job.tuning, job.settings
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world != job.processes:
        raise ConfigError(f"{job.run_id}: launched with {world} processes but the job was sized for {job.processes}")
    cuda = torch.cuda.is_available()
    if not cuda:
        torch.set_num_threads(max(1, job.threads // job.processes))
    transformers.set_seed(job.seed)
    checkpoint_dir, staging = Path(job.checkpoint_dir), job.staging_dir

    tokenizer = load_tokenizer(job.base_model)
    splits = _load_splits(job, tokenizer)
    train_ds, train_stats = splits["train"]
    val_ds, val_stats = splits["val"]
    group = s.length_group_size if s.group_by_length else None
    sampler = LengthGroupedBatchSampler(
        train_ds.lengths, batch_size=None if t.token_batches else t.micro_batch_size, batch_tokens=t.batch_tokens,
        group_size=group, shuffle=True, seed=job.seed)
    val_order = sorted(range(len(val_ds)), key=lambda i: -val_ds.lengths[i])
    eval_batches = make_batches(val_ds.lengths, val_order, batch_size=None if t.token_batches else t.micro_batch_size,
                                batch_tokens=t.batch_tokens) if len(val_ds) else []
    schedule = _schedule(job, len(sampler))
    log.info("%s: %d train / %d val examples, %d batches per epoch, schedule %s", job.run_id, len(train_ds),
             len(val_ds), len(sampler), schedule)

    resume = get_last_checkpoint(str(checkpoint_dir)) if checkpoint_dir.is_dir() else None
    probe = _probe_batch(val_ds if len(val_ds) else train_ds, s.probe_examples, tokenizer.pad_token_id)
    info = {"schedule": schedule, "cuda": cuda, "bf16": cuda and t.bf16, "deepspeed": None,
            "stats": (train_stats, val_stats), "started": started, "resume": resume}
    if resume and _finished(resume, schedule["total_steps"]):
        # Trainer.train() would run one more step from a checkpoint that already ends the run
        # (preempted after training, before publishing): take the output from the checkpoint.
        log.info("%s: %s already holds all %d steps; publishing from it", job.run_id, resume, schedule["total_steps"])
        if int(os.environ.get("RANK", "0")) == 0:
            return _publish_from_checkpoint(job, resume, tokenizer, probe, info)
        return None

    deepspeed_path = None
    if uses_deepspeed(t.method, t.deepspeed_stage, cuda):
        import importlib.util

        if importlib.util.find_spec("deepspeed") is None:
            raise ConfigError(f"tunings.{t.name}.deepspeed_stage: {t.deepspeed_stage} needs the deepspeed package "
                              "on GPUs (pip install 'polyalpaca[gpu]'), or set deepspeed_stage: 0")
        deepspeed_path = str(write_deepspeed_config(checkpoint_dir / "deepspeed.json", t.deepspeed_stage,
                                                    bf16=t.bf16, max_grad_norm=s.max_grad_norm))
    elif t.deepspeed_stage and t.method == "full":
        log.info("no GPU: deepspeed_stage %d is not used; plain single-device training", t.deepspeed_stage)
    info["deepspeed"] = deepspeed_path
    do_eval = len(val_ds) > 0
    args = TrainingArguments(
        output_dir=str(checkpoint_dir),
        per_device_train_batch_size=t.micro_batch_size,
        per_device_eval_batch_size=t.micro_batch_size,
        gradient_accumulation_steps=schedule["accumulation_steps"],
        learning_rate=t.learning_rate,
        weight_decay=t.weight_decay,
        max_grad_norm=s.max_grad_norm,
        num_train_epochs=t.epochs or 1,
        max_steps=t.max_steps or -1,
        lr_scheduler_type=t.lr_scheduler,
        warmup_steps=schedule["warmup_steps"],
        eval_strategy="steps" if do_eval else "no",
        eval_steps=schedule["eval_steps"],
        save_strategy="steps",
        save_steps=schedule["eval_steps"],
        save_total_limit=s.save_total_limit,
        load_best_model_at_end=t.select_best == "val_loss",
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        logging_steps=s.logging_steps,
        logging_first_step=True,
        report_to="none",
        disable_tqdm=True,
        bf16=cuda and t.bf16,
        use_cpu=not cuda,
        seed=job.seed,
        data_seed=job.seed,
        remove_unused_columns=False,
        label_names=["labels"],
        prediction_loss_only=True,
        dataloader_num_workers=s.dataloader_workers,
        ddp_backend="gloo" if world > 1 and not cuda else None,
        ddp_find_unused_parameters=False,
        include_num_input_tokens_seen="non_padding",
        activation_checkpointing=s.gradient_checkpointing,
        deepspeed=deepspeed_path,
    )
    model = load_base_model(job.base_model, model_dtype(job, cuda))  # after args: ZeRO-3 loads sharded
    if t.method == "lora":
        if s.gradient_checkpointing:
            model.enable_input_require_grads()
        model = apply_lora(model, job)

    trainer = _make_trainer_class()(
        model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds if do_eval else None,
        data_collator=PadCollator(tokenizer.pad_token_id, multiple_of=8 if cuda else 1),
        processing_class=tokenizer, train_batches=sampler, eval_batches=eval_batches,
        callbacks=_callbacks(sampler, schedule["accumulation_steps"]) + list(callbacks))
    trainer.remove_callback(PrinterCallback)  # our LogToLogger writes the same lines into the log
    if resume:
        log.info("resuming %s from %s", job.run_id, resume)
    train_started = time.time()
    result = trainer.train(resume_from_checkpoint=resume)
    train_seconds = time.time() - train_started
    state = trainer.state
    _, val_losses = _history(state.log_history)  # before the final evaluation adds to it

    final_val = trainer.evaluate()["eval_loss"] if do_eval else None
    _check_selected(job, val_losses, final_val, low_precision=bool(args.bf16 or deepspeed_path))
    trainer.save_model(str(staging))  # every rank: ZeRO-3 gathers 16-bit weights here
    logits = probe_logits(trainer.model, probe)  # every rank: ZeRO-3 forward needs all of them
    if not trainer.is_world_process_zero():
        return None
    tokenizer.save_pretrained(str(staging))
    torch.save({**probe, "logits": logits, "dtype": str(model_dtype(job, cuda)), "deepspeed": bool(deepspeed_path)},
               checkpoint_dir / PROBE_FILE)
    selected = state.best_model_checkpoint if t.select_best == "val_loss" else None
    return _write_train_log(job, info, state, train_seconds, result.training_loss, final_val, selected)


def _finished(checkpoint: str, total_steps: int) -> bool:
    state = json.loads((Path(checkpoint) / "trainer_state.json").read_text(encoding="utf-8"))
    return state["global_step"] >= total_steps


MODEL_FILES = ("adapter_config.json", "adapter_model.safetensors", "config.json", "generation_config.json",
               "model.safetensors", "model.safetensors.index.json")


def _publish_from_checkpoint(job: TrainJob, resume: str, tokenizer, probe: dict, info: dict) -> dict:
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
    return _write_train_log(job, info, state, 0.0, None, None, selected)


def _write_train_log(job: TrainJob, info: dict, state, train_seconds: float, train_loss: float | None,
                     final_val: float | None, selected: str | None) -> dict:
    import peft
    import torch
    import transformers

    t, s = job.tuning, job.settings
    losses, val_losses = _history(state.log_history)
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
