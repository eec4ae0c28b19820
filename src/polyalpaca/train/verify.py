"""Check a saved run before it becomes the output: it reloads, reproduces the trained model and differs from the base.

An adapter that saved empty (all-zero LoRA B matrices, or no tensors at all) reloads fine and
silently gives the base model's outputs; older pipelines shipped such adapters. Here the reloaded
model's logits on the probe examples must match the trained model's and differ from the base's.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..errors import PolyalpacaError

log = logging.getLogger(__name__)

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
FULL_FILES = ("config.json",)


class TrainCheckError(PolyalpacaError):
    """The saved model does not reload, does not reproduce the trained model, or equals the base."""


def _require(folder: Path, names: tuple[str, ...], what: str) -> None:
    missing = [n for n in names if not (folder / n).is_file() or (folder / n).stat().st_size == 0]
    if missing:
        raise TrainCheckError(f"{folder}: {what} is missing or empty: {', '.join(missing)}")


def check_adapter_weights(folder: Path) -> dict:
    """Tensors in the adapter file, and how many LoRA B matrices are non-zero (all zero = an empty adapter)."""
    from safetensors.torch import load_file

    tensors = load_file(str(folder / "adapter_model.safetensors"))
    if not tensors:
        raise TrainCheckError(f"{folder}/adapter_model.safetensors: no tensors (empty adapter)")
    lora_b = {k: v for k, v in tensors.items() if "lora_B" in k}
    nonzero = sum(int(bool(v.abs().max() > 0)) for v in lora_b.values())
    if lora_b and not nonzero:
        raise TrainCheckError(f"{folder}/adapter_model.safetensors: all {len(lora_b)} LoRA B matrices are zero "
                              "(the adapter is the identity: training did not reach the saved weights)")
    return {"tensors": len(tensors), "lora_b": len(lora_b), "lora_b_nonzero": nonzero}


def verify_saved_run(folder: str | Path, base_model: str | Path, method: str, probe_file: str | Path) -> dict:
    """Reload the run in ``folder`` and compare its logits on the probe batch with the trained and base models'."""
    import torch

    from .models import load_base_model

    folder = Path(folder)
    probe = torch.load(str(probe_file), weights_only=False)
    dtype = getattr(torch, probe["dtype"].replace("torch.", ""))
    report: dict = {"method": method}
    if method == "lora":
        _require(folder, ADAPTER_FILES, "the PEFT adapter")
        report["adapter"] = check_adapter_weights(folder)
    else:
        _require(folder, FULL_FILES, "the model config")
        if not any(folder.glob("*.safetensors")):
            raise TrainCheckError(f"{folder}: no *.safetensors weights")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    inputs = {"input_ids": probe["input_ids"].to(device), "attention_mask": probe["attention_mask"].to(device)}
    mask = probe["attention_mask"].bool()

    def logits_of(model):
        model.to(device).eval()
        with torch.no_grad():
            return model(**inputs).logits.float().cpu()[mask]

    base = load_base_model(base_model, dtype)
    base_logits = logits_of(base)
    if method == "lora":
        from peft import PeftModel

        model = PeftModel.from_pretrained(base, str(folder))
    else:
        del base
        model = load_base_model(folder, dtype)
    reloaded = logits_of(model)
    trained = probe["logits"][mask]
    scale = max(1.0, float(trained.abs().max()))
    low_precision = dtype != torch.float32 or probe.get("deepspeed")
    tolerance = (5e-2 if low_precision else 1e-4) * scale
    reproduce_error = float((reloaded - trained).abs().max())
    change = float((reloaded - base_logits).abs().max())
    report.update(reproduce_max_abs_diff=reproduce_error, base_max_abs_diff=change, tolerance=tolerance,
                  probe_tokens=int(mask.sum()))
    if reproduce_error > tolerance:
        raise TrainCheckError(f"{folder}: the reloaded model does not reproduce the trained model's logits "
                              f"(max abs difference {reproduce_error:.3g} > {tolerance:.3g})")
    if not change > reproduce_error:
        raise TrainCheckError(f"{folder}: the reloaded model gives the base model's outputs (max abs difference "
                              f"{change:.3g}); the saved {'adapter' if method == 'lora' else 'weights'} "
                              "did not change the model")
    log.info("verified %s: reload reproduces trained logits (%.3g), differs from base (%.3g)",
             folder, reproduce_error, change)
    return report


def read_train_log(folder: str | Path) -> dict:
    return json.loads((Path(folder) / "train_log.json").read_text(encoding="utf-8"))
