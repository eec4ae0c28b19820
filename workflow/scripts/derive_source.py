"""Rule derive_source: combine parent sources and drop the records matching a keyword list."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.recipes import DeriveSpec, RecipeSettings, derive_source  # noqa: E402

setup_logging(snakemake)
spec = DeriveSpec.from_block(
    snakemake.wildcards.source,
    snakemake.params.spec,
    snakemake.params.keyword_lists,
    RecipeSettings.from_block(snakemake.params.settings),
)
derive_source(
    spec,
    dict(zip(spec.parents, snakemake.input.parents)),
    snakemake.output.records,
    snakemake.output.report,
    on_bad_line=snakemake.params.on_bad_line,
)
