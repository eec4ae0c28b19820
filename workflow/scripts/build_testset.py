"""Rule build_testset: the prompts of one test set in one language (native or translated)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import setup_logging  # noqa: E402

from polyalpaca.recipes import TestsetSpec, build_testset  # noqa: E402

setup_logging(snakemake)  # noqa: F821
build_testset(
    TestsetSpec.from_block(snakemake.wildcards.testset, snakemake.params.testset),  # noqa: F821
    snakemake.wildcards.lang,  # noqa: F821
    snakemake.input.source,  # noqa: F821
    snakemake.output.prompts,  # noqa: F821
    translation=snakemake.input.get("translation"),  # noqa: F821
    on_bad_line=snakemake.params.on_bad_line,  # noqa: F821
)
