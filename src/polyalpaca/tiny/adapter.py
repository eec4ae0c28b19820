"""A random LoRA adapter on a (tiny) base model: the offline stand-in for a published adapter
(Alpaca-LoRA), saved as PEFT saves one (``adapter_config.json``, ``adapter_model.safetensors``)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def build_lora_adapter(base_dir: str | Path, out_dir: str | Path, *, target_modules: list[str], r: int = 4,
                       seed: int = 0) -> Path:
    """Build a LoRA adapter of rank ``r`` on ``target_modules`` of the model in ``base_dir``, with random
    (non-zero) A and B matrices so it changes the base model's outputs; deterministic given ``seed``."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    model = get_peft_model(base, LoraConfig(r=r, lora_alpha=2 * r, target_modules=list(target_modules),
                                            lora_dropout=0.0, task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:  # PEFT starts B at zero (a no-op adapter); a stand-in should do something
                param.normal_(0.0, 0.5)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir, safe_serialization=True)
    log.info("built a tiny LoRA adapter (r=%d, %s) on %s in %s", r, ", ".join(target_modules), base_dir, out_dir)
    return out_dir
