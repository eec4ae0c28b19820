"""Rule select_lr: the learning rate chosen per configuration by surface metrics (polyalpaca.evaluate.lr_selection)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.evaluate.lr_selection import write_selection  # noqa: E402

setup_logging(snakemake)
write_selection(snakemake.params.view, snakemake.params.study, snakemake.output[0])
