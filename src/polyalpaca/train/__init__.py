"""Fine-tuning stage: PEFT LoRA or full fine-tuning (DeepSpeed ZeRO on GPUs) of one run.

``run_training(TrainJob)`` trains ``{model}/{trainset}/{tuning}`` into its output folder (a PEFT
adapter or full weights, the tokenizer and ``train_log.json``), resuming from the run's last
checkpoint; ``resolve_tuning(config, model, tuning)`` resolves a preset for a model.
"""

from .settings import Caps, LoraParams, TrainJob, TrainSettings, TuningParams, resolve_tuning
from .run import run_training

__all__ = ["Caps", "LoraParams", "TrainJob", "TrainSettings", "TuningParams", "resolve_tuning", "run_training"]
