"""Read raw records from local JSON, JSON Lines, CSV or Parquet files, each with its location.

Every raw record comes with a ``where`` string (``path:line`` for line-based formats, ``path:item N``
or ``path:row N`` otherwise) so a normalizer can report a bad record exactly.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterator

from ..errors import DataError

RawRecord = tuple[str, dict]  # (where, record)


class BadRecord(ValueError):
    """A raw record that cannot be read or normalized; ``where`` locates it."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


def iter_raw(path: str | Path) -> Iterator[RawRecord | BadRecord]:
    """Yield ``(where, record)`` per raw record, or a :class:`BadRecord` for a line that is not a record."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    suffix = "".join(path.suffixes[-1:]).lower()
    if suffix in (".jsonl", ".ndjson"):
        yield from _iter_jsonl(path)
    elif suffix == ".json":
        yield from _iter_json(path)
    elif suffix in (".csv", ".tsv"):
        yield from _iter_csv(path, delimiter="\t" if suffix == ".tsv" else ",")
    elif suffix == ".parquet":
        yield from _iter_parquet(path)
    else:
        raise DataError(f"{path}: unsupported file type {suffix!r} (use .jsonl, .json, .csv, .tsv or .parquet)")


def _iter_jsonl(path: Path):
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield BadRecord(where, f"not valid JSON ({err.msg} at column {err.colno})")
                continue
            if not isinstance(record, dict):
                yield BadRecord(where, f"expected a JSON object, got {type(record).__name__}")
                continue
            yield where, record


def _iter_json(path: Path):
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
    if isinstance(data, dict):  # {"data": [...]} or {"train": [...]} wrappers
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise DataError(f"{path}: expected a JSON list of records (or an object holding one list)")
        data = lists[0]
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of records")
    for i, record in enumerate(data, start=1):
        where = f"{path}:item {i}"
        if not isinstance(record, dict):
            yield BadRecord(where, f"expected a JSON object, got {type(record).__name__}")
        else:
            yield where, record


def _iter_csv(path: Path, delimiter: str):
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        for record in reader:
            where = f"{path}:{reader.line_num}"
            if None in record:  # more fields than the header
                yield BadRecord(where, f"{len(record[None])} more field(s) than the header")
                continue
            yield where, {k: v for k, v in record.items()}


def _iter_parquet(path: Path):
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    for i, record in enumerate(table.to_pylist(), start=1):
        yield f"{path}:row {i}", record
