"""Figure kinds of Bactrian-X besides the pairwise ones (:mod:`.pairwise`): token counts per tokenizer.

- ``token_counts``: average tokens per example of each field (instruction, input, response, total) per
  language and tokenizer (from the recipes stage's ``results/tables/tokens.csv``), a row of panels per
  field and a column per training set; the tokenizers are the study's token table's (``token_stats``), else its base models'.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import seaborn as sns

from ..errors import DataError
from ..config import study_runs
from .plotting import FigureResult, Settings, grid
from .specs import PlotSpec

TOKEN_COLUMNS = ("trainset", "lang", "tokenizer", "vocab_size", "examples", "instruction_tokens", "input_tokens",
                 "output_tokens", "tokens")
TOKEN_PANELS = (("instruction_tokens", "instruction"), ("input_tokens", "input"), ("output_tokens", "response"),
                ("tokens", "total"))


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
