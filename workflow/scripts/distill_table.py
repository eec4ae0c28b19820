"""Rule distill_table: answers kept and flagged, tokens and cost per distilled (source, lang) -> results/tables/distill.csv."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.distill.report import write_distill_table  # noqa: E402

setup_logging(snakemake)
write_distill_table(list(snakemake.input.reports), snakemake.params.prices, snakemake.output[0])
