"""Trainset statistics: examples per language and tokens per language, field and tokenizer.

Tokens are counted over train and validation records, field by field (instruction, input, output = the
response; no prompt template, no special tokens), so the numbers show how each tokenizer treats a
language's text (Bactrian-X §3.2, Table 1). The tokenizers are the base models' of the trainset's runs
and those a study's token table names (:mod:`.tokenizers`); only tokenizers are loaded, never weights,
and tokenizers with the same files (e.g. all Pythia sizes) are counted once. Each tokenizer's vocabulary
size is ``len(tokenizer)`` (added tokens included).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..errors import DataError
from ..io import atomic_open, iter_jsonl, write_json
from .records import TEXT_FIELDS

log = logging.getLogger(__name__)

FIELDS = TEXT_FIELDS  # instruction, input, output (the response)
TOKENS_COLUMNS = ("trainset", "lang", "tokenizer", "vocab_size", "examples", *(f"{f}_tokens" for f in FIELDS),
                  "tokens")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
                   "tokenizer.model", "spiece.model", "sentencepiece.bpe.model", "added_tokens.json")
BATCH = 1000


def tokenizer_fingerprint(model_dir: str | os.PathLike) -> str:
    """A hash of a model folder's tokenizer files (equal for models that share a tokenizer)."""
    digest = hashlib.sha256()
    found = False
    for name in TOKENIZER_FILES:
        path = Path(model_dir) / name
        if path.is_file():
            found = True
            digest.update(name.encode())
            digest.update(path.read_bytes())
    if not found:  # unknown layout: do not share
        digest.update(str(Path(model_dir).resolve()).encode())
    return digest.hexdigest()[:16]


def load_tokenizer(name: str, tokenizer_dir: str | os.PathLike, key: str = "models"):
    """The tokenizer in ``tokenizer_dir`` (AutoTokenizer; weights are not loaded); errors name ``key.name``."""
    from transformers import AutoTokenizer

    tokenizer_dir = Path(tokenizer_dir)
    if not tokenizer_dir.is_dir():
        raise DataError(f"{key}.{name}: {tokenizer_dir} does not exist (built by the data stage)")
    try:
        return AutoTokenizer.from_pretrained(str(tokenizer_dir))
    except Exception as err:  # transformers raises many types for a broken folder
        raise DataError(f"{key}.{name}: cannot load a tokenizer from {tokenizer_dir} "
                        f"({type(err).__name__}: {str(err)[:300]})") from None


def config_key(tokenizer_dir: str | os.PathLike) -> str:
    """The config block a tokenizer folder comes from: ``tokenizers`` (resources/tokenizers/) or ``models``."""
    return "tokenizers" if Path(tokenizer_dir).parent.name == "tokenizers" else "models"


def count_tokens(tokenizer, texts: Sequence[str]) -> int:
    """Total tokens of ``texts`` without special tokens."""
    total = 0
    for start in range(0, len(texts), BATCH):
        batch = [t for t in texts[start:start + BATCH] if t]
        if batch:
            encoded = tokenizer(batch, add_special_tokens=False, return_attention_mask=False, verbose=False)
            total += sum(len(ids) for ids in encoded["input_ids"])
    return total


def _check_record(record: dict) -> None:
    """A trainset record has a language and the three text fields (``input`` may be empty)."""
    if not isinstance(record.get("lang"), str):
        raise ValueError(f"record {record.get('id')!r} has no 'lang'")
    for name in FIELDS:
        if not isinstance(record.get(name), str):
            raise ValueError(f"record {record.get('id')!r}: field {name!r} is "
                             f"{'missing' if name not in record else type(record[name]).__name__ + ', not text'}")


