"""Build one trainset (train and validation files) by its recipe.

- ``mono``: one language of the source (English or a translation), in source order.
- ``multi``: every language of the source combined and shuffled.
- ``multi_downsampled``: the multilingual set randomly downsampled to a budget: the train and
  validation sizes of the ``budget_of`` trainset (exactly equal budgets), or ``size`` examples.
- ``uniform``: every language of every source id in one shuffled pool, like ``multi`` (Dolly-DT: "The
  resulting four-language data is then sampled uniformly for mini-batch creation"): the trainer's sampler
  draws mini-batches from a uniform shuffle of the pool (see :class:`polyalpaca.train.data.LengthGroupedBatchSampler`),
  so every language is drawn with the same probability as long as the translations keep every id.

All recipes draw from the source's aligned pool (see :mod:`.align`). The validation split holds out
source ids, chosen by the seed per source: a record and its translations are always on the same side,
and every trainset of a source (with the same ``val_fraction``) holds out the same ids.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass
from typing import Mapping

from ..errors import DataError
from ..io import iter_jsonl, write_jsonl
from .align import read_pool
from .settings import ENGLISH, TrainsetSpec
from .records import load_english, load_translation, seeded_order, trainset_record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    """How many train and validation examples a downsampled set must have, and which key said so."""

    train: int
    val: int
    origin: str


def budget_from_trainset(spec: TrainsetSpec, train_path: str | os.PathLike, val_path: str | os.PathLike) -> Budget:
    """The budget of ``spec`` = the sizes of its ``budget_of`` trainset's built files."""
    counts = [sum(1 for _ in iter_jsonl(path)) for path in (train_path, val_path)]
    return Budget(counts[0], counts[1], f"trainsets.{spec.name}.budget_of ({spec.budget_of!r})")


def budget_from_size(spec: TrainsetSpec) -> Budget:
    """``size`` examples in all, ``val_fraction`` of them (at least one) for validation."""
    n_val = max(1, round(spec.size * spec.val_fraction))
    return Budget(spec.size - n_val, n_val, f"trainsets.{spec.name}.size ({spec.size})")


def split_ids(pool: list[str], spec: TrainsetSpec) -> tuple[list[str], list[str]]:
    """(train ids, validation ids) in pool order; the held-out ids depend on seed, source and val_fraction."""
    if len(pool) < 2:
        raise DataError(f"{spec.where}: the aligned pool of source {spec.source!r} has {len(pool)} record(s); "
                        f"need at least 2 to hold out a validation split")
    n_val = min(len(pool) - 1, max(1, round(len(pool) * spec.val_fraction)))
    held_out = set(seeded_order(pool, spec.seed, f"val:{spec.source}")[:n_val])
    return [i for i in pool if i not in held_out], [i for i in pool if i in held_out]


