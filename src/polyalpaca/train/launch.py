"""How a run is launched: DeepSpeed ZeRO configs (data: ``deepspeed/zero{2,3}.json``) and the process command.

One launcher per job: a single process on CPU or one GPU; ``torch.distributed.run`` (torchrun) with
one worker per GPU when the rule has more than one. The job scheduler must start ONE task for the
job (not one per GPU); the launcher starts the workers itself.
"""

from __future__ import annotations

import copy
import json
import sys
from functools import lru_cache
from pathlib import Path

from ..errors import ConfigError

DEEPSPEED_DIR = Path(__file__).with_name("deepspeed")
WORKER_MODULE = "polyalpaca.train.worker"


@lru_cache(maxsize=None)
def _template(stage: int) -> dict:
    path = DEEPSPEED_DIR / f"zero{stage}.json"
    if not path.is_file():
        raise ConfigError(f"deepspeed_stage: no ZeRO template for stage {stage} (have: "
                          f"{', '.join(sorted(p.stem for p in DEEPSPEED_DIR.glob('zero*.json')))})")
    return json.loads(path.read_text(encoding="utf-8"))


def deepspeed_config(stage: int, *, bf16: bool, max_grad_norm: float = 1.0) -> dict:
    """The ZeRO ``stage`` config for the HF Trainer's DeepSpeed integration.

    Batch sizes and accumulation stay ``"auto"`` (the Trainer fills them from its own arguments, so
    they cannot disagree); precision and clipping are set explicitly; stage 3 gathers 16-bit
    weights at save so the output is a normal ``save_pretrained`` folder.
    """
    config = copy.deepcopy(_template(stage))
    config["bf16"] = {"enabled": bool(bf16)}
    config["fp16"] = {"enabled": False}
    config["gradient_clipping"] = float(max_grad_norm)
    return config


def uses_deepspeed(method: str, stage: int, cuda: bool) -> bool:
    """DeepSpeed only for full fine-tuning with a ZeRO stage on GPUs; CPU runs the same code without it."""
    return bool(cuda) and method == "full" and stage in (2, 3)


def write_deepspeed_config(path: str | Path, stage: int, *, bf16: bool, max_grad_norm: float = 1.0) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(deepspeed_config(stage, bf16=bf16, max_grad_norm=max_grad_norm), indent=2) + "\n",
                    encoding="utf-8")
    return path


def launch_command(processes: int, job_json: str | Path, *, python: str | None = None) -> list[str]:
    """The command that runs the training workers of one job on this node.

    ``processes`` workers via torchrun (``--standalone`` picks a free rendezvous port, so two jobs on
    one node do not collide). One process: the worker module directly.
    """
    python = python or sys.executable
    if processes < 1:
        raise ConfigError(f"launch: need at least one process, got {processes}")
    if processes == 1:
        return [python, "-m", WORKER_MODULE, str(job_json)]
    return [python, "-m", "torch.distributed.run", "--standalone", "--nnodes=1", f"--nproc_per_node={processes}",
            "-m", WORKER_MODULE, str(job_json)]
