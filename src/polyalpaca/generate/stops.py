"""Stop strings on decoded text (pure functions, no torch).

A stop string may start in the prompt (e.g. ``"\\n### "`` when the prompt ends with a newline), so
the response is searched together with a short tail of the prompt: a stop counts when it *ends* after
the prompt.
"""

from __future__ import annotations

from typing import Sequence


def cut_at_stop(text: str, prompt_len: int, stops: Sequence[str]) -> str:
    """The response part of ``text`` (``text[prompt_len:]``) up to the first stop string ending in it."""
    cut = len(text)
    for stop in stops:
        idx = text.find(stop, max(0, prompt_len - len(stop) + 1))
        if idx != -1:
            cut = min(cut, max(idx, prompt_len))
    return text[prompt_len:cut]


def stop_tail_tokens(stops: Sequence[str]) -> int:
    """Tokens of context enough to see any stop string whole (every token holds at least one byte)."""
    return max((len(s.encode("utf-8")) for s in stops), default=0) + 1


def contains_new_stop(before: str, after: str, stops: Sequence[str]) -> bool:
    """True when ``after`` (= ``before`` + one more token) holds more occurrences of a stop string."""
    return any(after.count(s) > before.count(s) for s in stops)
