"""Rule tokens_table: one tidy CSV of examples and tokens per trainset, language and model."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.recipes import tokens_table  # noqa: E402

setup_logging(snakemake)
tokens_table(snakemake.input.stats, snakemake.output.table)
