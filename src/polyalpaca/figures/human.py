"""The zero-shot study's human evaluation and task breakdown: Figure 5 (agreement between the criteria
judge and human ratings) and Figure 2, right (helpfulness per task category).

Human annotations are a user-supplied JSON Lines file (``figures.plots.<name>.human_annotations``), one
rated response per line::

    {"id": "alpacafarm_eval-0012", "lang": "fr", "run": "llama2-13b/dolly-en/zs-full-lr1e-5",
     "criteria": {"helpfulness": 2, "fluency": 1, ...}}

``id`` is the test prompt's id, ``lang`` its language, ``run`` the rated model/trainset/tuning, and
``criteria`` maps criterion names (helpfulness, language_correctness, fluency, factual_accuracy,
logical_coherence, harmlessness; any of them) to ratings on the paper's 0-2 scale ("out of 2"). A line
with a missing field, an unknown run, language or criterion, or a rating outside 0-2 stops the figure
with ``path:line: reason``. The judge's ratings (1-3 as asked) are compared after shifting them to 0-2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..config import study_runs
from ..errors import DataError
from ..io import iter_jsonl
from .plotting import FigureResult, Settings, figure_legend, grid, wrap_grid
from .scores import CRITERIA
from .specs import PlotSpec, ScoreInput

AGREEMENT = ("equal", "1 apart", "2 apart")


def read_human_annotations(path: str | Path, config: dict, study: str, on_bad_line: str = "fail") -> pd.DataFrame:
    """One row per (annotation, criterion): id, lang, run, criterion, human (0-2)."""
    runs = {run.id: run for run in study_runs(config, study)}
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: human annotation file not found (figures.plots.*.human_annotations)")

    def check(record: dict) -> None:
        for name in ("id", "lang", "run", "criteria"):
            if name not in record:
                raise ValueError(f"missing field {name!r}")
        if record["run"] not in runs:
            raise ValueError(f"unknown run {record['run']!r} (not a run of study {study!r})")
        if record["lang"] not in runs[record["run"]].languages:
            raise ValueError(f"unknown language {record['lang']!r} for run {record['run']} "
                             f"(tested in: {', '.join(runs[record['run']].languages)})")
        if not isinstance(record["criteria"], dict) or not record["criteria"]:
            raise ValueError("'criteria' must be a non-empty object of criterion -> rating 0-2")
        for name, value in record["criteria"].items():
            if name not in CRITERIA:
                raise ValueError(f"unknown criterion {name!r} (criteria: {', '.join(CRITERIA)})")
            if isinstance(value, bool) or value not in (0, 1, 2):
                raise ValueError(f"criteria.{name}: {value!r} is not a rating 0, 1 or 2")

    rows = []
    for record in iter_jsonl(path, on_bad_line=on_bad_line, check=check):
        for name, value in record["criteria"].items():
            rows.append({"id": str(record["id"]), "lang": record["lang"], "run": record["run"], "criterion": name,
                         "human": float(value)})
    if not rows:
        raise DataError(f"{path}: no human annotations")
    return pd.DataFrame(rows)


def judge_ratings(inputs: list[ScoreInput]) -> pd.DataFrame:
    """One row per (judged prompt, criterion) of criteria score files: id, lang, run, criterion, judge (0-2)."""
    rows = []
    for inp in inputs:
        for record in iter_jsonl(inp.path, on_bad_line="skip"):
            criteria = record.get("criteria")
            if not isinstance(criteria, dict) or record.get("not_selected"):
                continue
            for name, value in criteria.items():
                if value is not None:
                    rows.append({"id": str(record["id"]), "lang": inp.lang, "run": inp.run_id, "criterion": name,
                                 "judge": float(value) - 1.0})
    return pd.DataFrame(rows, columns=["id", "lang", "run", "criterion", "judge"])


def agreement(human: pd.DataFrame, judge: pd.DataFrame) -> pd.DataFrame:
    """Per criterion: pairs, share equal / 1 apart / 2 apart, mean human - judge, and unmatched annotations."""
    pairs = human.merge(judge, on=["id", "lang", "run", "criterion"], how="left")
    rows = []
    for criterion in [c for c in CRITERIA if c in set(pairs["criterion"])]:
        sub = pairs[pairs["criterion"] == criterion]
        matched = sub.dropna(subset=["judge"])
        gap = (matched["human"] - matched["judge"]).abs()
        n = len(matched)
        row = {"criterion": criterion, "pairs": n, "unmatched": len(sub) - n,
               "mean_human_minus_judge": float((matched["human"] - matched["judge"]).mean()) if n else np.nan}
        for k, label in enumerate(AGREEMENT):
            row[label] = float((gap == k).mean()) if n else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def judge_agreement(config: dict, spec: PlotSpec, human: pd.DataFrame, judge: pd.DataFrame,
                    settings: Settings) -> FigureResult:
    """Figure 5: per criterion, the share of human-rated responses where the judge gives the same rating,
    one apart or two apart (both on 0-2)."""
    data = agreement(human, judge)
    if not data["pairs"].sum():
        raise DataError(f"{spec.where}: no human annotation matches a judged response (ids, languages and runs "
                        "must be those of the criteria judge's score records)")
    fig, axes = grid(1, 1, panel_w=max(4.0, 0.9 * len(data)), panel_h=3.0)
    ax = axes[0, 0]
    xs = np.arange(len(data))
    bottom = np.zeros(len(data))
    for label, color in zip(AGREEMENT, ("#4c9a2a", "#e0b000", "#c0392b")):
        values = np.nan_to_num(data[label].to_numpy(float))
        ax.bar(xs, values, bottom=bottom, color=color, label=label)
        bottom += values
    ax.set_xticks(xs)
    ax.set_xticklabels([f"{c.replace('_', ' ')}\n(n={n})" for c, n in zip(data["criterion"], data["pairs"])],
                       fontsize="x-small")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of human-rated responses")
    figure_legend(fig, axes, "judge vs human rating (0-2)")
    unmatched = [f"{row.criterion}: {row.unmatched} annotations without a judge rating"
                 for row in data.itertuples() if row.unmatched]
    data.insert(0, "figure", spec.name)
    return FigureResult(fig, axes, data, [], unmatched)


def task_of(prompt_files: list[str]) -> dict[tuple[str, str], str]:
    """(id, lang) -> the prompt's task (or, without one, its category) from the test set files."""
    out = {}
    for path in prompt_files:
        for record in iter_jsonl(path):
            label = record.get("task", record.get("category"))
            if label is not None:
                out[(str(record["id"]), record["lang"])] = str(label)
    return out


