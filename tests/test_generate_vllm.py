"""The vLLM backend's parity with the transformers backend (issue 14, defect 7): adapters merged for the
families whose vLLM model has no LoRA support, the same dtype, the same stop-string cut. The merge and
the cut run here on CPU; the side-by-side comparison of both backends needs vLLM and a GPU."""

from __future__ import annotations

import importlib.util
import json

import pytest
import torch

from polyalpaca.generate.hf_backend import generate_texts
from polyalpaca.generate.loading import load_for_generation
from polyalpaca.generate.settings import DecodingParams
from polyalpaca.generate.stops import cut_at_stop, response_from_tokens
from polyalpaca.generate.vllm_backend import VLLM_WITHOUT_LORA, merge_adapter, model_type, vllm_dtype
from polyalpaca.templates import render_prompt
from polyalpaca.tiny import build_causal_model

TEXTS = ["Write a short poem about the sea.", "Explique la photosynthèse.", "Name three colours.",
         "### Instruction: say hello", "### Response: hello there"] * 6
PROMPTS = [render_prompt("alpaca", instruction=t) for t in TEXTS[:5]]
TARGETS = {"bloom": ["query_key_value"], "gpt_neox": ["query_key_value"], "llama": ["q_proj", "v_proj"]}


@pytest.fixture(scope="module")
def adapters(tmp_path_factory):
    """A tiny base model and a non-trivial LoRA adapter on it, per family."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    out = {}
    for family, targets in TARGETS.items():
        root = tmp_path_factory.mktemp(family)
        base = build_causal_model(family, root / "base", TEXTS)
        run = root / "run"
        lora = LoraConfig(r=4, lora_alpha=16, target_modules=targets, init_lora_weights=False)
        get_peft_model(AutoModelForCausalLM.from_pretrained(base), lora).save_pretrained(run)
        (run / "train_log.json").write_text(json.dumps({"method": "lora"}))
        out[family] = (base, run)
    return out


@pytest.mark.parametrize("family", ["bloom", "gpt_neox"])
def test_adapters_vllm_cannot_serve_are_merged_to_the_same_outputs(adapters, tmp_path, family):
    base, run = adapters[family]
    assert model_type(base) in VLLM_WITHOUT_LORA
    merged = merge_adapter(run, base, tmp_path / "merged", "float32")
    assert (merged / "model.safetensors").is_file() and not (merged / "adapter_config.json").exists()
    decoding = DecodingParams("t", max_new_tokens=10, repetition_penalty=1.0, no_repeat_ngram_size=0, stop=("### ",))
    with_adapter = generate_texts(*load_for_generation(run, base, dtype="float32", device="cpu", merge_lora=False),
                                  PROMPTS, decoding, batch_size=2)
    from_merged = generate_texts(*load_for_generation(merged, merged, dtype="float32", device="cpu"),
                                 PROMPTS, decoding, batch_size=2)
    plain_base = generate_texts(*load_for_generation(base, base, dtype="float32", device="cpu"),
                                PROMPTS, decoding, batch_size=2)
    assert from_merged == with_adapter
    assert from_merged != plain_base  # the adapter is really in the merged weights


def test_llama_adapters_are_served_as_lora(adapters):
    assert model_type(adapters["llama"][0]) not in VLLM_WITHOUT_LORA


def test_dtype_follows_the_transformers_backend_on_cuda():
    assert vllm_dtype("auto", bf16_supported=True) == "bfloat16"
    assert vllm_dtype("auto", bf16_supported=False) == "float16"
    assert vllm_dtype("float32", bf16_supported=True) == "float32"


def test_a_stop_string_that_begins_in_the_prompt_ends_the_response(adapters):
    """The prompt ends with a newline and the model writes '### ...': the stop '\\n### ' straddles the
    boundary. vLLM matches stops in generated text only; the shared cut still sees it."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(adapters["llama"][0])
    tail = tokenizer("Response:\n", add_special_tokens=False)["input_ids"]
    generated = tokenizer("### Instruction: say hello", add_special_tokens=False)["input_ids"]
    stops = ["\n### "]
    assert "\n### " not in tokenizer.decode(generated)  # nothing for a generated-text-only matcher to find
    assert response_from_tokens(tokenizer, tail, generated, set(), stops) == ""
    assert response_from_tokens(tokenizer, tail, generated, set(), ["hello"]) == "### Instruction: say"
    eos = {generated[3]}
    assert response_from_tokens(tokenizer, tail, generated, eos, []) == tokenizer.decode(generated[:3]).strip()
    text = tokenizer.decode(tail + generated)
    assert cut_at_stop(text, len(tokenizer.decode(tail)), stops) == ""


@pytest.mark.skipif(importlib.util.find_spec("vllm") is None or not torch.cuda.is_available(),
                    reason="needs vLLM and a CUDA GPU (envs/generate-vllm.yaml)")
@pytest.mark.parametrize("family", ["bloom", "llama"])
def test_both_backends_give_the_same_greedy_responses(adapters, family):
    from polyalpaca.generate.vllm_backend import generate_texts_vllm

    base, run = adapters[family]
    decoding = DecodingParams("t", max_new_tokens=16, repetition_penalty=1.0, no_repeat_ngram_size=0, stop=("### ",))
    hf = generate_texts(*load_for_generation(run, base, dtype="auto", device="cuda"), PROMPTS, decoding, batch_size=4)
    assert generate_texts_vllm(run, base, PROMPTS, decoding, dtype="auto") == hf
