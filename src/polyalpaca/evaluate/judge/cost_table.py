"""``results/tables/judge_cost.csv``: tokens and cost per metric and run, from the usage in the score records.

Cost is computed at the prices in the config (``judges.<name>.price_per_1k_input/output``) from the
token counts the endpoint reported for every answer a score used (cached answers included: the table
says what the scores cost, ``cached_answers`` says how much of it this run did not pay again).
"""

from __future__ import annotations

import csv
from pathlib import Path

from ...errors import DataError
from ...io import atomic_open, iter_jsonl

COLUMNS = ["metric", "judge", "judge_model", "model", "trainset", "tuning", "opponent", "testset", "lang", "items",
           "errors", "answers", "cached_answers", "prompt_tokens", "completion_tokens", "cost_usd"]


def _path_fields(path: Path) -> dict[str, str]:
    """A run's score path .../{metric}/{model}/{trainset}/{tuning}/{testset}/{lang}.jsonl, or a pair's
    .../{metric}/{model}/{trainset}/{tuning}/vs/{model_b}/{trainset_b}/{tuning_b}/{testset}/{lang}.jsonl
    (``opponent`` the pair's second run)."""
    parts = path.with_suffix("").parts
    if len(parts) >= 10 and parts[-6] == "vs":
        return dict(zip(("metric", "model", "trainset", "tuning"), parts[-10:-6]), opponent="/".join(parts[-5:-2]),
                    testset=parts[-2], lang=parts[-1])
    if len(parts) < 6:
        raise DataError(f"{path}: not a score path .../{{metric}}/{{model}}/{{trainset}}/{{tuning}}/{{testset}}/{{lang}}.jsonl")
    return dict(zip(("metric", "model", "trainset", "tuning", "testset", "lang"), parts[-6:]), opponent="")


def cost_rows(score_paths: list[str | Path], prices: dict[str, dict]) -> list[dict]:
    """One row per score file; ``prices``: judge -> {price_per_1k_input, price_per_1k_output}."""
    rows = []
    for path in map(Path, score_paths):
        row = dict(_path_fields(path), judge="", judge_model="", items=0, errors=0, answers=0, cached_answers=0,
                   prompt_tokens=0, completion_tokens=0)
        for record in iter_jsonl(path):
            row["items"] += 1
            row["errors"] += "error" in record
            row["judge"] = record.get("judge") or row["judge"]
            row["judge_model"] = record.get("judge_model") or row["judge_model"]
            usage = record.get("usage") or {}
            row["answers"] += usage.get("answers", 0)
            row["cached_answers"] += usage.get("cached", 0)
            row["prompt_tokens"] += usage.get("prompt_tokens", 0)
            row["completion_tokens"] += usage.get("completion_tokens", 0)
        if row["judge"] and row["judge"] not in prices:
            raise DataError(f"{path}: judge {row['judge']!r} is not defined in judges")
        price = prices.get(row["judge"], {})
        row["cost_usd"] = round((row["prompt_tokens"] * price.get("price_per_1k_input", 0.0)
                                 + row["completion_tokens"] * price.get("price_per_1k_output", 0.0)) / 1000, 6)
        rows.append(row)
    return rows


def write_cost_table(score_paths: list[str | Path], prices: dict[str, dict], output: str | Path) -> int:
    rows = cost_rows(score_paths, prices)
    with atomic_open(output) as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
