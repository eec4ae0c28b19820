"""Rules study_table and study_provenance: a study's tidy score table, or its provenance table."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import setup_logging  # noqa: E402

from polyalpaca.figures import write_provenance, write_study_table  # noqa: E402

setup_logging(snakemake)  # noqa: F821
if snakemake.rule == "study_provenance":  # noqa: F821
    write_provenance(snakemake.params.view, snakemake.params.study, snakemake.output.csv, snakemake.output.html)  # noqa: F821
else:
    write_study_table(snakemake.params.view, snakemake.params.study, snakemake.output.csv, snakemake.output.html)  # noqa: F821
