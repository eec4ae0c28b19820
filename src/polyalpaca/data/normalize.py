"""Normalizers: map one raw record of a known format to a source record (DESIGN.md).

Instruction sources -> ``{"id", "instruction", "input", "output", "lang", "source"}`` (+ ``category``);
prompt sources (test sets) -> ``{"id", "prompt", "lang", "source"}`` (+ ``category``).
Each normalizer raises ``ValueError`` with a reason for a record it cannot use.
"""

from __future__ import annotations

import re
from typing import Callable

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")


def _text(record: dict, key: str, *, required: bool = True) -> str:
    if key not in record or record[key] is None:
        if required:
            raise ValueError(f"missing field {key!r}")
        return ""
    value = record[key]
    if not isinstance(value, str):
        raise ValueError(f"field {key!r} must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise ValueError(f"field {key!r} is empty")
    return value


def _id(record: dict, key: str, fallback: str) -> str:
    if key not in record or record[key] in (None, ""):
        return fallback
    value = str(record[key])
    if not ID_PATTERN.match(value):
        raise ValueError(f"id {value!r} breaks the id pattern {ID_PATTERN.pattern}")
    return value


def alpaca(record: dict, name: str, index: int, lang: str) -> dict:
    return {"id": _id(record, "id", f"{name}-{index:06d}"), "instruction": _text(record, "instruction"),
            "input": _text(record, "input", required=False), "output": _text(record, "output"),
            "lang": lang, "source": name}


def dolly(record: dict, name: str, index: int, lang: str) -> dict:
    out = {"id": _id(record, "id", f"{name}-{index:06d}"), "instruction": _text(record, "instruction"),
           "input": _text(record, "context", required=False), "output": _text(record, "response"),
           "lang": lang, "source": name}
    if record.get("category"):
        out["category"] = str(record["category"])
    return out


def lima(record: dict, name: str, index: int, lang: str) -> dict:
    turns = record.get("conversations")
    if not isinstance(turns, list) or len(turns) < 2 or not all(isinstance(t, str) for t in turns):
        raise ValueError("'conversations' must be a list of at least two strings (question, answer)")
    # LIMA's few multi-turn dialogues: the first exchange is the instruction example
    out = {"id": _id(record, "id", f"{name}-{index:06d}"), "instruction": turns[0], "input": "",
           "output": turns[1], "lang": lang, "source": name}
    if not turns[0].strip() or not turns[1].strip():
        raise ValueError("empty question or answer in 'conversations'")
    if record.get("source"):
        out["category"] = str(record["source"])
    return out


def prompts(record: dict, name: str, index: int, lang: str) -> dict:
    out = {"id": _id(record, "id", f"{name}-{index:04d}"), "prompt": _text(record, "prompt"),
           "lang": lang, "source": name}
    if record.get("task") is not None:  # an evaluation set labelled by task (the zero-shot study's)
        out["task"] = _text(record, "task")
    return out


def vicuna(record: dict, name: str, index: int, lang: str) -> dict:
    turns = record.get("turns")
    if not isinstance(turns, list) or not turns or not isinstance(turns[0], str) or not turns[0].strip():
        raise ValueError("'turns' must be a non-empty list of strings")
    out = {"id": _id(record, "question_id", f"{name}-{index:04d}"), "prompt": turns[0], "lang": lang, "source": name}
    if record.get("category"):
        out["category"] = str(record["category"])
    return out


def alpacafarm(record: dict, name: str, index: int, lang: str) -> dict:
    instruction = _text(record, "instruction")
    extra = _text(record, "input", required=False)
    out = {"id": _id(record, "id", f"{name}-{index:04d}"),
           "prompt": f"{instruction}\n\n{extra}" if extra.strip() else instruction, "lang": lang, "source": name}
    if record.get("dataset"):
        out["category"] = str(record["dataset"])
    return out


NORMALIZERS: dict[str, Callable[[dict, str, int, str], dict]] = {
    "alpaca": alpaca, "dolly": dolly, "lima": lima, "prompts": prompts, "vicuna": vicuna, "alpacafarm": alpacafarm,
}
