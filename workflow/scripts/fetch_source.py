"""Rule fetch_source: normalize one configured source."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import operational, setup_logging  # noqa: E402

from polyalpaca.data import fetch_source  # noqa: E402

setup_logging(snakemake)  # noqa: F821
fetch_source(
    snakemake.wildcards.source,  # noqa: F821
    snakemake.params.spec,  # noqa: F821
    snakemake.output.records,  # noqa: F821
    snakemake.output.report,  # noqa: F821
    on_bad_line=snakemake.params.on_bad_line,  # noqa: F821
    download_dir=operational(snakemake, "data")["download_dir"],  # noqa: F821
)
