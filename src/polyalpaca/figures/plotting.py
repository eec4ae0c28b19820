"""Shared figure machinery: per-(run, language, metric) units, grouped estimates with CIs, line panels,
the note listing missing runs, and saving (PDF, PNG, plotted data as CSV).

A *unit* is one score file's prompts for one (sub-)metric. A figure groups units (e.g. all test
languages of a run for an average); a group's value is the mean over its units of each unit's
aggregate, and its CI a bootstrap that resamples prompts within each unit. A unit without any value
is never dropped silently: it is listed in the figure's note and in the data CSV (``missing``).
"""

from __future__ import annotations

import logging
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..io import atomic_open  # noqa: E402
from .bootstrap import bootstrap_strata  # noqa: E402
from .scores import KEY_COLUMNS, aggregation, submetrics  # noqa: E402
from .specs import ScoreInput  # noqa: E402
from .tables import run_attributes, write_csv  # noqa: E402

log = logging.getLogger(__name__)

LINESTYLES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
METRIC_LABELS = {
    "lid": "language correctness", "spellcheck": "spelling correctness", "relevance": "relevance",
    "judge_single": "judge score", "judge_criteria": "criteria score", "judge_pairwise": "pairwise score",
}


@dataclass
class FigureResult:
    """What a figure function returns: the matplotlib figure, its axes grid and the plotted data."""

    figure: plt.Figure
    axes: np.ndarray
    data: pd.DataFrame
    missing: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Settings:
    """The bootstrap and rendering settings of the figures (validated config values; defaults in the schema)."""

    seed: int
    n_resamples: int
    confidence: float
    dpi: int

    @classmethod
    def from_config(cls, config: dict) -> "Settings":
        fig = config["figures"]
        return cls(seed=config["seed"], n_resamples=fig["bootstrap_samples"], confidence=fig["confidence"],
                   dpi=fig["png_dpi"])


def theme() -> None:
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.0)


def label_palette(config: dict, labels=None) -> dict[str, tuple]:
    """One colour per recipe label; ``labels`` (those a figure draws) get the first colours, in config order."""
    order = list(dict.fromkeys(ts.get("label", name) for name, ts in config["trainsets"].items()))
    if labels is not None:
        wanted = set(labels)
        order = [lab for lab in order if lab in wanted] + sorted(wanted - set(order))
    colors = sns.color_palette("colorblind", max(len(order), 3))
    return {label: colors[i % len(colors)] for i, label in enumerate(order)}


def unit_frame(config: dict, prompts: pd.DataFrame, inputs: list[ScoreInput]) -> pd.DataFrame:
    """One row per (input, sub-metric): keys, run attributes, the prompt values (array), n, n_errors."""
    groups = {key: sub for key, sub in prompts.groupby(KEY_COLUMNS, sort=False)}
    rows = []
    for inp in inputs:
        attrs = run_attributes(config, inp.model, inp.trainset, inp.tuning)
        for metric in submetrics(inp.metric, inp.kind):
            key = (inp.model, inp.trainset, inp.tuning, inp.testset, inp.lang, metric)
            sub = groups.get(key)
            values = sub["value"].dropna().to_numpy() if sub is not None else np.array([])
            rows.append({**dict(zip(KEY_COLUMNS, key)), "kind": inp.kind, "base_metric": inp.metric,
                         "aggregate": aggregation(inp.kind), **attrs, "values": values, "n": len(values),
                         "n_errors": int(sub["error"].sum()) if sub is not None else 0, "run": inp.run_id})
    return pd.DataFrame(rows)


def describe_unit(row) -> str:
    return f"{row.run} {row.lang} {row.metric}"


