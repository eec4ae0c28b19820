"""Figure kinds of Chen et al. (2024): judge score against model size, the LID-check gap, 7B families.

- ``size_curves`` (figures 2-5): one panel per test language (and per method when the spec has
  several), score against size in billions on a log axis, one line per recipe label.
- ``lid_gap`` (figure 6): the score lost to the language-identification check (sum of ratings minus
  sum of LID-checked scores), averaged over test languages, per method and base-model family.
- ``family_bars`` (figure 7): one panel per test language, one bar group per model (family), one bar
  per recipe label.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .plotting import (MARKERS, METRIC_LABELS, FigureResult, Settings, draw_series, estimate_groups, figure_legend, grid,
                       label_palette, missing_lists, wrap_grid)
from .specs import PlotSpec


def _lang_title(config: dict, lang: str) -> str:
    return f"{config['languages'][lang]['name']} ({lang})"


def _ylabel(units: pd.DataFrame) -> str:
    kind, agg = units["kind"].iloc[0], units["aggregate"].iloc[0]
    what = "sum" if agg == "sum" else "mean"
    return f"{METRIC_LABELS.get(kind, kind)} ({what} over prompts)"


def _score_ceiling(units: pd.DataFrame) -> float | None:
    """The highest possible summed judge score (3 per prompt), for a 0-150 axis like the paper's."""
    if units["aggregate"].iloc[0] != "sum":
        return None
    prompts = int((units["n"] + units["n_errors"]).max())
    return 3.0 * prompts if prompts else None


NICE_SIZE_TICKS = (0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300)


def _size_axis(ax, sizes) -> None:
    """Log x axis over the model sizes, with round tick values."""
    lo, hi = min(sizes) / 1.5, max(sizes) * 1.5
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ticks = [t for t in NICE_SIZE_TICKS if lo <= t <= hi]
    if len(ticks) < 2:
        ticks = sorted(set(float(s) for s in sizes))
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}" for t in ticks], fontsize="small")
    ax.minorticks_off()


def _dodge(config: dict, models) -> dict[str, tuple[float, str | None]]:
    """model -> (x factor, marker): models of the same size are shifted apart and told apart by markers."""
    by_size: dict[float, list[str]] = {}
    for model in sorted(set(models)):
        by_size.setdefault(float(config["models"][model]["params_b"]), []).append(model)
    out = {}
    for group in by_size.values():
        k = len(group)
        for i, model in enumerate(group):
            out[model] = (1.0, None) if k == 1 else (1.0 + 0.07 * (i - (k - 1) / 2), MARKERS[1 + i % (len(MARKERS) - 1)])
    return out


def _size_series(ax, sub: pd.DataFrame, color, label: str, dodge: dict, band: bool = True) -> None:
    """One recipe's line over sizes; same-size models are dodged and marked (marker legend added)."""
    sub = sub.sort_values(["params_b", "model"])
    xs = [p * dodge[m][0] for p, m in zip(sub["params_b"], sub["model"])]
    marked = [m for m in sub["model"] if dodge[m][1]]
    draw_series(ax, sub, "params_b", color=color, label=label, band=band and not marked, xs=xs,
                marker="o" if not marked else "")
    for x, y, model in zip(xs, sub["value"], sub["model"]):
        if dodge[model][1] and np.isfinite(y):
            ax.plot([x], [y], marker=dodge[model][1], color=color, linestyle="none", markersize=5)
    for model in dict.fromkeys(marked):
        ax.plot([], [], marker=dodge[model][1], color="black", linestyle="none", label=model)


def _main_units(units: pd.DataFrame, metric: str) -> pd.DataFrame:
    return units[units["metric"] == metric].copy()


