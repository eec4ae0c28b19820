"""Tiny causal LMs (GPT-NeoX/Pythia, BLOOM, LLaMA) with a byte-level BPE tokenizer trained on the spot."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Iterable

from ..errors import ConfigError

log = logging.getLogger(__name__)

FAMILIES = ("gpt_neox", "bloom", "llama")
EOS, PAD = "<|endoftext|>", "<|padding|>"


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1000):
    """A byte-level BPE tokenizer (any script tokenizes without <unk>) wrapped as a fast HF tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=EOS, eos_token=EOS, unk_token=EOS, pad_token=PAD,
        model_max_length=2048,
    )


def _model_config(family: str, vocab_size: int, hidden_size: int, layers: int, heads: int, eos_id: int, pad_id: int):
    common = dict(vocab_size=vocab_size, bos_token_id=eos_id, eos_token_id=eos_id, pad_token_id=pad_id,
                  tie_word_embeddings=False)
    if family == "gpt_neox":
        from transformers import GPTNeoXConfig

        return GPTNeoXConfig(hidden_size=hidden_size, num_hidden_layers=layers, num_attention_heads=heads,
                             intermediate_size=4 * hidden_size, max_position_embeddings=2048, rotary_pct=0.25,
                             use_parallel_residual=True, **common)
    if family == "bloom":
        from transformers import BloomConfig

        return BloomConfig(hidden_size=hidden_size, n_layer=layers, n_head=heads, **common)
    if family == "llama":
        from transformers import LlamaConfig

        return LlamaConfig(hidden_size=hidden_size, intermediate_size=2 * hidden_size + hidden_size // 2,
                           num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                           max_position_embeddings=2048, **common)
    raise ConfigError(f"unknown model family {family!r} for a tiny model (known: {', '.join(FAMILIES)})")


def build_causal_model(
    family: str,
    out_dir: str | Path,
    texts: Iterable[str],
    *,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    vocab_size: int = 1000,
    seed: int = 0,
) -> Path:
    """Build a tiny random model of ``family`` with a tokenizer trained on ``texts``; save it to ``out_dir``.

    Deterministic given ``texts`` and ``seed``. Returns ``out_dir``.
    """
    import torch
    from transformers import AutoModelForCausalLM

    if family not in FAMILIES:
        raise ConfigError(f"unknown model family {family!r} for a tiny model (known: {', '.join(FAMILIES)})")
    if hidden_size % heads:
        raise ConfigError(f"tiny model: hidden_size {hidden_size} is not divisible by heads {heads}")
    texts = [t for t in texts if t]
    if not texts:
        raise ConfigError("tiny model: no texts to train the tokenizer on")
    out_dir = Path(out_dir)
    tokenizer = train_tokenizer(texts, vocab_size)
    config = _model_config(family, len(tokenizer), hidden_size, layers, heads,
                           tokenizer.eos_token_id, tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    (out_dir / "polyalpaca_tiny.json").write_text(json.dumps(
        {"family": family, "hidden_size": hidden_size, "layers": layers, "heads": heads,
         "vocab_size": len(tokenizer), "seed": seed, "parameters": sum(p.numel() for p in model.parameters())},
        indent=2) + "\n", encoding="utf-8")
    log.info("built tiny %s model in %s (%d parameters)", family, out_dir, sum(p.numel() for p in model.parameters()))
    return out_dir
