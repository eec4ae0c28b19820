"""Benchmarks through lm-evaluation-harness: a real harness run on the shipped local task files with a tiny
model (base, a LoRA adapter loaded as PEFT, full weights), the DAG-time checks of task names and
languages, the full grid's jobs, and the study table's averages."""

import copy
import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from polyalpaca.benchmark.plan import benchmark_params, study_benchmark_results
from polyalpaca.benchmark.harness import run_benchmark
from polyalpaca.benchmark.report import average_table, run_label, write_benchmark_report
from polyalpaca.benchmark.tasks import SHIPPED_TASK_DIR
from polyalpaca.config import load_config, study_runs
from polyalpaca.validate import validate_workflow_config as validate_config
from polyalpaca.errors import ConfigError
from polyalpaca.grid import grid_jobs
from polyalpaca.tiny import build_causal_model

from .conftest import REPO

PARAMS = {"model": "tiny", "trainset": None, "tuning": None, "task": "copa", "metric": "acc",
          "harness_tasks": {"en": "polyalpaca_copa_en", "fr": "polyalpaca_copa_fr"}, "num_fewshot": 0, "limit": None,
          "task_dirs": []}
DOCS = [json.loads(line) for lang in ("en", "fr")
        for line in (SHIPPED_TASK_DIR / f"data/copa_{lang}.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A tiny random model, and a LoRA adapter on it trained to prefer the right choices (lm_head only: a
    random tiny model's logits are nearly flat, so the head is where a few steps move them)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    root = tmp_path_factory.mktemp("bench")
    texts = [f"{d['premise']} {d['connector']} {d['choice1']} {d['choice2']}" for d in DOCS]
    base = build_causal_model("llama", root / "tiny", texts * 3, hidden_size=32, layers=1, heads=4, vocab_size=300)
    tokenizer = AutoTokenizer.from_pretrained(base)
    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base), LoraConfig(r=8, lora_alpha=16,
                                                                                  target_modules=["lm_head"]))
    right = [f"{d['premise']} {d['connector']} {[d['choice1'], d['choice2']][d['label']]}" for d in DOCS]
    batch = tokenizer(right, return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=5e-2)
    for _ in range(60):
        model(**batch, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(root / "adapter")
    (root / "adapter" / "train_log.json").write_text(json.dumps({"method": "lora"}))
    full = model.merge_and_unload()
    full.save_pretrained(root / "full")
    tokenizer.save_pretrained(root / "full")
    return {"base": base, "adapter": root / "adapter", "full": root / "full"}


def test_harness_runs_local_tasks_on_base_adapter_and_full_weights(models, tmp_path):
    base = run_benchmark(PARAMS, models["base"], None, tmp_path / "base.json", batch_size=4)
    assert json.loads((tmp_path / "base.json").read_text()) == base
    assert base["model_args"] == {"pretrained": str(models["base"]), "dtype": "float32"}
    assert set(base["languages"]) == {"en", "fr"}
    for lang, scores in base["languages"].items():
        assert scores["task"] == f"polyalpaca_copa_{lang}" and scores["n"] == 8
        assert 0 <= scores["acc"] <= 1 and scores["acc_stderr"] > 0
    assert base["task_versions"] == {"polyalpaca_copa_en": 1.0, "polyalpaca_copa_fr": 1.0}

    tuned = run_benchmark({**PARAMS, "trainset": "t", "tuning": "lora"}, models["base"], models["adapter"],
                          tmp_path / "lora.json", batch_size=4)
    assert tuned["model_args"]["peft"] == str(models["adapter"])
    # the adapter was trained on the right choices: the harness scores it through PEFT, not the bare base
    for lang in ("en", "fr"):
        assert tuned["languages"][lang]["acc"] >= 0.75 > base["languages"][lang]["acc"]

    full = run_benchmark(PARAMS, models["base"], models["full"], tmp_path / "full.json", batch_size=4)
    assert full["model_args"]["pretrained"] == str(models["full"]) and "peft" not in full["model_args"]
    assert {k: v["acc"] for k, v in full["languages"].items()} == {k: v["acc"] for k, v in tuned["languages"].items()}

    limited = run_benchmark({**PARAMS, "limit": 3}, models["base"], None, tmp_path / "lim.json", batch_size=4)
    assert [s["n"] for s in limited["languages"].values()] == [3, 3]


def test_a_metric_the_task_lacks_names_the_key(models, tmp_path):
    with pytest.raises(Exception, match=r"reported no 'f1'.*set benchmarks\.tasks\.copa\.metric"):
        run_benchmark({**PARAMS, "metric": "f1"}, models["base"], None, tmp_path / "x.json", batch_size=4)
    assert not (tmp_path / "x.json").exists()


def test_a_model_the_harness_cannot_load_names_the_model_key(models, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "no-such-architecture"}')
    with pytest.raises(ConfigError, match=r"models\.tiny: lm-evaluation-harness cannot load .*broken as a causal LM"):
        run_benchmark(PARAMS, broken, None, tmp_path / "x.json", batch_size=4)
    assert not (tmp_path / "x.json").exists()


# ---------------------------------------------------------------- DAG-time checks
def _raw(path="tests/smoke/config.yaml"):
    return yaml.safe_load((REPO / path).read_text(encoding="utf-8"))


def test_a_language_the_task_lacks_stops_validation_with_the_key():
    config = _raw()
    config["studies"]["bactrianx"]["benchmarks"]["tasks"] = {"xwinograd": {"languages": ["en", "ja"]}}
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    message = str(err.value)
    assert "studies.bactrianx.benchmarks.tasks.xwinograd.languages[1]: 'ja': lm-evaluation-harness has no task " \
           "'xwinograd_ja' (task 'xwinograd' has languages: en, fr, jp, pt, ru, zh)" in message
    assert "languages[0]" not in message


def test_an_unknown_task_stops_validation_with_the_key():
    config = _raw()
    config["studies"]["bactrianx"]["benchmarks"]["tasks"] = {"sentimentx": {"languages": ["es"]}}
    with pytest.raises(ConfigError, match=r"studies\.bactrianx\.benchmarks\.tasks\.sentimentx\.languages\[0\]: 'es': "
                                          r"lm-evaluation-harness has no task 'sentimentx_es' \(no harness task "
                                          r"matches 'sentimentx_\{lang\}'; .*task_dirs\)"):
        validate_config(config)


def test_a_task_dir_adds_tasks(tmp_path):
    (tmp_path / "sx_es.yaml").write_text("include: x\ntask: sentimentx_es\n")
    config = _raw()
    config["studies"]["bactrianx"]["benchmarks"]["tasks"] = {"sentimentx": {"languages": ["es"]}}
    config["studies"]["bactrianx"]["benchmarks"]["task_dirs"] = [str(tmp_path)]
    validate_config(config)


def test_studies_that_share_a_task_must_agree():
    config = _raw()
    config["studies"]["chen2024"]["benchmarks"] = copy.deepcopy(config["studies"]["bactrianx"]["benchmarks"])
    validate_config(copy.deepcopy(config))
    config["studies"]["chen2024"]["benchmarks"]["num_fewshot"] = 1
    with pytest.raises(ConfigError, match=r"studies\.bactrianx\.benchmarks\.tasks\.copa: differs from "
                                          r"studies\.chen2024\.benchmarks"):
        validate_config(config)


def test_validation_and_the_grid_do_not_import_the_harness():
    code = ("import sys; from polyalpaca.config import load_config; from polyalpaca.grid import grid_jobs; "
            "grid_jobs(load_config('config.yaml')); import polyalpaca.validate as v; v.validate_workflow_config(load_config('config.yaml')); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('lm_eval', 'torch', 'sacrebleu')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- the full grid
def test_full_config_benchmarks_every_bactrianx_run_and_base_model():
    """Bactrian-X §5: XCOPA, XStoryCloze, XWinograd (Table 3), zero-shot ("Given that all our experiments are
    zero-shot"), base models beside the tuned ones."""
    config = load_config(REPO / "config.yaml")
    jobs = [j for j in grid_jobs(config) if j.rule == "lm_eval_task"]
    runs = study_runs(config, "bactrianx")
    expected = {(r.model, f"{r.trainset}/{r.tuning}") for r in runs} | {(r.model, "base") for r in runs}
    assert {(j.get("model"), j.get("variant")) for j in jobs} == expected
    assert {j.get("task") for j in jobs} == {"xcopa", "xstorycloze", "xwinograd"}
    assert len(jobs) == 3 * len(expected)
    params = benchmark_params(config, "llama-7b", "bactrian-multi/bactrian-lora-multi", "xcopa")
    assert params["harness_tasks"]["et"] == "xcopa_et" and params["num_fewshot"] == 0
    text = (REPO.parent / "shared/papers/001_3f6678c503611105.txt")
    if text.is_file():
        assert "Given that all our experiments are zero-shot" in text.read_text(encoding="utf-8")


# ---------------------------------------------------------------- the table
def test_table_averages_languages_then_tasks(tmp_path):
    config = load_config(REPO / "tests/smoke/config.yaml")
    values = {}
    for i, path in enumerate(study_benchmark_results(config, "bactrianx")):
        model = path.split("/")[2]
        values[path] = {"en": 0.5 + 0.05 * i, "fr": 0.25}
        out = tmp_path / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"model": model, "task": "copa", "metric": "acc", "num_fewshot": 0, "languages": {
            lang: {"task": f"polyalpaca_copa_{lang}", "acc": v, "acc_stderr": 0.1, "n": 8}
            for lang, v in values[path].items()}}))
    paths = {k: str(tmp_path / f"b.{k}") for k in ("csv", "html", "pdf", "png")}
    table = write_benchmark_report(config, "bactrianx", root=tmp_path, **paths)
    assert len(pd.read_csv(paths["csv"])) == 2 * len(values)
    assert list(table["run"])[:4] == ["tiny-llama (base)"] * 2 + ["tiny-bloom-m (base)"] * 2  # base models first
    averages = average_table(table).set_index("run")
    for path, by_lang in values.items():
        parts = path.split("/")
        label = run_label(config, parts[2], "/".join(parts[3:-1]))
        assert averages.loc[label, "copa"] == pytest.approx(100 * (by_lang["en"] + by_lang["fr"]) / 2)
        assert averages.loc[label, "average"] == averages.loc[label, "copa"]  # one task: its own mean
    first = study_benchmark_results(config, "bactrianx")[0]
    assert "as Bactrian-X Table 3" in open(paths["html"], encoding="utf-8").read()
    (tmp_path / first).unlink()
    with pytest.raises(Exception, match="benchmark result missing"):
        write_benchmark_report(config, "bactrianx", root=tmp_path, **paths)
