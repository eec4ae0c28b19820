"""The pairwise evaluation of Bactrian-X §6: pair score files read once, their study-table rows and figures 5-7.

A pair score file (``results/pairwise/...``, rule judge_pair) holds, per test prompt, the verdict of run
``a`` against run ``b`` over both orders (``value`` 1 win / 0.5 tie / 0 loss, FastChat's rule: a verdict
that changes with the order is a tie) and each run's mean 0-10 score over both orders (``run_score`` for
``a``, ``reference_score`` for ``b``; templates of output format vicuna_pair or pair_scores).

- ``pairwise_outcomes`` (figure 5): per pair, ``a``'s win / tie / loss rates, per language and over all;
- ``pairwise_groups`` (figure 6): "we calculate the average score for each model from all comparison pairs"
  — each run's mean score over every pair it is in, per language group (:func:`polyalpaca.pairs.language_groups`);
- ``pairwise_categories`` (figure 7): the same per question category (the test prompts' ``category``).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..errors import DataError
from ..io import iter_jsonl
from ..pairs import PUBLISHED, language_groups
from .bootstrap import bootstrap_ci
from .plotting import FigureResult, Settings
from .scores import PAIRWISE_OUTCOMES
from .specs import PairInput, PlotSpec

OUTCOME_COLORS = {"win": "#4c9a2a", "tie": "#b8b8b8", "loss": "#c0392b"}
RECORD_COLUMNS = ["metric", "a", "b", "lang", "id", "value", "score_a", "score_b", "error", "answered", "unparsed"]


def run_label(config: dict, run: str) -> str:
    """A baseline's label (or name); a fine-tuned run's model and recipe label."""
    model, trainset, tuning = run.split("/")
    if trainset == PUBLISHED:
        return config["baselines"][tuning].get("label", tuning)
    return f"{model} · {config['trainsets'][trainset].get('label', trainset)}"


def _score(value, what: str):
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 10:
        raise ValueError(f"{what} must be a number within 0-10 or null, got {value!r}")
    return float(value)


def read_pair_scores(inputs: list[PairInput], on_bad_line: str = "fail") -> pd.DataFrame:
    """One row per (pair score file, prompt); a missing file is an error listing every missing one."""
    missing = [inp.path for inp in inputs if not Path(inp.path).is_file()]
    if missing:
        raise DataError(f"{len(missing)} of {len(inputs)} pair score files are missing:\n  " + "\n  ".join(missing[:50]))
    rows = []
    for inp in inputs:
        seen: set = set()

        def check(record: dict, inp=inp, seen=seen) -> None:
            for key in ("id", "value"):
                if key not in record:
                    raise ValueError(f"missing {key!r}")
            if record.get("lang", inp.lang) != inp.lang:
                raise ValueError(f"'lang' is {record['lang']!r} but the file is for {inp.lang!r}")
            if record.get("reference", inp.b) != inp.b:
                raise ValueError(f"'reference' is {record['reference']!r} but the file is for the pair's {inp.b!r}")
            if record["value"] is not None and record["value"] not in PAIRWISE_OUTCOMES.values():
                raise ValueError(f"a pairwise 'value' must be 1, 0.5, 0 or null, got {record['value']!r}")
            if record["id"] in seen:
                raise ValueError(f"duplicate id {record['id']!r}")
            seen.add(record["id"])
            _score(record.get("run_score"), "'run_score'")
            _score(record.get("reference_score"), "'reference_score'")

        for record in iter_jsonl(inp.path, on_bad_line=on_bad_line, check=check):
            value = record["value"]
            rows.append({"metric": inp.metric, "a": inp.a, "b": inp.b, "lang": inp.lang, "id": record["id"],
                         "value": math.nan if value is None else float(value),
                         "score_a": _score(record.get("run_score"), ""),
                         "score_b": _score(record.get("reference_score"), ""), "error": value is None,
                         "answered": record.get("answered", math.nan), "unparsed": record.get("unparsed", math.nan)})
    return pd.DataFrame(rows, columns=RECORD_COLUMNS).astype({"value": float, "score_a": float, "score_b": float,
                                                               "answered": float, "unparsed": float})


def model_scores(records: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, pair, prompt): the run's mean 0-10 score in that comparison (``a`` and ``b`` alike)."""
    a = records.assign(run=records["a"], opponent=records["b"], score=records["score_a"])
    b = records.assign(run=records["b"], opponent=records["a"], score=records["score_b"])
    return pd.concat([a, b], ignore_index=True)[["metric", "run", "opponent", "lang", "id", "score"]]


