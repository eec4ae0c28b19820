"""``results/tables/distill.csv``: one row per distilled (source, lang) — answers kept, flagged per reason, dropped,
tokens, and cost at the config's prices (``judges.<name>.price_per_1k_*``, of every answer used: cached
ones included, ``cached_answers`` says how many this run did not pay again)."""

from __future__ import annotations

import csv
from pathlib import Path

from ..io import atomic_open, read_rule_json

COLUMNS = ["source", "lang", "judge", "model", "items", "kept", "dropped", "empty", "truncated", "wrong_language",
           "uncertain_language", "failed_calls", "new_answers", "cached_answers", "prompt_tokens",
           "completion_tokens", "cost_usd"]
_KEYS = ("source", "lang", "judge", "model", "items", "kept", "dropped", "flags", "uncertain_language",
         "failed_calls", "new_answers", "cached_answers", "prompt_tokens", "completion_tokens")


def distill_rows(report_paths: list[str | Path], prices: dict[str, dict]) -> list[dict]:
    rows = []
    for path in report_paths:
        report = read_rule_json(path, "distill_responses", "distillation report", _KEYS)
        price = prices[report["judge"]]
        rows.append({**{key: report[key] for key in COLUMNS if key in report}, **report["flags"],
                     "cost_usd": round((report["prompt_tokens"] * price["price_per_1k_input"]
                                        + report["completion_tokens"] * price["price_per_1k_output"]) / 1000, 6)})
    return sorted(rows, key=lambda row: (row["source"], row["lang"]))


def write_distill_table(report_paths: list[str | Path], prices: dict[str, dict], output: str | Path) -> int:
    rows = distill_rows(report_paths, prices)
    with atomic_open(output) as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
