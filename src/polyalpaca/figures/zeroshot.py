"""Figure kinds of Chirkova & Nikoulina (zero-shot cross-lingual transfer): metrics against learning rate.

In every panel the x axis is the learning rate (log), colour is the training data (recipe label) and
line style the tuning method, so each line is one configuration; each base model gets its own row.

- ``surface_metrics``: rows = surface metric x base model (language / spelling correctness,
  relevance), columns = test languages.
- ``criteria``: rows = (English | mean over the other test languages) x base model, columns = the six
  judge criteria (1-3 as rated, or 0-2 with ``criteria_scale: "0-2"``, the zero-shot paper's scale).
- ``per_language``: rows = base models, columns = test languages, one metric (default: the mean
  criteria score).
- ``configurations`` (the paper's Figure 3, GPT-3.5 part): rows = English | mean over the other test
  languages, columns = the six criteria, one bar per configuration (model / training data / method) at
  the learning rate the study's LR selection chose (the runs it left unjudged are not drawn).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from .plotting import (METRIC_LABELS, FigureResult, Settings, draw_series, estimate_groups, figure_legend, grid,
                       label_palette, missing_lists, style_maps)
from .scores import CRITERIA
from .specs import PlotSpec

GROUP_KEYS = ["label", "method", "model", "learning_rate", "tuning", "trainset"]
Y_RANGE = {"judge_criteria": (1.0, 3.0), "judge_single": (0.0, 3.0)}

Panel = tuple[dict, str]  # (column -> value filter, title)


def on_scale(data: pd.DataFrame, spec: PlotSpec, kind: str) -> tuple[pd.DataFrame, tuple[float, float] | None]:
    """Criteria estimates on the spec's scale: 0-2 is the 1-3 rating minus one (a shift, so the bootstrap
    interval shifts with it); returns the data and the y range."""
    if kind != "judge_criteria" or spec.criteria_scale == "1-3":
        return data, Y_RANGE.get(kind)
    data = data.copy()
    for column in ("value", "ci_low", "ci_high"):
        data[column] = data[column] - 1.0
    return data, (0.0, 2.0)


def _lr_panels(config: dict, data: pd.DataFrame, rows: list[Panel], cols: list[Panel], ylim_of) -> tuple:
    """Draw a rows x cols grid of learning-rate curves; returns (figure, axes)."""
    fig, axes = grid(len(rows), len(cols), panel_w=2.9, panel_h=2.1, sharey="row")
    palette = label_palette(config, data["label"])
    styles, _ = style_maps(sorted(set(data["method"])), [])
    lrs = sorted(set(data["learning_rate"]))
    for r, (rfilter, rtitle) in enumerate(rows):
        for c, (cfilter, ctitle) in enumerate(cols):
            ax = axes[r, c]
            mask = pd.Series(True, index=data.index)
            for key, value in {**rfilter, **cfilter}.items():
                mask &= data[key] == value
            sub = data[mask]
            for (label, method), series in sub.groupby(["label", "method"], sort=False):
                draw_series(ax, series, "learning_rate", color=palette[label], linestyle=styles[method],
                            marker="o" if method == "full" else "s", label=f"{label} · {method}", band=False)
            ax.set_xscale("log")
            ax.set_xlim(min(lrs) / 2.5, max(lrs) * 2.5)
            ax.set_xticks(lrs)
            ax.set_xticklabels([f"{lr:.0e}" for lr in lrs], fontsize="x-small")
            ax.minorticks_off()
            ax.set_title(ctitle if r == 0 else "", fontsize="medium")
            ax.set_xlabel("learning rate" if r == len(rows) - 1 else "")
            ax.set_ylabel(rtitle if c == 0 else "", fontsize="small")
            lim = ylim_of(rfilter, cfilter)
            if lim:
                pad = 0.05 * (lim[1] - lim[0])
                ax.set_ylim(lim[0] - pad, lim[1] + pad)
    figure_legend(fig, axes, "data · method")
    return fig, axes


def _lang_cols(config: dict, langs) -> list[Panel]:
    return [({"lang": lang}, f"{config['languages'][lang]['name']} ({lang})") for lang in langs]


def _models(data: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(data["model"]))


def surface_metrics(config: dict, spec: PlotSpec, units: pd.DataFrame, settings: Settings) -> FigureResult:
    units = units[units["metric"].isin(spec.metrics)].copy()
    data = estimate_groups(units, ["metric", "lang", *GROUP_KEYS], settings, spec.name)
    kinds = dict(zip(units["metric"], units["kind"]))
    rows = [({"metric": m, "model": model}, f"{METRIC_LABELS.get(kinds[m], m)}\n{model}")
            for m in spec.metrics if m in kinds for model in _models(data)]
    langs = [lang for lang in spec.languages if lang in set(data["lang"])]
    fig, axes = _lr_panels(config, data, rows, _lang_cols(config, langs),
                           lambda rf, _cf: Y_RANGE.get(kinds[rf["metric"]], (0.0, 1.0)))
    missing, incomplete = missing_lists(units)
    data.insert(0, "figure", spec.name)
    return FigureResult(fig, axes, data, missing, incomplete)


def _criteria_units(spec: PlotSpec, units: pd.DataFrame) -> pd.DataFrame:
    """The units of the spec's criteria metric, each criterion one metric, languages as English / the rest."""
    names = [f"{spec.metrics[0]}.{c}" for c in CRITERIA]
    units = units[units["metric"].isin(names)].copy()
    units["lang_group"] = ["English" if lang == "en" else "non-English mean" for lang in units["lang"]]
    return units


