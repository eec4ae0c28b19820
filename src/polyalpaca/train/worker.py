"""Entry point of one training worker process: ``python -m polyalpaca.train.worker <job.json>``.

Started by :func:`polyalpaca.train.run.run_training` through torchrun (one per GPU); logs go to
stderr, which the launcher forwards into the rule's log.
"""

from __future__ import annotations

import logging
import os
import sys

from .settings import TrainJob
from .trainer import train_worker


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m polyalpaca.train.worker <job.json>", file=sys.stderr)
        return 2
    rank = os.environ.get("RANK", "0")
    logging.basicConfig(level=logging.INFO if rank == "0" else logging.WARNING, stream=sys.stderr,
                        format=f"%(asctime)s rank{rank} %(levelname)s %(name)s: %(message)s")
    train_worker(TrainJob.from_json(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