def estimate_groups(units: pd.DataFrame, by: list[str], settings: Settings, key_prefix: str) -> pd.DataFrame:
    """Group units by ``by``; value = mean over units of each unit's aggregate, with a stratified bootstrap CI.

    A group of one unit gets exactly the value and CI of the study table's row.
    """
    rows = []
    for keys, group in units.groupby(by, sort=False, dropna=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        present = group[group["n"] > 0]
        aggregates = set(group["aggregate"])
        if len(aggregates) != 1:
            raise ValueError(f"cannot combine sum- and mean-aggregated metrics in one group: {keys}")
        if len(group) == 1:
            only = group.iloc[0]
            key = "/".join(str(only[c]) for c in KEY_COLUMNS)
        else:
            key = key_prefix + "/" + "/".join(map(str, keys))
        est = bootstrap_strata(list(present["values"]), aggregates.pop(), seed=settings.seed, key=key,
                               n_resamples=settings.n_resamples, confidence=settings.confidence)
        missing = [describe_unit(r) for r in group[group["n"] == 0].itertuples()]
        status = "ok" if not missing else ("missing" if present.empty else "partial")
        if status == "ok" and group["n_errors"].sum():
            status = "incomplete"
        rows.append({**dict(zip(by, keys)), "value": est.value, "ci_low": est.ci_low, "ci_high": est.ci_high,
                     "units": len(group), "units_missing": len(missing), "n": int(group["n"].sum()),
                     "n_errors": int(group["n_errors"].sum()), "status": status, "missing": "; ".join(missing)})
    return pd.DataFrame(rows)


def missing_lists(units: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(runs without any value, per run and metric with their languages; score files with unscored prompts)."""
    missing = []
    empty = units[units["n"] == 0]
    for (run, metric), group in empty.groupby(["run", "metric"], sort=False):
        errors = int(group["n_errors"].sum())
        why = f"{errors} errors" if errors else "no records"
        missing.append(f"{run} {metric} [{' '.join(group['lang'])}] ({why})")
    incomplete = [f"{describe_unit(r)}: {r.n_errors} of {r.n + r.n_errors}"
                  for r in units[(units["n"] > 0) & (units["n_errors"] > 0)].itertuples()]
    return missing, incomplete


def grid(n_rows: int, n_cols: int, *, panel_w: float = 3.2, panel_h: float = 2.6, sharey: bool = True,
         sharex: bool = False):
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(panel_w * n_cols + 1.8, panel_h * n_rows + 0.8),
                             squeeze=False, sharey=sharey, sharex=sharex)
    return fig, axes


def wrap_grid(n_panels: int, columns: int, **kwargs):
    """A grid of ``n_panels`` panels, ``columns`` per row; unused axes are hidden."""
    cols = max(1, min(columns, n_panels))
    rows = -(-n_panels // cols)
    fig, axes = grid(rows, cols, **kwargs)
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    return fig, axes


def draw_series(ax, data: pd.DataFrame, x: str, *, color, linestyle="-", marker="o", label=None, band=True,
                xs=None) -> None:
    """One line with CI error bars (and a band when it has several points); a missing point breaks the line.

    ``xs`` overrides the x positions (e.g. dodged), in the order of ``data`` sorted by ``x``.
    """
    data = data.sort_values(x)
    if data["value"].notna().sum() == 0:
        return
    xs = data[x].to_numpy(float) if xs is None else np.asarray(xs, float)
    ys = data["value"].to_numpy(float)
    lo, hi = data["ci_low"].to_numpy(float), data["ci_high"].to_numpy(float)
    err = np.clip(np.nan_to_num(np.vstack([ys - lo, hi - ys])), 0, None)
    ax.errorbar(xs, ys, yerr=err, color=color, linestyle=linestyle, marker=marker, markersize=4, capsize=2,
                linewidth=1.3, elinewidth=0.8, label=label)
    if band and np.isfinite(ys).sum() > 1:
        ax.fill_between(xs, lo, hi, color=color, alpha=0.12, linewidth=0)


def style_maps(values_style, values_marker) -> tuple[dict, dict]:
    styles = {v: LINESTYLES[i % len(LINESTYLES)] for i, v in enumerate(dict.fromkeys(values_style))}
    markers = {v: MARKERS[i % len(MARKERS)] for i, v in enumerate(dict.fromkeys(values_marker))}
    return styles, markers


def figure_legend(fig, axes, title: str | None = None) -> None:
    """One legend for the whole figure, from the labelled artists of all panels (first occurrence)."""
    handles, labels = {}, []
    for ax in np.ravel(axes):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in handles and not lab.startswith("_"):
                handles[lab] = h
                labels.append(lab)
    if handles:
        fig.legend([handles[lab] for lab in labels], labels, loc="center left", bbox_to_anchor=(1.0, 0.5),
                   title=title, frameon=False, fontsize="small")


def add_note(fig, missing: list[str], incomplete: list[str], max_items: int = 12) -> None:
    """List runs without scores (not drawn) under the panels, and summarize runs with unscored prompts."""
    parts = []
    if missing:
        shown = "; ".join(missing[:max_items]) + (f"; ... and {len(missing) - max_items} more" if len(missing) > max_items else "")
        parts.append(f"Missing, not drawn (run, metric [languages] without any value): {shown}")
    if incomplete:
        if len(incomplete) <= 6:
            parts.append("Incomplete (prompts without a value): " + "; ".join(incomplete))
        else:
            parts.append(f"Incomplete: {len(incomplete)} score files have prompts without a value "
                         f"(n_errors in the figure data CSV).")
    if not parts:
        return
    text = "\n".join(textwrap.fill(p, width=int(fig.get_figwidth() * 16)) for p in parts)
    fig.text(0.01, 0.0, text, ha="left", va="top", fontsize=6, color="#a00000", wrap=False)


def finish(result: FigureResult, title: str) -> FigureResult:
    fig = result.figure
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    add_note(fig, result.missing, result.incomplete)
    return result


def save(result: FigureResult, pdf: str, png: str, data_csv: str, dpi: int = 150) -> None:
    """Write the PDF and PNG (atomically) and the plotted data."""
    for path, fmt, kwargs in ((pdf, "pdf", {}), (png, "png", {"dpi": dpi})):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(path, "wb") as handle:
            result.figure.savefig(handle, format=fmt, bbox_inches="tight", **kwargs)
    write_csv(result.data, data_csv)
    plt.close(result.figure)
