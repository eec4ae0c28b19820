"""Persistent answer cache: never pay twice for the same judgment.

An SQLite file outside the declared outputs (``evaluate.judge.cache_dir``), keyed by a hash of the
endpoint's model, the rendered messages and the sampling parameters. Every answer is committed the
moment it arrives, so a crash, a killed job or a changed downstream rule loses nothing already paid
for. Several Snakemake jobs may read and write the file at once: SQLite serializes the writers (WAL
journal by default; ``cache_journal_mode: delete`` for network file systems without shared memory),
each write is one autocommitted ``INSERT OR IGNORE``, and a busy database is waited for, not an error.

The cache also is the spend ledger: token counts per judge, from which the budget check computes the
money already spent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    judge TEXT NOT NULL,
    model TEXT NOT NULL,
    request TEXT NOT NULL,
    answer TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_judge ON answers (judge);
"""


def cache_key(model: str, messages: list[dict], params: dict[str, Any]) -> str:
    """Hash of what determines an answer: endpoint model, rendered messages, sampling parameters."""
    blob = json.dumps({"model": model, "messages": messages, "params": params},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class JudgeCache:
    """``get``/``put`` of answers (dicts with text, model, fingerprint, token counts) by key."""

    FILE_NAME = "answers.sqlite"

    def __init__(self, cache_dir: str | Path, journal_mode: str = "wal", busy_timeout_s: float = 120.0):
        self.path = Path(cache_dir) / self.FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None)
        self._retry(lambda: self._conn.execute(f"PRAGMA journal_mode={journal_mode}"))
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._retry(lambda: self._conn.executescript(_SCHEMA))

    def _retry(self, operation, attempts: int = 20):
        """Run ``operation``; a lock held beyond the busy timeout (rare, e.g. a WAL checkpoint) is retried."""
        for attempt in range(attempts):
            try:
                return operation()
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) and "busy" not in str(err) or attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        return None

    def get(self, key: str) -> dict | None:
        row = self._retry(lambda: self._conn.execute("SELECT answer FROM answers WHERE key = ?", (key,)).fetchone())
        return json.loads(row[0]) if row else None

    def put(self, key: str, *, judge: str, model: str, request: dict, answer: dict) -> None:
        values = (key, judge, model, json.dumps(request, ensure_ascii=False, sort_keys=True),
                  json.dumps(answer, ensure_ascii=False), int(answer.get("prompt_tokens") or 0),
                  int(answer.get("completion_tokens") or 0), time.time())
        self._retry(lambda: self._conn.execute(
            "INSERT OR IGNORE INTO answers (key, judge, model, request, answer, prompt_tokens, completion_tokens,"
            " created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values))

    def tokens_used(self, judge: str) -> tuple[int, int]:
        """(prompt tokens, completion tokens) of every answer ``judge`` has paid for so far."""
        row = self._retry(lambda: self._conn.execute(
            "SELECT COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0) FROM answers"
            " WHERE judge = ?", (judge,)).fetchone())
        return int(row[0]), int(row[1])

    def __len__(self) -> int:
        return int(self._retry(lambda: self._conn.execute("SELECT COUNT(*) FROM answers").fetchone())[0])

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "JudgeCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
