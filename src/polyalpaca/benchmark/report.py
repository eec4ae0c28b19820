"""A study's benchmark table and figure from its lm_eval result files (Bactrian-X Table 3, Appendix D,
Figure 3).

``results/tables/{study}_benchmarks.csv`` is tidy: one row per (run, task, language) with the task's
configured metric (``value``), its standard error and the number of examples. The HTML page adds the
average over languages per run and task (as Table 3, with the mean over tasks) and the per-language
tables of each task (as Appendix D). The figure draws the per-task averages of every run, grouped by
task (as Figure 3). A missing or malformed result file stops the table with its path.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..config import study_runs
from ..errors import DataError
from ..io import read_rule_json
from .plan import BenchmarkJob, run_variant, split_variant, study_benchmark_jobs

log = logging.getLogger(__name__)

COLUMNS = ["study", "model", "trainset", "tuning", "run", "task", "lang", "harness_task", "metric", "value",
           "stderr", "n", "num_fewshot"]


def run_label(config: dict, model: str, variant: str) -> str:
    """``model (base)`` or ``model / trainset / tuning``: the row name of the tables and the figure."""
    trainset, tuning = split_variant(variant)
    return f"{model} (base)" if trainset is None else f"{model} / {trainset} / {tuning}"


def _read(path: str | Path, job: BenchmarkJob) -> dict:
    record = read_rule_json(path, "lm_eval_task", "benchmark result", ("task", "metric", "languages", "model"))
    if record["model"] != job.model or record["task"] != job.task:
        raise DataError(f"{path}: holds {record['model']}/{record['task']}, expected {job.model}/{job.task}")
    return record


def benchmark_table(config: dict, study: str, root: str | Path = ".") -> pd.DataFrame:
    """The tidy benchmark table of a study (runs in the study's order, base models first)."""
    rows = []
    for job in study_benchmark_jobs(config, study):
        record = _read(Path(root) / job.output, job)
        trainset, tuning = split_variant(job.variant)
        metric = record["metric"]
        for lang, scores in record["languages"].items():
            rows.append({"study": study, "model": job.model, "trainset": trainset or "", "tuning": tuning or "",
                         "run": run_label(config, job.model, job.variant), "task": job.task, "lang": lang,
                         "harness_task": scores["task"], "metric": metric, "value": scores.get(metric),
                         "stderr": scores.get(f"{metric}_stderr"), "n": scores.get("n"),
                         "num_fewshot": record["num_fewshot"]})
    table = pd.DataFrame(rows, columns=COLUMNS)
    order = _run_order(config, study)
    table["_order"] = table["run"].map({label: i for i, label in enumerate(order)})
    return table.sort_values(["_order", "task", "lang"], kind="stable").drop(columns="_order").reset_index(drop=True)


def _run_order(config: dict, study: str) -> list[str]:
    runs = study_runs(config, study)
    base = [run_label(config, m, "base") for m in dict.fromkeys(r.model for r in runs)]
    tuned = [run_label(config, r.model, run_variant(r.trainset, r.tuning)) for r in runs]
    return list(dict.fromkeys(base + tuned))


def average_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per run: the mean over languages of each task (in %), and their mean (Table 3's shape)."""
    if table.empty:
        return pd.DataFrame()
    runs = list(dict.fromkeys(table["run"]))
    wide = table.groupby(["run", "task"], sort=False)["value"].mean().mul(100).unstack("task").reindex(runs)
    wide["average"] = wide.mean(axis=1)
    wide.columns.name = None
    return wide.reset_index()


def language_tables(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Per task: runs x languages (in %) with the average (Appendix D's shape)."""
    out = []
    for task, sub in table.groupby("task", sort=False):
        runs = list(dict.fromkeys(sub["run"]))
        wide = sub.pivot_table(index="run", columns="lang", values="value", sort=False).mul(100).reindex(runs)
        wide["average"] = wide.mean(axis=1)
        wide.columns.name = None
        out.append((f"{task} ({sub['metric'].iloc[0]}, %, per language)", wide.reset_index()))
    return out


def benchmark_figure(table: pd.DataFrame, study: str):
    """Grouped bars: per task, each run's average over languages (Figure 3's shape)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid", font_scale=1.0)
    means = table.groupby(["task", "run"], sort=False)["value"].mean().mul(100).reset_index()
    tasks = list(dict.fromkeys(means["task"]))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(tasks) + 2), 3.2))
    sns.barplot(data=means, x="task", y="value", hue="run", ax=ax, order=tasks)
    ax.set_ylabel("accuracy (%), mean over languages")
    ax.set_xlabel("")
    ax.set_title(f"{study}: zero-shot benchmarks")
    ax.legend(title=None, fontsize="small", bbox_to_anchor=(1.01, 1), loc="upper left")
    return fig, means


def write_benchmark_report(config: dict, study: str, *, csv: str, html: str, pdf: str, png: str,
                           root: str | Path = ".", dpi: int = 150) -> pd.DataFrame:
    from ..figures.tables import write_csv, write_html
    from ..io import atomic_open

    table = benchmark_table(config, study, root)
    if table["value"].isna().all():
        raise DataError(f"study {study}: no benchmark result holds a value")
    write_csv(table, csv)
    spec = config["studies"][study]["benchmarks"]
    sections = [("Average over languages per task (%, as Bactrian-X Table 3)", average_table(table)),
                *language_tables(table), (f"Tidy table: {len(table)} rows", table)]
    write_html(sections, html, f"Benchmarks of study {study}",
               note=f"lm-evaluation-harness, {spec['num_fewshot']}-shot; value = the task's metric per language "
                    "(harness task in harness_task), stderr as the harness reports it, n = examples evaluated.")
    fig, _ = benchmark_figure(table, study)
    for path, fmt, kwargs in ((pdf, "pdf", {}), (png, "png", {"dpi": dpi})):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(path, "wb") as handle:
            fig.savefig(handle, format=fmt, bbox_inches="tight", **kwargs)
    import matplotlib.pyplot as plt

    plt.close(fig)
    log.info("%s: %d rows (%d runs, %d tasks)", csv, len(table), table["run"].nunique(), table["task"].nunique())
    return table
