"""Load a fine-tuned model for generation: a PEFT adapter on its base model, or full weights.

A run folder ``results/models/{model}/{trainset}/{tuning}/`` holds either ``adapter_config.json`` (LoRA,
loaded on the base model in ``resources/models/{model}/`` and merged when ``merge_lora``) or
``config.json`` (full weights), always the tokenizer and ``train_log.json`` with ``"method"``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..errors import ConfigError, DataError

log = logging.getLogger(__name__)


def run_method(run_dir: Path) -> str:
    """``lora`` or ``full``: what the folder holds, checked against ``train_log.json`` when present."""
    has_adapter = (run_dir / "adapter_config.json").is_file()
    has_weights = (run_dir / "config.json").is_file()
    if not run_dir.is_dir():
        raise DataError(f"{run_dir}: fine-tuned model folder does not exist")
    if not (has_adapter or has_weights):
        raise DataError(f"{run_dir}: neither adapter_config.json (LoRA) nor config.json (full weights) found")
    method = "lora" if has_adapter else "full"
    log_path = run_dir / "train_log.json"
    if log_path.is_file():
        try:
            logged = json.loads(log_path.read_text(encoding="utf-8")).get("method")
        except (ValueError, AttributeError) as err:
            raise DataError(f"{log_path}: not a JSON object: {err}") from None
        if logged is not None and logged != method:
            raise DataError(f"{log_path}: method is {logged!r} but the folder holds {method} files")
    return method


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("generate.device: 'cuda' requested but no GPU is visible (set it to auto or cpu)")
    return device


def resolve_dtype(dtype: str, device: str):
    import torch

    if dtype == "auto":
        if device == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    return getattr(torch, dtype)


def load_tokenizer(run_dir: Path, base_dir: Path):
    from transformers import AutoTokenizer

    source = run_dir if (run_dir / "tokenizer_config.json").is_file() else base_dir
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def load_for_generation(run_dir: str | Path, base_dir: str | Path, *, dtype: str = "auto", device: str = "auto",
                        merge_lora: bool = True):
    """(model in eval mode, tokenizer with left padding) for the run in ``run_dir``."""
    from transformers import AutoModelForCausalLM

    run_dir, base_dir = Path(run_dir), Path(base_dir)
    method = run_method(run_dir)
    device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, device)
    tokenizer = load_tokenizer(run_dir, base_dir)
    if method == "full":
        model = AutoModelForCausalLM.from_pretrained(run_dir, dtype=torch_dtype)
    else:
        from peft import PeftModel

        if not (base_dir / "config.json").is_file():
            raise DataError(f"{base_dir}: base model of the LoRA adapter in {run_dir} not found (no config.json)")
        model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch_dtype)
        if len(tokenizer) > model.get_input_embeddings().num_embeddings:
            model.resize_token_embeddings(len(tokenizer))
        model = PeftModel.from_pretrained(model, run_dir)
        if merge_lora:
            model = model.merge_and_unload()
    model.to(device)
    model.eval()
    log.info("loaded %s model from %s on %s (%s)", method, run_dir, device, torch_dtype)
    return model, tokenizer
