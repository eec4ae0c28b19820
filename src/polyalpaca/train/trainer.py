"""One training worker (every process of a run runs this): HF Trainer, PEFT LoRA or full weights.

The same code serves CPU smoke runs (single process, fp32) and GPU runs (bf16, DeepSpeed ZeRO for
full fine-tuning, one process per GPU under torchrun). The worker writes the final model into the
run's staging folder and the trained model's logits on a few probe examples into the checkpoint
folder; :mod:`polyalpaca.train.run` verifies the saved model against them and renames the folder.
"""

from __future__ import annotations

import logging
import math
import os
import time
import warnings
from pathlib import Path
from typing import Any, Sequence

from ..errors import ConfigError, DataError
from .checkpoints import newest_complete_checkpoint
from .data import EncodeStats, LengthGroupedBatchSampler, PadCollator, encode_records, make_batches, read_records
from .launch import uses_deepspeed, write_deepspeed_config
from .models import PROBE_FILE, apply_lora, load_base_model, load_tokenizer, model_dtype, probe_batch, probe_logits
from .outputs import finished, history, publish_from_checkpoint, write_train_log
from .settings import TrainJob

log = logging.getLogger(__name__)

__all__ = ["PROBE_FILE", "load_base_model", "load_tokenizer", "train_worker"]


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

    resume = newest_complete_checkpoint(checkpoint_dir)
    probe = probe_batch(val_ds if len(val_ds) else train_ds, s.probe_examples, tokenizer.pad_token_id)
    info = {"schedule": schedule, "cuda": cuda, "bf16": cuda and t.bf16, "deepspeed": None,
            "stats": (train_stats, val_stats), "started": started, "resume": resume}
    if resume and finished(resume, schedule["total_steps"]):
        # Trainer.train() would run one more step from a checkpoint that already ends the run
        # (preempted after training, before publishing): take the output from the checkpoint.
        log.info("%s: %s already holds all %d steps; publishing from it", job.run_id, resume, schedule["total_steps"])
        if int(os.environ.get("RANK", "0")) == 0:
            return publish_from_checkpoint(job, resume, tokenizer, probe, info)
        return None

    deepspeed_path = None
    if uses_deepspeed(t.method, t.deepspeed_stage, cuda):
        import importlib.util

        if importlib.util.find_spec("deepspeed") is None:
            raise ConfigError(f"tunings.{t.name}.deepspeed_stage: {t.deepspeed_stage} needs the deepspeed package "
                              "on GPUs (pip install 'polyalpaca[deepspeed]'), or set deepspeed_stage: 0")
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
        activation_checkpointing=s.checkpoints_activations(t.method),
        deepspeed=deepspeed_path,
    )
    model = load_base_model(job.base_model, model_dtype(job, cuda))  # after args: ZeRO-3 loads sharded
    if t.method == "lora":
        if s.checkpoints_activations(t.method):
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
    _, val_losses = history(state.log_history)  # before the final evaluation adds to it

    final_val = trainer.evaluate()["eval_loss"] if do_eval else None
    _check_selected(job, val_losses, final_val, low_precision=bool(args.bf16 or deepspeed_path))
    trainer.save_model(str(staging))  # every rank: ZeRO-3 gathers 16-bit weights here
    logits = probe_logits(trainer.model, probe)  # every rank: ZeRO-3 forward needs all of them
    if not trainer.is_world_process_zero():
        return None
    tokenizer.save_pretrained(str(staging))
    # the dtype the trained weights ended in (bf16 under DeepSpeed): verification reloads in the same one
    dtype = next(trainer.model.parameters()).dtype
    torch.save({**probe, "logits": logits, "dtype": str(dtype), "deepspeed": bool(deepspeed_path)},
               checkpoint_dir / PROBE_FILE)
    selected = state.best_model_checkpoint if t.select_best == "val_loss" else None
    return write_train_log(job, info, state, train_seconds, result.training_loss, final_val, selected)