def size_curves(config: dict, spec: PlotSpec, units: pd.DataFrame, settings: Settings) -> FigureResult:
    units = _main_units(units, spec.metrics[0])
    data = estimate_groups(units, ["method", "lang", "label", "model"], settings, spec.name)
    data["params_b"] = [float(config["models"][m]["params_b"]) for m in data["model"]]
    methods = [m for m in ("lora", "full") if m in set(data["method"])]
    langs = [lang for lang in spec.languages if lang in set(data["lang"])]
    if len(methods) > 1:
        fig, axes = grid(len(methods), len(langs))
        panels = [(r, c, method, lang) for r, method in enumerate(methods) for c, lang in enumerate(langs)]
    else:
        fig, axes = wrap_grid(len(langs), spec.columns)
        panels = [(i // axes.shape[1], i % axes.shape[1], methods[0], lang) for i, lang in enumerate(langs)]
    palette = label_palette(config, data["label"])
    dodge = _dodge(config, data["model"])
    ceiling = _score_ceiling(units)
    for r, c, method, lang in panels:
        ax = axes[r, c]
        sub = data[(data["method"] == method) & (data["lang"] == lang)]
        for label in dict.fromkeys(sub["label"]):
            _size_series(ax, sub[sub["label"] == label], palette[label], label, dodge)
        _size_axis(ax, data["params_b"])
        ax.set_title(_lang_title(config, lang) + (f" — {method}" if len(methods) > 1 else ""), fontsize="medium")
        ax.set_xlabel("model size (billion parameters)")
        ax.set_ylabel(_ylabel(units) if c == 0 else "")
        if ceiling:
            ax.set_ylim(0, ceiling)
    return _finished(fig, axes, spec, units, data)


def lid_gap(config: dict, spec: PlotSpec, units: pd.DataFrame, settings: Settings) -> FigureResult:
    metric = f"{spec.metrics[0]}.lid_gap"
    units = _main_units(units, metric)
    data = estimate_groups(units, ["method", "family", "label", "model"], settings, spec.name)
    data["params_b"] = [float(config["models"][m]["params_b"]) for m in data["model"]]
    combos = [(m, f) for m in ("lora", "full") for f in config["families"]
              if ((data["method"] == m) & (data["family"] == f)).any()]
    fig, axes = wrap_grid(len(combos), spec.columns)
    palette = label_palette(config, data["label"])
    dodge = _dodge(config, data["model"])
    for i, (method, family) in enumerate(combos):
        ax = axes.flat[i]
        sub = data[(data["method"] == method) & (data["family"] == family)]
        for label in dict.fromkeys(sub["label"]):
            _size_series(ax, sub[sub["label"] == label], palette[label], label, dodge, band=False)
        _size_axis(ax, data["params_b"])
        ax.set_yscale("symlog", linthresh=1.0)  # log axis that keeps a gap of 0 on the plot
        ax.set_title(f"{family} — {method}", fontsize="medium")
        ax.set_xlabel("model size (billion parameters)")
        ax.set_ylabel("score lost to LID check\n(mean over test languages)" if i % axes.shape[1] == 0 else "")
    figure_legend(fig, axes, "recipe")
    missing, incomplete = missing_lists(units)
    data.insert(0, "figure", spec.name)
    return FigureResult(fig, axes, data, missing, incomplete)


def family_bars(config: dict, spec: PlotSpec, units: pd.DataFrame, settings: Settings) -> FigureResult:
    units = _main_units(units, spec.metrics[0])
    data = estimate_groups(units, ["lang", "label", "model"], settings, spec.name)
    data["family"] = [config["models"][m]["family"] for m in data["model"]]
    data["params_b"] = [float(config["models"][m]["params_b"]) for m in data["model"]]
    models = sorted(dict.fromkeys(data["model"]), key=lambda m: (config["models"][m]["family"], m))
    langs = [lang for lang in spec.languages if lang in set(data["lang"])]
    n_labels = max(data.groupby("lang")["label"].nunique())
    fig, axes = wrap_grid(len(langs), spec.columns, panel_w=max(3.2, 0.25 * n_labels * len(models) + 1))
    palette = label_palette(config, data["label"])
    ceiling = _score_ceiling(units)
    for i, lang in enumerate(langs):
        ax = axes.flat[i]
        in_lang = data[data["lang"] == lang]
        labels = list(dict.fromkeys(in_lang["label"]))  # recipes tested in this language only
        width = 0.8 / len(labels)
        for j, label in enumerate(labels):
            sub = in_lang[in_lang["label"] == label].set_index("model")
            xs = np.arange(len(models)) + (j - (len(labels) - 1) / 2) * width
            ys = np.array([sub["value"].get(m, np.nan) for m in models], float)
            lo = np.array([sub["ci_low"].get(m, np.nan) for m in models], float)
            hi = np.array([sub["ci_high"].get(m, np.nan) for m in models], float)
            ax.bar(xs, np.nan_to_num(ys), width=width, color=palette[label], label=label,
                   yerr=np.clip(np.nan_to_num(np.vstack([ys - lo, hi - ys])), 0, None), capsize=2,
                   error_kw={"linewidth": 0.8})
            for x, y, model in zip(xs, ys, models):
                if np.isnan(y) and model in sub.index:  # tested but without any score
                    ax.text(x, 0, "no scores", ha="center", va="bottom", fontsize=5, rotation=90, color="#a00000")
        ax.set_xticks(np.arange(len(models)))
        ax.set_xticklabels([f"{m}\n({config['models'][m]['family']})" for m in models], fontsize="x-small")
        ax.set_title(_lang_title(config, lang), fontsize="medium")
        ax.set_ylabel(_ylabel(units) if i % axes.shape[1] == 0 else "")
        if ceiling:
            ax.set_ylim(0, ceiling)
    return _finished(fig, axes, spec, units, data)


def _finished(fig, axes, spec: PlotSpec, units: pd.DataFrame, data: pd.DataFrame) -> FigureResult:
    """The legend of recipes, and the drawn data with the runs or languages that had no scores."""
    figure_legend(fig, axes, "recipe")
    missing, incomplete = missing_lists(units)
    data.insert(0, "figure", spec.name)
    return FigureResult(fig, axes, data, missing, incomplete)
