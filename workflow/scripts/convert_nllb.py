"""Rule convert_nllb: convert an NLLB checkpoint to CTranslate2 (tokenizer copied along)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.translate.models import convert_nllb  # noqa: E402

setup_logging(snakemake)
convert_nllb(snakemake.input.snapshot, snakemake.output[0], snakemake.wildcards.quant,
             where=f"translators.{snakemake.wildcards.translator}")