# ---------------------------------------------------------------- study table rows
def pair_table_rows(config: dict, study: str, records: pd.DataFrame, inputs: list[PairInput]) -> list[dict]:
    """Per (metric, pair, language): ``<m>`` (a's mean outcome), ``<m>.win|tie|loss`` rates, ``<m>.score`` (a's
    mean 0-10 score) and ``<m>.opponent_score`` (b's); ``opponent`` names b."""
    seed, n_resamples, confidence = config["seed"], config["figures"]["bootstrap_samples"], config["figures"]["confidence"]
    groups = {key: sub for key, sub in records.groupby(["metric", "a", "b", "lang"], sort=False)}
    rows = []
    for inp in inputs:
        sub = groups.get((inp.metric, inp.a, inp.b, inp.lang), records.iloc[0:0])
        model, trainset, tuning = inp.a.split("/")
        values = sub["value"].dropna()
        series = {inp.metric: values, **{f"{inp.metric}.{o}": (values == v).astype(float)
                                         for o, v in PAIRWISE_OUTCOMES.items()},
                  f"{inp.metric}.score": sub["score_a"].dropna(), f"{inp.metric}.opponent_score": sub["score_b"].dropna()}
        answered = sub["answered"].sum() if sub["answered"].notna().any() else math.nan
        unparsed = sub["unparsed"].sum() if sub["unparsed"].notna().any() else math.nan
        for metric, vals in series.items():
            est = bootstrap_ci(vals.to_numpy(), "mean", seed=seed, key=f"{inp.a}|{inp.b}|{inp.lang}|{metric}",
                               n_resamples=n_resamples, confidence=confidence)
            rows.append({"study": study, "model": model, "trainset": trainset, "tuning": tuning, "testset": inp.testset,
                         "lang": inp.lang, "metric": metric, "opponent": inp.b, "kind": "judge_pairwise",
                         "aggregate": "mean", "value": est.value, "ci_low": est.ci_low, "ci_high": est.ci_high,
                         "n": len(vals), "n_errors": int(sub["error"].sum()), "n_skipped": 0,
                         **({"n_answers": answered, "n_unparsed": unparsed,
                             "unparsed_share": unparsed / answered if answered else math.nan}
                            if metric == inp.metric else {})})
    return rows


