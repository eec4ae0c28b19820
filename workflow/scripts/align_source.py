"""Rule align_source: the source ids present in English and in every translation the trainsets use."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import setup_logging  # noqa: E402

from polyalpaca.recipes import align_source  # noqa: E402

setup_logging(snakemake)  # noqa: F821
align_source(
    snakemake.wildcards.source,  # noqa: F821
    snakemake.input.english,  # noqa: F821
    dict(zip(snakemake.params.languages, snakemake.input.translations)),  # noqa: F821
    snakemake.output.pool,  # noqa: F821
    policy=snakemake.params.policy,  # noqa: F821
    users=snakemake.params.users,  # noqa: F821
    on_bad_line=snakemake.params.on_bad_line,  # noqa: F821
)
