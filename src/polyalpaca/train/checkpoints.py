"""Which checkpoint a restarted run resumes from: the newest *complete* one.

A save cut by preemption or a node failure leaves a ``checkpoint-N`` folder with weights but without
the trainer state that the Trainer writes last (``_save_checkpoint``: model, optimizer, scheduler,
RNG, then ``trainer_state.json``), or, under DeepSpeed, without the ``latest`` tag its engine writes
after the shards. Resuming from it fails on every retry and requeue, so such a folder is set aside
(renamed ``incomplete-checkpoint-N``, kept for inspection, never resumed or rotated) and the run
resumes from the newest complete one.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
TRAINER_STATE = "trainer_state.json"


def incomplete_reason(path: Path) -> str | None:
    """Why ``path`` cannot be resumed from, or None when it is complete."""
    state = path / TRAINER_STATE
    if not state.is_file():
        return f"no {TRAINER_STATE} (the save was cut before its end)"
    try:
        json.loads(state.read_text(encoding="utf-8"))
    except ValueError:
        return f"{TRAINER_STATE} is cut short"
    if any(path.glob("global_step*")) and not (path / "latest").is_file():
        return "DeepSpeed shards without their 'latest' tag"
    return None


def newest_complete_checkpoint(folder: Path) -> str | None:
    """The newest complete ``checkpoint-N`` below ``folder`` (None when there is none); rank 0 sets
    the incomplete ones newer than it aside, the other ranks only skip them."""
    if not folder.is_dir():
        return None
    found = sorted(((int(m.group(1)), path) for path in folder.iterdir()
                    if path.is_dir() and (m := _CHECKPOINT.match(path.name))), reverse=True)
    for _, path in found:
        reason = incomplete_reason(path)
        if reason is None:
            return str(path)
        if int(os.environ.get("RANK", "0")) == 0:
            aside = path.with_name(f"incomplete-{path.name}")
            shutil.rmtree(aside, ignore_errors=True)  # an older cut save of the same step
            path.rename(aside)
            log.warning("%s is incomplete (%s): set aside as %s, resuming from an earlier checkpoint",
                        path, reason, aside.name)
    return None
