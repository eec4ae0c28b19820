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


def response_from_tokens(tokenizer, prompt_tail: list[int], generated: list[int], eos: set[int],
                         stops: Sequence[str]) -> str:
    """The response of one row: generated tokens up to the first EOS, decoded with the prompt's tail so a
    stop string that begins in the prompt is found, cut at the first stop ending after the prompt.
    Both generation backends end here, so they cut responses the same way."""
    end = next((i for i, t in enumerate(generated) if t in eos), len(generated))
    base = tokenizer.decode(prompt_tail, skip_special_tokens=True)
    text = tokenizer.decode(list(prompt_tail) + list(generated[:end]), skip_special_tokens=True)
    return cut_at_stop(text, len(base), stops).strip()
