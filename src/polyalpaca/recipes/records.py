"""Reading English source records and their translations, and seeded order by hashing.

Every random choice of the stage (validation ids, shuffles, downsampling, uniform language draws)
is an order by ``sha256(seed, purpose, key)``: independent of Python/NumPy versions and of the
order of the input files, so the same config and seed give byte-identical outputs anywhere.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable

from ..errors import DataError
from ..io import iter_jsonl
from .settings import ENGLISH

TEXT_FIELDS = ("instruction", "input", "output")


def rank(seed: int, purpose: str, *key: str) -> int:
    """A 64-bit pseudo-random number fixed by (seed, purpose, key)."""
    text = "\x1f".join((str(seed), purpose, *key))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def seeded_order(items: Iterable, seed: int, purpose: str, key=str) -> list:
    """``items`` in a pseudo-random order fixed by the seed and purpose (a seeded shuffle)."""
    return sorted(items, key=lambda item: (rank(seed, purpose, *_as_tuple(key(item))), _as_tuple(key(item))))


def _as_tuple(value) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, tuple) else (str(value),)


def _check_instruction(record: dict) -> None:
    for name in ("id", "instruction", "output"):
        if not isinstance(record.get(name), str):
            raise ValueError(f"field {name!r} is missing or not a string")
    if not isinstance(record.get("input", ""), str):
        raise ValueError("field 'input' is not a string")


def load_english(path: str | os.PathLike, source: str, *, on_bad_line: str = "fail") -> dict[str, dict]:
    """English source records by id, in file order. A non-English or duplicate record is an error."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: source {source!r} not found (built by the data stage)")

    def check(record: dict) -> None:
        _check_instruction(record)
        if record.get("lang", ENGLISH) != ENGLISH:
            raise ValueError(f"record {record['id']!r} has lang {record.get('lang')!r}; the recipes expect "
                             f"the English version of source {source!r} here")

    records: dict[str, dict] = {}
    for lineno, record in enumerate(iter_jsonl(path, on_bad_line=on_bad_line, check=check), start=1):
        if record["id"] in records:
            raise DataError(f"{path}: id {record['id']!r} occurs twice (record {lineno})")
        records[record["id"]] = record
    if not records:
        raise DataError(f"{path}: no records in source {source!r}")
    return records


def load_translation(path: str | os.PathLike, lang: str, english_ids, *, key: str,
                     on_bad_line: str = "fail") -> dict[str, dict]:
    """Translated records by ``source_id``. ``key`` (the config key that asked for them) heads every error."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{key}: the translation into {lang!r} is missing: {path} does not exist "
                        f"(built by the translate stage)")

    def check(record: dict) -> None:
        _check_instruction(record)
        if not isinstance(record.get("source_id"), str):
            raise ValueError("field 'source_id' (the id of the English original) is missing")
        if record.get("lang") != lang:
            raise ValueError(f"record {record['id']!r} has lang {record.get('lang')!r}, expected {lang!r}")
        if record["source_id"] not in english_ids:
            raise ValueError(f"source_id {record['source_id']!r} is not an id of the English source")

    records: dict[str, dict] = {}
    try:
        for record in iter_jsonl(path, on_bad_line=on_bad_line, check=check):
            if record["source_id"] in records:
                raise DataError(f"{path}: source_id {record['source_id']!r} is translated twice")
            records[record["source_id"]] = record
    except DataError as err:
        raise DataError(f"{key}: {err}") from None
    return records


def trainset_record(record: dict, *, lang: str, source: str, source_id: str) -> dict:
    """A trainset record (DESIGN.md): text fields, lang, source, ``source_id``; ``translator`` if translated,
    ``distiller`` (the judges key of the chat model) if its response is distilled.

    Ids are ``{source_id}:{lang}``, unique within a multilingual set.
    """
    out = {"id": f"{source_id}:{lang}", "instruction": record["instruction"], "input": record.get("input", ""),
           "output": record["output"], "lang": lang, "source": source, "source_id": source_id}
    if lang != ENGLISH:
        out.update({key: record[key] for key in ("translator", "distiller") if key in record})
    return out
