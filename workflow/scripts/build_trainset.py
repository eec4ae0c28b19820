"""Rule build_trainset: one trainset's train and validation files, by its recipe."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.recipes import TrainsetSpec, budget_from_size, budget_from_trainset, build_trainset  # noqa: E402

setup_logging(snakemake)
spec = TrainsetSpec.from_block(snakemake.wildcards.trainset, snakemake.params.trainset, snakemake.params.seed)
budget = None
if spec.budget_of is not None:
    budget = budget_from_trainset(spec, snakemake.input.budget_train, snakemake.input.budget_val)
elif spec.size is not None:
    budget = budget_from_size(spec)
build_trainset(
    spec,
    snakemake.input.english,
    dict(zip(snakemake.params.translated, snakemake.input.translations)),
    snakemake.input.pool,
    snakemake.output.train,
    snakemake.output.val,
    budget=budget,
    on_bad_line=snakemake.params.on_bad_line,
)
