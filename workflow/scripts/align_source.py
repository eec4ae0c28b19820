"""Rule align_source: the source ids present in English and in every translation the trainsets use."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.recipes import align_source  # noqa: E402

setup_logging(snakemake)
align_source(
    snakemake.wildcards.source,
    snakemake.input.english,
    dict(zip(snakemake.params.languages, snakemake.input.translations)),
    snakemake.output.pool,
    policy=snakemake.params.policy,
    users=snakemake.params.users,
    on_bad_line=snakemake.params.on_bad_line,
)