def criteria(config: dict, spec: PlotSpec, units: pd.DataFrame, settings: Settings) -> FigureResult:
    base = spec.metrics[0]
    units = _criteria_units(spec, units)
    data, y_range = on_scale(estimate_groups(units, ["metric", "lang_group", *GROUP_KEYS], settings, spec.name), spec,
                             "judge_criteria")
    groups = [g for g in ("English", "non-English mean") if g in set(data["lang_group"])]
    rows = [({"lang_group": g, "model": model}, f"{g}\n{model}") for g in groups for model in _models(data)]
    cols = [({"metric": f"{base}.{c}"}, c.replace("_", " ")) for c in CRITERIA]
    fig, axes = _lr_panels(config, data, rows, cols, lambda _r, _c: y_range)
    non_en = [lang for lang in spec.languages if lang != "en"]
    fig.text(0.5, 1.0, f"criteria scores ({spec.criteria_scale}) of {base}; non-English mean over: {', '.join(non_en)}",
             ha="center", va="bottom", fontsize=8)
    missing, incomplete = missing_lists(units)
    data.insert(0, "figure", spec.name)
    return FigureResult(fig, axes, data, missing, incomplete)


def per_language(config: dict, spec: PlotSpec, units: pd.DataFrame, settings: Settings) -> FigureResult:
    metric = spec.metrics[0]
    units = units[units["metric"] == metric].copy()
    kind = units["kind"].iloc[0]
    data, y_range = on_scale(estimate_groups(units, ["lang", *GROUP_KEYS], settings, spec.name), spec, kind)
    rows = [({"model": model}, f"{METRIC_LABELS.get(kind, kind)} ({metric})\n{model}") for model in _models(data)]
    langs = [lang for lang in spec.languages if lang in set(data["lang"])]
    fig, axes = _lr_panels(config, data, rows, _lang_cols(config, langs), lambda _r, _c: y_range or (0.0, 1.0))
    missing, incomplete = missing_lists(units)
    data.insert(0, "figure", spec.name)
    return FigureResult(fig, axes, data, missing, incomplete)


def configurations(config: dict, spec: PlotSpec, units: pd.DataFrame, settings: Settings) -> FigureResult:
    base = spec.metrics[0]
    units = _criteria_units(spec, units)
    data, y_range = on_scale(estimate_groups(units, ["metric", "lang_group", *GROUP_KEYS], settings, spec.name),
                             spec, "judge_criteria")
    data["configuration"] = [f"{m} / {label} / {method}" for m, label, method in
                             zip(data["model"], data["label"], data["method"])]
    confs = list(dict.fromkeys(data["configuration"]))
    colors = dict(zip(confs, sns.color_palette("colorblind", max(len(confs), 3))))
    groups = [g for g in ("English", "non-English mean") if g in set(data["lang_group"])]
    fig, axes = grid(len(groups), len(CRITERIA), panel_w=2.4, panel_h=2.2, sharey=True)
    for r, group in enumerate(groups):
        for c, criterion in enumerate(CRITERIA):
            ax = axes[r, c]
            sub = data[(data["lang_group"] == group) & (data["metric"] == f"{base}.{criterion}")].set_index("configuration")
            ys = np.array([sub["value"].get(k, np.nan) for k in confs], float)
            lo = np.array([sub["ci_low"].get(k, np.nan) for k in confs], float)
            hi = np.array([sub["ci_high"].get(k, np.nan) for k in confs], float)
            for i, conf in enumerate(confs):
                ax.bar([i], [np.nan_to_num(ys[i])], color=colors[conf], label=conf,
                       yerr=np.clip(np.nan_to_num([[ys[i] - lo[i]], [hi[i] - ys[i]]]), 0, None), capsize=2,
                       error_kw={"linewidth": 0.8})
            ax.set_xticks([])
            ax.set_title(criterion.replace("_", " ") if r == 0 else "", fontsize="medium")
            ax.set_ylabel(group if c == 0 else "", fontsize="small")
            if y_range:
                ax.set_ylim(*y_range)
    figure_legend(fig, axes, "configuration (LR chosen by surface metrics)")
    non_en = [lang for lang in spec.languages if lang != "en"]
    fig.text(0.5, 1.0, f"criteria scores ({spec.criteria_scale}) of {base}; non-English mean over: {', '.join(non_en)}",
             ha="center", va="bottom", fontsize=8)
    missing, incomplete = missing_lists(units)
    data.insert(0, "figure", spec.name)
    return FigureResult(fig, axes, data, missing, incomplete)