def build_trainset(
    spec: TrainsetSpec,
    english: str | os.PathLike,
    translations: Mapping[str, str | os.PathLike],
    pool_path: str | os.PathLike,
    train_out: str | os.PathLike,
    val_out: str | os.PathLike,
    *,
    budget: Budget | None = None,
    on_bad_line: str = "fail",
) -> dict:
    """Build ``spec`` and write its train/val files; return a summary (sizes per split and language)."""
    for lang in spec.translated_languages:
        if lang not in translations:
            raise DataError(f"{spec.key(lang)}: no translation of source {spec.source!r} into {lang!r} was given "
                            f"to {spec.where}")
    english_records = load_english(english, spec.source, on_bad_line=on_bad_line)
    pool = read_pool(pool_path, spec)
    stale = [i for i in pool if i not in english_records]
    if stale:
        raise DataError(f"{spec.where}: the aligned pool {pool_path} names ids missing from {english} "
                        f"(e.g. {stale[0]!r}); it is out of date, rebuild it")
    by_lang: dict[str, dict[str, dict]] = {}
    for lang in spec.languages:
        if lang == ENGLISH:
            by_lang[lang] = english_records
            continue
        by_lang[lang] = load_translation(translations[lang], lang, english_records, key=spec.key(lang),
                                         on_bad_line=on_bad_line)
        short = [i for i in pool if i not in by_lang[lang]]
        if short:
            raise DataError(f"{spec.key(lang)}: equal budget broken in {spec.where}: {translations[lang]} lacks "
                            f"{len(short)} of the {len(pool)} aligned records of {spec.source!r} "
                            f"(e.g. {short[0]!r}); the aligned pool {pool_path} is out of date, rebuild it")

    train_ids, val_ids = split_ids(pool, spec)
    if spec.recipe == "mono":
        (lang,) = spec.languages
        train_pairs, val_pairs = [(lang, i) for i in train_ids], [(lang, i) for i in val_ids]
    else:  # multi, multi_downsampled, uniform
        train_pairs = _shuffled([(lang, i) for i in train_ids for lang in spec.languages], spec)
        val_pairs = _shuffled([(lang, i) for i in val_ids for lang in spec.languages], spec)
        if spec.recipe == "multi_downsampled":
            if budget is None:
                raise ValueError(f"{spec.where}: a multi_downsampled trainset needs a budget")
            train_pairs = _downsample(train_pairs, budget.train, "training", budget, spec)
            val_pairs = _downsample(val_pairs, budget.val, "validation", budget, spec)

    def records(pairs):
        return (trainset_record(by_lang[lang][i], lang=lang, source=spec.source, source_id=i) for lang, i in pairs)

    n_train = write_jsonl(train_out, records(train_pairs))
    n_val = write_jsonl(val_out, records(val_pairs))
    _check_budget(spec, n_train, n_val, len(train_ids), len(val_ids), budget)
    summary = {"trainset": spec.name, "recipe": spec.recipe, "source": spec.source, "pool": len(pool),
               "train": n_train, "val": n_val, "languages": {}}
    train_langs, val_langs = Counter(lang for lang, _ in train_pairs), Counter(lang for lang, _ in val_pairs)
    for lang in spec.languages:
        summary["languages"][lang] = {"train": train_langs[lang], "val": val_langs[lang]}
    log.info("%s: %d train, %d validation examples (%s)", spec.where, n_train, n_val,
             ", ".join(f"{lang} {c['train']}+{c['val']}" for lang, c in summary["languages"].items()))
    return summary


def _shuffled(pairs: list[tuple[str, str]], spec: TrainsetSpec) -> list[tuple[str, str]]:
    return seeded_order(pairs, spec.seed, f"order:{spec.name}", key=lambda pair: pair)


def _downsample(pairs: list[tuple[str, str]], n: int, split: str, budget: Budget,
                spec: TrainsetSpec) -> list[tuple[str, str]]:
    if n > len(pairs):
        raise DataError(f"{budget.origin}: {spec.where} needs {n} {split} examples but only {len(pairs)} exist "
                        f"in {len(spec.languages)} languages of the aligned pool of {spec.source!r}")
    if n < 1:
        raise DataError(f"{budget.origin}: a budget of {n} {split} examples is empty")
    chosen = set(seeded_order(pairs, spec.seed, f"sample:{spec.name}:{split}", key=lambda pair: pair)[:n])
    return [pair for pair in pairs if pair in chosen]  # keep the shuffled order


def _check_budget(spec: TrainsetSpec, n_train: int, n_val: int, train_ids: int, val_ids: int,
                  budget: Budget | None) -> None:
    """The equal-budget assertion: mono sets have one example per pooled id, multi/uniform one per id and
    language; downsampled = budget."""
    if spec.recipe == "mono":
        expected = (train_ids, val_ids)
    elif spec.recipe in ("multi", "uniform"):
        expected = (train_ids * len(spec.languages), val_ids * len(spec.languages))
    else:
        expected = (budget.train, budget.val)
    if (n_train, n_val) != expected:  # a bug, not a user error
        raise AssertionError(f"{spec.where}: wrote {n_train}+{n_val} examples, expected {expected[0]}+{expected[1]}")
