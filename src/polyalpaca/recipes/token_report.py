"""A study's token statistics table (Bactrian-X Table 1) from its trainset's stats.json.

Per tokenizer: the vocabulary size (``len(tokenizer)``), and the average tokens per example of each
field — instruction, input, response (the ``output`` field) and their total — over the languages the
tokenizer has seen in pre-training (``seen``) and those it has not (``unseen``), or over all languages
(``all``) for a tokenizer trained on every language (mBART-50). A group's value is the mean over its
languages of each language's average per example, so every language weighs the same whatever its
number of examples. ``results/tables/{study}_tokens.csv`` holds those rows; the HTML page adds the
per-language averages.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

import pandas as pd

from ..errors import DataError
from .stats import FIELDS, read_stats

log = logging.getLogger(__name__)

FIELD_COLUMNS = {"instruction": "instruction_tokens", "input": "input_tokens", "output": "response_tokens",
                 "total": "total_tokens"}
TABLE_COLUMNS = ["study", "trainset", "tokenizer", "label", "vocab_size", "lang", "n_languages", "languages",
                 *FIELD_COLUMNS.values()]
LANGUAGE_COLUMNS = ["tokenizer", "label", "lang", "seen", "examples", *FIELD_COLUMNS.values()]


def token_stats_path(study: str, ext: str = "csv") -> str:
    return f"results/tables/{study}_tokens.{ext}"


def per_language(stats: Mapping, tokenizers: Mapping[str, Mapping], source: str = "stats.json") -> pd.DataFrame:
    """Average tokens per example of each field, per (tokenizer, language); ``seen`` as the config says."""
    rows = []
    for name, spec in tokenizers.items():
        if name not in stats["tokens"]:
            raise DataError(f"{source}: no token counts for tokenizer {name!r} (has "
                            f"{', '.join(stats['tokens']) or 'none'}); rerun rule trainset_stats")
        for lang, counts in stats["tokens"][name].items():
            examples = stats["languages"][lang]["examples"]
            if examples <= 0:
                raise DataError(f"{source}: language {lang!r} has no examples")
            rows.append({"tokenizer": name, "label": spec["label"], "lang": lang,
                         "seen": spec["seen"] == "all" or lang in spec["seen"], "examples": examples,
                         **{column: counts[field] / examples for field, column in FIELD_COLUMNS.items()}})
    return pd.DataFrame(rows, columns=LANGUAGE_COLUMNS)


def token_stats_table(stats: Mapping, tokenizers: Mapping[str, Mapping], study: str,
                      source: str = "stats.json") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 1's rows (one per tokenizer and language group) and the per-language averages behind them."""
    langs = per_language(stats, tokenizers, source)
    rows = []
    for name, spec in tokenizers.items():
        mine = langs[langs["tokenizer"] == name]
        groups = [("all", mine)] if spec["seen"] == "all" else [("seen", mine[mine["seen"]]),
                                                               ("unseen", mine[~mine["seen"]])]
        for group, part in groups:
            rows.append({"study": study, "trainset": stats["trainset"], "tokenizer": name, "label": spec["label"],
                         "vocab_size": stats["vocab_size"][name], "lang": group, "n_languages": len(part),
                         "languages": " ".join(part["lang"]),
                         **{column: part[column].mean() if len(part) else float("nan")
                            for column in FIELD_COLUMNS.values()}})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS), langs


def write_token_stats_report(stats_path: str | Path, tokenizers: Mapping[str, Mapping], study: str, *,
                             csv: str | Path, html: str | Path) -> pd.DataFrame:
    """Write the study's token table (CSV) and its page (HTML: Table 1 and the per-language averages)."""
    from ..figures.tables import write_csv, write_html

    stats = read_stats(stats_path)
    table, langs = token_stats_table(stats, tokenizers, study, str(stats_path))
    write_csv(table, csv)
    empty = [f"{r.label}: no {r.lang} language in trainset {r.trainset}" for r in table.itertuples()
             if r.n_languages == 0]
    fields = ", ".join(FIELDS)
    write_html([(f"Average tokens per example (as Bactrian-X Table 1), trainset {stats['trainset']}",
                 table.drop(columns=["study", "trainset"])),
                (f"Per language ({langs['lang'].nunique()} languages)", langs)],
               html, f"Token statistics of study {study}", warnings=empty,
               note=f"Fields {fields} (response = output) of the train and validation records, tokenized without "
                    "special tokens or prompt template. A group's value is the mean over its languages of the "
                    "average per example; seen = in the pre-training languages of the tokenizer (a model's "
                    "family's pretraining_languages).")
    log.info("%s: %d rows (%s)", csv, len(table), ", ".join(f"{r.tokenizer} {r.lang} {r.total_tokens:.2f}"
                                                            for r in table.itertuples()))
    return table
