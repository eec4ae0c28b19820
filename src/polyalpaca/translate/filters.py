"""Quality filter: the reasons a translated record looks like a hallucination.

Measures are taken when translating (token counts per sentence, LID of the translated text: the
record's ``qc`` field in a shard); thresholds are applied when merging, so they can change without
re-translating. Reasons:

- ``length_ratio``: a sentence of at least ``min_tokens`` input tokens whose output/input token ratio
  is outside ``[min, max]``, or any sentence stopped by the decoding length bound;
- ``repetition``: a field in which an n-gram (n <= ``max_ngram``, words; characters for scripts written
  without spaces) repeats back to back ``max_repeats`` times or more, more often than in its source;
- ``wrong_language``: LID (fastText lid.176) names another language with probability >= ``min_prob``
  for a translated text of at least ``min_chars`` characters.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from .settings import REASONS, FilterSettings

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u0e00-\u0e7f]|[^\W_]+|[^\w\s]")


def max_repeats(text: str, max_ngram: int) -> int:
    """Longest run of one n-gram (n <= max_ngram) repeated back to back; 1 when nothing repeats."""
    tokens = _TOKEN.findall(text.lower())
    best = 1 if tokens else 0
    for n in range(1, max_ngram + 1):
        i = 0
        while i + 2 * n <= len(tokens):
            run = 1
            while tokens[i + run * n:i + (run + 1) * n] == tokens[i:i + n]:
                run += 1
            if run > 1:
                best = max(best, run)
                i += (run - 1) * n + 1
            else:
                i += 1
    return best


def length_ratio_bad(segments: Sequence[Sequence], settings: FilterSettings) -> bool:
    """``segments``: ``[src_tokens, out_tokens, hit_limit]`` per translated sentence."""
    f = settings.length_ratio
    for src, out, hit_limit in segments:
        if hit_limit:
            return True
        if src >= f.min_tokens and not (f.min <= out / src <= f.max):
            return True
    return False


def repetition_bad(source: Mapping, translated: Mapping, fields: Sequence[str], settings: FilterSettings) -> bool:
    f = settings.repetition
    for name in fields:
        src, out = source.get(name) or "", translated.get(name) or ""
        if not out:
            continue
        run = max_repeats(out, f.max_ngram)
        if run >= f.max_repeats and run > max_repeats(src, f.max_ngram):
            return True
    return False


def language_bad(lid: Sequence | None, lang: str, settings: FilterSettings) -> bool:
    """``lid``: ``[predicted_iso_or_label, prob, chars]`` of the record's translated text, or None."""
    f = settings.wrong_language
    if not lid:
        return False
    predicted, prob, chars = lid
    return chars >= f.min_chars and predicted != lang and prob >= f.min_prob


def record_reasons(source: Mapping, translated: Mapping, qc: Mapping, fields: Sequence[str], lang: str,
                   settings: FilterSettings) -> list[str]:
    """The reasons (in ``REASONS`` order) that apply to one record; reasons whose action is off are skipped."""
    checks = {
        "length_ratio": lambda: length_ratio_bad(qc.get("segments", []), settings),
        "repetition": lambda: repetition_bad(source, translated, fields, settings),
        "wrong_language": lambda: language_bad(qc.get("lid"), lang, settings),
    }
    return [r for r in REASONS if settings.action(r) != "off" and checks[r]()]
