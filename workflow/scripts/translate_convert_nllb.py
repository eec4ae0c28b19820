"""Rule convert_nllb: convert an NLLB checkpoint to CTranslate2 (tokenizer copied along)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import setup_logging  # noqa: E402

from polyalpaca.translate.models import convert_nllb  # noqa: E402

setup_logging(snakemake)  # noqa: F821
convert_nllb(snakemake.input.snapshot, snakemake.output[0], snakemake.wildcards.quant,  # noqa: F821
             where=f"translators.{snakemake.wildcards.translator}")  # noqa: F821
