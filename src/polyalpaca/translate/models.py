"""Provide NLLB checkpoints: download a hub snapshot, build a tiny one, convert to CTranslate2."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..errors import ConfigError

log = logging.getLogger(__name__)

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "sentencepiece.bpe.model")
QUANTIZATIONS = ("int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16", "bfloat16", "float32")


def _replace_dir(tmp: Path, out_dir: Path) -> None:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)


def check_snapshot(path: str | Path, where: str) -> Path:
    """A folder holding an NLLB checkpoint in transformers format (config, weights, tokenizer)."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise ConfigError(f"{where}: {path} holds no NLLB checkpoint (config.json missing). Download one with "
                          f"`huggingface-cli download facebook/nllb-200-distilled-600M --local-dir {path}` on a machine "
                          "with hub access and copy it here, or set translators.<name>.hf to download it in the pipeline")
    if not any((path / f).is_file() for f in ("tokenizer.json", "sentencepiece.bpe.model")):
        raise ConfigError(f"{where}: {path} has no tokenizer (tokenizer.json or sentencepiece.bpe.model); "
                          "copy the tokenizer files of the checkpoint into it")
    return path


def download_snapshot(repo_id: str, out_dir: str | Path, *, revision: str | None = None, name: str = "?") -> Path:
    """Download the weights, config and tokenizer of a hub NLLB checkpoint into ``out_dir`` (atomically)."""
    from huggingface_hub import list_repo_files, snapshot_download

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        files = list_repo_files(repo_id, revision=revision)
        weights = ["*.safetensors"] if any(f.endswith(".safetensors") for f in files) else ["*.bin"]
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
        try:
            snapshot_download(repo_id, revision=revision, local_dir=tmp,
                              allow_patterns=["*.json", "sentencepiece.bpe.model", *weights])
            _replace_dir(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    except Exception as err:  # hub errors come as many types (HTTP, offline, gated)
        raise ConfigError(f"translators.{name}.hf: cannot download {repo_id!r} ({type(err).__name__}: {err}). "
                          f"Download it where the hub is reachable (huggingface-cli download {repo_id} --local-dir DIR), "
                          f"copy DIR here and set translators.{name}.path: DIR instead of hf") from None
    log.info("downloaded %s into %s", repo_id, out_dir)
    return out_dir


def build_tiny_snapshot(out_dir: str | Path, texts: Iterable[str], nllb_codes: Sequence[str],
                        tiny: Mapping | None = None) -> Path:
    """A tiny random NLLB (``translators.<name>.tiny`` settings) for offline runs."""
    from ..tiny.nllb import build_nllb_model

    return build_nllb_model(out_dir, texts, nllb_codes, **dict(tiny or {}))


def convert_nllb(snapshot: str | Path, out_dir: str | Path, quantization: str, *, where: str = "translator") -> Path:
    """Convert a transformers NLLB checkpoint with CTranslate2's converter; tokenizer files are copied along."""
    from ctranslate2.converters import TransformersConverter

    if quantization not in QUANTIZATIONS:
        raise ConfigError(f"{where}: unknown quantization {quantization!r} (CTranslate2 knows {', '.join(QUANTIZATIONS)})")
    snapshot = check_snapshot(snapshot, where)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    copy = [f for f in TOKENIZER_FILES if (snapshot / f).is_file()]  # names relative to the snapshot
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        TransformersConverter(str(snapshot), copy_files=copy, low_cpu_mem_usage=True).convert(
            str(tmp), quantization=quantization, force=True)
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("converted %s to %s (%s)", snapshot, out_dir, quantization)
    return out_dir