def task_helpfulness(config: dict, spec: PlotSpec, judge: pd.DataFrame, tasks: dict, settings: Settings,
                     criterion: str = "helpfulness") -> FigureResult:
    """Figure 2, right: a criterion (helpfulness) per task category, English vs the other languages' mean,
    per drawn run, on 0-2."""
    rows = judge[judge["criterion"] == criterion].copy()
    rows["task"] = [tasks.get((i, lang)) for i, lang in zip(rows["id"], rows["lang"])]
    if rows["task"].isna().all():
        raise DataError(f"{spec.where}: the test prompts carry no task or category")
    rows = rows.dropna(subset=["task"])
    rows["lang_group"] = np.where(rows["lang"] == "en", "English", "non-English mean")
    data = (rows.groupby(["run", "task", "lang_group"], sort=True)["judge"].agg(["mean", "count"]).reset_index()
            .rename(columns={"mean": "value", "count": "n"}))
    runs = list(dict.fromkeys(data["run"]))
    task_names = sorted(set(data["task"]))
    fig, axes = wrap_grid(len(runs), 1, panel_w=max(4.0, 0.5 * len(task_names) + 1.5), panel_h=2.8)
    for ax, run in zip(axes.flat, runs):
        sub = data[data["run"] == run]
        xs = np.arange(len(task_names))
        for j, (group, color) in enumerate((("English", "#1f77b4"), ("non-English mean", "#ff7f0e"))):
            vals = sub[sub["lang_group"] == group].set_index("task")["value"]
            ax.bar(xs + (j - 0.5) * 0.4, [vals.get(t, np.nan) for t in task_names], width=0.4, color=color, label=group)
        ax.set_xticks(xs)
        ax.set_xticklabels(task_names, rotation=45, ha="right", fontsize="x-small")
        ax.set_ylim(0, 2)
        ax.set_title(run, fontsize="small")
        ax.set_ylabel(f"{criterion} (0-2)")
    figure_legend(fig, axes)
    data.insert(0, "figure", spec.name)
    return FigureResult(fig, axes, data, [], [])

