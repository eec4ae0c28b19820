"""Provide a baseline's published LoRA adapter in ``resources/adapters/{baseline}/`` and check that it fits
its base model.

The adapter comes from the hub (``adapter.hf``: ``adapter_config.json`` and its weights only), a local
folder (``adapter.path``, linked) or, offline, a random adapter built on the tiny base model
(``adapter.tiny``, :func:`polyalpaca.tiny.build_lora_adapter`). Every adapter is then checked against the
base model in ``resources/models/{model}/`` without loading its weights (a meta-device copy of the
architecture): a LoRA adapter whose target modules the base model lacks, or whose matrices have other
shapes, was trained on another base model; that is a config error naming ``baselines.<name>``.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from ..errors import ConfigError, PolyalpacaError
from .staging import hub_snapshot, link_folder, staged_folder

log = logging.getLogger(__name__)

ADAPTER_PATTERNS = ["adapter_config.json", "adapter_model.safetensors", "adapter_model.bin"]
_LORA_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<ab>[AB])(?:\.[^.]+)?\.weight$")


def fetch_adapter(name: str, spec: dict, base_dir: str | Path, out_dir: str | Path, *, family_modules: list[str]) -> Path:
    """Materialize baseline ``name``'s adapter in ``out_dir`` (via a temporary folder), checked against
    ``base_dir``. ``spec`` is ``baselines.<name>``; ``family_modules`` the base family's LoRA target modules
    (what a tiny adapter adapts)."""
    out_dir, base_dir = Path(out_dir), Path(base_dir)
    adapter = spec["adapter"]
    with staged_folder(out_dir) as tmp:
        if "tiny" in adapter:
            from ..tiny import build_lora_adapter

            build_lora_adapter(base_dir, tmp, target_modules=family_modules, r=adapter["tiny"]["r"],
                               seed=adapter["tiny"]["seed"])
        elif "path" in adapter:
            _link_local(name, Path(adapter["path"]), tmp)
        else:
            _download(name, adapter, tmp)
        check_adapter_fits(name, spec["model"], tmp, base_dir)
    return out_dir


def _link_local(name: str, src: Path, dst: Path) -> None:
    if not (src / "adapter_config.json").is_file():
        raise ConfigError(f"baselines.{name}.adapter.path: {src} is not an adapter folder (no adapter_config.json)")
    link_folder(src, dst)


def _download(name: str, adapter: dict, dst: Path) -> None:
    hub_snapshot(adapter["hf"], adapter.get("revision"), dst, ADAPTER_PATTERNS, where=f"baselines.{name}.adapter",
                 what=repr(adapter["hf"]),
                 advice=f"Download it where the hub is reachable and set baselines.{name}.adapter.path")
    if not (dst / "adapter_config.json").is_file():
        raise PolyalpacaError(f"baselines.{name}.adapter: {adapter['hf']!r} has no adapter_config.json (not a PEFT adapter)")


def adapter_shapes(adapter_dir: Path) -> dict[tuple[str, str], tuple[int, ...]]:
    """(module path, "A"|"B") -> shape of every LoRA matrix in the adapter's weights file."""
    safetensors_file, bin_file = adapter_dir / "adapter_model.safetensors", adapter_dir / "adapter_model.bin"
    if safetensors_file.is_file():
        from safetensors import safe_open

        with safe_open(str(safetensors_file), framework="pt") as handle:
            shapes = {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}
    elif bin_file.is_file():
        import torch

        state = torch.load(bin_file, map_location="meta", weights_only=True)
        shapes = {key: tuple(value.shape) for key, value in state.items()}
    else:
        raise PolyalpacaError(f"{adapter_dir}: no adapter_model.safetensors or adapter_model.bin")
    out = {}
    for key, shape in shapes.items():
        match = _LORA_KEY.match(key)
        if match:
            out[(match["module"], match["ab"])] = shape
    return out


def check_adapter_fits(name: str, model: str, adapter_dir: str | Path, base_dir: str | Path) -> None:
    """The adapter's LoRA matrices fit modules of the base model: same module names, lora_A's inputs the
    module's inputs, lora_B's outputs its outputs. Else a ConfigError naming ``baselines.<name>``."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    adapter_dir, base_dir = Path(adapter_dir), Path(base_dir)
    where = f"baselines.{name}: the adapter in {adapter_dir} does not fit models.{model} ({base_dir})"
    try:
        adapter_config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PolyalpacaError(f"{adapter_dir}/adapter_config.json: {err}") from None
    if adapter_config.get("peft_type") != "LORA":
        raise ConfigError(f"baselines.{name}.adapter: peft_type is {adapter_config.get('peft_type')!r}, not LORA")
    with torch.device("meta"):
        base = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(base_dir))
    linear = {path: (mod.in_features, mod.out_features) for path, mod in base.named_modules()
              if hasattr(mod, "in_features") and hasattr(mod, "out_features")}
    shapes = adapter_shapes(adapter_dir)
    if not shapes:
        raise ConfigError(f"{where}: it holds no LoRA matrices")
    said = adapter_config.get("base_model_name_or_path") or "unknown"
    for (module, ab), shape in sorted(shapes.items()):
        if module not in linear:
            raise ConfigError(f"{where}: it adapts {module!r}, which the base model does not have "
                              f"(the adapter names base model {said!r})")
        fan_in, fan_out = linear[module]
        expected, got = (fan_in, shape[1]) if ab == "A" else (fan_out, shape[0])
        if expected != got:
            side = "inputs" if ab == "A" else "outputs"
            raise ConfigError(f"{where}: lora_{ab} of {module!r} has {got} {side}, the base model's module {expected} "
                              f"(the adapter names base model {said!r})")
    log.info("adapter of baseline %s fits %s: %d LoRA matrices", name, model, len(shapes))
