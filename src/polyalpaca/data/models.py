"""Provide a base model in ``resources/models/{model}/``: hub snapshot, local folder, GGUF conversion
(:mod:`polyalpaca.data.gguf`), or tiny build."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Iterable

from ..errors import PolyalpacaError

log = logging.getLogger(__name__)

# Files a causal LM snapshot needs; skips other frameworks' weights (flax, tf, .bin when safetensors exist).
HUB_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.tiktoken", "tokenizer*"]


def fetch_model(name: str, spec: dict, out_dir: str | Path, *, texts: Iterable[str] = ()) -> Path:
    """Materialize model ``name`` in ``out_dir`` (written to a temporary folder, then renamed)."""
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(f".{out_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        if "tiny" in spec:
            from ..tiny import build_causal_model

            tiny = spec["tiny"]
            build_causal_model(spec["family"], tmp, texts, hidden_size=tiny.get("hidden_size", 64),
                               layers=tiny.get("layers", 2), heads=tiny.get("heads", 4),
                               vocab_size=tiny.get("vocab_size", 1000), seed=tiny.get("seed", 0))
        elif "gguf" in spec:
            from .gguf import convert_gguf

            convert_gguf(name, spec["gguf"], tmp)
        elif "path" in spec:
            _link_local(name, Path(spec["path"]), tmp)
        else:
            _download(name, spec, tmp)
        shutil.rmtree(out_dir, ignore_errors=True)
        tmp.rename(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def _link_local(name: str, src: Path, dst: Path) -> None:
    if not (src / "config.json").is_file():
        raise PolyalpacaError(f"models.{name}.path: {src} is not a model folder (no config.json)")
    dst.mkdir(parents=True)
    for item in src.iterdir():  # link, don't copy: local snapshots can be tens of GB
        os.symlink(item.resolve(), dst / item.name)


def _download(name: str, spec: dict, dst: Path) -> None:
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(spec["hf"], revision=spec.get("revision"), local_dir=dst, allow_patterns=HUB_PATTERNS)
    except Exception as err:  # offline, gated, unknown id: all end here with one actionable message
        raise PolyalpacaError(
            f"models.{name}: could not download {spec['hf']!r} from the hub ({type(err).__name__}: {str(err)[:300]}). "
            f"On a node without internet, run `huggingface-cli download {spec['hf']} --local-dir <folder>` where the "
            f"hub is reachable and set models.{name}.path to that folder") from None
    if not any(dst.glob("*.safetensors")):
        raise PolyalpacaError(f"models.{name}: {spec['hf']!r} has no safetensors weights; convert it and set models.{name}.path")
