"""Rule fetch_model: hub snapshot, local folder or tiny random model into resources/models/{model}."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.data import fetch_model  # noqa: E402
from polyalpaca.data.texts import source_texts  # noqa: E402

setup_logging(snakemake)
fetch_model(
    snakemake.wildcards.model,
    snakemake.params.spec,
    snakemake.output[0],
    texts=source_texts(snakemake.input.texts),
)
