"""The local backend: a tiny random causal LM read through the probabilities of the label tokens."""

from __future__ import annotations

import pytest

from polyalpaca.evaluate.judge import JudgeConfig
from polyalpaca.io import read_jsonl
from polyalpaca.tiny.causal import build_causal_model

from .judge_helpers import run_judge, write_inputs

TEXTS = ["Rating: [[1]] [[2]] [[3]] Answer: 0 1 [[A]] [[B]] [[C]]",
         '{"helpfulness": 2, "language_correctness": 3}',
         "Question numéro un : expliquez le sujet. Réponse courte en français.",
         "Please act as an impartial judge and evaluate the quality of the response."] * 3


@pytest.fixture(scope="module")
def tiny_judge(tmp_path_factory):
    return build_causal_model("llama", tmp_path_factory.mktemp("models") / "tiny-judge", TEXTS,
                              hidden_size=32, layers=1, heads=4, vocab_size=400, seed=6)


def _judge():
    return JudgeConfig(name="fake", backend="local", model="tiny-judge")


@pytest.mark.parametrize("kind", ["judge_single", "judge_criteria", "relevance", "judge_pairwise"])
def test_local_judge_scores_every_item(tmp_path, tiny_judge, kind):
    responses = ["Paris est la capitale.", "Je ne sais pas.", "Wrong language answer.", ""]
    paths = write_inputs(tmp_path / "in", responses, wrong_language={2},
                         reference=["Réponse de référence."] * 4 if kind == "judge_pairwise" else None)
    out = tmp_path / "out.jsonl"
    summary = run_judge(kind, _judge(), tmp_path, paths, out, model_dir=tiny_judge, threads=1)
    records = read_jsonl(out)
    assert len(records) == 4 and all("error" not in r for r in records), records
    for r in records:
        assert r["judge_model"].startswith("local:tiny-judge@") and r["usage"]["prompt_tokens"] > 0
        if kind == "judge_single":
            assert r["rating"] in (1, 2, 3) and r["value"] == r["rating"] * r["lid_match"]
            assert abs(sum(r["probs"].values()) - 1) < 1e-4 and set(r["probs"]) == {"1", "2", "3"}
        elif kind == "judge_criteria":
            scored = [v for v in r["criteria"].values() if v is not None]
            assert all(v in (1, 2, 3) for v in scored) and r["value"] == pytest.approx(sum(scored) / len(scored))
            assert set(r["probs"]) == set(r["criteria"])
        elif kind == "relevance":
            assert r["value"] in (0, 1)
        else:
            assert r["verdict"] in ("win", "tie", "loss") and r["value"] in (0.0, 0.5, 1.0)
    if kind == "judge_criteria":
        assert len(records[2]["skipped"]) == 5 and records[2]["value"] == records[2]["criteria"]["language_correctness"]
    assert summary["requests"] > 0
    # deterministic and cached: a rerun computes nothing and gives the same scores
    again = run_judge(kind, _judge(), tmp_path, paths, tmp_path / "again.jsonl", model_dir=tiny_judge, threads=1)
    assert again["requests"] == 0
    assert [r["value"] for r in read_jsonl(tmp_path / "again.jsonl")] == [r["value"] for r in records]


def test_local_judge_needs_a_model_and_a_local_section(tmp_path, tiny_judge):
    paths = write_inputs(tmp_path / "in", ["ok"])
    with pytest.raises(Exception, match="holds no model"):
        run_judge("relevance", _judge(), tmp_path, paths, tmp_path / "o.jsonl", model_dir=tmp_path / "nothing")
    template = tmp_path / "mine.yaml"
    template.write_text("name: mine\nversion: 2\nkind: relevance\noutput_format: binary_0_1\n"
                        "prompt: 'Is {{ answer }} relevant to {{ question }}? 1 or 0.'\n")
    with pytest.raises(Exception, match="mine.yaml: the local judge backend needs a 'local' section"):
        run_judge("relevance", _judge(), tmp_path, paths, tmp_path / "o.jsonl", model_dir=tiny_judge,
                  template=template)


def test_local_answer_is_checked():
    with pytest.raises(Exception, match=r"judges\.fake\.local_answer: 'sample' is not one of"):
        JudgeConfig(name="fake", backend="local", model="tiny-judge", local_answer="sample")
    with pytest.raises(Exception, match=r"judges\.fake\.local_answer: generate is for backend local"):
        JudgeConfig(name="fake", backend="openai", model="gpt", local_answer="generate")


def test_label_probabilities_single_and_multi_token(tiny_judge):
    from polyalpaca.evaluate.judge import JudgeSettings
    from polyalpaca.evaluate.judge.local_backend import LocalBackend

    backend = LocalBackend(_judge(), JudgeSettings(), tiny_judge, threads=1)
    backend._load()
    single, n = backend._label_probs("Rating: [[", ("1", "2"))
    multi, _ = backend._label_probs("Rating: [[", ("1", "2", "impartial judge"))
    assert n > 0 and abs(sum(single.values()) - 1) < 1e-4 and abs(sum(multi.values()) - 1) < 1e-4
    # one forward pass (all labels one token) and continuation scoring agree on single-token labels
    assert single["1"] / single["2"] == pytest.approx(multi["1"] / multi["2"], rel=1e-3)
