"""Rule score_spellcheck: fraction of each response's words a Hunspell dictionary accepts."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import operational, setup_logging  # noqa: E402

from polyalpaca.evaluate.spellcheck import SpellcheckParams, score_spellcheck  # noqa: E402

setup_logging(snakemake)  # noqa: F821
score_spellcheck(
    snakemake.input.generations,  # noqa: F821
    snakemake.output.scores,  # noqa: F821
    snakemake.wildcards.metric,  # noqa: F821
    snakemake.params.languages,  # noqa: F821
    SpellcheckParams(**snakemake.params.settings, hunspell_dir=operational(snakemake, "evaluate")["hunspell_dir"]),  # noqa: F821
    on_bad_line=snakemake.params.on_bad_line,  # noqa: F821
)
