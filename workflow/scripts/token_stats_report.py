"""Rule token_stats_report: a study's token statistics table (Bactrian-X Table 1), CSV and HTML."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.recipes.token_report import write_token_stats_report  # noqa: E402

setup_logging(snakemake)
write_token_stats_report(snakemake.input.stats, snakemake.params.tokenizers, snakemake.params.study,
                         csv=snakemake.output.csv, html=snakemake.output.html)
