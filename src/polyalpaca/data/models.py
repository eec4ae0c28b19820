"""Provide a base model in ``resources/models/{model}/``: hub snapshot, local folder, GGUF conversion
(:mod:`polyalpaca.data.gguf`), or tiny build."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

from ..errors import PolyalpacaError
from .staging import hub_snapshot, link_folder, staged_folder

log = logging.getLogger(__name__)

# Files a causal LM snapshot needs; skips other frameworks' weights (flax, tf, .bin when safetensors exist).
HUB_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.tiktoken", "tokenizer*"]


def fetch_model(name: str, spec: dict, out_dir: str | Path, *, texts: Iterable[str] = ()) -> Path:
    """Materialize model ``name`` in ``out_dir`` (written to a temporary folder, then renamed)."""
    out_dir = Path(out_dir)
    with staged_folder(out_dir) as tmp:
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
    return out_dir


def _link_local(name: str, src: Path, dst: Path) -> None:
    if not (src / "config.json").is_file():
        raise PolyalpacaError(f"models.{name}.path: {src} is not a model folder (no config.json)")
    link_folder(src, dst)


def _download(name: str, spec: dict, dst: Path) -> None:
    hf = spec["hf"]
    hub_snapshot(hf, spec.get("revision"), dst, HUB_PATTERNS, where=f"models.{name}", what=repr(hf),
                 advice=f"On a node without internet, run `huggingface-cli download {hf} --local-dir <folder>` where "
                        f"the hub is reachable and set models.{name}.path to that folder")
    if not any(dst.glob("*.safetensors")):
        raise PolyalpacaError(f"models.{name}: {spec['hf']!r} has no safetensors weights; convert it and set models.{name}.path")
