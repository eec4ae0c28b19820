"""Rule judge_cost: tokens and cost per judge metric and run -> results/tables/judge_cost.csv."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.evaluate.judge.cost_table import write_cost_table  # noqa: E402

setup_logging(snakemake)
write_cost_table(list(snakemake.input), snakemake.params.prices, snakemake.output[0])
