"""Tiny random models with the real architectures, built offline for tests and the smoke profile.

Saved like hub snapshots (config, safetensors weights, tokenizer files), so the same loading code
(`AutoModelForCausalLM.from_pretrained`, the CTranslate2 converter) serves tiny and real models.
"""

from .adapter import build_lora_adapter
from .causal import FAMILIES, build_causal_model, train_tokenizer

__all__ = ["FAMILIES", "build_causal_model", "build_lora_adapter", "train_tokenizer"]
