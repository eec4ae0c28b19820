"""Rule train_run: fine-tune one run {model}/{trainset}/{tuning} (polyalpaca.train.run_training)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))
from _common import operational, setup_logging  # noqa: E402

from polyalpaca.train import TrainJob, TrainSettings, run_training  # noqa: E402

setup_logging(snakemake)
sm = snakemake
settings = TrainSettings.from_config({**sm.params.settings, **operational(sm, "train")})
gpus = int(getattr(sm.resources, "gpu", 0) or 0)
run_training(TrainJob(
    model=sm.wildcards.model, family=sm.params.family, trainset=sm.wildcards.trainset,
    base_model=sm.input.base, train_file=sm.input.train, val_file=sm.input.val,
    output_dir=sm.output.model,
    checkpoint_dir=str(Path(settings.checkpoint_root, sm.wildcards.model, sm.wildcards.trainset, sm.wildcards.tuning)),
    tuning=sm.params.tuning, settings=settings, processes=gpus or settings.cpu_processes, gpus=gpus,
    threads=sm.threads, seed=sm.params.seed, on_bad_line=sm.params.on_bad_line,
))
