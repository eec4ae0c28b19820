"""Rule score_spellcheck: fraction of each response's words a Hunspell dictionary accepts."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import operational, setup_logging  # noqa: E402

from polyalpaca.evaluate.spellcheck import SpellcheckParams, score_spellcheck  # noqa: E402

setup_logging(snakemake)
score_spellcheck(
    snakemake.input.generations,
    snakemake.output.scores,
    snakemake.wildcards.metric,
    snakemake.params.languages,
    SpellcheckParams(**snakemake.params.settings, hunspell_dir=operational(snakemake, "evaluate")["hunspell_dir"]),
    on_bad_line=snakemake.params.on_bad_line,
)
