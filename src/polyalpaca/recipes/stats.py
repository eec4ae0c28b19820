"""Trainset statistics: examples per language and tokens per language under each base model's tokenizer.

Tokens are counted over train and validation records, field by field (instruction, input, output,
no prompt template, no special tokens), so the numbers show how each tokenizer treats a language's
text (the Bactrian-X paper's point). Only tokenizers are loaded, never weights; models that share a
tokenizer (same tokenizer files, e.g. all Pythia sizes) are counted once.
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

TOKENS_COLUMNS = ("trainset", "lang", "model", "examples", "tokens")
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


def load_tokenizer(model: str, model_dir: str | os.PathLike):
    """The tokenizer of base model ``model`` (AutoTokenizer on its folder; weights are not loaded)."""
    from transformers import AutoTokenizer

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise DataError(f"models.{model}: {model_dir} does not exist (built by the data stage)")
    try:
        return AutoTokenizer.from_pretrained(str(model_dir))
    except Exception as err:  # transformers raises many types for a broken folder
        raise DataError(f"models.{model}: cannot load a tokenizer from {model_dir} "
                        f"({type(err).__name__}: {str(err)[:300]})") from None


def count_tokens(tokenizer, texts: Sequence[str]) -> int:
    """Total tokens of ``texts`` without special tokens."""
    total = 0
    for start in range(0, len(texts), BATCH):
        batch = [t for t in texts[start:start + BATCH] if t]
        if batch:
            encoded = tokenizer(batch, add_special_tokens=False, return_attention_mask=False, verbose=False)
            total += sum(len(ids) for ids in encoded["input_ids"])
    return total


def trainset_stats(
    trainset: str,
    splits: Mapping[str, str | os.PathLike],
    tokenizers: Mapping[str, str | os.PathLike],
    out_path: str | os.PathLike,
    *,
    info: Mapping | None = None,
    languages: Iterable[str] = (),
) -> dict:
    """Write ``stats.json`` of one trainset. ``splits``: split name -> JSONL; ``tokenizers``: model -> folder.

    ``info`` (recipe, label, source ...) is copied in; ``languages`` gives the order of languages.
    """
    examples: dict[str, Counter] = {}
    texts: dict[str, list[str]] = defaultdict(list)
    for split, path in splits.items():
        counts: Counter = Counter()
        for record in iter_jsonl(path):
            lang = record.get("lang")
            if not isinstance(lang, str):
                raise DataError(f"{path}: record {record.get('id')!r} has no 'lang'")
            counts[lang] += 1
            texts[lang].extend(str(record.get(name) or "") for name in TEXT_FIELDS)
        examples[split] = counts
    order = [lang for lang in languages if lang in texts] + sorted(set(texts) - set(languages))
    if not order:
        raise DataError(f"trainsets.{trainset}: no examples in {', '.join(map(str, splits.values()))}")

    tokens: dict[str, dict[str, int]] = {}
    fingerprints: dict[str, str] = {}
    by_fingerprint: dict[str, dict[str, int]] = {}
    for model in sorted(tokenizers):
        fingerprint = tokenizer_fingerprint(tokenizers[model])
        fingerprints[model] = fingerprint
        if fingerprint not in by_fingerprint:
            tokenizer = load_tokenizer(model, tokenizers[model])
            by_fingerprint[fingerprint] = {lang: count_tokens(tokenizer, texts[lang]) for lang in order}
            log.info("%s: tokens under %s's tokenizer: %s", trainset, model,
                     ", ".join(f"{lang} {n}" for lang, n in by_fingerprint[fingerprint].items()))
        tokens[model] = dict(by_fingerprint[fingerprint])

    stats = {
        "trainset": trainset,
        **dict(info or {}),
        "examples": {split: sum(c.values()) for split, c in examples.items()},
        "languages": {lang: {**{split: examples[split][lang] for split in examples},
                             "examples": sum(examples[split][lang] for split in examples)} for lang in order},
        "tokens": tokens,
        "tokenizers": fingerprints,
        "token_fields": list(TEXT_FIELDS),
        "token_splits": list(splits),
    }
    write_json(out_path, stats)
    return stats


def tokens_table(stats_paths: Iterable[str | os.PathLike], out_csv: str | os.PathLike) -> int:
    """One tidy CSV over trainsets: ``trainset, lang, model, examples, tokens``; returns the row count."""
    rows = []
    for path in stats_paths:
        try:
            stats = json.loads(Path(path).read_text(encoding="utf-8"))
            for model, per_lang in stats["tokens"].items():
                for lang, n_tokens in per_lang.items():
                    rows.append((stats["trainset"], lang, model, stats["languages"][lang]["examples"], n_tokens))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise DataError(f"{path}: not a trainset stats file ({type(err).__name__}: {err})") from None
    rows.sort(key=lambda row: (row[0], row[2], row[1]))
    with atomic_open(out_csv) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TOKENS_COLUMNS)
        writer.writerows(rows)
    return len(rows)