def trainset_stats(
    trainset: str,
    splits: Mapping[str, str | os.PathLike],
    tokenizers: Mapping[str, str | os.PathLike],
    out_path: str | os.PathLike,
    *,
    info: Mapping | None = None,
    languages: Iterable[str] = (),
) -> dict:
    """Write ``stats.json`` of one trainset. ``splits``: split name -> JSONL; ``tokenizers``: name -> folder.

    ``info`` (recipe, source ...) is copied in; ``languages`` gives the order of languages. ``tokens`` holds,
    per tokenizer and language, the tokens of each field and their ``total``; ``vocab_size`` each
    tokenizer's ``len()``.
    """
    examples: dict[str, Counter] = {}
    texts: dict[str, dict[str, list[str]]] = defaultdict(lambda: {name: [] for name in FIELDS})
    for split, path in splits.items():
        counts: Counter = Counter()
        for record in iter_jsonl(path, check=_check_record):
            counts[record["lang"]] += 1
            for name in FIELDS:
                texts[record["lang"]][name].append(record[name])
        examples[split] = counts
    order = [lang for lang in languages if lang in texts] + sorted(set(texts) - set(languages))
    if not order:
        raise DataError(f"trainsets.{trainset}: no examples in {', '.join(map(str, splits.values()))}")

    tokens: dict[str, dict[str, dict[str, int]]] = {}
    vocab: dict[str, int] = {}
    fingerprints: dict[str, str] = {}
    by_fingerprint: dict[str, tuple[int, dict]] = {}
    for name in sorted(tokenizers):
        fingerprint = tokenizer_fingerprint(tokenizers[name])
        fingerprints[name] = fingerprint
        if fingerprint not in by_fingerprint:
            tokenizer = load_tokenizer(name, tokenizers[name], config_key(tokenizers[name]))
            counts = {}
            for lang in order:
                per_field = {field: count_tokens(tokenizer, texts[lang][field]) for field in FIELDS}
                counts[lang] = {**per_field, "total": sum(per_field.values())}
            by_fingerprint[fingerprint] = (len(tokenizer), counts)
            log.info("%s: tokens under %s's tokenizer (vocabulary %d): %s", trainset, name, len(tokenizer),
                     ", ".join(f"{lang} {n['total']}" for lang, n in counts.items()))
        vocab[name], counts = by_fingerprint[fingerprint]
        tokens[name] = {lang: dict(per_field) for lang, per_field in counts.items()}

    stats = {
        "trainset": trainset,
        **dict(info or {}),
        "examples": {split: sum(c.values()) for split, c in examples.items()},
        "languages": {lang: {**{split: examples[split][lang] for split in examples},
                             "examples": sum(examples[split][lang] for split in examples)} for lang in order},
        "tokens": tokens,
        "vocab_size": vocab,
        "tokenizers": fingerprints,
        "token_fields": list(FIELDS),
        "token_splits": list(splits),
    }
    write_json(out_path, stats)
    return stats


def tokens_table(stats_paths: Iterable[str | os.PathLike], out_csv: str | os.PathLike) -> int:
    """One tidy CSV over trainsets (:data:`TOKENS_COLUMNS`, ``tokens`` = all fields); returns the row count."""
    rows = []
    for path in stats_paths:
        stats = read_stats(path)
        for name, per_lang in stats["tokens"].items():
            for lang, counts in per_lang.items():
                rows.append((stats["trainset"], lang, name, stats["vocab_size"][name],
                             stats["languages"][lang]["examples"], *(counts[f] for f in FIELDS), counts["total"]))
    rows.sort(key=lambda row: (row[0], row[2], row[1]))
    with atomic_open(out_csv) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TOKENS_COLUMNS)
        writer.writerows(rows)
    return len(rows)


def read_stats(path: str | os.PathLike) -> dict:
    """A stats.json written by :func:`trainset_stats` (checked: per-field counts for every tokenizer)."""
    try:
        stats = json.loads(Path(path).read_text(encoding="utf-8"))
        for name, per_lang in stats["tokens"].items():
            int(stats["vocab_size"][name])
            for lang, counts in per_lang.items():
                int(stats["languages"][lang]["examples"])
                [int(counts[f]) for f in (*FIELDS, "total")]
        str(stats["trainset"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError(f"{path}: not a trainset stats file of this version ({type(err).__name__}: {err}; "
                        f"rule trainset_stats writes it)") from None
    return stats
