"""Rule roundtrip_score: sacrebleu BLEU and chrF++ (and COMET where configured) of one round trip."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import setup_logging  # noqa: E402

from polyalpaca.roundtrip.score import score_roundtrip  # noqa: E402

setup_logging(snakemake)
score_roundtrip(snakemake.input.segments, snakemake.output.scores, source=snakemake.wildcards.source,
                lang=snakemake.wildcards.lang, comet_model=snakemake.params.comet_model)
