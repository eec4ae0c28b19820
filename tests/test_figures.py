"""Figures stage: bootstrap, score loading, tidy tables and every figure kind, from synthetic score
files with known values (tests/figures_config.yaml)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

from polyalpaca.config import load_config, study_runs, validate_config
from polyalpaca.errors import ConfigError, DataError
from polyalpaca.evaluate import lid_ceiling_jobs, lid_ceiling_path
from polyalpaca.figures import (AGGREGATION_BY_KIND, bootstrap_ci, bootstrap_strata, build_figure, figure_inputs,
                                make_figure, plot_specs, score_inputs, study_table)
from polyalpaca.figures.scores import CRITERIA
from polyalpaca.figures.specs import pair_inputs
from polyalpaca.io import write_jsonl

from .conftest import REPO

N = 10  # prompts per score file
MATCHES = {"p-s": 1, "p-l": 5, "b-s": 2, "b-l": 6, "l-7": 4, "ol-7": 3}
TRAINSET_BONUS = {"alpaca-multi": 2, "alpaca-en": 0, "alpaca-mono-fr": 3}


@pytest.fixture(scope="module")
def config():
    return load_config(REPO / "tests" / "figures_config.yaml")


def matches(inp) -> int:
    """Prompts that pass the LID check in a judge_single file (known, for expected sums)."""
    return min(N, MATCHES[inp.model] + TRAINSET_BONUS.get(inp.trainset, 0) + (inp.tuning == "full"))


def records(inp, n=N) -> list[dict]:
    out = []
    for i in range(n):
        rec = {"id": f"q{i}", "lang": inp.lang, "metric": inp.metric}
        if inp.kind == "judge_single":  # rating 2 everywhere; value 2 for the first `matches` prompts
            rec.update(rating=2, value=2.0 if i < matches(inp) else 0.0)
        elif inp.kind == "lid":
            rec.update(value=float(i < matches(inp)), label=inp.lang)
        elif inp.kind in ("spellcheck", "relevance"):
            rec.update(value=0.5 if inp.kind == "spellcheck" else float(i % 2))
        elif inp.kind == "judge_criteria":  # 3 everywhere, fluency skipped on odd prompts
            crit = {c: 3 for c in CRITERIA}
            if i % 2:
                crit["fluency"] = None
            rec.update(criteria=crit, value=3.0)
        elif inp.kind == "judge_pairwise":  # 5 wins, 3 ties, 2 losses
            rec.update(value=1.0 if i < 5 else (0.5 if i < 8 else 0.0))
        out.append(rec)
    return out


TOKENS_HEADER = "trainset,lang,tokenizer,vocab_size,examples,instruction_tokens,input_tokens,output_tokens,tokens\n"


@pytest.fixture
def root(config, tmp_path):
    """All score files of the three studies, and a token table."""
    base = tmp_path / "results"
    for study in config["studies"]:
        for inp in score_inputs(config, study, root=base):
            write_jsonl(inp.path, records(inp))
        for metric, testset, lang in lid_ceiling_jobs(config, study):  # German: 7 of 10 test prompts identified
            write_jsonl(lid_ceiling_path(metric, testset, lang, str(base)),
                        [{"id": f"q{i}", "lang": lang, "metric": metric, "value": float(lang != "de" or i < 7),
                          "label": lang if lang != "de" or i < 7 else "nl", "pred_lang": None} for i in range(N)])
    for inp in pair_inputs(config, "bx", root=base):
        write_jsonl(inp.path, pair_records(inp))
    for lang in ("en", "fr"):  # the test prompts: their categories (figure 7)
        write_jsonl(base / "testsets" / "vicuna80" / f"{lang}.jsonl",
                    [{"id": f"q{i}", "prompt": "?", "lang": lang, "testset": "vicuna80",
                      "category": "generic" if i < 5 else "math"} for i in range(N)])
    (base / "tables").mkdir(parents=True, exist_ok=True)
    # instruction, input, output tokens: 20% / 10% / 70% of the total
    rows = [f"alpaca-multi,{lang},{m},{vocab},100,{20 * k * f},{10 * k * f},{70 * k * f},{100 * k * f}"
            for lang, f in (("en", 1), ("fr", 2)) for k, m, vocab in ((10, "l-7", 32000), (8, "b-l", 250680))]
    rows += ["alpaca-en,en,l-7,32000,100,200,100,700,1000", "alpaca-en,en,b-l,250680,100,160,80,560,800"]
    (base / "tables" / "tokens.csv").write_text(TOKENS_HEADER + "\n".join(rows) + "\n")
    return base


PAIR_INDEX = {"l-7/published/alp": 0, "b-z/published/bz": 1, "l-7/alpaca-multi/lora": 2}


def pair_records(inp, n=N) -> list[dict]:
    """5 wins, 3 ties, 2 losses of the pair's first run; its score 8 / 5 / 3 (+ 0.5 per pair index), the
    second run's 4 / 5 / 7."""
    k = PAIR_INDEX[inp.b]
    out = []
    for i in range(n):
        value = 1.0 if i < 5 else (0.5 if i < 8 else 0.0)
        out.append({"id": f"q{i}", "lang": inp.lang, "metric": inp.metric, "value": value, "reference": inp.b,
                    "run_score": {1.0: 8, 0.5: 5, 0.0: 3}[value] + 0.5 * k,
                    "reference_score": {1.0: 4, 0.5: 5, 0.0: 7}[value]})
    return out


