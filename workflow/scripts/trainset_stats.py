"""Rule trainset_stats: examples and tokens per language (per base model tokenizer) of one trainset."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import setup_logging  # noqa: E402

from polyalpaca.recipes import trainset_stats  # noqa: E402

setup_logging(snakemake)  # noqa: F821
trainset_stats(
    snakemake.wildcards.trainset,  # noqa: F821
    {"train": snakemake.input.train, "val": snakemake.input.val},  # noqa: F821
    dict(zip(snakemake.params.models, snakemake.input.models)),  # noqa: F821
    snakemake.output.stats,  # noqa: F821
    info=snakemake.params.info,  # noqa: F821
    languages=snakemake.params.languages,  # noqa: F821
)
