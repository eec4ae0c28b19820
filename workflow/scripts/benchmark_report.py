"""Rule benchmark_report: a study's benchmark table (CSV, HTML) and figure (PDF, PNG)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.benchmark.report import write_benchmark_report  # noqa: E402

setup_logging(snakemake)
out = snakemake.output
write_benchmark_report(snakemake.params.view, snakemake.params.study, csv=out.csv, html=out.html, pdf=out.pdf,
                       png=out.png)
