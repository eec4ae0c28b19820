"""LR selection (zero-shot study): surface metrics per run, the chosen LR per configuration, and the judge
spending calls on chosen runs only. "We train all listed model configurations with three learning rates
(LRs) and choose the best LR based on surface metrics." (Chirkova & Nikoulina, §4)"""

from __future__ import annotations

import copy
import csv

import pytest

from polyalpaca.config import load_config, validate_config
from polyalpaca.errors import ConfigError, DataError
from polyalpaca.evaluate.judge import JudgeConfig, JudgeJob, JudgeSettings, score_generations
from polyalpaca.evaluate.judge.targets import judge_inputs
from polyalpaca.evaluate.lr_selection import read_selection, selection_path, selection_view, write_selection
from polyalpaca.figures import score_inputs
from polyalpaca.io import read_jsonl, write_jsonl

from .conftest import REPO
from .judge_helpers import write_inputs

N = 10
# lid share of matching prompts per (trainset, tuning): dolly-en prefers lora-hi, dolly-dt ties lora/lora-hi
LID = {("dolly-en", "lora"): 6, ("dolly-en", "lora-hi"): 9, ("dolly-en", "full"): 2,
       ("dolly-dt", "lora"): 7, ("dolly-dt", "lora-hi"): 7, ("dolly-dt", "full"): 10}


@pytest.fixture
def config():
    cfg = load_config(REPO / "tests" / "figures_config.yaml")
    cfg["studies"]["zs"]["lr_selection"] = {
        "metrics": ["lid", "relevance"], "judged": ["judge-criteria"],
        "configurations": [{"model": "l-7", "trainset": "dolly-en", "method": "lora"},
                           {"model": "l-7", "trainset": "dolly-dt", "method": "lora"}]}
    return validate_config(cfg)


@pytest.fixture
def root(config, tmp_path):
    base = tmp_path / "results"
    for inp in score_inputs(config, "zs", metrics=("lid", "relevance"), root=base):
        k = LID[(inp.trainset, inp.tuning)]
        values = [float(i < k) for i in range(N)] if inp.metric == "lid" else [1.0] * N
        write_jsonl(inp.path, [{"id": f"q{i}", "lang": inp.lang, "metric": inp.metric, "value": v}
                               for i, v in enumerate(values)])
    return base


def test_selection_table_chooses_per_configuration(config, root, tmp_path):
    out = tmp_path / "sel.csv"
    write_selection(selection_view(config, "zs"), "zs", out, root)
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 6 and set(rows[0]) >= {"configuration", "learning_rate", "lid", "relevance", "score", "selected"}
    chosen = {r["configuration"]: r["tuning"] for r in rows if r["selected"] == "true"}
    # dolly-en/lora: lora-hi (0.9) beats lora (0.6); dolly-dt/lora: a tie goes to the lower LR;
    # full is a configuration of its own (one LR): selected, but not among the judged configurations
    assert chosen == {"l-7/dolly-en/lora": "lora-hi", "l-7/dolly-dt/lora": "lora", "l-7/dolly-en/full": "full",
                      "l-7/dolly-dt/full": "full"}
    by_run = read_selection(out)
    assert by_run["l-7/dolly-en/lora-hi"]["judged"] and not by_run["l-7/dolly-en/full"]["judged"]
    assert float(by_run["l-7/dolly-en/lora-hi"]["score"]) == pytest.approx((0.9 + 1.0) / 2)


def test_min_rule_and_a_configuration_without_scores(config, root, tmp_path):
    config["studies"]["zs"]["lr_selection"]["rule"] = "min"
    write_selection(selection_view(config, "zs"), "zs", tmp_path / "min.csv", root)
    for inp in score_inputs(config, "zs", metrics=("lid",), root=root):
        if inp.trainset == "dolly-dt" and inp.tuning == "full":
            write_jsonl(inp.path, [{"id": f"q{i}", "lang": inp.lang, "metric": "lid", "value": None,
                                    "error": "no LID"} for i in range(N)])
    with pytest.raises(DataError, match="configuration l-7/dolly-dt/full has no run with a value"):
        write_selection(selection_view(config, "zs"), "zs", tmp_path / "x.csv", root)


