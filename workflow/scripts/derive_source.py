"""Rule derive_source: combine parent sources and drop the records matching a keyword list."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import setup_logging  # noqa: E402

from polyalpaca.recipes import DeriveSpec, RecipeSettings, derive_source  # noqa: E402

setup_logging(snakemake)  # noqa: F821
spec = DeriveSpec.from_block(
    snakemake.wildcards.source,  # noqa: F821
    snakemake.params.spec,  # noqa: F821
    snakemake.params.keyword_lists,  # noqa: F821
    RecipeSettings.from_block(snakemake.params.settings),  # noqa: F821
)
derive_source(
    spec,
    dict(zip(spec.parents, snakemake.input.parents)),  # noqa: F821
    snakemake.output.records,  # noqa: F821
    snakemake.output.report,  # noqa: F821
    on_bad_line=snakemake.params.on_bad_line,  # noqa: F821
)
