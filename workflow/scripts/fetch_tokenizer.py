"""Rule fetch_tokenizer: a hub model's tokenizer files, a local folder or a tiny mBART-50 tokenizer."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.data.texts import source_texts  # noqa: E402
from polyalpaca.data.tokenizer import fetch_tokenizer  # noqa: E402

setup_logging(snakemake)
fetch_tokenizer(
    snakemake.wildcards.tokenizer,
    snakemake.params.spec,
    snakemake.output[0],
    texts=source_texts(snakemake.input.texts),
)
