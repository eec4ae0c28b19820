"""Rule fetch_source: normalize one configured source."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import operational, setup_logging  # noqa: E402

from polyalpaca.data import fetch_source  # noqa: E402

setup_logging(snakemake)
fetch_source(
    snakemake.wildcards.source,
    snakemake.params.spec,
    snakemake.output.records,
    snakemake.output.report,
    on_bad_line=snakemake.params.on_bad_line,
    download_dir=operational(snakemake, "data")["download_dir"],
)
