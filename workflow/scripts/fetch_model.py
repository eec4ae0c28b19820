"""Rule fetch_model: hub snapshot, local folder or tiny random model into resources/models/{model}."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import setup_logging  # noqa: E402

from polyalpaca.data import fetch_model  # noqa: E402
from polyalpaca.data.texts import source_texts  # noqa: E402

setup_logging(snakemake)  # noqa: F821
fetch_model(
    snakemake.wildcards.model,  # noqa: F821
    snakemake.params.spec,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    texts=source_texts(snakemake.input.texts),  # noqa: F821
)
