"""Loading models and tokenizers the same way in training, verification and publishing; probe logits."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import ConfigError
from .data import EncodedDataset, PadCollator
from .settings import TrainJob

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


def probe_batch(dataset: EncodedDataset, count: int, pad_token_id: int) -> dict:
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
