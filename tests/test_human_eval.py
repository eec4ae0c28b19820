"""Zero-shot figures 5 (judge vs human agreement, from a user-supplied annotation file) and 2-right
(helpfulness per task category): real runs of the figure code on small score, prompt and annotation files."""

from __future__ import annotations

import json

import pytest

from polyalpaca.config import load_config, validate_config
from polyalpaca.errors import ConfigError, DataError
from polyalpaca.figures import make_figure, plot_specs, score_inputs
from polyalpaca.figures.scores import CRITERIA
from polyalpaca.io import write_jsonl

from .conftest import REPO

N = 6
PAPER_5 = "App. B: Figure 5 shows the statistics on the agreement between human and GPT-3.5-based evaluation"
PAPER_2R = "§5: Figure 2 (right) breaks down human-evaluated helpfulness by task category."
RUN = "l-7/dolly-en/lora"


@pytest.fixture
def config(tmp_path):
    cfg = load_config(REPO / "tests" / "figures_config.yaml")
    cfg["figures"]["plots"]["zs_agree"] = {"kind": "judge_agreement",
                                           "human_annotations": str(tmp_path / "human.jsonl")}
    cfg["figures"]["plots"]["zs_tasks"] = {"kind": "task_helpfulness", "models": ["l-7"], "trainsets": ["dolly-en"]}
    cfg["studies"]["zs"]["figures"] += ["zs_agree", "zs_tasks"]
    return validate_config(cfg)


@pytest.fixture
def root(config, tmp_path):
    """Criteria scores: helpfulness 3 on even prompts, 1 on odd; the other criteria 2. Prompts q0..q5 with
    tasks 'email' (even) and 'recipe' (odd)."""
    base = tmp_path / "results"
    for inp in score_inputs(config, "zs", metrics=("judge-criteria",), root=base):
        write_jsonl(inp.path, [{"id": f"q{i}", "lang": inp.lang, "metric": inp.metric, "value": 2.0,
                                "criteria": {**dict.fromkeys(CRITERIA, 2), "helpfulness": 3 if i % 2 == 0 else 1}}
                               for i in range(N)])
    for lang in ("en", "fr"):
        write_jsonl(base / "testsets" / "alpacafarm_eval" / f"{lang}.jsonl",
                    [{"id": f"q{i}", "prompt": f"p{i}", "lang": lang, "testset": "alpacafarm_eval",
                      "task": "email" if i % 2 == 0 else "recipe"} for i in range(N)])
    return base


def _human(path, lines):
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")


def test_judge_human_agreement_per_criterion(config, root, tmp_path):
    # judge helpfulness on 0-2: q0 -> 2, q1 -> 0; fluency -> 1
    _human(tmp_path / "human.jsonl", [
        {"id": "q0", "lang": "fr", "run": RUN, "criteria": {"helpfulness": 2, "fluency": 1}},   # equal, equal
        {"id": "q1", "lang": "fr", "run": RUN, "criteria": {"helpfulness": 1, "fluency": 1}},   # 1 apart, equal
        {"id": "q3", "lang": "en", "run": RUN, "criteria": {"helpfulness": 2}},                 # 2 apart
    ])
    result = make_figure(config, "zs_agree", root)
    table = result.data.set_index("criterion")
    assert table.loc["helpfulness", "pairs"] == 3, PAPER_5
    assert [table.loc["helpfulness", k] for k in ("equal", "1 apart", "2 apart")] == pytest.approx([1 / 3] * 3)
    assert table.loc["fluency", "equal"] == 1.0 and table.loc["fluency", "pairs"] == 2
    assert table.loc["helpfulness", "mean_human_minus_judge"] == pytest.approx((0 + 1 + 2) / 3)


@pytest.mark.parametrize("line, reason", [
    ({"lang": "fr", "run": RUN, "criteria": {"helpfulness": 1}}, "missing field 'id'"),
    ({"id": "q0", "lang": "fr", "run": "l-7/dolly-en/nope", "criteria": {"helpfulness": 1}}, "unknown run"),
    ({"id": "q0", "lang": "de", "run": RUN, "criteria": {"helpfulness": 1}}, "unknown language 'de'"),
    ({"id": "q0", "lang": "fr", "run": RUN, "criteria": {"helpful": 1}}, "unknown criterion 'helpful'"),
    ({"id": "q0", "lang": "fr", "run": RUN, "criteria": {"helpfulness": 3}}, "is not a rating 0, 1 or 2"),
])
def test_bad_annotation_lines_stop_with_path_and_line(config, root, tmp_path, line, reason):
    good = {"id": "q0", "lang": "fr", "run": RUN, "criteria": {"helpfulness": 2}}
    _human(tmp_path / "human.jsonl", [good, line])
    with pytest.raises(DataError, match=rf"{tmp_path / 'human.jsonl'}:2: .*{reason}"):
        make_figure(config, "zs_agree", root)


def test_agreement_needs_the_annotation_file(config):
    del config["figures"]["plots"]["zs_agree"]["human_annotations"]
    with pytest.raises(ConfigError, match="zs_agree.human_annotations: kind 'judge_agreement' needs"):
        plot_specs(config)


def test_helpfulness_per_task_category(config, root):
    result = make_figure(config, "zs_tasks", root)
    data = result.data[result.data["run"] == RUN].set_index(["task", "lang_group"])
    assert data.loc[("email", "English"), "value"] == 2.0 and data.loc[("recipe", "non-English mean"), "value"] == 0.0, \
        PAPER_2R
    assert set(result.data["run"]) == {"l-7/dolly-en/lora", "l-7/dolly-en/lora-hi", "l-7/dolly-en/full"}
