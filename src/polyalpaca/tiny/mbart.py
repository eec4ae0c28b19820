"""A tiny mBART-50 tokenizer (``MBart50Tokenizer``) trained on the spot, for offline token statistics.

``facebook/mbart-large-50``'s tokenizer is a SentencePiece unigram model whose pieces follow the fairseq
ids (``<s> <pad> </s> <unk>``), then 52 language codes and ``<mask>``. The tiny one is built the same way
from a SentencePiece unigram model trained on ``texts``: transformers 5 ignores a SentencePiece file
handed to the constructor (docs: the gotchas of the NLLB build, :mod:`polyalpaca.tiny.nllb`), so the
pieces and scores are extracted and passed as ``MBart50Tokenizer(vocab=...)``, and the result is checked
against SentencePiece itself. The folder loads with ``AutoTokenizer`` like the hub snapshot.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from ..data.staging import staged_folder
from ..errors import ConfigError

log = logging.getLogger(__name__)


def train_unigram(texts: Sequence[str], model_prefix: Path, vocab_size: int) -> Path:
    """A SentencePiece unigram model (mBART's kind) of ``texts``; deterministic (one thread, no sampling)."""
    import sentencepiece as spm

    lines = [line.strip() for text in texts for line in str(text).splitlines() if line.strip()]
    if not lines:
        raise ConfigError("a tiny mBART-50 tokenizer needs some training text, got none")
    corpus = model_prefix.with_suffix(".txt")
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(model_prefix), vocab_size=vocab_size, model_type="unigram",
        character_coverage=1.0, hard_vocab_limit=False, num_threads=1, shuffle_input_sentence=False,
        input_sentence_size=0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2,
        normalization_rule_name="nmt_nfkc",
    )
    return model_prefix.with_suffix(".model")


def mbart50_tokenizer_from_sentencepiece(spm_path: Path):
    """An ``MBart50Tokenizer`` over the pieces of ``spm_path`` (fairseq ids, language codes, ``<mask>``)."""
    from tokenizers.models import Unigram
    from transformers import MBart50Tokenizer
    from transformers.convert_slow_tokenizer import SentencePieceExtractor

    extracted = SentencePieceExtractor(str(spm_path)).extract(Unigram)
    return MBart50Tokenizer(vocab=extracted["vocab"], _spm_precompiled_charsmap=extracted["_spm_precompiled_charsmap"],
                            src_lang="en_XX", model_max_length=1024)


def check_tokenizer(tokenizer, spm_path: Path, texts: Iterable[str]) -> None:
    """Raise if the tokenizer splits any of ``texts`` differently from SentencePiece."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(spm_path))
    for text in texts:
        expected, got = sp.encode(text, out_type=str), tokenizer.tokenize(text)
        if got != expected:
            raise RuntimeError(f"tiny mBART-50 tokenizer differs from SentencePiece on {text[:60]!r}: "
                               f"{got[:12]} != {expected[:12]}")


def build_mbart50_tokenizer(out_dir: str | Path, texts: Iterable[str], *, vocab_size: int = 1000) -> Path:
    """Train and save a tiny mBART-50 tokenizer in ``out_dir`` (temporary folder, then renamed)."""
    texts = [str(t) for t in texts]
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with staged_folder(out_dir) as tmp:
        with tempfile.TemporaryDirectory() as work:
            spm_path = train_unigram(texts, Path(work) / "spm", vocab_size)
            tokenizer = mbart50_tokenizer_from_sentencepiece(spm_path)
            check_tokenizer(tokenizer, spm_path, texts[:200])
        tokenizer.save_pretrained(tmp)
    log.info("built a tiny mBART-50 tokenizer (%d entries) in %s", len(tokenizer), out_dir)
    return out_dir
