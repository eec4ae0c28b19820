"""Provide a tokenizer that is no base model in ``resources/tokenizers/{name}/``: the tokenizer files of
a hub model (``facebook/mbart-large-50``), a local folder, or a tiny mBART-50 tokenizer built offline.

Only tokenizer files are downloaded, never weights. The folder is written to a temporary name, loaded
once with ``AutoTokenizer`` (so a folder that cannot be loaded fails here, naming ``tokenizers.<name>``)
and then renamed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

from ..errors import PolyalpacaError
from .staging import hub_snapshot, link_folder, staged_folder

log = logging.getLogger(__name__)

# the tokenizer files of a hub snapshot (config.json: the model type AutoTokenizer falls back on)
TOKENIZER_PATTERNS = ["config.json", "tokenizer*", "special_tokens_map.json", "added_tokens.json", "vocab.*",
                      "merges.txt", "*.model", "*.tiktoken"]


def fetch_tokenizer(name: str, spec: dict, out_dir: str | Path, *, texts: Iterable[str] = ()) -> int:
    """Materialize tokenizer ``name`` in ``out_dir``; returns its vocabulary size (``len(tokenizer)``)."""
    out_dir = Path(out_dir)
    with staged_folder(out_dir) as tmp:
        if "tiny" in spec:
            from ..tiny.mbart import build_mbart50_tokenizer

            build_mbart50_tokenizer(tmp, texts, vocab_size=spec["tiny"]["vocab_size"])
        elif "path" in spec:
            _link_local(name, Path(spec["path"]), tmp)
        else:
            _download(name, spec, tmp)
        size = check_loads(name, tmp, spec)
    log.info("tokenizers.%s: %d entries in %s", name, size, out_dir)
    return size


def check_loads(name: str, folder: Path, spec: dict) -> int:
    """``len()`` of the tokenizer in ``folder``; an error naming ``tokenizers.<name>`` if it does not load."""
    from ..recipes.stats import load_tokenizer

    origin = spec.get("hf") or spec.get("path") or "tiny build"
    try:
        return len(load_tokenizer(name, folder, "tokenizers"))
    except PolyalpacaError as err:
        raise PolyalpacaError(f"{err} [from {origin}]") from None


def _link_local(name: str, src: Path, dst: Path) -> None:
    if not src.is_dir():
        raise PolyalpacaError(f"tokenizers.{name}.path: {src} is not a folder")
    link_folder(src, dst)


def _download(name: str, spec: dict, dst: Path) -> None:
    hf = spec["hf"]
    hub_snapshot(hf, spec.get("revision"), dst, TOKENIZER_PATTERNS, where=f"tokenizers.{name}",
                 what=f"the tokenizer of {hf!r}",
                 advice=f"Where the hub is reachable, run `huggingface-cli download {hf} --include 'tokenizer*' "
                        f"'*.model' config.json --local-dir <folder>` and set tokenizers.{name}.path to that folder")