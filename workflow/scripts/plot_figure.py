"""Rule figure_<name>: draw one figure of a study (PDF, PNG for the report, plotted data as CSV)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import setup_logging  # noqa: E402

from polyalpaca.figures import build_figure  # noqa: E402

setup_logging(snakemake)  # noqa: F821
build_figure(
    snakemake.params.view,  # noqa: F821
    snakemake.params.figure,  # noqa: F821
    pdf=snakemake.output.pdf,  # noqa: F821
    png=snakemake.output.png,  # noqa: F821
    data_csv=snakemake.output.data,  # noqa: F821
    given_inputs=list(snakemake.input.scores),  # noqa: F821
    tokens_csv=snakemake.input.tokens[0] if snakemake.input.tokens else None,  # noqa: F821
)