def test_selection_errors_name_the_key(config):
    bad = copy.deepcopy(config)
    bad["studies"]["zs"]["lr_selection"]["judged"] = ["lid"]
    with pytest.raises(ConfigError, match=r"lr_selection.judged\[0\]: 'lid' decides the selection"):
        selection_view(bad, "zs") and write_selection(bad, "zs", "/dev/null")
    bad = copy.deepcopy(config)
    bad["studies"]["zs"]["lr_selection"]["configurations"][0]["trainset"] = "alpaca-en"
    with pytest.raises(ConfigError, match=r"lr_selection.configurations\[0\]: the study has no run of l-7 on alpaca-en"):
        write_selection(bad, "zs", "/dev/null")


def test_judge_jobs_read_the_selection_and_skip_unchosen_runs(config, root, tmp_path):
    inputs = judge_inputs(config, "judge-criteria", "l-7", "dolly-en", "lora", "alpacafarm_eval", "en")
    assert inputs["selection"] == selection_path("zs")
    assert "selection" not in judge_inputs(config, "relevance", "l-7", "dolly-en", "lora", "alpacafarm_eval", "en")
    table = tmp_path / "sel.csv"
    write_selection(selection_view(config, "zs"), "zs", table, root)
    paths = write_inputs(tmp_path / "in", ["une réponse", "une autre"])
    # an unreachable endpoint: any request would fail the job
    judge = JudgeConfig(name="j", backend="openai", model="gpt-x", base_url="http://127.0.0.1:9", max_retries=0)
    settings = JudgeSettings(cache_dir=str(tmp_path / "cache"))
    for tuning, reason in (("lora", "the LR selection chose lora-hi for l-7/dolly-en/lora"),
                           ("full", "configuration l-7/dolly-en/full is not among lr_selection.configurations")):
        job = JudgeJob(metric="judge-criteria", kind="judge_criteria", judge="j", model="l-7", trainset="dolly-en",
                       tuning=tuning, testset="alpacafarm_eval", lang="fr", language="French")
        out = tmp_path / f"{tuning}.jsonl"
        summary = score_generations(job, judge, settings, template=inputs["template"], output=out,
                                    selection=table, **paths)
        records = read_jsonl(out)
        assert summary["requests"] == 0 and len(records) == 2
        assert all(r["value"] is None and r["not_selected"] and reason in r["error"] for r in records)


def test_figure_3_draws_the_chosen_run_of_each_judged_configuration(config, root, tmp_path):
    from polyalpaca.figures import make_figure
    from polyalpaca.figures.scores import CRITERIA

    config["figures"]["plots"]["zs_fig3"] = {"kind": "configurations", "criteria_scale": "0-2"}
    config["studies"]["zs"]["figures"].append("zs_fig3")
    table = tmp_path / "sel.csv"
    write_selection(selection_view(config, "zs"), "zs", table, root)
    chosen = read_selection(table)
    for inp in score_inputs(config, "zs", metrics=("judge-criteria",), root=root):
        if chosen[inp.run_id]["judged"]:
            rows = [{"id": f"q{i}", "lang": inp.lang, "metric": inp.metric, "value": 2.0,
                     "criteria": dict.fromkeys(CRITERIA, 2)} for i in range(N)]
        else:
            rows = [{"id": f"q{i}", "lang": inp.lang, "metric": inp.metric, "value": None, "not_selected": True,
                     "error": "not judged"} for i in range(N)]
        write_jsonl(inp.path, rows)
    result = make_figure(config, "zs_fig3", root)
    assert set(result.data["tuning"]) == {"lora-hi", "lora"} and set(result.data["trainset"]) == {"dolly-en", "dolly-dt"}
    assert result.axes.shape == (2, 6) and set(result.data["value"]) == {1.0}  # 2 of 3 drawn as 1 of 2
    assert not result.missing
