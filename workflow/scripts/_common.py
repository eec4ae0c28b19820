"""Shared set-up for rule scripts: route logging, warnings and an uncaught error into the rule's log."""

import logging
import os
import sys
from pathlib import Path

# Run this checkout's library — the code whose hash the rules pass as a param — rather than another
# installed copy; PYTHONPATH carries it into processes a job starts itself (torchrun workers).
_SRC = Path(__file__).resolve().parents[2] / "src"
if (_SRC / "polyalpaca").is_dir():
    sys.path.insert(0, str(_SRC))
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(_SRC), os.environ.get("PYTHONPATH")) if p)


def setup_logging(snakemake) -> None:
    handlers = [logging.StreamHandler(sys.stderr)]
    if snakemake.log:
        handlers.append(logging.FileHandler(snakemake.log[0], mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)

    def log_uncaught(exc_type, exc, tb):
        # The failure itself belongs in the rule's log, which Snakemake shows for a failed job.
        logging.getLogger("polyalpaca").critical("%s: %s", exc_type.__name__, exc, exc_info=(exc_type, exc, tb))

    sys.excepthook = log_uncaught


def operational(snakemake, *path: str) -> dict:
    """The settings of the config block at ``path`` that do not change the job's output (``x-effect:
    operational`` or ``cosmetic`` in the schemas: threads, workers, cache folders, limits, prices). They
    are the only values a script takes from the config rather than from its params, so changing them
    never marks a finished output stale."""
    from polyalpaca.effects import operational_view

    return operational_view(snakemake.config, *path)
