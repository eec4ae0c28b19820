"""The aligned pool of a source: the English ids that every used translation of it kept.

The translation filter may drop records (too long, repetitive ...), so translations can come back
short. Chen et al. compare monolingual, English-only and downsampled multilingual runs at one equal
budget; so every trainset of a source draws from the same pool of source ids:

- ``intersect`` (default): the pool is the ids present in English *and* in every language that any
  configured trainset of the source uses. Mono sets of all languages and the English set then have
  exactly the same size and the same examples; the multilingual set is fully parallel.
- ``fail``: a translation that lacks any English record is an error naming the config keys that
  use it (so nothing is trained on silently shrunk data).

The pool is a file (``results/recipes/{source}/aligned.json``) listing the ids and, per language,
how many were missing, so the loss is visible.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Mapping, Sequence

from ..errors import DataError
from ..io import write_json
from .settings import ENGLISH, SHORT_TRANSLATION_POLICIES
from .records import load_english, load_translation

log = logging.getLogger(__name__)

EXAMPLES_SHOWN = 5


def align_source(
    source: str,
    english: str | os.PathLike,
    translations: Mapping[str, str | os.PathLike],
    out_path: str | os.PathLike,
    *,
    policy: str = "intersect",
    users: Mapping[str, Sequence[str]] | None = None,
    on_bad_line: str = "fail",
) -> dict:
    """Write the aligned pool of ``source`` over ``translations`` (lang -> path); return it.

    ``users`` maps a language to the config keys that use it (for messages).
    """
    if policy not in SHORT_TRANSLATION_POLICIES:
        raise ValueError(f"policy must be one of {SHORT_TRANSLATION_POLICIES}, not {policy!r}")
    users = users or {}
    english_records = load_english(english, source, on_bad_line=on_bad_line)
    ids = list(english_records)
    per_language: dict[str, dict] = {}
    present_everywhere = set(ids)
    short: list[str] = []
    for lang in sorted(translations):
        if lang == ENGLISH:
            continue
        key = ", ".join(users.get(lang, ())) or f"translation of {source!r} into {lang!r}"
        translated = load_translation(translations[lang], lang, english_records, key=key, on_bad_line=on_bad_line)
        missing = [i for i in ids if i not in translated]
        per_language[lang] = {"path": str(translations[lang]), "present": len(translated), "missing": len(missing),
                              "missing_examples": missing[:EXAMPLES_SHOWN]}
        present_everywhere.intersection_update(translated)
        if missing:
            short.append(f"{key}: {translations[lang]} lacks {len(missing)} of the {len(ids)} records of "
                         f"source {source!r} (e.g. {', '.join(map(repr, missing[:3]))}; the translation filter "
                         f"drops some, see {Path(translations[lang]).with_suffix('.report.json')})")
            log.warning("%s: %d of %d records of %r have no %s translation", source, len(missing), len(ids),
                        source, lang)
    if short and policy == "fail":
        raise DataError("translations came back short and recipes.short_translations is 'fail' (equal budgets "
                        "need every record in every language; set it to 'intersect' to use the records present "
                        "in all languages):\n  " + "\n  ".join(short))
    aligned = [i for i in ids if i in present_everywhere]
    if not aligned:
        counts = ", ".join(f"{lang} {info['present']}/{len(ids)}" for lang, info in per_language.items())
        raise DataError(f"{', '.join(k for keys in users.values() for k in keys) or 'source ' + repr(source)}: "
                        f"no record of source {source!r} is present in English and in every translation "
                        f"(records kept per language: {counts}; see the translations' .report.json files)")
    pool = {"source": source, "policy": policy, "languages": [ENGLISH, *sorted(per_language)],
            "english": len(ids), "aligned": len(aligned), "dropped": len(ids) - len(aligned),
            "per_language": per_language, "ids": aligned}
    write_json(out_path, pool)
    log.info("source %s: %d of %d records present in all of %s", source, len(aligned), len(ids),
             ", ".join(pool["languages"]))
    return pool


def read_pool(path: str | os.PathLike, spec) -> list[str]:
    """The aligned ids of a pool file, checking that it spans the languages of trainset ``spec``."""
    import json

    path = Path(path)
    try:
        pool = json.loads(path.read_text(encoding="utf-8"))
        spanned, ids = pool["languages"], list(pool["ids"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError(f"{path}: cannot read the aligned pool ({type(err).__name__}: {err})") from None
    for lang in spec.languages:
        if lang not in spanned:
            raise DataError(f"{spec.key(lang)}: the aligned pool {path} of {spec.where} does not span {lang!r} "
                            f"(it spans {', '.join(spanned)}); rebuild it")
    return ids
