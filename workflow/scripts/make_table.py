"""Rules study_table and study_provenance: a study's tidy score table, or its provenance table."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.figures import write_provenance, write_study_table  # noqa: E402

setup_logging(snakemake)
if snakemake.rule == "study_provenance":
    write_provenance(snakemake.params.view, snakemake.params.study, snakemake.output.csv, snakemake.output.html)
else:
    write_study_table(snakemake.params.view, snakemake.params.study, snakemake.output.csv, snakemake.output.html)
