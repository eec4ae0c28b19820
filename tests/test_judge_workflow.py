"""The judge rules through Snakemake: the smoke config's studies, shrunk, judged by the openai backend
against the local fake endpoint; then the cost table, a rerun that sends nothing, and a key scan."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import yaml

from polyalpaca.config import validate_config
from polyalpaca.evaluate.judge.targets import judge_inputs, judge_score_targets
from polyalpaca.io import read_jsonl, write_jsonl

from .conftest import REPO
from .fake_openai_server import FakeJudgeServer
from .judge_helpers import KEY_ENV

KEY = "sk-test-workflow-0123456789abcdef"


def _config(base_url: str) -> dict:
    config = yaml.safe_load((REPO / "tests/smoke/config.yaml").read_text(encoding="utf-8"))
    config["judges"] = {"api": {"backend": "openai", "model": "gpt-fake", "base_url": base_url,
                                "api_key_env": KEY_ENV, "max_concurrency": 4, "timeout_s": 5,
                                "price_per_1k_input": 0.5, "price_per_1k_output": 1.5, "budget_usd": 100.0}}
    for metric in config["metrics"].values():
        if "judge" in metric:
            metric["judge"] = "api"
    for distillation in config["distillations"].values():
        distillation["judge"] = "api"
    studies = config["studies"]
    del studies["realmodel"]  # the real local model's study: this test is the API judge on the three studies
    del studies["zeroshot_modifiers"]  # task modifiers: tests/test_modifiers.py
    del studies["zeroshot"]["lr_selection"]  # judging chosen runs only: tests/test_lr_selection.py
    for study in studies.values():
        study["metrics"] = [m for m in study["metrics"] if not m.endswith("-smol")]
    studies["chen2024"]["runs"] = [{"models": ["tiny-pythia-s"], "tunings": ["chen-lora"],
                                    "trainsets": ["alpaca-en"], "languages": ["en", "fr"]}]
    studies["bactrianx"]["runs"] = [{"models": ["tiny-llama"], "tunings": ["bactrian-lora-multi"],
                                     "trainsets": ["bactrian-multi"], "languages": ["fr"]}]
    studies["bactrianx"]["pairs"] = [["tiny-llama/bactrian-multi/bactrian-lora-multi", "tiny-alpaca-lora"],
                                     ["tiny-bloomz", "tiny-llama/bactrian-multi/bactrian-lora-multi"]]
    studies["zeroshot"]["runs"] = [{"models": ["tiny-llama"], "tunings": ["zs-lora-lr1e-4"],
                                    "trainsets": ["dolly-en"], "languages": ["fr"]}]
    for study in studies.values():
        study["figures"] = []
    config["evaluate"] = {"judge": {"backoff_initial_s": 0.01}}
    return config


def _write_inputs(workdir, config) -> list[str]:
    validated = validate_config(yaml.safe_load(yaml.safe_dump(config)))
    targets = judge_score_targets(validated)
    for target in targets:
        parts = target[:-len(".jsonl")].split("/")[2:]
        metric, model, trainset, tuning = parts[:4]
        testset, lang = parts[-2:]
        pair = dict(zip(("model_b", "trainset_b", "tuning_b"), parts[5:8])) if "vs" in parts else {}
        inputs = judge_inputs(validated, metric, model, trainset, tuning, testset, lang, **pair)
        for name in ("generations", "reference"):  # the fine-tuned tiny-llama answers well after prompt 0
            if name in inputs and not (workdir / inputs[name]).exists():
                g_model, g_trainset, g_tuning = inputs[name].split("/")[2:5]
                good = g_model == "tiny-llama" and g_trainset != "published"
                write_jsonl(workdir / inputs[name], [
                    {"id": f"{testset}-{i}", "lang": lang, "prompt": f"Prompt {i} in {lang}?",
                     "response": f"{g_model} answer {i}" + (" @good" if good and i else ""), "model": g_model,
                     "trainset": g_trainset, "tuning": g_tuning, "decoding": "greedy"} for i in range(3)])
        gens = read_jsonl(workdir / inputs["generations"])
        if "lid" in inputs:
            write_jsonl(workdir / inputs["lid"], [{"id": g["id"], "lang": lang, "metric": "lid", "value": 1.0}
                                                  for g in gens])
    return targets


def _snakemake(workdir, *args):
    env = dict(os.environ, **{KEY_ENV: KEY})
    return subprocess.run([sys.executable, "-m", "snakemake", *args, "--snakefile", str(REPO / "Snakefile"),
                           "--directory", str(workdir), "--configfile", str(workdir / "config.yaml"),
                           "--allowed-rules", "judge", "judge_local", "judge_pair", "judge_pair_local", "judge_cost",
                           "-c2", "--quiet", "rules"],
                          capture_output=True, text=True, timeout=300, env=env)


def test_judge_rules_with_openai_backend(tmp_path):
    with FakeJudgeServer(api_key=KEY) as server:
        config = _config(server.base_url)
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        targets = _write_inputs(tmp_path, config)
        assert {t.split("/")[2] for t in targets} == {"judge-single", "pairwise", "relevance", "judge-criteria"}
        proc = _snakemake(tmp_path, "results/tables/judge_cost.csv")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        for target in targets:
            records = read_jsonl(tmp_path / target)
            assert len(records) == 3 and all(("error" in r) != (r["value"] is not None) for r in records), target
        # the pairs, both orders scored 0-10 (the Vicuna review line): the fine-tuned run wins after prompt 0
        first = read_jsonl(tmp_path / next(t for t in targets if "/pairwise/tiny-llama/bactrian-multi/" in t))
        assert [r["verdict"] for r in first] == ["tie", "win", "win"]
        assert first[1]["reference"] == "tiny-llama/published/tiny-alpaca-lora"
        assert (first[1]["scores_ab"], first[1]["scores_ba"]) == ([9, 6], [6, 9])
        assert (first[1]["run_score"], first[1]["reference_score"]) == (9, 6)
        second = read_jsonl(tmp_path / next(t for t in targets if "/pairwise/tiny-bloomz/" in t))
        assert [r["verdict"] for r in second] == ["tie", "loss", "loss"]
        with open(tmp_path / "results/tables/judge_cost.csv", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == len(targets)
        pair = next(r for r in rows if r["metric"] == "pairwise" and r["model"] == "tiny-llama")
        assert (pair["trainset"], pair["opponent"], pair["items"]) == (
            "bactrian-multi", "tiny-llama/published/tiny-alpaca-lora", "3")  # a pair's row names both runs
        single = next(r for r in rows if r["metric"] == "judge-single")
        assert single["judge"] == "api" and single["judge_model"] == "fake-judge-0613" and int(single["items"]) == 3
        cost = (int(single["prompt_tokens"]) * 0.5 + int(single["completion_tokens"]) * 1.5) / 1000
        assert float(single["cost_usd"]) == round(cost, 6) > 0
        sent = server.requests

        # scores deleted and rebuilt (as after a crash or a changed rule): answers come from the cache
        for target in (t for t in targets if "/judge-single/" in t or "/pairwise/tiny-llama/" in t):
            (tmp_path / target).unlink()
        proc = _snakemake(tmp_path, "results/tables/judge_cost.csv")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert server.requests == sent
    logs = list((tmp_path / "logs").rglob("*.log"))
    assert logs
    for path in (p for p in tmp_path.rglob("*") if p.is_file()):
        assert KEY.encode() not in path.read_bytes(), path


def test_judge_rule_with_local_backend(tmp_path):
    """The smoke config's own judge (local, tiny-judge) through the rule: GPU-free, offline."""
    from polyalpaca.tiny.causal import build_causal_model

    config = _config("http://127.0.0.1:9/v1")
    smoke = yaml.safe_load((REPO / "tests/smoke/config.yaml").read_text(encoding="utf-8"))
    config["judges"], config["distillations"] = smoke["judges"], smoke["distillations"]
    for name, metric in config["metrics"].items():
        if "judge" in metric:
            metric["judge"] = smoke["metrics"][name]["judge"]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    targets = _write_inputs(tmp_path, config)
    tiny = config["models"]["tiny-judge"]["tiny"]
    build_causal_model(config["models"]["tiny-judge"]["family"], tmp_path / "resources/models/tiny-judge",
                       ["Rating: [[1]] [[2]] [[3]]", "Prompt 1 in fr? answer"] * 4, **tiny)
    target = next(t for t in targets if "/judge-single/" in t and t.endswith("/fr.jsonl"))
    proc = _snakemake(tmp_path, target)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = read_jsonl(tmp_path / target)
    assert len(records) == 3 and all(r["rating"] in (1, 2, 3) and r["value"] == r["rating"] for r in records)
    assert records[0]["judge"] == "local-judge" and records[0]["judge_model"].startswith("local:tiny-judge@")
