"""Rule fetch_openlid: the OpenLID model file at evaluate.openlid_path (metrics with lid_model openlid)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.data.lid_model import fetch_openlid  # noqa: E402

setup_logging(snakemake)
fetch_openlid(snakemake.output[0])
