"""Provide the OpenLID model file (Chen et al.'s language ID) at ``evaluate.openlid_path``.

lid.176 and lingua ship inside their packages; OpenLID is a 1.2 GB fastText model on the hub, so it
is downloaded once, like a base model, on the submit host (compute nodes often have no internet).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from ..errors import PolyalpacaError
from ..lid import OPENLID_PATH_KEY, OPENLID_URL

log = logging.getLogger(__name__)

OPENLID_REPO = "laurievb/OpenLID"
OPENLID_FILE = "model.bin"


def fetch_openlid(out_path: str | Path) -> Path:
    """Download OpenLID's ``model.bin`` to ``out_path`` (through a temporary name, so a broken download
    never leaves a file that looks complete)."""
    from huggingface_hub import hf_hub_download

    out_path = Path(out_path)
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    try:
        cached = hf_hub_download(OPENLID_REPO, OPENLID_FILE)
    except Exception as err:  # offline, proxy, moved file: one actionable message
        raise PolyalpacaError(
            f"{OPENLID_PATH_KEY}: could not download {OPENLID_URL} ({type(err).__name__}: {str(err)[:300]}). "
            f"Download it where the hub is reachable and put it at {out_path} (or set {OPENLID_PATH_KEY} to "
            f"where it is)") from None
    out_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, tmp)
    tmp.rename(out_path)
    log.info("OpenLID model %s -> %s", OPENLID_URL, out_path)
    return out_path
