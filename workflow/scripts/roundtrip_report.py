"""Rule roundtrip_report: a study's round-trip table (CSV, HTML) and figure (PDF, PNG)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.roundtrip.report import write_roundtrip_report  # noqa: E402

setup_logging(snakemake)
out = snakemake.output
write_roundtrip_report(snakemake.params.pairs, snakemake.params.floor, snakemake.params.study, csv=out.csv,
                       html=out.html, pdf=out.pdf, png=out.png)
