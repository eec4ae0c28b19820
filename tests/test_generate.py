"""Batched greedy generation on tiny random models of each family (real transformers runs, CPU)."""

import importlib.util
import json
import shutil

import pytest
import torch

from polyalpaca.config import load_config
from polyalpaca.errors import ConfigError, DataError
from polyalpaca.generate import (
    DecodingParams,
    GenerateSettings,
    RunId,
    cut_at_stop,
    decoding_for,
    generate_responses,
    generation_jobs,
)
from polyalpaca.generate.hf_backend import generate_texts, length_sorted_batches
from polyalpaca.generate.loading import load_for_generation
from polyalpaca.generate.vllm_backend import require_vllm
from polyalpaca.io import read_jsonl, write_jsonl
from polyalpaca.templates import render_prompt
from polyalpaca.tiny import build_causal_model

INSTRUCTIONS = [
    "Write a short poem about the sea.",
    "Explique la photosynthèse en termes simples.",
    "¿Cuál es la capital de Francia?",
    "Назови три основных цвета.",
    "请介绍一下你自己。",
    "Give three tips for staying healthy, and explain each one.",
]
PROMPTS = [render_prompt("alpaca", instruction=" ".join(INSTRUCTIONS[i % 6:i % 6 + 1 + i % 3])) for i in range(10)]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny models gain nothing from threads; one avoids oversubscription when other suites run."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {fam: build_causal_model(fam, root / fam, INSTRUCTIONS * 5) for fam in ("gpt_neox", "bloom", "llama")}


@pytest.fixture(scope="module")
def loaded(tiny_models):
    return {fam: load_for_generation(path, path, dtype="float32", device="cpu") for fam, path in tiny_models.items()}


def _decoding(**kw):
    return DecodingParams("test", **{"max_new_tokens": 12, "repetition_penalty": 1.1, **kw})


@pytest.mark.parametrize("family", ["gpt_neox", "bloom", "llama"])
def test_batched_equals_one_at_a_time(loaded, family):
    model, tok = loaded[family]
    decoding = _decoding()
    batched = generate_texts(model, tok, PROMPTS, decoding, batch_size=4)
    single = [generate_texts(model, tok, [p], decoding, batch_size=1)[0] for p in PROMPTS]
    assert batched == single
    assert all(batched)  # random models never emit EOS: every response has max_new_tokens tokens
    # token-identical, not just text-identical: re-tokenized lengths agree
    assert [len(tok(r)["input_ids"]) for r in batched] == [len(tok(r)["input_ids"]) for r in single]


def test_no_repeat_ngram_batched_equals_one_at_a_time(loaded):
    model, tok = loaded["llama"]
    decoding = _decoding(repetition_penalty=1.0, no_repeat_ngram_size=2, max_new_tokens=16)
    batched = generate_texts(model, tok, PROMPTS, decoding, batch_size=5)
    single = [generate_texts(model, tok, [p], decoding, batch_size=1)[0] for p in PROMPTS]
    assert batched == single
    plain = generate_texts(model, tok, PROMPTS, _decoding(repetition_penalty=1.0, max_new_tokens=16), batch_size=5)
    assert plain != batched  # random models repeat tokens; the rule changes the output


def test_stop_string_cuts_generation_in_both_modes(loaded):
    model, tok = loaded["gpt_neox"]
    free = generate_texts(model, tok, PROMPTS, _decoding(max_new_tokens=20), batch_size=10)
    # a stop string the model really produces mid-response: a piece of the first response
    stop = free[0][6:10]
    assert stop.strip() and stop in free[0]
    decoding = _decoding(max_new_tokens=20, stop=(stop,))
    batched = generate_texts(model, tok, PROMPTS, decoding, batch_size=10)
    single = [generate_texts(model, tok, [p], decoding, batch_size=1)[0] for p in PROMPTS]
    assert batched == single
    assert batched[0] == free[0][:free[0].index(stop)].strip()
    for full, cut in zip(free, batched):
        assert stop not in cut and full.startswith(cut)


def test_cut_at_stop_pure():
    stops = ["\n### ", "### Instruction:"]
    prompt = "### Response:\n"
    assert cut_at_stop(prompt + "Hello.\n### Instruction: more", len(prompt), stops) == "Hello."
    # a stop string that begins in the prompt (its newline) and ends in the response
    assert cut_at_stop(prompt + "### Input: x", len(prompt), stops) == ""
    # stop strings wholly inside the prompt do not count
    assert cut_at_stop("a\n### b" + "answer", 7, stops) == "answer"
    assert cut_at_stop(prompt + "no stop here", len(prompt), stops) == "no stop here"
    assert cut_at_stop("answer", 0, []) == "answer"


