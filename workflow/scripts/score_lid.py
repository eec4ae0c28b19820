"""Rule score_lid: language ID of each response, matched against the prompt's language."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import operational, setup_logging  # noqa: E402

from polyalpaca.evaluate.lid_score import LidParams, score_lid  # noqa: E402

setup_logging(snakemake)
settings = operational(snakemake, "evaluate")
score_lid(
    snakemake.input.generations,
    snakemake.output.scores,
    snakemake.wildcards.metric,
    snakemake.params.languages,
    LidParams(**snakemake.params.lid, openlid_path=settings["openlid_path"]),
    on_bad_line=snakemake.params.on_bad_line,
    text_field="response",
)