# ---------------------------------------------------------------- figures
def _layout(n_panels: int, columns: int, rows_per_panel: int):
    cols = max(1, min(columns, n_panels - 1)) if n_panels > 1 else 1
    rows = -(-(n_panels - 1) // cols)
    height = 0.35 * rows_per_panel + 0.9
    fig = plt.figure(figsize=(3.8 * cols + 3.0, height * (rows + 1) + 0.6))
    gs = fig.add_gridspec(rows + 1, cols)
    axes = [fig.add_subplot(gs[i // cols, i % cols]) for i in range(n_panels - 1)]
    axes.append(fig.add_subplot(gs[rows, :]))
    return fig, np.array(axes, dtype=object)


def pairwise_outcomes(config: dict, spec: PlotSpec, records: pd.DataFrame, settings: Settings) -> FigureResult:
    """Figure 5: per pair a stacked bar of the first run's win / tie / loss rates, per language and over all."""
    records = records[records["metric"] == spec.metrics[0]]
    pairs = list(dict.fromkeys(zip(records["a"], records["b"])))
    langs = [lang for lang in spec.languages if lang in set(records["lang"])]
    rows = []
    for lang in [*langs, "all"]:
        for a, b in pairs:
            sub = records[(records["a"] == a) & (records["b"] == b) & ((records["lang"] == lang) | (lang == "all"))]
            values = sub["value"].dropna()
            if sub.empty:
                continue
            row = {"figure": spec.name, "lang": lang, "a": a, "b": b, "n": len(values), "n_errors": int(sub["error"].sum())}
            row.update({o: float((values == v).mean()) if len(values) else math.nan for o, v in PAIRWISE_OUTCOMES.items()})
            rows.append(row)
    data = pd.DataFrame(rows)
    fig, axes = _layout(len(langs) + 1, spec.columns, len(pairs))
    for ax, lang in zip(axes, [*langs, "all"]):
        sub = data[data["lang"] == lang].set_index(["a", "b"]).reindex(pairs)
        ys = np.arange(len(pairs))
        left = np.zeros(len(pairs))
        for outcome in PAIRWISE_OUTCOMES:
            rates = np.nan_to_num(sub[outcome].to_numpy(float))
            ax.barh(ys, rates, left=left, color=OUTCOME_COLORS[outcome], height=0.7,
                    label={"win": "first wins", "tie": "tie", "loss": "second wins"}[outcome])
            left += rates
        ax.axvline(0.5, color="black", linewidth=0.6, linestyle=":")
        ax.set_xlim(0, 1)
        ax.set_yticks(ys)
        ax.set_yticklabels([f"{run_label(config, a)}\nvs {run_label(config, b)}" for a, b in pairs], fontsize="x-small")
        ax.set_ylim(len(pairs) - 0.5, -0.5)
        ax.set_title("all tested languages" if lang == "all" else f"{config['languages'][lang]['name']} ({lang})",
                     fontsize="medium")
        ax.set_xlabel("share of questions (both orders judged)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize="small")
    incomplete = sorted({f"{a} vs {b} {lang}" for a, b, lang in
                         records.loc[records["error"], ["a", "b", "lang"]].itertuples(index=False)})
    return FigureResult(fig, axes, data, [], incomplete)


def _average_scores(config: dict, spec: PlotSpec, scores: pd.DataFrame, by: str, settings: Settings) -> pd.DataFrame:
    rows = []
    for (group, run), sub in scores.groupby([by, "run"], sort=False):
        values = sub["score"].dropna().to_numpy()
        est = bootstrap_ci(values, "mean", seed=settings.seed, key=f"{spec.name}|{group}|{run}",
                           n_resamples=settings.n_resamples, confidence=settings.confidence)
        rows.append({"figure": spec.name, by: group, "run": run, "label": run_label(config, run), "value": est.value,
                     "ci_low": est.ci_low, "ci_high": est.ci_high, "n": len(values),
                     "n_errors": int(sub["score"].isna().sum()), "languages": " ".join(sorted(set(sub["lang"]))),
                     "opponents": " ".join(sorted(set(sub["opponent"])))})
    return pd.DataFrame(rows)


def _bars(config: dict, spec: PlotSpec, data: pd.DataFrame, by: str, order: list[str], xlabel: str) -> FigureResult:
    runs = list(dict.fromkeys(data["run"]))
    palette = dict(zip(runs, sns.color_palette("colorblind", max(3, len(runs)))))
    fig, ax = plt.subplots(figsize=(max(4.5, 0.9 * len(order) * max(1, len(runs)) / 2 + 2.5), 3.6))
    width = 0.8 / max(1, len(runs))
    for i, run in enumerate(runs):
        sub = data[data["run"] == run].set_index(by).reindex(order)
        xs = np.arange(len(order)) + (i - (len(runs) - 1) / 2) * width
        v = sub["value"].to_numpy(float)
        err = np.clip(np.nan_to_num(np.vstack([v - sub["ci_low"].to_numpy(float), sub["ci_high"].to_numpy(float) - v])),
                      0, None)
        ax.bar(xs, np.nan_to_num(v), width=width, color=palette[run], label=run_label(config, run))
        ax.errorbar(xs, np.nan_to_num(v), yerr=err, fmt="none", color="black", capsize=2, linewidth=0.8)
    ax.set_xticks(np.arange(len(order)))
    ax.set_xticklabels(order, fontsize="small", rotation=20 if len(order) > 4 else 0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("average score (0-10)")
    ax.set_ylim(0, 10)
    fig.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize="small", title="model")
    return FigureResult(fig, np.array([ax], dtype=object), data, [], [])


def pairwise_groups(config: dict, spec: PlotSpec, records: pd.DataFrame, settings: Settings) -> FigureResult:
    """Figure 6: each run's average score over all its pairs, per language group."""
    scores = model_scores(records[records["metric"] == spec.metrics[0]])
    groups = language_groups(config, spec.study, sorted(set(scores["lang"])))
    scores = scores.assign(group=scores["lang"].map(groups))
    data = _average_scores(config, spec, scores, "group", settings)
    return _bars(config, spec, data, "group", sorted(set(groups.values())), "language group (pre-training)")


def read_categories(paths: list[str]) -> dict[tuple[str, str], str]:
    """(lang, prompt id) -> category, from the test prompt files; a prompt without one is an error."""
    out = {}
    for path in paths:
        def check(record: dict) -> None:
            if not record.get("category"):
                raise ValueError("a test prompt without 'category' (kind pairwise_categories needs one per prompt)")

        for record in iter_jsonl(path, check=check):
            out[(record["lang"], record["id"])] = record["category"]
    return out


def pairwise_categories(config: dict, spec: PlotSpec, records: pd.DataFrame, categories: dict, settings: Settings
                        ) -> FigureResult:
    """Figure 7: each run's average score over all its pairs, per question category."""
    scores = model_scores(records[records["metric"] == spec.metrics[0]])
    keys = list(zip(scores["lang"], scores["id"]))
    unknown = [k for k in keys if k not in categories]
    if unknown:
        raise DataError(f"figure {spec.name}: {len(unknown)} judged prompts are not in the test prompt files, "
                        f"e.g. {unknown[:3]}")
    scores = scores.assign(category=[categories[k] for k in keys])
    data = _average_scores(config, spec, scores, "category", settings)
    return _bars(config, spec, data, "category", list(dict.fromkeys(sorted(set(scores["category"])))),
                 "question category")
