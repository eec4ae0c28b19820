"""Tiny random NLLB: hub-snapshot layout, NLLB tokenizer matching SentencePiece, deterministic."""

import hashlib

import pytest
import sentencepiece as spm
import torch
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

from polyalpaca.errors import ConfigError
from polyalpaca.tiny.nllb import build_nllb_model, nllb_tokenizer_from_sentencepiece, train_sentencepiece

TEXTS = ["Give three tips for staying healthy.", "Donne trois conseils pour rester en bonne santé.",
         "Da tres consejos para mantenerse sano.", "Gib drei Tipps, um gesund zu bleiben.",
         "Write a Python function that adds two numbers: `def add(a, b): return a + b`.",
         "Привет, как дела? 你好，世界。"] * 8
CODES = ["eng_Latn", "fra_Latn", "spa_Latn", "deu_Latn"]
SMALL = dict(d_model=32, encoder_layers=1, decoder_layers=1, heads=4, ffn_dim=64, vocab_size=300)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_nllb_model(tmp_path_factory.mktemp("nllb") / "tiny", TEXTS, CODES, seed=1, **SMALL)


def test_loads_like_a_hub_snapshot_and_generates(tiny):
    tok = AutoTokenizer.from_pretrained(tiny, src_lang="eng_Latn")
    model = AutoModelForSeq2SeqLM.from_pretrained(tiny)
    assert type(tok).__name__ == "NllbTokenizer"
    assert type(model).__name__ == "M2M100ForConditionalGeneration"
    # fairseq ids, NLLB's prefix scheme: [src_lang] tokens </s>
    assert tok.convert_tokens_to_ids(["<s>", "<pad>", "</s>", "<unk>"]) == [0, 1, 2, 3]
    ids = tok("Give three tips.")["input_ids"]
    assert ids[0] == tok.convert_tokens_to_ids("eng_Latn") and ids[-1] == tok.eos_token_id
    assert tok.unk_token_id not in ids
    for code in CODES:
        assert code in tok.all_special_tokens
    batch = tok(["Give three tips.", "Eat well"], return_tensors="pt", padding=True)
    out = model.generate(**batch, forced_bos_token_id=tok.convert_tokens_to_ids("fra_Latn"), max_new_tokens=5,
                         min_new_tokens=5, do_sample=False)
    assert out.shape == (2, 6)  # decoder start, then 5 new tokens: the forced language code and 4 more
    assert (out[:, 1] == tok.convert_tokens_to_ids("fra_Latn")).all()


def test_tokenizer_matches_sentencepiece(tmp_path):
    spm_path = train_sentencepiece(TEXTS, tmp_path / "spm", 300)
    tok = nllb_tokenizer_from_sentencepiece(spm_path, CODES)
    sp = spm.SentencePieceProcessor(model_file=str(spm_path))
    for text in sorted(set(TEXTS)) + ["Conseils  pour\trester sains!", "unseen wordsxyz", "x\u00a0y"]:
        # fairseq ids: SentencePiece id + 1, SentencePiece's <unk> (0) is fairseq's <unk> (3)
        expected = [3 if i == 0 else i + 1 for i in sp.encode(text)]
        assert tok(text, add_special_tokens=False)["input_ids"] == expected, text
        if 0 not in sp.encode(text):
            assert tok.tokenize(text) == sp.encode(text, out_type=str), text


def _digest(folder):
    return hashlib.sha256((folder / "model.safetensors").read_bytes() + (folder / "tokenizer.json").read_bytes()).hexdigest()


def test_deterministic_given_seed(tiny, tmp_path):
    same = build_nllb_model(tmp_path / "same", TEXTS, CODES, seed=1, **SMALL)
    other = build_nllb_model(tmp_path / "other", TEXTS, CODES, seed=2, **SMALL)
    assert _digest(same) == _digest(tiny) != _digest(other)
    wa = AutoModelForSeq2SeqLM.from_pretrained(same).state_dict()
    wb = AutoModelForSeq2SeqLM.from_pretrained(tiny).state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ConfigError, match="d_model .* multiple of heads"):
        build_nllb_model(tmp_path / "x", TEXTS, CODES, d_model=30, heads=4)
    with pytest.raises(ConfigError, match="training text"):
        build_nllb_model(tmp_path / "y", ["", "  "], CODES)
    with pytest.raises(ConfigError, match="language code"):
        build_nllb_model(tmp_path / "z", TEXTS, [])
    assert not any(tmp_path.iterdir())  # nothing half-built left behind
