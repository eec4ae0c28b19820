"""Rule fetch_adapter: a baseline's published LoRA adapter (hub, local folder or tiny build) into
resources/adapters/{baseline}, checked against its base model."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.data.adapters import fetch_adapter  # noqa: E402

setup_logging(snakemake)
fetch_adapter(
    snakemake.wildcards.baseline,
    snakemake.params.spec["baseline"],
    snakemake.input.base,
    snakemake.output[0],
    family_modules=snakemake.params.spec["family_modules"],
)
