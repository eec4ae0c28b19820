"""JSON Lines reading and atomic writing shared by every stage.

Readers report a bad line as ``path:line: reason`` and stop, unless ``on_bad_line="skip"``, in which
case bad lines are counted and logged. Writers write to a temporary file in the same folder and
rename it, so an interrupted job never leaves a half-written file that looks complete.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .errors import DataError

log = logging.getLogger(__name__)


@dataclass
class ReadStats:
    """What a reader saw: lines read, records kept and bad lines skipped (with reasons)."""

    path: str
    lines: int = 0
    records: int = 0
    skipped: list[str] = field(default_factory=list)


def iter_jsonl(
    path: str | os.PathLike,
    *,
    on_bad_line: str = "fail",
    check: Callable[[dict], None] | None = None,
    stats: ReadStats | None = None,
) -> Iterator[dict]:
    """Yield one dict per non-empty line of a JSON Lines file.

    ``check(record)`` may raise ``ValueError`` to reject a record; its message becomes the reason.
    """
    if on_bad_line not in ("fail", "skip"):
        raise ValueError(f"on_bad_line must be 'fail' or 'skip', not {on_bad_line!r}")
    path = Path(path)
    stats = stats if stats is not None else ReadStats(str(path))
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            stats.lines += 1
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError(f"expected a JSON object, got {type(record).__name__}")
                if check is not None:
                    check(record)
            except ValueError as err:  # json.JSONDecodeError is a ValueError
                reason = f"{path}:{lineno}: {err}"
                if on_bad_line == "fail":
                    raise DataError(reason) from None
                stats.skipped.append(reason)
                log.warning("skipping bad line %s", reason)
                continue
            stats.records += 1
            yield record


def read_jsonl(path: str | os.PathLike, **kwargs: Any) -> list[dict]:
    """All records of a JSON Lines file (see :func:`iter_jsonl`)."""
    return list(iter_jsonl(path, **kwargs))


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8"):
    """Open a temporary sibling of ``path`` for writing; rename it over ``path`` on success only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with open(tmp, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def dumps_record(record: dict) -> str:
    """One JSON Lines line (UTF-8 kept readable, key order kept)."""
    return json.dumps(record, ensure_ascii=False) + "\n"


def write_jsonl(path: str | os.PathLike, records: Iterable[dict]) -> int:
    """Write records atomically; returns the number written."""
    count = 0
    with atomic_open(path) as handle:
        for record in records:
            handle.write(dumps_record(record))
            count += 1
    return count


def read_rule_json(path: str | os.PathLike, rule: str, what: str, keys: Iterable[str]) -> dict:
    """A JSON object that rule ``rule`` writes: missing, not JSON, or without one of ``keys`` is a
    DataError naming the file and the rule."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: {what} missing (rule {rule} builds {'them' if what.endswith('s') else 'it'})")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise DataError(f"{path}: not JSON: {err}") from None
    missing = [key for key in keys if not isinstance(record, dict) or key not in record]
    if missing:
        raise DataError(f"{path}: no {', '.join(missing)} (not a result of rule {rule})")
    return record


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write one JSON document atomically (indented, UTF-8)."""
    with atomic_open(path) as handle:
        json.dump(obj, handle, ensure_ascii=False, indent=2, sort_keys=False)
        handle.write("\n")
