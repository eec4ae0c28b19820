"""Tiny random models: real architectures, hub-snapshot layout, deterministic."""

import hashlib

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from polyalpaca.errors import ConfigError
from polyalpaca.tiny import build_causal_model

TEXTS = ["Give three tips for staying healthy.", "Donne trois conseils pour rester en bonne santé.",
         "Da tres consejos para mantenerse sano.", "Write a Python function that adds two numbers."] * 10

ARCH = {"gpt_neox": "GPTNeoXForCausalLM", "bloom": "BloomForCausalLM", "llama": "LlamaForCausalLM"}


@pytest.mark.parametrize("family", sorted(ARCH))
def test_builds_loads_and_generates(tmp_path, family):
    out = build_causal_model(family, tmp_path / family, TEXTS, hidden_size=32, layers=1, heads=4, vocab_size=400)
    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    assert type(model).__name__ == ARCH[family]
    # byte-level BPE: any script round-trips, nothing becomes <unk>
    text = "Привет, 你好, héllo"
    assert tok.decode(tok(text)["input_ids"]) == text
    ids = tok("Give three tips", return_tensors="pt")
    out_ids = model.generate(**ids, max_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id)
    assert out_ids.shape[1] == ids["input_ids"].shape[1] + 4
    assert tok.eos_token_id is not None and tok.pad_token_id != tok.eos_token_id


def _digest(folder):
    h = hashlib.sha256()
    for name in ("model.safetensors", "tokenizer.json"):
        h.update((folder / name).read_bytes())
    return h.hexdigest()


def test_deterministic_given_seed(tmp_path):
    a = build_causal_model("llama", tmp_path / "a", TEXTS, hidden_size=32, layers=1, seed=3)
    b = build_causal_model("llama", tmp_path / "b", TEXTS, hidden_size=32, layers=1, seed=3)
    c = build_causal_model("llama", tmp_path / "c", TEXTS, hidden_size=32, layers=1, seed=4)
    assert _digest(a) == _digest(b) != _digest(c)
    wa = AutoModelForCausalLM.from_pretrained(a).state_dict()
    wb = AutoModelForCausalLM.from_pretrained(b).state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ConfigError, match="unknown model family 'gpt2'"):
        build_causal_model("gpt2", tmp_path / "x", TEXTS)
    with pytest.raises(ConfigError, match="hidden_size 30 is not divisible by heads 4"):
        build_causal_model("llama", tmp_path / "x", TEXTS, hidden_size=30)
