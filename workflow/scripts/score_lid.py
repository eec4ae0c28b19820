"""Rules score_lid (language ID of each response, matched against the prompt's language) and
lid_ceiling (the same on the test prompts themselves: the language's LID ceiling)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import setup_logging  # noqa: E402

from polyalpaca.evaluate.lid_score import LidParams, score_lid  # noqa: E402

setup_logging(snakemake)  # noqa: F821
ceiling = snakemake.rule == "lid_ceiling"  # noqa: F821
score_lid(
    snakemake.input.prompts if ceiling else snakemake.input.generations,  # noqa: F821
    snakemake.output.scores,  # noqa: F821
    snakemake.wildcards.metric,  # noqa: F821
    snakemake.params.languages,  # noqa: F821
    LidParams(**snakemake.params.lid),  # noqa: F821
    on_bad_line=snakemake.params.on_bad_line,  # noqa: F821
    text_field="prompt" if ceiling else "response",
    ceiling_floor=snakemake.config["evaluate"]["lid_ceiling_floor"] if ceiling else None,  # noqa: F821
)