def _input(config, root, study, model, trainset, tuning, lang, metric):
    for inp in score_inputs(config, study, root=root):
        if (inp.model, inp.trainset, inp.tuning, inp.lang, inp.metric) == (model, trainset, tuning, lang, metric):
            return inp
    raise KeyError((model, trainset, tuning, lang, metric))


def _containers(ax) -> dict:
    """label -> (x, y) of the error-bar lines drawn in a panel."""
    out = {}
    for cont in ax.containers:
        if hasattr(cont, "lines") and cont.get_label() and not cont.get_label().startswith("_"):
            line = cont.lines[0]
            out[cont.get_label()] = (np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
    return out


# ---------------------------------------------------------------- bootstrap
def test_bootstrap_ci_contains_the_mean_and_shrinks_with_more_prompts():
    rng = np.random.default_rng(0)
    small, large = rng.normal(2.0, 1.0, 20), rng.normal(2.0, 1.0, 500)
    est_small = bootstrap_ci(small, "mean", seed=1, key="a")
    est_large = bootstrap_ci(large, "mean", seed=1, key="a")
    for est, values in ((est_small, small), (est_large, large)):
        assert est.ci_low <= values.mean() <= est.ci_high
        assert est.value == pytest.approx(values.mean())
    assert (est_large.ci_high - est_large.ci_low) < 0.4 * (est_small.ci_high - est_small.ci_low)
    total = bootstrap_ci(small, "sum", seed=1, key="a")
    assert total.ci_low <= small.sum() <= total.ci_high and total.value == pytest.approx(small.sum())


def test_bootstrap_is_seeded_by_seed_and_key_and_empty_is_nan():
    values = np.arange(30.0)
    assert bootstrap_ci(values, seed=3, key="k") == bootstrap_ci(values, seed=3, key="k")
    assert bootstrap_ci(values, seed=3, key="k") != bootstrap_ci(values, seed=3, key="other")
    assert bootstrap_ci(values, seed=3, key="k") != bootstrap_ci(values, seed=4, key="k")
    assert np.isnan(bootstrap_ci([], seed=1, key="k").value)
    one = bootstrap_strata([values], "sum", seed=3, key="k")
    assert one == bootstrap_ci(values, "sum", seed=3, key="k")
    two = bootstrap_strata([[1.0] * 5, [3.0] * 8], "mean", seed=3, key="k")
    assert (two.value, two.ci_low, two.ci_high) == (2.0, 2.0, 2.0)


def test_aggregation_is_explicit_for_every_metric_kind():
    import yaml

    schema = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())
    kinds = set(schema["$defs"]["metric"]["properties"]["kind"]["enum"])
    assert set(AGGREGATION_BY_KIND) == kinds
    assert AGGREGATION_BY_KIND["judge_single"] == "sum"
    assert {AGGREGATION_BY_KIND[k] for k in kinds - {"judge_single"}} == {"mean"}


