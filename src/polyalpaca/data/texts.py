"""Plain texts of normalized sources (to train the tokenizers of tiny models)."""

from __future__ import annotations

from typing import Iterable, Iterator

from ..io import iter_jsonl

TEXT_FIELDS = ("instruction", "input", "output", "prompt")


def source_texts(paths: Iterable[str]) -> Iterator[str]:
    for path in paths:
        for record in iter_jsonl(path):
            for field in TEXT_FIELDS:
                value = record.get(field)
                if isinstance(value, str) and value:
                    yield value
