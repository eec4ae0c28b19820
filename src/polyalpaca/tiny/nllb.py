"""A tiny random NLLB (M2M100 architecture) with an NLLB tokenizer trained on the spot.

The tokenizer is built the way NLLB's own is: a SentencePiece BPE model, its pieces shifted by one id
(the fairseq offset: ``<s> <pad> </s> <unk>`` first), then one special token per language code and
``<mask>``. transformers 5 ignores a SentencePiece file handed to ``NllbTokenizer(vocab_file=...)``
(see the gotchas), so the vocabulary and merges are extracted from the trained model and passed as
``NllbTokenizer(vocab=..., merges=...)``; :func:`check_tokenizer` compares the result with
SentencePiece itself. The folder is saved like a hub snapshot, so ``AutoTokenizer``,
``AutoModelForSeq2SeqLM`` and the CTranslate2 converter load it like ``facebook/nllb-200-*``.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from ..data.staging import staged_folder
from ..errors import ConfigError

log = logging.getLogger(__name__)

FAIRSEQ_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")  # ids 0..3, as in fairseq and NLLB


def train_sentencepiece(texts: Sequence[str], model_prefix: Path, vocab_size: int) -> Path:
    """Train a SentencePiece BPE model (NLLB's kind) on ``texts``; deterministic (one thread, no sampling)."""
    import sentencepiece as spm

    corpus = model_prefix.with_suffix(".txt")
    lines = [line.strip() for text in texts for line in str(text).splitlines() if line.strip()]
    if not lines:
        raise ConfigError("a tiny NLLB tokenizer needs some training text, got none")
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(model_prefix), vocab_size=vocab_size, model_type="bpe",
        character_coverage=1.0, hard_vocab_limit=False, num_threads=1, shuffle_input_sentence=False,
        input_sentence_size=0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2,
        normalization_rule_name="nmt_nfkc", byte_fallback=False,
    )
    return model_prefix.with_suffix(".model")


def nllb_tokenizer_from_sentencepiece(spm_path: Path, nllb_codes: Sequence[str]):
    """An ``NllbTokenizer`` whose pieces and merges come from ``spm_path``, ids in fairseq order."""
    from tokenizers.models import BPE
    from transformers import NllbTokenizer
    from transformers.convert_slow_tokenizer import SentencePieceExtractor

    extracted = SentencePieceExtractor(str(spm_path)).extract(BPE)
    sp_vocab: dict[str, int] = extracted["vocab"]  # piece -> SentencePiece id (0 <unk>, 1 <s>, 2 </s>)
    vocab = {tok: i for i, tok in enumerate(FAIRSEQ_SPECIALS)}
    for piece, sp_id in sorted(sp_vocab.items(), key=lambda kv: kv[1]):
        if sp_id >= 3:  # the three SentencePiece control pieces are the fairseq specials above
            vocab[piece] = sp_id + 1
    merges = [(a, b) for a, b in extracted["merges"] if a in vocab and b in vocab]
    return NllbTokenizer(
        vocab=vocab, merges=merges, _spm_precompiled_charsmap=extracted.get("_spm_precompiled_charsmap"),
        additional_special_tokens=list(dict.fromkeys(nllb_codes)), src_lang=nllb_codes[0],
        model_max_length=1024,
    )


def check_tokenizer(tokenizer, spm_path: Path, texts: Iterable[str]) -> None:
    """Raise if the NLLB tokenizer splits any of ``texts`` differently from SentencePiece."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(spm_path))
    for text in texts:
        expected = sp.encode(text, out_type=str)
        got = tokenizer.tokenize(text)
        if got != expected:
            raise RuntimeError(f"tiny NLLB tokenizer differs from SentencePiece on {text[:60]!r}: "
                               f"{got[:12]} != {expected[:12]}")


def build_nllb_model(
    out_dir: str | Path,
    texts: Iterable[str],
    nllb_codes: Sequence[str],
    *,
    d_model: int = 64,
    encoder_layers: int = 2,
    decoder_layers: int = 2,
    heads: int = 4,
    ffn_dim: int = 128,
    vocab_size: int = 1000,
    max_position_embeddings: int = 512,
    seed: int = 0,
    model_vocab_size: int | None = None,
) -> Path:
    """Build a random M2M100 model with an NLLB tokenizer trained on ``texts``; save it to ``out_dir``.

    ``nllb_codes`` are the FLORES-200 codes (``eng_Latn``...) that get language tokens. ``vocab_size``
    is the SentencePiece size (smaller when the text is too small). Deterministic given ``texts``,
    ``nllb_codes`` and ``seed``; written to a temporary folder and renamed, so a half-built model never
    looks complete. ``model_vocab_size`` pads the embedding matrix beyond the tokenizer (NLLB's own is
    256206) for benchmarks of realistic cost. Returns ``out_dir``.
    """
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    nllb_codes = list(dict.fromkeys(nllb_codes))
    if not nllb_codes:
        raise ConfigError("a tiny NLLB model needs at least one language code")
    if d_model % heads:
        raise ConfigError(f"tiny NLLB: d_model ({d_model}) must be a multiple of heads ({heads})")
    texts = [str(t) for t in texts]
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with staged_folder(out_dir) as tmp:
        with tempfile.TemporaryDirectory() as work:
            spm_path = train_sentencepiece(texts, Path(work) / "spm", vocab_size)
            tokenizer = nllb_tokenizer_from_sentencepiece(spm_path, nllb_codes)
            check_tokenizer(tokenizer, spm_path, texts[:200])
        tokenizer.save_pretrained(tmp)

        torch.manual_seed(seed)
        config = M2M100Config(
            vocab_size=max(len(tokenizer), model_vocab_size or 0), d_model=d_model, encoder_layers=encoder_layers,
            decoder_layers=decoder_layers,
            encoder_attention_heads=heads, decoder_attention_heads=heads, encoder_ffn_dim=ffn_dim,
            decoder_ffn_dim=ffn_dim, max_position_embeddings=max_position_embeddings, scale_embedding=True,
            pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.eos_token_id,
            dropout=0.0, attention_dropout=0.0, encoder_layerdrop=0.0, decoder_layerdrop=0.0,
            tokenizer_class="NllbTokenizer",
        )
        model = M2M100ForConditionalGeneration(config).eval()
        model.save_pretrained(tmp)
    log.info("built tiny NLLB model (d_model=%d, %d+%d layers, vocab %d, %d language codes) in %s",
             d_model, encoder_layers, decoder_layers, len(tokenizer), len(nllb_codes), out_dir)
    return out_dir
