"""A study's round-trip table and figure (Bactrian-X Table 2), with pairs below ``chrf_floor`` flagged.

``results/tables/{study}_roundtrip.csv``: one row per translated (source, language) with BLEU, chrF++,
COMET (empty unless configured), the records and segments scored and ``below_floor``. The HTML page
adds Table 2's summary (min, quartiles, mean, max over the pairs) and a warning per flagged pair, which
the log repeats: a translation to look at before anyone trains on it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..errors import DataError
from ..io import read_rule_json
from .paths import ROUNDTRIP_SCORES

log = logging.getLogger(__name__)

COLUMNS = ["study", "source", "lang", "translator", "n_records", "n_segments", "fields", "bleu", "chrf", "comet",
           "below_floor"]
SCORES = ("bleu", "chrf", "comet")


def roundtrip_table(pairs: list[list[str]], floor: float, study: str, root: str | Path = ".") -> pd.DataFrame:
    rows = []
    for source, lang, translator in pairs:
        path = Path(root) / ROUNDTRIP_SCORES.format(source=source, lang=lang)
        record = read_rule_json(path, "roundtrip_score", "round-trip scores", ("bleu", "chrf", "n_records", "n_segments"))
        rows.append({"study": study, "source": source, "lang": lang, "translator": translator,
                     "n_records": record["n_records"], "n_segments": record["n_segments"],
                     "fields": " ".join(record.get("fields", [])), "bleu": record["bleu"], "chrf": record["chrf"],
                     "comet": record.get("comet"), "below_floor": bool(record["chrf"] < floor)})
    return pd.DataFrame(rows, columns=COLUMNS)


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """Min, 25% quantile, mean, 75% quantile and max of each score over the pairs (Table 2's shape)."""
    stats = {"min": lambda s: s.min(), "25% Q.": lambda s: s.quantile(0.25), "mean": lambda s: s.mean(),
             "75% Q.": lambda s: s.quantile(0.75), "max": lambda s: s.max()}
    rows = []
    for name, fn in stats.items():
        rows.append({"statistic": name, **{score: fn(pd.to_numeric(table[score], errors="coerce").dropna())
                                  for score in SCORES if table[score].notna().any()}})
    return pd.DataFrame(rows)


def floor_warnings(table: pd.DataFrame, floor: float) -> list[str]:
    return [f"{r.source} {r.lang}: chrF++ {r.chrf:.1f} (BLEU {r.bleu:.1f}, {r.n_records} records) is below the "
            f"floor {floor:g}: read this translation before training on it" for r in table.itertuples() if r.below_floor]


def roundtrip_figure(table: pd.DataFrame, study: str, floor: float):
    """Bars of BLEU and chrF++ per (source, language), the chrF++ floor as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid", font_scale=1.0)
    data = table.assign(pair=table["source"] + " " + table["lang"]).melt(
        id_vars=["pair", "below_floor"], value_vars=["bleu", "chrf"], var_name="score", value_name="value")
    data["score"] = data["score"].map({"bleu": "BLEU", "chrf": "chrF++"})
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(table) + 2), 3.2))
    sns.barplot(data=data, x="pair", y="value", hue="score", ax=ax)
    ax.axhline(floor, color="firebrick", linestyle="--", linewidth=1, label=f"chrF++ floor {floor:g}")
    for i, flagged in enumerate(table["below_floor"]):
        if flagged:
            ax.annotate("below floor", (i, floor), textcoords="offset points", xytext=(0, 4), ha="center",
                        fontsize="x-small", color="firebrick")
    ax.set_xlabel("")
    ax.set_ylabel("score (back-translation vs original)")
    ax.set_title(f"{study}: round-trip translation quality")
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize="small", bbox_to_anchor=(1.01, 1), loc="upper left")
    return fig


def write_roundtrip_report(pairs: list[list[str]], floor: float, study: str, *, csv: str, html: str, pdf: str,
                           png: str, root: str | Path = ".", dpi: int = 150) -> pd.DataFrame:
    """The table (CSV, HTML) and figure (PDF, PNG) of a study's round trips (``pairs``: ``roundtrip.plan.report_pairs``)."""
    from ..figures.tables import write_csv, write_html
    from ..io import atomic_open

    table = roundtrip_table(pairs, floor, study, root)
    if table.empty:
        raise DataError(f"study {study}: no translated source to round-trip")
    write_csv(table, csv)
    warnings = floor_warnings(table, floor)
    for warning in warnings:
        log.warning("study %s: %s", study, warning)
    write_html([("Summary over language pairs (as Bactrian-X Table 2)", summary_table(table)),
                (f"Per source and language ({len(table)} pairs)", table)], html,
               f"Round-trip translation quality of study {study}", warnings=warnings,
               note=f"A sample of each translated source translated back with the same engine and scored against "
                    f"the original with sacrebleu (corpus BLEU; chrF++, word order 2); chrF++ floor {floor:g}.")
    fig = roundtrip_figure(table, study, floor)
    for path, fmt, kwargs in ((pdf, "pdf", {}), (png, "png", {"dpi": dpi})):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(path, "wb") as handle:
            fig.savefig(handle, format=fmt, bbox_inches="tight", **kwargs)
    import matplotlib.pyplot as plt

    plt.close(fig)
    log.info("%s: %d pairs, %d below the chrF++ floor", csv, len(table), len(warnings))
    return table
