"""Rule study_provenance: a study's provenance table (CSV and HTML)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.figures import write_provenance  # noqa: E402

setup_logging(snakemake)
write_provenance(snakemake.params.view, snakemake.params.study, snakemake.output.csv, snakemake.output.html)
