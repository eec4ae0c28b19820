"""Rule score_lid: language ID of each response, matched against the prompt's language."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import operational, setup_logging  # noqa: E402

from polyalpaca.evaluate.lid_score import LidParams, score_lid  # noqa: E402

setup_logging(snakemake)  # noqa: F821
score_lid(
    snakemake.input.generations,  # noqa: F821
    snakemake.output.scores,  # noqa: F821
    snakemake.wildcards.metric,  # noqa: F821
    snakemake.params.languages,  # noqa: F821
    LidParams(**snakemake.params.lid, openlid_path=operational(snakemake, "evaluate")["openlid_path"]),  # noqa: F821
    on_bad_line=snakemake.params.on_bad_line,  # noqa: F821
)
