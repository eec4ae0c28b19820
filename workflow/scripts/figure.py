"""Rule figure_<name>: draw one figure of a study (PDF, PNG for the report, plotted data as CSV)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

# from the module, not the package's lazy attribute: code_of then hashes build.py and the figure kinds
from polyalpaca.figures.build import build_figure  # noqa: E402

setup_logging(snakemake)
build_figure(
    snakemake.params.view,
    snakemake.params.figure,
    pdf=snakemake.output.pdf,
    png=snakemake.output.png,
    data_csv=snakemake.output.data,
    given_inputs=list(snakemake.input.scores),
    tokens_csv=snakemake.input.tokens[0] if snakemake.input.tokens else None,
)
