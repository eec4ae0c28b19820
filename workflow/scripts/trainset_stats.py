"""Rule trainset_stats: examples per language, and tokens per language and field under each tokenizer."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.recipes import trainset_stats  # noqa: E402

setup_logging(snakemake)
trainset_stats(
    snakemake.wildcards.trainset,
    {"train": snakemake.input.train, "val": snakemake.input.val},
    dict(zip(snakemake.params.tokenizers, snakemake.input.tokenizers)),
    snakemake.output.stats,
    info=snakemake.params.info,
    languages=snakemake.params.languages,
)
