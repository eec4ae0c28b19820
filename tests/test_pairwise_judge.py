"""Bactrian-X §6 end to end on small inputs: the judge stage scores the study's pairs with a real local model
(a tiny random LM reading the Vicuna review's two 0-10 scores from label probabilities, both orders), and
figures 5-7 and the study table are checked against averages recomputed here from the raw order scores."""

from __future__ import annotations

import pytest

from polyalpaca.config import load_config
from polyalpaca.evaluate.judge import JudgeConfig, JudgeJob, score_generations
from polyalpaca.evaluate.judge.templates import builtin_template_path
from polyalpaca.figures import make_figure, study_table, study_view
from polyalpaca.figures.specs import pair_inputs
from polyalpaca.io import read_jsonl, write_jsonl
from polyalpaca.tiny.causal import build_causal_model

from .conftest import REPO
from .judge_helpers import settings

TEXTS = ["[Question] How do I stay healthy? Assistant 1 Assistant 2 8 6 7 9 10 3 0 5",
         "We would like to request your feedback on the performance of two AI assistants.",
         "Exercise, sleep and eat well. Bougez, dormez et mangez bien."] * 4
RUNS = ("l-7/alpaca-multi/lora", "l-7/published/alp", "b-l/alpaca-multi/lora", "b-z/published/bz")
ANSWERS = {"l-7/alpaca-multi/lora": "Exercise daily and sleep eight hours.", "l-7/published/alp": "Eat well.",
           "b-l/alpaca-multi/lora": "Bougez, dormez et mangez bien.", "b-z/published/bz": "Yes"}
CATEGORIES = ("generic", "knowledge", "math")


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """The figures config's bx study judged for real: pair score files, test prompts, the tiny judge."""
    tmp = tmp_path_factory.mktemp("bx")
    judge_dir = build_causal_model("llama", tmp / "tiny-judge", TEXTS, hidden_size=32, layers=1, heads=4,
                                   vocab_size=300, seed=6)
    config = load_config(REPO / "tests" / "figures_config.yaml")
    root = tmp / "results"
    for lang in ("en", "fr"):
        prompts = [{"id": f"q{i}", "lang": lang, "prompt": f"Question {i} ({lang})?", "testset": "vicuna80",
                    "category": CATEGORIES[i % 3]} for i in range(5)]
        write_jsonl(root / "testsets" / "vicuna80" / f"{lang}.jsonl", prompts)
        for run in RUNS:
            model, trainset, tuning = run.split("/")
            write_jsonl(root / "generations" / run / "vicuna80" / f"{lang}.jsonl",
                        [{**p, "response": f"{ANSWERS[run]} ({p['id']})", "model": model, "trainset": trainset,
                          "tuning": tuning, "decoding": "g"} for p in prompts])
    judge = JudgeConfig(name="tiny", backend="local", model="tiny-judge")
    template = builtin_template_path("judge_pairwise").with_name("pairwise-vicuna-v1.yaml")
    for inp in pair_inputs(config, "bx", root=root):
        model, trainset, tuning = inp.a.split("/")
        job = JudgeJob(metric=inp.metric, kind="judge_pairwise", judge="tiny", model=model, trainset=trainset,
                       tuning=tuning, testset="vicuna80", lang=inp.lang, language=inp.lang, reference_run=inp.b)
        score_generations(job, judge, settings(tmp), template=template,
                          generations=root / "generations" / inp.a / "vicuna80" / f"{inp.lang}.jsonl",
                          output=inp.path, reference=root / "generations" / inp.b / "vicuna80" / f"{inp.lang}.jsonl",
                          model_dir=judge_dir, threads=1)
    return config, root


def _raw(config, root):
    """(pair a, pair b, lang, id, a's mean score, b's mean score, verdict) from the orders' raw scores."""
    out = []
    for inp in pair_inputs(config, "bx", root=root):
        for r in read_jsonl(inp.path):
            ab, ba = r["scores_ab"], r["scores_ba"]  # order ab: a is assistant 1; order ba: a is assistant 2
            out.append((inp.a, inp.b, inp.lang, r["id"], (ab[0] + ba[1]) / 2, (ab[1] + ba[0]) / 2, r["verdict"]))
    return out


def test_every_pair_is_scored_in_both_orders(judged):
    config, root = judged
    inputs = pair_inputs(config, "bx", root=root)
    assert len(inputs) == 3 * 2
    for inp in inputs:
        records = read_jsonl(inp.path)
        assert len(records) == 5 and all("error" not in r for r in records), records
        for r in records:
            assert r["reference"] == inp.b and r["template"].startswith("pairwise-vicuna-v1")
            assert all(s in range(11) for s in r["scores_ab"] + r["scores_ba"])
            # FastChat's rule: a verdict that changes with the order is a tie
            assert r["verdict"] == (r["verdict_ab"] if r["verdict_ab"] == r["verdict_ba"] else "tie")


def test_figures_5_6_7_and_table_agree_with_the_raw_scores(judged):
    config, root = judged
    raw = _raw(config, root)
    outcomes = make_figure(config, "bx_pairwise", root).data.set_index(["lang", "a", "b"])
    for (a, b) in {(r[0], r[1]) for r in raw}:
        mine = [r[6] for r in raw if (r[0], r[1]) == (a, b)]
        row = outcomes.loc[("all", a, b)]
        assert (row["win"], row["tie"], row["loss"]) == pytest.approx(
            tuple(mine.count(v) / len(mine) for v in ("win", "tie", "loss")))

    def average(run, keep):
        scores = [r[4] for r in raw if r[0] == run and keep(r)] + [r[5] for r in raw if r[1] == run and keep(r)]
        return sum(scores) / len(scores), len(scores)

    groups = make_figure(config, "bx_groups", root).data
    group_of = {"en": "1: seen by bloom and llama", "fr": "2: seen by bloom only"}
    for row in groups.itertuples():
        lang = next(k for k, v in group_of.items() if v == row.group)
        assert (row.value, row.n) == pytest.approx(average(row.run, lambda r: r[2] == lang))
    category = {f"q{i}": CATEGORIES[i % 3] for i in range(5)}
    cats = make_figure(config, "bx_categories", root).data
    assert set(cats["category"]) == set(CATEGORIES)
    for row in cats.itertuples():
        assert (row.value, row.n) == pytest.approx(average(row.run, lambda r: category[r[3]] == row.category))
    # BX-BLOOM is in two pairs: its average pools both, as "the average score for each model from all pairs"
    assert groups.query("run == 'b-l/alpaca-multi/lora'")["n"].sum() == 2 * 2 * 5
    view = study_view(config, "bx", figures=False)  # what the rule passes the table script
    table = study_table(view, "bx", root).set_index(["model", "trainset", "tuning", "lang", "opponent", "metric"])
    a, b, lang = "b-l/alpaca-multi/lora", "b-z/published/bz", "fr"
    row = table.loc[(*a.split("/"), lang, b, "pairwise.opponent_score")]
    mine = [r[5] for r in raw if (r[0], r[1], r[2]) == (a, b, lang)]
    assert row["value"] == pytest.approx(sum(mine) / len(mine)) and row["method"] == "lora"
    assert table.loc[(*a.split("/"), lang, b, "pairwise"), "n_answers"] == 2 * 5
