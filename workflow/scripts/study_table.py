"""Rule study_table: a study's tidy score table (CSV and HTML)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.figures import write_study_table  # noqa: E402

setup_logging(snakemake)
write_study_table(snakemake.params.view, snakemake.params.study, snakemake.output.csv, snakemake.output.html)
