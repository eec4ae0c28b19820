"""Figure kinds of Bactrian-X: pairwise outcomes against the reference run, token counts per tokenizer.

- ``pairwise_outcomes``: one panel per test language and one for the mean over languages; per run a
  stacked bar of win / tie / loss rates against the study's ``pairwise_reference`` and a dot with the
  CI of its score (win = 1, tie = 0.5, loss = 0).
- ``token_counts``: average tokens per example of each field (instruction, input, response, total) per
  language and tokenizer (from the recipes stage's ``results/tables/tokens.csv``), a row of panels per
  field and a column per training set; the tokenizers are the study's token table's (``token_stats``), else its base models'.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..errors import DataError
from ..config import study_runs
from .plotting import FigureResult, Settings, estimate_groups, grid, missing_lists
from .scores import PAIRWISE_OUTCOMES
from .specs import PlotSpec

OUTCOME_COLORS = {"win": "#4c9a2a", "tie": "#b8b8b8", "loss": "#c0392b"}
TOKEN_COLUMNS = ("trainset", "lang", "tokenizer", "vocab_size", "examples", "instruction_tokens", "input_tokens",
                 "output_tokens", "tokens")
TOKEN_PANELS = (("instruction_tokens", "instruction"), ("input_tokens", "input"), ("output_tokens", "response"),
                ("tokens", "total"))


def _run_label(config: dict, run: str) -> str:
    model, trainset, tuning = run.split("/")
    return f"{model} · {config['trainsets'][trainset].get('label', trainset)} ({trainset})"


def _pairwise_layout(n_langs: int, columns: int, runs_per_lang: int, runs_all: int):
    """Language panels in a grid, then the mean over languages as a wide panel below (heights by run count)."""
    cols = max(1, min(columns, n_langs))
    rows = -(-n_langs // cols)
    heights = [0.3 * runs_per_lang + 0.9] * rows + [0.3 * runs_all + 0.9]
    fig = plt.figure(figsize=(3.8 * cols + 2.5, sum(heights) + 0.6))
    gs = fig.add_gridspec(rows + 1, cols, height_ratios=heights)
    axes = [fig.add_subplot(gs[i // cols, i % cols]) for i in range(n_langs)]
    axes.append(fig.add_subplot(gs[rows, :]))
    return fig, np.array(axes, dtype=object)


def pairwise_outcomes(config: dict, spec: PlotSpec, units: pd.DataFrame, settings: Settings) -> FigureResult:
    base = spec.metrics[0]
    units = units[units["base_metric"] == base].copy()
    per_lang = estimate_groups(units, ["lang", "run", "metric"], settings, spec.name)
    overall = estimate_groups(units, ["run", "metric"], settings, spec.name + "/all")
    overall.insert(0, "lang", "all")
    data = pd.concat([per_lang, overall], ignore_index=True)
    langs = [lang for lang in spec.languages if lang in set(per_lang["lang"])] + ["all"]
    all_runs = list(dict.fromkeys(units["run"]))
    tested = {lang: [r for r in all_runs if ((units["run"] == r) & (units["lang"] == lang)).any()] for lang in langs}
    tested["all"] = all_runs
    fig, axes = _pairwise_layout(len(langs) - 1, spec.columns, max(len(tested[lang]) for lang in langs[:-1]),
                                 len(all_runs))
    for i, lang in enumerate(langs):
        ax = axes[i]
        runs = tested[lang]  # a run is drawn in the languages it is tested in
        ys = np.arange(len(runs))
        sub = data[data["lang"] == lang]
        left = np.zeros(len(runs))
        for outcome in PAIRWISE_OUTCOMES:
            rates = sub[sub["metric"] == f"{base}.{outcome}"].set_index("run")["value"].reindex(runs).to_numpy(float)
            ax.barh(ys, np.nan_to_num(rates), left=left, color=OUTCOME_COLORS[outcome], label=outcome, height=0.7)
            left += np.nan_to_num(rates)
        score = sub[sub["metric"] == base].set_index("run").reindex(runs)
        v = score["value"].to_numpy(float)
        err = np.clip(np.nan_to_num(np.vstack([v - score["ci_low"].to_numpy(float),
                                                score["ci_high"].to_numpy(float) - v])), 0, None)
        ax.errorbar(v, ys, xerr=err, fmt="o", color="black", markersize=3, capsize=2, label=f"score ({settings.confidence:.0%} CI)")
        for y, value in zip(ys, v):
            if np.isnan(value):
                ax.text(0.02, y, "no scores", va="center", fontsize=6, color="#a00000")
        ax.axvline(0.5, color="black", linewidth=0.6, linestyle=":")
        ax.set_xlim(0, 1)
        ax.set_yticks(ys)
        ax.set_yticklabels([_run_label(config, r) for r in runs], fontsize="x-small")
        ax.set_ylim(len(runs) - 0.5, -0.5)
        ax.set_title("mean over tested languages" if lang == "all" else f"{config['languages'][lang]['name']} ({lang})",
                     fontsize="medium")
        ax.set_xlabel("rate against the reference")
    ref = config["studies"][spec.study]["pairwise_reference"]
    fig.text(0.5, 1.0, f"reference: {ref['model']}/{ref['trainset']}/{ref['tuning']}", ha="center", va="bottom",
             fontsize=7)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize="small")
    missing, incomplete = missing_lists(units[units["metric"] == base])
    data.insert(0, "figure", spec.name)
    return FigureResult(fig, axes, data, missing, incomplete)


def read_token_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: token table is missing")
    table = pd.read_csv(path)
    absent = [c for c in TOKEN_COLUMNS if c not in table.columns]
    if absent:
        raise DataError(f"{path}: missing columns {', '.join(absent)} (has {', '.join(table.columns)})")
    for col in TOKEN_COLUMNS[3:]:
        values = pd.to_numeric(table[col], errors="coerce")
        bad = table[values.isna() | (values < 0)]
        if not bad.empty:
            raise DataError(f"{path}:{bad.index[0] + 2}: {col} must be a count >= 0, got {bad[col].iloc[0]!r}")
    return table


def figure_tokenizers(config: dict, spec: PlotSpec) -> list[str]:
    """The figure's ``models``, else the study's token table's tokenizers, else the study's base models."""
    token_stats = config["studies"][spec.study].get("token_stats")
    if spec.models:
        return list(spec.models)
    if token_stats:
        return list(token_stats["tokenizers"])
    return list(dict.fromkeys(r.model for r in study_runs(config, spec.study)))


def token_counts(config: dict, spec: PlotSpec, table: pd.DataFrame, settings: Settings,
                 source: str = "tokens.csv") -> FigureResult:
    runs = study_runs(config, spec.study)
    trainsets = list(spec.trainsets) or list(dict.fromkeys(r.trainset for r in runs))
    tokenizers = figure_tokenizers(config, spec)
    data = table[table["trainset"].isin(trainsets) & table["tokenizer"].isin(tokenizers)].copy()
    if data.empty:
        raise DataError(f"{source}: no token counts for trainsets {', '.join(trainsets)} and tokenizers "
                        f"{', '.join(tokenizers)} (figure {spec.name})")
    have = set(zip(data["trainset"], data["tokenizer"]))
    missing = [f"{ts} {t} (no token counts)" for ts in trainsets for t in tokenizers if (ts, t) not in have]
    examples = data["examples"].where(data["examples"] > 0)
    for col, field in TOKEN_PANELS:
        data[f"{field}_per_example"] = data[col] / examples
    columns = [ts for ts in trainsets if ts in set(data["trainset"])]
    # a row per field, a column per training set: wide panels hold the paper's 52 languages
    fig, axes = grid(len(TOKEN_PANELS), len(columns), panel_w=max(3.0, 0.3 * data["lang"].nunique() + 1.2),
                     sharey=False)
    hue_order = [t for t in tokenizers if t in set(data["tokenizer"])]
    palette = dict(zip(hue_order, sns.color_palette("colorblind", len(hue_order))))
    for c, ts in enumerate(columns):
        sub = data[data["trainset"] == ts]
        order = [lang for lang in config["languages"] if lang in set(sub["lang"])]
        for r, (_, field) in enumerate(TOKEN_PANELS):
            ax = axes[r, c]
            sns.barplot(data=sub, x="lang", y=f"{field}_per_example", order=order, hue="tokenizer",
                        hue_order=hue_order, palette=palette, ax=ax, errorbar=None)
            ax.set_title(f"{ts} — {field}", fontsize="medium")
            ax.set_xlabel("language" if r == len(TOKEN_PANELS) - 1 else "")
            ax.set_ylabel("tokens per example")
            if ax.get_legend():
                ax.get_legend().remove()
    vocab = data.groupby("tokenizer")["vocab_size"].first()
    fig.legend([plt_patch(palette[t]) for t in hue_order], [f"{t} (vocabulary {vocab[t]:,})" for t in hue_order],
               loc="center left", bbox_to_anchor=(1.0, 0.5), title="tokenizer", frameon=False, fontsize="small")
    data.insert(0, "figure", spec.name)
    return FigureResult(fig, axes, data.reset_index(drop=True), missing, [])


def plt_patch(color):
    from matplotlib.patches import Patch

    return Patch(facecolor=color)
