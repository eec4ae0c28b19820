"""How the data stage materializes a folder (a model, an adapter, a tokenizer): built in a temporary sibling and
renamed when complete, so an interrupted job never leaves a folder that looks finished; a local folder is
linked, not copied; a hub snapshot is downloaded with one actionable message for every way it can fail."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import PolyalpacaError


@contextmanager
def staged_folder(out_dir: str | Path) -> Iterator[Path]:
    """A temporary folder beside ``out_dir``; when the block succeeds it replaces ``out_dir``."""
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(f".{out_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        yield tmp
        shutil.rmtree(out_dir, ignore_errors=True)
        tmp.rename(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def link_folder(src: Path, dst: Path) -> None:
    """``dst`` with a link to every item of ``src`` (link, don't copy: local snapshots can be tens of GB)."""
    dst.mkdir(parents=True)
    for item in src.iterdir():
        os.symlink(item.resolve(), dst / item.name)


def hub_snapshot(repo_id: str, revision: str | None, dst: Path, patterns: list[str], *, where: str, what: str,
                 advice: str) -> None:
    """Download the files of ``repo_id`` matching ``patterns`` into ``dst``; offline, gated or unknown ids end in
    one error naming the config key (``where``) and what to do (``advice``)."""
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(repo_id, revision=revision, local_dir=dst, allow_patterns=patterns)
    except Exception as err:  # offline, gated, unknown id: all end here with one actionable message
        raise PolyalpacaError(f"{where}: could not download {what} from the hub ({type(err).__name__}: "
                              f"{str(err)[:300]}). {advice}") from None
