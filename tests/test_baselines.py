"""Baselines (models not trained here) and the pairs a study judges: real loading and generation of a
published-style LoRA adapter and of a full model on CPU, the adapter-fits-base check, and the config errors."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from polyalpaca.config import load_config, validate_config
from polyalpaca.data.adapters import adapter_shapes, fetch_adapter
from polyalpaca.errors import ConfigError
from polyalpaca import grid
from polyalpaca.generate import DecodingParams, GenerateSettings, RunId, decoding_for, generate_responses, generation_jobs
from polyalpaca.generate.inputs import generation_inputs, run_params
from polyalpaca.io import read_jsonl, write_jsonl
from polyalpaca.pairs import study_baselines, study_pairs
from polyalpaca.tiny import build_causal_model

REPO = Path(__file__).resolve().parents[1]
TEXTS = ["Write a short poem about the sea.", "Explique la photosynthèse en termes simples.",
         "Give three tips for staying healthy.", "Below is an instruction that describes a task."] * 5
LLAMA_MODULES = ["q_proj", "k_proj", "v_proj"]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    root = tmp_path_factory.mktemp("bases")
    return {"llama": build_causal_model("llama", root / "llama", TEXTS, hidden_size=32, layers=2, heads=4, seed=5),
            "llama-wide": build_causal_model("llama", root / "llama-wide", TEXTS, hidden_size=48, layers=2, heads=4),
            "bloom": build_causal_model("bloom", root / "bloom", TEXTS, hidden_size=32, layers=2, heads=4, seed=7)}


def _tiny_spec(model="tiny-llama"):
    return {"model": model, "adapter": {"tiny": {"r": 4, "seed": 8}}}


def test_published_adapter_generates_on_its_base_and_changes_it(bases, tmp_path):
    """The Alpaca-LoRA path: an adapter folder as PEFT publishes one, fetched (here built: the hub is out of
    reach), checked against its base, then loaded on the base by generation (a real CPU run)."""
    adapter = fetch_adapter("tiny-alpaca-lora", _tiny_spec(), bases["llama"], tmp_path / "adapters" / "tiny-alpaca-lora",
                            family_modules=LLAMA_MODULES)
    assert (adapter / "adapter_config.json").is_file() and not (adapter / "config.json").exists()
    modules = {module for module, _ in adapter_shapes(adapter)}
    assert modules == {f"model.layers.{i}.self_attn.{m}" for i in range(2) for m in LLAMA_MODULES}
    prompts = tmp_path / "en.jsonl"
    write_jsonl(prompts, [{"id": f"q{i}", "lang": "en", "prompt": t, "testset": "vicuna80"}
                          for i, t in enumerate(TEXTS[:4])])
    decoding = DecodingParams("greedy", max_new_tokens=8, repetition_penalty=1.0, no_repeat_ngram_size=0,
                              stop=(), num_beams=1)
    settings = GenerateSettings(batch_size=4, device="cpu", dtype="float32", threads=1)
    out = {}
    for name, run_dir in (("adapter", adapter), ("base", bases["llama"])):
        out[name] = tmp_path / f"{name}.jsonl"
        run = RunId("tiny-llama", "published", "tiny-alpaca-lora", "vicuna80", "en", "alpaca")
        assert generate_responses(prompts, run_dir, bases["llama"], out[name], run, decoding, settings) == 4
    with_adapter, base_only = read_jsonl(out["adapter"]), read_jsonl(out["base"])
    assert [r["trainset"] for r in with_adapter] == ["published"] * 4
    assert [r["response"] for r in with_adapter] != [r["response"] for r in base_only]


def test_full_model_baseline_generates_from_its_own_weights(bases, tmp_path):
    """The BLOOMZ path: the model folder is the run (full weights), prompted with the bare question."""
    prompts = tmp_path / "fr.jsonl"
    write_jsonl(prompts, [{"id": "q0", "lang": "fr", "prompt": TEXTS[1], "testset": "vicuna80"}])
    out = tmp_path / "gen.jsonl"
    run = RunId("tiny-bloomz", "published", "tiny-bloomz", "vicuna80", "fr", "bloomz-plain")
    generate_responses(prompts, bases["bloom"], bases["bloom"], out, run,
                       DecodingParams("greedy", max_new_tokens=6, repetition_penalty=1.0, no_repeat_ngram_size=0,
                                      stop=(), num_beams=1), GenerateSettings(device="cpu", dtype="float32", threads=1))
    [record] = read_jsonl(out)
    assert record["response"] and record["tuning"] == "tiny-bloomz"


@pytest.mark.parametrize("other, reason", [("bloom", "adapts 'model.layers.0.self_attn.k_proj'"),
                                           ("llama-wide", "lora_A of 'model.layers.0.self_attn.k_proj' has 32 inputs, "
                                                          "the base model's module 48")])
def test_adapter_of_another_base_model_is_a_config_error(bases, tmp_path, other, reason):
    built = fetch_adapter("a", _tiny_spec(), bases["llama"], tmp_path / "built", family_modules=LLAMA_MODULES)
    spec = {"model": "other-base", "adapter": {"path": str(built)}}
    with pytest.raises(ConfigError, match=r"baselines\.alpaca-lora: the adapter .* does not fit models\.other-base") as err:
        fetch_adapter("alpaca-lora", spec, bases[other], tmp_path / "out", family_modules=LLAMA_MODULES)
    assert reason in str(err.value)
    assert not (tmp_path / "out").exists()  # nothing half-published


def test_smoke_config_baselines_and_pairs():
    config = load_config(REPO / "tests/smoke/config.yaml")
    baselines = {run.tuning: run for run in study_baselines(config, "bactrianx")}
    assert baselines["tiny-alpaca-lora"].id == "tiny-llama/published/tiny-alpaca-lora"
    assert baselines["tiny-bloomz"].languages == ("en", "fr")
    pairs = [(p.a.id, p.b.id) for p in study_pairs(config, "bactrianx")]
    assert pairs == [("tiny-llama/bactrian-multi/bactrian-lora-multi", "tiny-llama/published/tiny-alpaca-lora"),
                     ("tiny-bloom-m/bactrian-multi/bactrian-lora-multi", "tiny-bloomz/published/tiny-bloomz"),
                     ("tiny-bloom-m/bactrian-multi/bactrian-lora-multi", "tiny-llama/bactrian-multi/bactrian-lora-multi")]

    class Wc:
        model, trainset, testset, lang = "tiny-llama", "published", "vicuna80", "en"
        tuning = "tiny-alpaca-lora"

    assert generation_inputs(config, Wc)["run"] == "resources/adapters/tiny-alpaca-lora"
    assert run_params(config, Wc)["prompt_template"] == "alpaca"
    Wc.model = Wc.tuning = "tiny-bloomz"
    assert generation_inputs(config, Wc)["run"] == "resources/models/tiny-bloomz"


def test_paper_pairs_in_the_full_config():
    """§6: "compare BX against BLOOMZ, BX against Alpaca, and BX against BX"."""
    config = load_config(REPO / "config.yaml")
    assert config["baselines"]["bloomz-7b1"]["model"] == "bloomz-7b1"
    assert config["models"]["bloomz-7b1"]["hf"] == "bigscience/bloomz-7b1"
    assert config["baselines"]["alpaca-lora-7b"] == {**config["baselines"]["alpaca-lora-7b"], "model": "llama-7b",
                                                      "adapter": {"hf": "tloen/alpaca-lora-7b"}}
    # generated like the study's runs (its decoding), never trained
    assert decoding_for(config, "bloomz-7b1", "published", "bloomz-7b1", "vicuna80") == "bactrian-greedy"
    assert ("llama-7b", "published", "alpaca-lora-7b", "vicuna80", "de") in generation_jobs(config)
    assert not any(job.rule == "train_run" and job.get("trainset") == "published" for job in grid.grid_jobs(config))
    pairs = [(p.a.id, p.b.id) for p in study_pairs(config, "bactrianx")]
    assert pairs == [("llama-7b/bactrian-multi/bactrian-lora-multi", "llama-7b/published/alpaca-lora-7b"),
                     ("bloom-7b1/bactrian-multi/bactrian-lora-multi", "bloomz-7b1/published/bloomz-7b1"),
                     ("bloom-7b1/bactrian-multi/bactrian-lora-multi", "llama-7b/bactrian-multi/bactrian-lora-multi")]


def _smoke_raw():
    import yaml

    return yaml.safe_load((REPO / "tests/smoke/config.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["baselines"]["tiny-bloomz"].update(model="bloomz-176b"),
     "baselines.tiny-bloomz.model: 'bloomz-176b' is not defined in models"),
    (lambda c: c["baselines"]["tiny-bloomz"].update(prompt_template="vicuna"),
     "baselines.tiny-bloomz.prompt_template: unknown prompt template 'vicuna'"),
    (lambda c: c["studies"]["bactrianx"]["pairs"][0].__setitem__(1, "alpaca-lora-13b"),
     r"studies.bactrianx.pairs\[0\]\[1\]: 'alpaca-lora-13b' is not a baseline of the study"),
    (lambda c: c["studies"]["bactrianx"]["pairs"][2].__setitem__(1, "tiny-llama/bactrian-en/bactrian-lora-multi"),
     r"studies.bactrianx.pairs\[2\]\[1\]: 'tiny-llama/bactrian-en/bactrian-lora-multi' is not a run of the study"),
    (lambda c: c["studies"]["bactrianx"]["baselines"].append("bloomz"),
     r"studies.bactrianx.baselines\[2\]: 'bloomz' is not defined in baselines"),
    (lambda c: c["studies"]["bactrianx"].update(pairs=[]),
     "studies.bactrianx: a judge_pairwise metric needs 'pairs'"),
    (lambda c: c["studies"]["bactrianx"]["pairs"].append(["tiny-bloomz", "tiny-bloomz"]),
     r"studies.bactrianx.pairs\[3\]: both members are 'tiny-bloomz'"),
    (lambda c: c["baselines"].update({"chen-lora": {"model": "tiny-llama", "prompt_template": "alpaca"}}),
     "baselines.chen-lora: the name is also a tunings key"),
])
def test_config_errors_name_the_key(edit, message):
    config = copy.deepcopy(_smoke_raw())
    edit(config)
    with pytest.raises(ConfigError, match=message):
        validate_config(config)
