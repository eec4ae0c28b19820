"""Rule roundtrip_translate: a seeded sample of one translated (source, language), translated back."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import operational, setup_logging  # noqa: E402

from polyalpaca.roundtrip.run import back_translate  # noqa: E402
from polyalpaca.translate import Ct2Translator, TranslateSettings  # noqa: E402

setup_logging(snakemake)
settings = TranslateSettings.from_config({**snakemake.params.settings, **operational(snakemake, "translate")})
engine = Ct2Translator(snakemake.input.model, settings, threads=snakemake.threads, name=snakemake.params.job["translator"])
back_translate(snakemake.input.translated, snakemake.input.source, snakemake.output.segments, snakemake.params.job,
               snakemake.params.roundtrip, engine, settings)
