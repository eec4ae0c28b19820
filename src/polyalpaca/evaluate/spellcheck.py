"""Spellcheck correctness: the fraction of a response's words that a Hunspell dictionary accepts.

Dictionaries are the standard ``<name>.aff``/``<name>.dic`` pairs (e.g. Debian's ``hunspell-fr`` in
``/usr/share/hunspell``), named per language by ``languages.<iso>.hunspell`` and read with spylls (pure
Python). Numbers, URLs, e-mail addresses, code (fenced or inline blocks, identifiers) are not words;
words in a script the dictionary does not cover are counted apart (``other_script``), not as errors.
No value without words to check: the record says why in ``error`` (never a silent zero).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import ConfigError
from ..io import iter_jsonl, write_jsonl

log = logging.getLogger(__name__)

MISSING_DICTIONARY = ("fail", "record")
MAX_LISTED = 20  # misspelled words kept in a record, for inspection

_FENCED = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.S)
_INLINE = re.compile(r"`[^`\n]*`")
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+|\S+@\S+\.\w+", re.I)
_EDGE = "\"'`’‘“”„«»‹›()[]{}<>.,;:!?¡¿…–—-*_~|/\\#"
_CODE_CHARS = re.compile(r"[_=<>{}\[\]()/\\|;$#@^~*+`%&]")
_DOTTED = re.compile(r"[^\W\d_]\.[^\W\d_]")  # file.txt, os.path, U.S
_CAMEL = re.compile(r"[a-z][A-Z]")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def words_of(text: str) -> list[str]:
    """Words to spellcheck: letter runs (with inner hyphens/apostrophes), minus numbers, URLs and code."""
    text = _INLINE.sub(" ", _FENCED.sub(" ", text))
    words = []
    for chunk in text.split():
        if _URL.fullmatch(chunk) or _URL.search(chunk):
            continue
        core = chunk.strip(_EDGE)
        if not core or any(c.isdigit() for c in core):
            continue
        if _CODE_CHARS.search(core) or _DOTTED.search(core) or _CAMEL.search(core):
            continue
        words.extend(_WORD.findall(core))
    return words


def script_of(char: str) -> str:
    """Unicode script of a letter, from its name (LATIN, CYRILLIC, CJK, ARABIC, ...)."""
    try:
        return unicodedata.name(char).split()[0]
    except ValueError:
        return "UNKNOWN"


def word_scripts(word: str) -> set[str]:
    return {script_of(c) for c in word if c.isalpha()}


class Speller:
    """A Hunspell dictionary (spylls) with a lookup cache and the set of scripts it covers."""

    def __init__(self, path_stem: str | Path):
        from spylls.hunspell import Dictionary

        self.path = Path(path_stem)
        self.name = self.path.name
        log.info("loading Hunspell dictionary %s", self.path)
        self._dict = Dictionary.from_files(str(self.path))
        letters: Counter = Counter()
        for word in self._dict.dic.words:
            letters.update(c for c in word.stem if c.isalpha())
        scripts: Counter = Counter()
        for char, count in letters.items():
            scripts[script_of(char)] += count
        total = sum(scripts.values()) or 1
        self.scripts = frozenset(s for s, n in scripts.items() if n / total >= 0.01)
        self._cache: dict[str, bool] = {}

    def covers(self, word: str) -> bool:
        return word_scripts(word) <= self.scripts

    def correct(self, word: str) -> bool:
        # lookup() only: spylls' suggest() generator can run for minutes (gotchas) and is never used.
        if word not in self._cache:
            self._cache[word] = bool(self._dict.lookup(word))
        return self._cache[word]


@lru_cache(maxsize=8)
def load_speller(path_stem: str) -> Speller:
    return Speller(path_stem)


def dictionary_stem(hunspell_dir: str | Path, name: str) -> Path:
    return Path(hunspell_dir) / name


@dataclass(frozen=True)
class SpellcheckParams:
    """Where dictionaries are (``evaluate.hunspell_dir``) and what a missing one means."""

    hunspell_dir: str = "/usr/share/hunspell"
    missing_dictionary: str = "fail"

    def __post_init__(self):
        if self.missing_dictionary not in MISSING_DICTIONARY:
            raise ConfigError(f"evaluate.missing_dictionary: {self.missing_dictionary!r} is not one of "
                              f"{', '.join(MISSING_DICTIONARY)}")


def speller_for(lang: str, languages: Mapping[str, Mapping], params: SpellcheckParams) -> tuple[Speller | None, str | None]:
    """(speller, None) or (None, reason) for a language; a configured but absent dictionary fails
    unless ``missing_dictionary: record``."""
    entry = languages.get(lang)
    if entry is None:
        raise ConfigError(f"languages: {lang!r} is not defined")
    name = entry.get("hunspell")
    if not name:
        return None, f"no Hunspell dictionary for {lang!r} (languages.{lang}.hunspell is not set)"
    stem = dictionary_stem(params.hunspell_dir, name)
    missing = [str(stem) + ext for ext in (".aff", ".dic") if not Path(str(stem) + ext).is_file()]
    if missing:
        reason = (f"Hunspell dictionary {name} for {lang!r} not found ({', '.join(missing)}); install it (Debian: "
                  f"hunspell-{lang}) or set evaluate.hunspell_dir / languages.{lang}.hunspell")
        if params.missing_dictionary == "fail":
            raise ConfigError(reason + " (or evaluate.missing_dictionary: record)")
        return None, reason
    return load_speller(str(stem)), None


def spellcheck_text(text: str, speller: Speller) -> dict:
    """``{"value", "words", "errors", "misspelled", "other_script"}`` or ``{"value": None, "error": ...}``."""
    if not text or not text.strip():
        return {"value": None, "error": "empty response"}
    all_words = words_of(text)
    if not all_words:
        return {"value": None, "error": "no words to check (only numbers, URLs, code or punctuation)"}
    words = [w for w in all_words if speller.covers(w)]
    other = len(all_words) - len(words)
    if not words:
        scripts = sorted(set().union(*(word_scripts(w) for w in all_words)) - speller.scripts)
        return {"value": None, "error": f"response is in a script the {speller.name} dictionary lacks "
                                        f"({', '.join(s.title() for s in scripts)})", "other_script": other}
    wrong = [w for w in words if not speller.correct(w)]
    return {"value": (len(words) - len(wrong)) / len(words), "words": len(words), "errors": len(wrong),
            "misspelled": list(dict.fromkeys(wrong))[:MAX_LISTED], "other_script": other}


def score_spellcheck(generations_path: str | Path, output_path: str | Path, metric: str,
                     languages: Mapping[str, Mapping], params: SpellcheckParams = SpellcheckParams(),
                     on_bad_line: str = "fail") -> int:
    """One score record per generation: ``{"id", "lang", "metric", "value", ...}``; returns the count."""
    records = list(iter_jsonl(generations_path, on_bad_line=on_bad_line, check=_check_generation))
    spellers: dict[str, tuple[Speller | None, str | None]] = {}
    scores = []
    for rec in records:
        lang = rec["lang"]
        if lang not in spellers:
            spellers[lang] = speller_for(lang, languages, params)
        speller, reason = spellers[lang]
        result = {"value": None, "error": reason} if speller is None else spellcheck_text(rec["response"], speller)
        scores.append({"id": rec["id"], "lang": lang, "metric": metric, **result})
    _log_summary(scores, generations_path)
    return write_jsonl(output_path, scores)


def _check_generation(record: dict) -> None:
    for key in ("id", "lang", "response"):
        if key not in record:
            raise ValueError(f"generation record has no {key!r}")
    if not isinstance(record["response"], str):
        raise ValueError(f"generation {record['id']!r}: 'response' is not a string")


def _log_summary(scores: Iterable[dict], source: str | Path) -> None:
    scores = list(scores)
    values = [s["value"] for s in scores if s["value"] is not None]
    errors = Counter(s["error"] for s in scores if s.get("error"))
    log.info("%s: %d scores, mean %.3f over %d with a value; errors: %s", source, len(scores),
             sum(values) / len(values) if values else float("nan"), len(values), dict(errors) or "none")