# ---------------------------------------------------------------- tables
def test_study_table_carries_the_lid_ceiling_and_warns_below_the_floor(config, root, tmp_path, caplog):
    from polyalpaca.figures import write_study_table

    table = study_table(config, "chen", root)
    lid = table[table["metric"] == "lid"].set_index(["model", "trainset", "tuning", "lang"])["lid_ceiling"]
    assert set(lid.xs("de", level="lang")) == {0.7} and set(lid.xs("fr", level="lang")) == {1.0}
    assert table.loc[table["metric"] != "lid", "lid_ceiling"].isna().all()
    with caplog.at_level("WARNING"):
        write_study_table(config, "chen", tmp_path / "chen.csv", tmp_path / "chen.html", root)
    warnings = [r.getMessage() for r in caplog.records if "LID ceiling" in r.getMessage()]
    assert len(warnings) == 1
    assert "LID ceiling of de is 0.700 (7/10; taken for nl:3), below the floor 0.95" in warnings[0]
    page = (tmp_path / "chen.html").read_text()
    assert "<b>Warning:</b> LID ceiling of de is 0.700" in page and "LID ceiling: each LID metric" in page
    assert pd.read_csv(tmp_path / "chen.csv")["lid_ceiling"].notna().sum() == int((table["metric"] == "lid").sum())
    (root / "lid_ceiling" / "lid" / "oasst_test" / "fr.jsonl").unlink()
    with pytest.raises(DataError, match=r"1 LID ceiling files of study 'chen' are missing:\n  .*lid_ceiling/lid/"
                                        r"oasst_test/fr.jsonl"):
        study_table(config, "chen", root)


def test_study_table_sums_judge_scores_counts_errors_and_derives_sub_metrics(config, root):
    bad = _input(config, root, "chen", "b-s", "alpaca-multi", "lora", "fr", "judge-single")
    recs = records(bad)
    recs[0].update(value=None, error="judge timeout")
    recs[0].pop("rating")
    recs[9].update(value=None, error="unparseable")
    write_jsonl(bad.path, recs)
    table = study_table(config, "chen", root)
    assert len(table) == len(table.drop_duplicates(["model", "trainset", "tuning", "testset", "lang", "metric"]))
    row = table.set_index(["model", "trainset", "tuning", "lang", "metric"])
    ok = row.loc[("b-l", "alpaca-multi", "lora", "en", "judge-single")]
    assert (ok["value"], ok["n"], ok["n_errors"], ok["aggregate"]) == (2 * 8, N, 0, "sum")
    assert ok["ci_low"] <= ok["value"] <= ok["ci_high"]
    assert row.loc[("b-l", "alpaca-multi", "lora", "en", "judge-single.before_lid")]["value"] == 2 * N
    assert row.loc[("b-l", "alpaca-multi", "lora", "en", "judge-single.lid_gap")]["value"] == 2 * N - 16
    hit = row.loc[("b-s", "alpaca-multi", "lora", "fr", "judge-single")]
    assert (hit["n"], hit["n_errors"], hit["value"]) == (8, 2, 2 * 3)  # prompts 1-3 of 4 matches kept
    lid = row.loc[("b-l", "alpaca-multi", "lora", "en", "lid")]
    assert (lid["value"], lid["aggregate"]) == (0.8, "mean")
    assert set(table["label"]) == {"multi", "en-only", "mono"} and set(table["method"]) == {"lora", "full"}


def test_criteria_and_pairwise_sub_metrics(config, root):
    zs = study_table(config, "zs", root).set_index(["model", "trainset", "tuning", "lang", "metric"])
    flu = zs.loc[("l-7", "dolly-en", "lora", "fr", "judge-criteria.fluency")]
    assert (flu["value"], flu["n"], flu["n_skipped"], flu["n_errors"]) == (3.0, 5, 5, 0)
    bx = study_table(config, "bx", root)
    assert set(bx["opponent"].dropna()) == {"l-7/published/alp", "b-z/published/bz", "l-7/alpaca-multi/lora"}
    rates = bx[(bx["model"] == "l-7") & (bx["trainset"] == "alpaca-multi") & (bx["lang"] == "en")
               & (bx["opponent"] == "l-7/published/alp")].set_index("metric")
    assert rates.loc["pairwise.win", "value"] == 0.5 and rates.loc["pairwise.tie", "value"] == 0.3
    assert rates.loc["pairwise.loss", "value"] == 0.2 and rates.loc["pairwise", "value"] == pytest.approx(0.65)
    assert rates.loc["pairwise.score", "value"] == pytest.approx((5 * 8 + 3 * 5 + 2 * 3) / 10)
    assert rates.loc["pairwise.opponent_score", "value"] == pytest.approx((5 * 4 + 3 * 5 + 2 * 7) / 10)
    assert rates.loc["pairwise", "kind"] == "judge_pairwise" and rates.loc["pairwise", "n"] == 10