def test_length_sorted_batches():
    assert length_sorted_batches([3, 9, 1, 9, 5], 2) == [[1, 3], [4, 0], [2]]


def _write_prompts(path, lang="fr", n=6):
    write_jsonl(path, [{"id": f"t{i}", "prompt": INSTRUCTIONS[i % 6], "lang": lang, "testset": "ts"} for i in range(n)])
    return path


def _run(lang="fr", template="alpaca"):
    return RunId(model="tiny", trainset="mix", tuning="lora", testset="ts", lang=lang, prompt_template=template)


@pytest.fixture(scope="module")
def lora_run(tiny_models, tmp_path_factory):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = tiny_models["llama"]
    run_dir = tmp_path_factory.mktemp("run") / "lora"
    torch.manual_seed(1)
    model = AutoModelForCausalLM.from_pretrained(base)
    cfg = LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(model, cfg).save_pretrained(run_dir)
    AutoTokenizer.from_pretrained(base).save_pretrained(run_dir)
    (run_dir / "train_log.json").write_text(json.dumps({"method": "lora"}))
    return base, run_dir


def test_lora_adapter_merged_and_unmerged_agree(lora_run, tmp_path):
    base, run_dir = lora_run
    prompts = _write_prompts(tmp_path / "fr.jsonl")
    decoding = _decoding()
    outs = {}
    for merge in (True, False):
        out = tmp_path / f"merge-{merge}.jsonl"
        n = generate_responses(prompts, run_dir, base, out, _run(), decoding,
                               GenerateSettings(batch_size=4, device="cpu", dtype="float32", merge_lora=merge, threads=1))
        assert n == 6
        outs[merge] = read_jsonl(out)
    assert [r["response"] for r in outs[True]] == [r["response"] for r in outs[False]]
    rec = outs[True][0]
    assert list(rec) == ["id", "lang", "prompt", "response", "model", "trainset", "tuning", "decoding"]
    assert rec == {**rec, "id": "t0", "lang": "fr", "prompt": INSTRUCTIONS[0], "model": "tiny", "trainset": "mix",
                   "tuning": "lora", "decoding": "test"}
    # the adapter changes the model: the base alone answers differently
    base_model, tok = load_for_generation(base, base, dtype="float32", device="cpu")
    plain = generate_texts(base_model, tok, [render_prompt("alpaca", instruction=INSTRUCTIONS[i]) for i in range(6)],
                           decoding, batch_size=6)
    assert plain != [r["response"] for r in outs[True]]


def test_full_weights_run(tiny_models, tmp_path):
    run_dir = tmp_path / "full"
    shutil.copytree(tiny_models["bloom"], run_dir)
    (run_dir / "train_log.json").write_text(json.dumps({"method": "full"}))
    out = tmp_path / "gen.jsonl"
    generate_responses(_write_prompts(tmp_path / "fr.jsonl"), run_dir, tmp_path / "no-base", out, _run(template="bactrian"),
                       _decoding(), GenerateSettings(batch_size=3, device="cpu", threads=1))
    assert [r["id"] for r in read_jsonl(out)] == [f"t{i}" for i in range(6)]


def test_bad_run_folders(tiny_models, tmp_path):
    settings = GenerateSettings(device="cpu")
    prompts = _write_prompts(tmp_path / "fr.jsonl")
    with pytest.raises(DataError, match="does not exist"):
        generate_responses(prompts, tmp_path / "missing", tmp_path, tmp_path / "o.jsonl", _run(), _decoding(), settings)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="neither adapter_config.json"):
        generate_responses(prompts, tmp_path / "empty", tmp_path, tmp_path / "o.jsonl", _run(), _decoding(), settings)
    run_dir = tmp_path / "full"
    shutil.copytree(tiny_models["llama"], run_dir)
    (run_dir / "train_log.json").write_text(json.dumps({"method": "lora"}))
    with pytest.raises(DataError, match="train_log.json: method is 'lora'"):
        generate_responses(prompts, run_dir, tmp_path, tmp_path / "o.jsonl", _run(), _decoding(), settings)
    assert not (tmp_path / "o.jsonl").exists()


