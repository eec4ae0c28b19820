"""Rule translate_shard: translate one shard of a source into one language (resumable)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import operational, setup_logging  # noqa: E402

from polyalpaca.lid import LanguageIdentifier  # noqa: E402
from polyalpaca.translate import Ct2Translator, ShardJob, TranslateSettings, translate_shard  # noqa: E402

setup_logging(snakemake)
settings = TranslateSettings.from_config({**snakemake.params.settings, **operational(snakemake, "translate")})
job = ShardJob(**snakemake.params.job, shard=snakemake.params.shard)
engine = Ct2Translator(snakemake.input.model, settings, threads=snakemake.threads, name=job.translator)
translate_shard(snakemake.input.source, snakemake.output[0], job, engine, settings,
                progress_path=snakemake.params.progress, lid=LanguageIdentifier())