def test_missing_score_files_are_listed(config, tmp_path):
    with pytest.raises(DataError) as err:
        study_table(config, "bx", tmp_path / "results")
    msg = str(err.value)
    assert "6 of 6 pair score files are missing" in msg  # 3 pairs x 2 languages
    for inp in pair_inputs(config, "bx", root=tmp_path / "results"):
        assert inp.path in msg


def test_study_without_any_value_fails_with_its_inputs(config, tmp_path):
    inputs = pair_inputs(config, "bx", root=tmp_path / "results")
    for inp in inputs:
        write_jsonl(inp.path, [{"id": "q0", "lang": inp.lang, "metric": inp.metric, "value": None, "error": "x"}])
    with pytest.raises(DataError, match="no scores in any of its 6 score files") as err:
        study_table(config, "bx", tmp_path / "results")
    assert all(inp.path in str(err.value) for inp in inputs)
    with pytest.raises(DataError, match="figure bx_pairwise: no verdict in any of its 6 pair score files"):
        make_figure(config, "bx_pairwise", tmp_path / "results")


def test_bad_record_names_file_and_line(config, root):
    bad = pair_inputs(config, "bx", root=root)[0]
    recs = pair_records(bad)
    recs[1]["value"] = 0.7
    write_jsonl(bad.path, recs)
    with pytest.raises(DataError, match=rf"{bad.path}:2: a pairwise 'value' must be 1, 0.5, 0 or null"):
        study_table(config, "bx", root)
    recs[1]["value"], recs[1]["run_score"] = 1.0, 11
    write_jsonl(bad.path, recs)
    with pytest.raises(DataError, match=rf"{bad.path}:2: 'run_score' must be a number within 0-10"):
        study_table(config, "bx", root)
    recs = pair_records(bad)
    recs[1]["value"] = 1.0
    recs[2]["lang"] = "fr"
    write_jsonl(bad.path, recs)
    with pytest.raises(DataError, match=rf"{bad.path}:3: 'lang' is 'fr'"):
        study_table(config, "bx", root)


