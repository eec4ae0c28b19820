"""Rule judge: score one generations file with one judge metric (polyalpaca.evaluate.judge).

The judge's endpoint limits, prices and budget are operational (read at run time, not params), so tuning
them does not mark finished scores stale (the answers do not change).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import operational, setup_logging  # noqa: E402

from polyalpaca.evaluate.judge import JudgeConfig, JudgeJob, JudgeSettings, score_generations  # noqa: E402

setup_logging(snakemake)
params = snakemake.params
job = JudgeJob(**params.job)
inputs = snakemake.input
score_generations(
    job,
    JudgeConfig.from_config(job.judge, {**params.answers["endpoint"], **operational(snakemake, "judges", job.judge)}),
    JudgeSettings.from_config({**params.answers["settings"], **operational(snakemake, "evaluate", "judge")}),
    template=inputs.template,
    generations=inputs.generations,
    output=snakemake.output[0],
    lid=inputs.get("lid"),
    reference=inputs.get("reference"),
    model_dir=inputs.get("model_dir"),
    selection=inputs.get("selection"),
    threads=snakemake.threads,
)
