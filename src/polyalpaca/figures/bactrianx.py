"""Figure kinds of Bactrian-X besides the pairwise ones (:mod:`.pairwise`): token counts per tokenizer.

- ``token_counts``: tokens per language for each base model's tokenizer (from the recipes stage's
  ``results/tables/tokens.csv``): total tokens and tokens per example, one row per training set.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import seaborn as sns

from ..errors import DataError
from ..config import study_runs
from .plotting import FigureResult, Settings, grid
from .specs import PlotSpec

TOKEN_COLUMNS = ("trainset", "lang", "model", "examples", "tokens")


def read_token_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: token table is missing")
    table = pd.read_csv(path)
    absent = [c for c in TOKEN_COLUMNS if c not in table.columns]
    if absent:
        raise DataError(f"{path}: missing columns {', '.join(absent)} (has {', '.join(table.columns)})")
    for col in ("examples", "tokens"):
        bad = table[pd.to_numeric(table[col], errors="coerce").isna() | (pd.to_numeric(table[col], errors="coerce") < 0)]
        if not bad.empty:
            raise DataError(f"{path}:{bad.index[0] + 2}: {col} must be a count >= 0, got {bad[col].iloc[0]!r}")
    return table


def token_counts(config: dict, spec: PlotSpec, table: pd.DataFrame, settings: Settings,
                 source: str = "tokens.csv") -> FigureResult:
    runs = study_runs(config, spec.study)
    trainsets = list(spec.trainsets) or list(dict.fromkeys(r.trainset for r in runs))
    models = list(spec.models) or list(dict.fromkeys(r.model for r in runs))
    data = table[table["trainset"].isin(trainsets) & table["model"].isin(models)].copy()
    if data.empty:
        raise DataError(f"{source}: no token counts for trainsets {', '.join(trainsets)} and models "
                        f"{', '.join(models)} (figure {spec.name})")
    have = set(zip(data["trainset"], data["model"]))
    missing = [f"{ts} {m} (no token counts)" for ts in trainsets for m in models if (ts, m) not in have]
    data["tokens_per_example"] = data["tokens"] / data["examples"].where(data["examples"] > 0)
    data["family"] = [config["models"][m]["family"] for m in data["model"]]
    rows = [ts for ts in trainsets if ts in set(data["trainset"])]
    fig, axes = grid(len(rows), 2, panel_w=max(3.5, 0.45 * data["lang"].nunique() + 1.5), sharey=False)
    hue_order = [m for m in models if m in set(data["model"])]
    palette = dict(zip(hue_order, sns.color_palette("colorblind", len(hue_order))))
    for r, ts in enumerate(rows):
        sub = data[data["trainset"] == ts]
        order = [lang for lang in config["languages"] if lang in set(sub["lang"])]
        for c, (col, ylabel) in enumerate((("tokens", "tokens"), ("tokens_per_example", "tokens per example"))):
            ax = axes[r, c]
            sns.barplot(data=sub, x="lang", y=col, hue="model", order=order, hue_order=hue_order, palette=palette,
                        ax=ax, errorbar=None)
            ax.set_title(f"{ts} — {ylabel}", fontsize="medium")
            ax.set_xlabel("language")
            ax.set_ylabel(ylabel)
            if ax.get_legend():
                ax.get_legend().remove()
    handles = [plt_patch(palette[m]) for m in hue_order]
    fig.legend(handles, [f"{m} ({config['models'][m]['family']})" for m in hue_order], loc="center left",
               bbox_to_anchor=(1.0, 0.5), title="tokenizer", frameon=False, fontsize="small")
    data.insert(0, "figure", spec.name)
    return FigureResult(fig, axes, data.reset_index(drop=True), missing, [])


def plt_patch(color):
    from matplotlib.patches import Patch

    return Patch(facecolor=color)
