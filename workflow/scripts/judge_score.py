"""Rule judge: score one generations file with one judge metric (polyalpaca.evaluate.judge).

The judge's endpoint limits, prices and budget are read from the config at run time rather than
passed as params, so tuning them does not mark finished scores stale (the answers do not change).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821
from _common import setup_logging  # noqa: E402

from polyalpaca.evaluate.judge import JudgeConfig, JudgeJob, JudgeSettings, score_generations  # noqa: E402

setup_logging(snakemake)  # noqa: F821
job = JudgeJob(**snakemake.params.job)  # noqa: F821
inputs = snakemake.input  # noqa: F821
score_generations(
    job,
    JudgeConfig.from_config(job.judge, snakemake.config["judges"][job.judge]),  # noqa: F821
    JudgeSettings.from_config(snakemake.config["evaluate"]["judge"]),  # noqa: F821
    template=inputs.template,
    generations=inputs.generations,
    output=snakemake.output[0],  # noqa: F821
    lid=inputs.get("lid"),
    reference=inputs.get("reference"),
    model_dir=inputs.get("model_dir"),
    threads=snakemake.threads,  # noqa: F821
)
