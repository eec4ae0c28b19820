"""The zero-shot study's Table 1: per task modifier and language, how often the modifier is fulfilled and
the helpfulness of the responses (0-2), from a criteria judge with the ``modifier_fulfillment`` criterion
(template ``zeroshot-modifier-v1``) on a test set with task modifiers (``testsets.<t>.modifiers``).

Fulfilled = rated 3 of 3 on ``modifier_fulfillment``; helpfulness is the 1-3 rating minus one, over the
responses in the right language only ("we ignore responses in the wrong language when computing
Helpfulness": the judge stage records it as skipped). The figure draws both; its data CSV is the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from ..io import iter_jsonl
from .plotting import FigureResult, Settings, figure_legend, grid
from .specs import PlotSpec, ScoreInput


def modifier_rows(inputs: list[ScoreInput]) -> pd.DataFrame:
    rows = []
    for inp in inputs:
        for record in iter_jsonl(inp.path, on_bad_line="skip"):
            criteria = record.get("criteria")
            if "~" not in str(record["id"]) or not isinstance(criteria, dict):
                continue
            fulfilled, helpful = criteria.get("modifier_fulfillment"), criteria.get("helpfulness")
            rows.append({"run": inp.run_id, "lang": inp.lang, "modifier": str(record["id"]).rsplit("~", 1)[1],
                         "fulfilled": np.nan if fulfilled is None else float(fulfilled == 3),
                         "helpfulness": np.nan if helpful is None else float(helpful) - 1.0})
    return pd.DataFrame(rows, columns=["run", "lang", "modifier", "fulfilled", "helpfulness"])


def modifier_table(config: dict, spec: PlotSpec, inputs: list[ScoreInput], settings: Settings) -> FigureResult:
    rows = modifier_rows(inputs)
    if rows.empty:
        raise DataError(f"{spec.where}: no judged task-modified prompts (ids <id>~<modifier>) with "
                        "modifier_fulfillment in the score files of its runs")
    data = (rows.groupby(["run", "modifier", "lang"], sort=False)
            .agg(fulfilled=("fulfilled", "mean"), helpfulness=("helpfulness", "mean"), n=("fulfilled", "size"),
                 n_helpfulness=("helpfulness", "count"))
            .reset_index())
    order = list(dict.fromkeys(rows["modifier"]))
    langs = [lang for lang in spec.languages if lang in set(data["lang"])]
    fig, axes = grid(1, 2, panel_w=max(4.0, 0.45 * len(order) * len(langs) + 1.5), panel_h=3.0, sharey=False)
    width = 0.8 / max(len(langs), 1)
    for c, (column, label, top) in enumerate((("fulfilled", "modifier fulfilled (share)", 1.0),
                                               ("helpfulness", "helpfulness (0-2)", 2.0))):
        ax = axes[0, c]
        for j, lang in enumerate(langs):
            sub = data[data["lang"] == lang].groupby("modifier")[column].mean()
            ax.bar(np.arange(len(order)) + (j - (len(langs) - 1) / 2) * width, [sub.get(m, np.nan) for m in order],
                   width=width, label=f"{config['languages'][lang]['name']} ({lang})")
        ax.set_xticks(np.arange(len(order)))
        ax.set_xticklabels(order, rotation=45, ha="right", fontsize="x-small")
        ax.set_ylim(0, top)
        ax.set_ylabel(label)
    figure_legend(fig, axes, "prompt language")
    data.insert(0, "figure", spec.name)
    return FigureResult(fig, axes, data, [], [])
