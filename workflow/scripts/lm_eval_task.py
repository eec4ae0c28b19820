"""Rule lm_eval_task: one (model run, task) through lm-evaluation-harness."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import operational, setup_logging  # noqa: E402

from polyalpaca.benchmark.harness import run_benchmark  # noqa: E402
from polyalpaca.benchmark.plan import job_study  # noqa: E402
from polyalpaca.generate.loading import resolve_device  # noqa: E402

setup_logging(snakemake)
job = snakemake.params.job
study = job_study(snakemake.config, snakemake.wildcards.model, snakemake.wildcards.variant, job["task"])
run_benchmark(job, snakemake.input.base, snakemake.input.get("run"), snakemake.output.result,
              batch_size=operational(snakemake, "studies", study, "benchmarks")["batch_size"],
              device=resolve_device("auto"), seed=snakemake.params.seed)