def test_bad_prompt_files(tiny_models, tmp_path):
    model = tiny_models["llama"]
    bad = tmp_path / "fr.jsonl"
    bad.write_text('{"id": "a", "prompt": "Bonjour", "lang": "fr"}\n{"id": "b", "prompt": "Hola", "lang": "es"}\n')
    with pytest.raises(DataError, match=r"fr.jsonl:2: .*lang 'es', expected 'fr'"):
        generate_responses(bad, model, model, tmp_path / "o.jsonl", _run(), _decoding(), GenerateSettings(device="cpu"))
    bad.write_text('{"id": "a", "lang": "fr"}\n')
    with pytest.raises(DataError, match=r"fr.jsonl:1: .*no 'prompt'"):
        generate_responses(bad, model, model, tmp_path / "o.jsonl", _run(), _decoding(), GenerateSettings(device="cpu"))
    bad.write_text("")
    with pytest.raises(DataError, match="no test prompts"):
        generate_responses(bad, model, model, tmp_path / "o.jsonl", _run(), _decoding(), GenerateSettings(device="cpu"))


def test_vllm_backend_guard(tiny_models, tmp_path):
    """vllm is not installed on this machine: choosing it must fail early and say how to get it."""
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm installed: guard not applicable")
    with pytest.raises(ConfigError, match=r"pip install '\.\[vllm\]'.*envs/generate-vllm\.yaml.*generate.backend: transformers"):
        require_vllm()
    model = tiny_models["llama"]
    with pytest.raises(ConfigError, match="vllm"):
        generate_responses(_write_prompts(tmp_path / "fr.jsonl"), model, model, tmp_path / "o.jsonl", _run(),
                           _decoding(), GenerateSettings(backend="vllm"))


def test_settings_and_decoding_validation():
    with pytest.raises(ConfigError, match="generate.backend"):
        GenerateSettings(backend="tgi")
    with pytest.raises(ConfigError, match="generate.batch_size"):
        GenerateSettings(batch_size=0)
    with pytest.raises(ConfigError, match="generate: unknown keys batchsize"):
        GenerateSettings.from_config({"generate": {"batchsize": 4}})
    with pytest.raises(ConfigError, match="decodings.x.max_new_tokens"):
        DecodingParams("x", max_new_tokens=0)
    with pytest.raises(ConfigError, match="unknown prompt template"):
        RunId("m", "t", "u", "ts", "fr", prompt_template="vicuna")


def test_decoding_chosen_by_the_study(tmp_path):
    config = load_config("config.yaml")
    assert decoding_for(config, "llama2-7b", "dolly-en", "zs-full-lr1e-5", "alpacafarm_eval") == "zs-greedy"
    assert decoding_for(config, "pythia-70m", "alpaca-mono-fr", "chen-lora", "oasst_test") == "chen-greedy"
    with pytest.raises(ConfigError, match="no study evaluates run pythia-70m/alpaca-en/chen-lora on testset 'vicuna80'"):
        decoding_for(config, "pythia-70m", "alpaca-en", "chen-lora", "vicuna80")
    params = DecodingParams.from_config(config, "zs-greedy", template="alpaca")
    assert params.repetition_penalty == 1.1 and params.max_new_tokens == 512
    assert "\n### " in params.stop and "### Instruction:" in params.stop
    jobs = generation_jobs(config)
    assert ("pythia-70m", "alpaca-mono-fr", "chen-lora", "oasst_test", "fr") in jobs
    assert ("pythia-70m", "alpaca-mono-fr", "chen-lora", "oasst_test", "es") not in jobs


def test_rule_input_functions_on_the_paper_grid():
    from types import SimpleNamespace

    from polyalpaca.generate import inputs

    config = load_config("config.yaml")
    wc = SimpleNamespace(model="llama2-7b", trainset="dolly-dt", tuning="zs-lora-lr1e-4", testset="alpacafarm_eval",
                         lang="ru")
    assert inputs.generation_inputs(config, wc) == {
        "run": "results/models/llama2-7b/dolly-dt/zs-lora-lr1e-4", "base": "resources/models/llama2-7b",
        "prompts": "results/testsets/alpacafarm_eval/ru.jsonl"}
    decoding = inputs.decoding_params(config, wc)
    assert decoding["name"] == "zs-greedy" and decoding["repetition_penalty"] == 1.1
    assert DecodingParams(**{**decoding, "stop": tuple(decoding["stop"])}).max_new_tokens == 512
    assert RunId(**inputs.run_params(config, wc)).prompt_template == "alpaca"
    targets = inputs.generation_targets(config)
    assert "results/generations/llama2-7b/dolly-dt/zs-lora-lr1e-4/alpacafarm_eval/ru.jsonl" in targets
    assert len(targets) == len(set(targets))