# ---------------------------------------------------------------- figures
def test_size_curves_draw_known_sums_per_language_on_a_log_axis(config, root):
    result = make_figure(config, "bloom_lora", root)
    visible = [ax for ax in result.axes.flat if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["English (en)", "French (fr)"]
    en, fr = visible
    for ax in visible:
        assert ax.get_xscale() == "log"
        assert ax.get_xlabel() == "model size (billion parameters)"
        assert ax.get_ylim() == (0.0, 3.0 * N)
    assert "judge score (sum over prompts)" in en.get_ylabel()
    lines = _containers(en)
    assert set(lines) == {"multi", "en-only"}  # mono is tested in French only
    x, y = lines["multi"]
    assert list(x) == [0.5, 7.0] and list(y) == [2 * (2 + 2), 2 * (6 + 2)]
    assert list(_containers(fr)["mono"][1]) == [2 * 5, 2 * 9]
    data = result.data.set_index(["lang", "label", "model"])
    assert data.loc[("fr", "mono", "b-l"), "value"] == 18 and data.loc[("fr", "mono", "b-l"), "status"] == "ok"
    assert not result.missing
    # a point of one score file has exactly the value and interval of the study table's row
    table = study_table(config, "chen", root).set_index(["model", "trainset", "tuning", "lang", "metric"])
    row = table.loc[("b-s", "alpaca-multi", "lora", "fr", "judge-single")]
    point = data.loc[("fr", "multi", "b-s")]
    assert (point["value"], point["ci_low"], point["ci_high"]) == (row["value"], row["ci_low"], row["ci_high"])


def test_a_failed_run_is_listed_not_dropped(config, root):
    failed = _input(config, root, "chen", "b-l", "alpaca-en", "lora", "en", "judge-single")
    write_jsonl(failed.path, [{"id": f"q{i}", "lang": "en", "metric": "judge-single", "value": None,
                               "error": "judge failed"} for i in range(N)])
    result = make_figure(config, "bloom_lora", root)
    assert result.missing == ["b-l/alpaca-en/lora judge-single [en] (10 errors)"]
    row = result.data.set_index(["lang", "label", "model"]).loc[("en", "en-only", "b-l")]
    assert row["status"] == "missing" and np.isnan(row["value"])
    x, y = _containers(result.axes.flat[0])["en-only"]
    assert np.isnan(y[1]) and y[0] == 4  # the line breaks at the failed run
    texts = " ".join(t.get_text() for t in result.figure.texts)
    assert "Missing" in texts and "b-l/alpaca-en/lora judge-single [en]" in texts


def test_size_curves_with_two_methods_use_a_row_per_method(config, root):
    result = make_figure(config, "bloom_unseen", root)
    assert result.axes.shape == (2, 1)
    assert [ax.get_title() for ax in result.axes[:, 0]] == ["German (de) — lora", "German (de) — full"]
    assert list(_containers(result.axes[1, 0])["multi"][1]) == [2 * 5, 2 * 9]


def test_lid_gap_averages_over_languages_per_method_and_family(config, root):
    result = make_figure(config, "lid_gap", root)
    titles = [ax.get_title() for ax in result.axes.flat if ax.get_visible()]
    assert titles == ["gpt_neox — lora", "bloom — lora", "llama — lora", "bloom — full"]
    ax = result.axes.flat[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "symlog"
    # gap = 2 * (N - matches) per language; multi on p-s: matches 3 in en, fr, de
    assert list(_containers(ax)["multi"][1]) == [2 * (N - 3), 2 * (N - 7)]
    data = result.data.set_index(["method", "label", "model"])
    assert data.loc[("lora", "mono", "b-s"), "units"] == 1 and data.loc[("lora", "multi", "b-s"), "units"] == 3
    llama = result.axes.flat[2]  # two 7B llama models: dodged apart, told apart by markers
    x, _ = _containers(llama)["multi"]
    assert len(set(x)) == 2 and all(6.0 < v < 8.0 for v in x)
    assert {"l-7", "ol-7"} <= set(llama.get_legend_handles_labels()[1])


def test_family_bars_compare_the_selected_sizes(config, root):
    result = make_figure(config, "sevenb", root)
    ax = result.axes.flat[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["b-l\n(bloom)", "l-7\n(llama)", "ol-7\n(llama)"]
    heights = {}
    for cont in ax.containers:
        if hasattr(cont, "patches"):
            heights[cont.get_label()] = [p.get_height() for p in cont.patches]
    assert heights["multi"] == [16, 12, 10] and heights["en-only"] == [12, 8, 6]


def test_family_and_label_filters_as_chen_figures_6_and_7(config, root):
    """Chen et al.'s figure 6 has BLOOM and Pythia panels only; figure 7 no English-only bars."""
    cfg = _with(config, lid_gap={"kind": "lid_gap", "family": ["gpt_neox", "bloom"]},
                sevenb={"kind": "family_bars", "method": "lora", "params_b": {"min": 6, "max": 8},
                        "languages": "seen", "trainsets": ["alpaca-multi", "alpaca-mono-fr"]})
    titles = [ax.get_title() for ax in make_figure(cfg, "lid_gap", root).axes.flat if ax.get_visible()]
    assert titles == ["gpt_neox — lora", "bloom — lora", "bloom — full"]
    bars = make_figure(cfg, "sevenb", root)
    assert set(bars.data["label"]) == {"multi", "mono"}  # en-only runs of the same models left out


def test_pairwise_outcomes_per_pair_and_language(config, root):
    """Bactrian-X figure 5: the three pairs, the first run's wins / ties / losses, per language and over all."""
    result = make_figure(config, "bx_pairwise", root)
    assert [ax.get_title() for ax in result.axes] == ["English (en)", "French (fr)", "all tested languages"]
    en = result.axes[0]
    assert [p.get_width() for p in en.containers[0].patches] == [0.5, 0.5, 0.5]  # wins of each pair
    assert [t.get_text() for t in en.get_yticklabels()][0] == "l-7 · multi\nvs Alpaca-LoRA"
    overall = result.data.query("lang == 'all'")
    assert list(overall["n"]) == [20, 20, 20] and list(overall["tie"]) == pytest.approx([0.3] * 3)


def test_pairwise_average_scores_by_language_group_and_category(config, root):
    """Figures 6 and 7: each run's score averaged over every pair it is in, recomputed here by hand from the
    written records; groups from families.<f>.pretraining_languages (bloom: en fr, llama: en)."""
    expected = {}  # (lang, category, run) -> scores
    for inp in pair_inputs(config, "bx", root=root):
        for i, rec in enumerate(pair_records(inp)):
            cat = "generic" if i < 5 else "math"
            expected.setdefault((inp.lang, cat, inp.a), []).append(rec["run_score"])
            expected.setdefault((inp.lang, cat, inp.b), []).append(rec["reference_score"])

    def mean(keys):
        values = [v for k in keys for v in expected[k]]
        return sum(values) / len(values)

    groups = make_figure(config, "bx_groups", root).data.set_index(["group", "run"])
    bl = "b-l/alpaca-multi/lora"
    assert groups.loc[("1: seen by bloom and llama", bl), "value"] == pytest.approx(
        mean([k for k in expected if k[0] == "en" and k[2] == bl]))
    assert groups.loc[("2: seen by bloom only", "l-7/published/alp"), "value"] == pytest.approx(
        mean([k for k in expected if k[0] == "fr" and k[2] == "l-7/published/alp"]))
    assert groups.loc[("2: seen by bloom only", bl), "n"] == 20  # two pairs x 10 prompts in French
    assert set(groups.index.get_level_values("group")) == {"1: seen by bloom and llama", "2: seen by bloom only"}
    cats = make_figure(config, "bx_categories", root).data.set_index(["category", "run"])
    for (cat, run), row in cats.iterrows():
        assert row["value"] == pytest.approx(mean([k for k in expected if k[1] == cat and k[2] == run]))
    assert len(cats) == 2 * 4  # two categories x the four runs of the pairs (two fine-tuned, two baselines)


def test_token_counts_from_the_token_table(config, root):
    result = make_figure(config, "bx_tokens", root)
    assert result.axes.shape == (4, 2)  # (instruction, input, response, total) per example x two trainsets
    data = result.data.set_index(["trainset", "lang", "tokenizer"])
    row = data.loc[("alpaca-multi", "fr", "l-7")]
    assert (row["instruction_per_example"], row["input_per_example"], row["response_per_example"],
            row["total_per_example"]) == (4, 2, 14, 20)
    heights = [p.get_height() for p in result.axes[2, 0].patches if p.get_height() > 0]
    assert sorted(heights) == [5.6, 7, 11.2, 14]  # response bars: l-7 and b-l in en and fr
    legend = [t.get_text() for t in result.figure.legends[0].get_texts()]
    assert legend == ["l-7 (vocabulary 32,000)", "b-l (vocabulary 250,680)"]
    (root / "tables" / "tokens.csv").write_text(TOKENS_HEADER + "other,en,l-7,32000,1,1,0,1,2\n")
    with pytest.raises(DataError, match="no token counts for trainsets alpaca-multi, alpaca-en"):
        make_figure(config, "bx_tokens", root)
    (root / "tables" / "tokens.csv").write_text(TOKENS_HEADER + "alpaca-en,en,l-7,32000,1,x,0,1,2\n")
    with pytest.raises(DataError, match=r"tokens.csv:2: instruction_tokens must be a count"):
        make_figure(config, "bx_tokens", root)


def test_zero_shot_figures_against_learning_rate(config, root):
    surface = make_figure(config, "zs_surface", root)
    assert surface.axes.shape == (3, 2)  # metrics x languages (one model)
    ax = surface.axes[0, 1]
    assert ax.get_xscale() == "log" and ax.get_title() == "French (fr)"
    x, y = _containers(ax)["dolly-en · lora"]
    assert list(x) == [1e-4, 1e-3] and list(y) == [0.4, 0.4]  # lid: 4 of 10 prompts match for l-7
    criteria = make_figure(config, "zs_criteria", root)
    assert criteria.axes.shape == (2, 6)
    assert criteria.axes[0, 0].get_ylabel().startswith("English") and "non-English" in criteria.axes[1, 0].get_ylabel()
    flu = criteria.data.query("metric == 'judge-criteria.fluency' and lang_group == 'English'")
    assert set(flu["n"]) == {5}
    languages = make_figure(config, "zs_languages", root)
    assert languages.axes.shape == (1, 2) and languages.axes[0, 0].get_ylim()[0] < 1.0


def test_criteria_drawn_on_the_papers_0_to_2_scale(config, root):
    """Zero-shot §3: "We also use the same scale from 0 to 2" — ratings are stored 1-3, drawn 0-2."""
    as_rated = make_figure(config, "zs_criteria", root).data
    cfg = copy.deepcopy(config)
    for name in ("zs_criteria", "zs_languages"):
        cfg["figures"]["plots"][name]["criteria_scale"] = "0-2"
    shifted = make_figure(cfg, "zs_criteria", root)
    assert list(shifted.data["value"]) == list(as_rated["value"] - 1.0) and set(shifted.data["value"]) == {2.0}
    assert shifted.axes[0, 0].get_ylim()[0] < 0.0 < shifted.axes[0, 0].get_ylim()[1] < 2.2
    per_language = make_figure(cfg, "zs_languages", root)
    assert per_language.data["ci_high"].max() <= 2.0


def test_build_figure_writes_pdf_png_and_data(config, root, tmp_path):
    out = tmp_path / "out"
    build_figure(config, "bloom_lora", pdf=str(out / "f.pdf"), png=str(out / "f.png"), data_csv=str(out / "f.csv"),
                 root=root)
    assert (out / "f.pdf").read_bytes()[:5] == b"%PDF-"
    assert (out / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = pd.read_csv(out / "f.csv")
    assert {"figure", "lang", "label", "model", "value", "ci_low", "ci_high", "n", "n_errors", "status"} <= set(data)
    assert not list(out.glob(".*.tmp"))


# ---------------------------------------------------------------- specs
def _with(config, **plots):
    cfg = copy.deepcopy(config)
    cfg["figures"]["plots"].update(plots)
    return cfg


def test_spec_errors_name_the_config_key(config):
    with pytest.raises(ConfigError, match=r"figures.plots.bloom_lora.family: 'blom' is not defined in families"):
        plot_specs(_with(config, bloom_lora={"kind": "size_curves", "family": "blom"}))
    with pytest.raises(ConfigError, match=r"figures.plots.bloom_lora: selects no run of study 'chen'"):
        plot_specs(_with(config, bloom_lora={"kind": "size_curves", "family": "bloom", "params_b": {"min": 50}}))
    with pytest.raises(ConfigError, match=r"figures.plots.lid_gap.metric: kind 'lid_gap' needs a judge_single metric"):
        plot_specs(_with(config, lid_gap={"kind": "lid_gap", "metric": "lid"}))
    with pytest.raises(ConfigError, match=r"figures.plots.sevenb.languages\[0\]: study 'chen' tests no run in 'pt'"):
        plot_specs(_with(config, sevenb={"kind": "family_bars", "languages": ["pt"]}))
    cfg = copy.deepcopy(config)
    del cfg["figures"]["plots"]["sevenb"]
    with pytest.raises(ConfigError, match=r"studies.chen.figures\[3\]: 'sevenb' has no entry in figures.plots"):
        plot_specs(cfg)
    cfg = copy.deepcopy(config)
    cfg["figures"]["plots"]["sevenb"]["kind"] = "bars"
    with pytest.raises(ConfigError, match=r"figures.plots.sevenb.kind"):
        validate_config(cfg)


def test_fig3_of_the_paper_grid_reads_only_bloom_lora_scores():
    config = load_config(REPO / "config.yaml")
    spec = plot_specs(config)["fig3"]
    inputs = figure_inputs(config, spec)
    chen_models = {run.model for run in study_runs(config, "chen2024")}  # (BLOOMZ is a bactrianx baseline)
    bloom = {m for m, body in config["models"].items() if body["family"] == "bloom" and m in chen_models}
    assert {inp.model for inp in inputs} == bloom and len(bloom) == 5
    assert {inp.tuning for inp in inputs} == {"chen-lora"} and {inp.metric for inp in inputs} == {"judge-single"}
    assert {inp.lang for inp in inputs} == {"en", "es", "fr", "bg", "ru", "zh"}
    assert len(inputs) == 5 * (3 * 6 + 5)  # 5 sizes x (3 multilingual/English recipes x 6 langs + 5 mono)
    assert json.dumps(sorted(plot_specs(config)))  # every paper figure has a spec
