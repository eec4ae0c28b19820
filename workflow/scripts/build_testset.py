"""Rule build_testset: the prompts of one test set in one language (native or translated)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.recipes import TestsetSpec, build_testset  # noqa: E402

setup_logging(snakemake)
build_testset(
    TestsetSpec.from_block(snakemake.wildcards.testset, snakemake.params.testset),
    snakemake.wildcards.lang,
    snakemake.input.source,
    snakemake.output.prompts,
    translation=snakemake.input.get("translation"),
    on_bad_line=snakemake.params.on_bad_line,
)
