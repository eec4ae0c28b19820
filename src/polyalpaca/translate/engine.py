"""The CTranslate2 side: a converted NLLB model and its tokenizer, translating sentences in token batches.

Loaded lazily (``ctranslate2`` and ``transformers`` are imported when an engine is created), so the
text handling and the Snakefile never pay for them.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

from ..errors import ConfigError
from .settings import TranslateSettings

log = logging.getLogger(__name__)

LANG_CODE = re.compile(r"[a-z]{3}_[A-Z][a-z]{3}")  # FLORES-200 codes, NLLB's language tokens


@dataclass(frozen=True)
class Translation:
    """One translated sentence and the measures the quality filter needs."""

    text: str
    src_tokens: int
    out_tokens: int
    hit_limit: bool  # stopped by the length bound, not by end of sentence


class SentenceTranslator(Protocol):
    """What :func:`polyalpaca.translate.translate_shard` needs from an engine."""

    name: str

    def translate(self, sentences: Sequence[str], src_code: str, tgt_code: str) -> list[Translation]: ...


def missing_model_message(model_dir: Path) -> str:
    return (f"{model_dir}: no CTranslate2 model here (model.bin missing). Build it with "
            f"`snakemake {model_dir}` (rule convert_nllb, from translators.<name>.hf or .path), or convert an NLLB "
            f"snapshot yourself: ct2-transformers-converter --model <snapshot> --output_dir {model_dir} "
            f"--quantization int8 --copy_files tokenizer.json tokenizer_config.json special_tokens_map.json")


class Ct2Translator:
    """An NLLB model converted to CTranslate2, with the tokenizer saved beside it by the converter."""

    def __init__(self, model_dir: str | Path, settings: TranslateSettings, *, threads: int = 1, name: str = "nllb"):
        if settings.device == "cuda":  # before ctranslate2 is imported and opens cuBLAS by soname
            from .cuda_libs import prepare_cuda_translation

            prepare_cuda_translation()
        import ctranslate2
        from transformers import AutoTokenizer

        self.model_dir = Path(model_dir)
        self.settings = settings
        self.name = name
        if not (self.model_dir / "model.bin").is_file():
            raise ConfigError(missing_model_message(self.model_dir))
        if settings.device == "cuda" and ctranslate2.get_cuda_device_count() == 0:
            raise ConfigError("translate.device is cuda but CTranslate2 sees no CUDA device (set translate.device: cpu)")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir))
        except (OSError, ValueError) as err:
            raise ConfigError(f"{self.model_dir}: cannot load the NLLB tokenizer saved with the model ({err}); "
                              "reconvert with the tokenizer files copied (rule convert_nllb does)") from None
        self.translator = ctranslate2.Translator(
            str(self.model_dir), device=settings.device, compute_type=settings.compute_type,
            intra_threads=threads, inter_threads=1,
        )
        self.language_codes = {t for t in self.tokenizer.all_special_tokens if LANG_CODE.fullmatch(t)}
        log.info("loaded %s on %s (%s, %d threads)", self.model_dir, settings.device, settings.compute_type, threads)

    def check_code(self, code: str) -> None:
        if code not in self.language_codes:
            known = ", ".join(sorted(self.language_codes)) or "none"
            raise ConfigError(f"{self.model_dir}: the model has no language token {code!r} (it has: {known})")

    def _tokenize(self, sentences: Sequence[str], src_code: str) -> list[list[str]]:
        self.tokenizer.src_lang = src_code
        ids = self.tokenizer(list(sentences), add_special_tokens=True)["input_ids"]
        return [self.tokenizer.convert_ids_to_tokens(row) for row in ids]

    def _fit(self, sentence: str, tokens: list[str], src_code: str) -> list[tuple[str, list[str]]]:
        """Split a sentence at spaces until every part fits ``max_input_tokens`` (with its 2 special tokens)."""
        if len(tokens) <= self.settings.max_input_tokens + 2:
            return [(sentence, tokens)]
        words = sentence.split(" ")
        if len(words) < 2:
            mid = len(sentence) // 2
            halves = [sentence[:mid], sentence[mid:]]
        else:
            halves = [" ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2:])]
        return [part for half, toks in zip(halves, self._tokenize(halves, src_code))
                for part in self._fit(half, toks, src_code)]

    def translate(self, sentences: Sequence[str], src_code: str, tgt_code: str) -> list[Translation]:
        """Translate sentences (sorted by length, batched by tokens, output bounded by input length)."""
        self.check_code(src_code)
        self.check_code(tgt_code)
        if not sentences:
            return []
        parts_of = [self._fit(s, toks, src_code) for s, toks in zip(sentences, self._tokenize(sentences, src_code))]
        results = self._translate_tokens([toks for parts in parts_of for _, toks in parts], tgt_code)
        out, i = [], 0
        for parts in parts_of:
            done = results[i:i + len(parts)]
            i += len(parts)
            if len(parts) > 1:
                log.debug("a sentence of more than %d tokens was translated in %d parts", self.settings.max_input_tokens,
                          len(parts))
            out.append(Translation(" ".join(t.text for t in done), sum(t.src_tokens for t in done),
                                   sum(t.out_tokens for t in done), any(t.hit_limit for t in done)))
        return out

    def _translate_tokens(self, tokens: list[list[str]], tgt_code: str) -> list[Translation]:
        s = self.settings
        order = sorted(range(len(tokens)), key=lambda i: len(tokens[i]))
        results: list[Translation | None] = [None] * len(tokens)
        batch: list[int] = []
        width = 0
        batches = []
        for i in order:  # sorted by length: a batch's padded size is len(batch) * its longest input
            n = len(tokens[i])
            if batch and (len(batch) + 1) * max(width, n) > s.batch_tokens:
                batches.append(batch)
                batch, width = [], 0
            batch.append(i)
            width = max(width, n)
        if batch:
            batches.append(batch)
        for batch in batches:
            src_len = max(len(tokens[i]) - 2 for i in batch)  # without the language token and </s>
            limit = math.ceil(s.length_factor * src_len + s.length_offset)
            hyps = self.translator.translate_batch(
                [tokens[i] for i in batch], target_prefix=[[tgt_code]] * len(batch),
                max_batch_size=s.batch_tokens, batch_type="tokens", beam_size=s.beam_size,
                max_decoding_length=limit + 1,  # counts the target-language prefix token
                max_input_length=0, repetition_penalty=s.repetition_penalty,
                no_repeat_ngram_size=s.no_repeat_ngram_size,
            )
            for i, hyp in zip(batch, hyps):
                out = hyp.hypotheses[0]
                if out and out[0] == tgt_code:
                    out = out[1:]
                ids = self.tokenizer.convert_tokens_to_ids(out)
                text = self.tokenizer.decode(ids, skip_special_tokens=True).strip()
                own_limit = math.ceil(s.length_factor * (len(tokens[i]) - 2) + s.length_offset)
                results[i] = Translation(text, len(tokens[i]) - 2, len(out), len(out) >= min(limit, own_limit))
        return results  # type: ignore[return-value]
