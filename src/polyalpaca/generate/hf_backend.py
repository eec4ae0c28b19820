"""Batched greedy decoding with transformers: left padding, attention mask, length-sorted batches.

Batched output is token-identical to decoding one prompt at a time: transformers 5 builds position
ids from the attention mask, and the repetition penalty and no-repeat n-gram rule below ignore the left
padding (transformers' own processors count pad tokens as seen tokens, which changes the penalty of the
pad/EOS token in padded rows only).
"""

from __future__ import annotations

import logging
import time
from typing import Sequence

import torch
from transformers import (
    GenerationConfig,
    LogitsProcessor,
    LogitsProcessorList,
    StoppingCriteria,
    StoppingCriteriaList,
)

from .settings import DecodingParams
from .stops import contains_new_stop, response_from_tokens, stop_tail_tokens

log = logging.getLogger(__name__)


class PaddingAwareRepetitionPenalty(LogitsProcessor):
    """CTRL-style repetition penalty (as transformers) over every prompt and generated token, except left padding."""

    def __init__(self, penalty: float, pad_lengths: torch.Tensor):
        self.penalty = penalty
        self.pad_lengths = pad_lengths

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
        vocab_size = scores.shape[-1]
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        # padding and ids beyond the output vocabulary point at one extra column, dropped afterwards
        ids = input_ids.masked_fill(positions[None, :] < self.pad_lengths[:, None].to(input_ids.device), vocab_size)
        ids = ids.clamp(max=vocab_size)
        padded = torch.nn.functional.pad(scores, (0, 1))
        score = torch.gather(padded, 1, ids)
        score = torch.where(score < 0, score * self.penalty, score / self.penalty)
        return padded.scatter(1, ids, score)[..., :vocab_size]


class PaddingAwareNoRepeatNGram(LogitsProcessor):
    """Ban tokens that would repeat an n-gram of the row's tokens (left padding excluded)."""

    def __init__(self, ngram_size: int, pad_lengths: torch.Tensor):
        self.n = ngram_size
        self.pad_lengths = pad_lengths.tolist()

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
        n = self.n
        scores = scores.clone()
        for row, pad in enumerate(self.pad_lengths):
            tokens = input_ids[row, pad:].tolist()
            if len(tokens) + 1 < n:
                continue
            prefix = tuple(tokens[len(tokens) - n + 1:]) if n > 1 else ()
            banned = {tokens[i + n - 1] for i in range(len(tokens) - n + 1) if tuple(tokens[i:i + n - 1]) == prefix}
            if banned:
                scores[row, list(banned)] = -float("inf")
        return scores


class StopOnStrings(StoppingCriteria):
    """Finish a row when its last token completes a stop string (counting a short tail of its prompt)."""

    def __init__(self, tokenizer, stops: Sequence[str], prompt_tails: list[list[int]], prompt_len: int):
        self.stops = list(stops)
        self.window = stop_tail_tokens(stops)
        self.prompt_tails = prompt_tails
        self.prompt_len = prompt_len
        # The Rust tokenizer decodes a batch without transformers' per-token Python overhead (this runs
        # at every step for every row). Where it differs from tokenizer.decode (space clean-up), only the
        # step a row stops at can change, identically in batched and one-at-a-time decoding: the
        # response is cut on the full decoded text afterwards.
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is not None:
            self._decode = lambda seqs: backend.decode_batch(seqs, skip_special_tokens=True)
        else:
            self._decode = lambda seqs: tokenizer.batch_decode(seqs, skip_special_tokens=True)

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        if not self.stops:
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        windows = [(tail + gen)[-(self.window + 1):]
                   for tail, gen in zip(self.prompt_tails, input_ids[:, self.prompt_len:].tolist())]
        befores = self._decode([w[:-1] for w in windows])
        afters = self._decode(windows)
        done = [contains_new_stop(b, a, self.stops) for b, a in zip(befores, afters)]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first, so memory peaks early)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def _eos_ids(model, tokenizer) -> list[int]:
    eos = model.generation_config.eos_token_id
    eos = [eos] if isinstance(eos, int) else list(eos or [])
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in eos:
        eos.append(tokenizer.eos_token_id)
    return eos


@torch.inference_mode()
def generate_batch(model, tokenizer, prompts: Sequence[str], decoding: DecodingParams) -> list[str]:
    """Greedy responses to rendered ``prompts`` decoded together (left padding + attention mask)."""
    tokenizer.padding_side = "left"
    enc = tokenizer(list(prompts), return_tensors="pt", padding=True)
    input_ids = enc["input_ids"].to(model.device)
    attention_mask = enc["attention_mask"].to(model.device)
    pad_lengths = (attention_mask == 0).sum(dim=1)
    prompt_len = input_ids.shape[1]
    tail = stop_tail_tokens(decoding.stop)
    prompt_tails = [input_ids[r, max(int(p), prompt_len - tail):].tolist() for r, p in enumerate(pad_lengths)]

    eos = _eos_ids(model, tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos[0]
    config = GenerationConfig(
        do_sample=False, num_beams=1, max_new_tokens=decoding.max_new_tokens, eos_token_id=eos,
        pad_token_id=pad_id, repetition_penalty=1.0, no_repeat_ngram_size=0,
        temperature=None, top_p=None, top_k=None,
    )
    processors = LogitsProcessorList()
    if decoding.repetition_penalty != 1.0:
        processors.append(PaddingAwareRepetitionPenalty(decoding.repetition_penalty, pad_lengths))
    if decoding.no_repeat_ngram_size > 0:
        processors.append(PaddingAwareNoRepeatNGram(decoding.no_repeat_ngram_size, pad_lengths))
    criteria = StoppingCriteriaList([StopOnStrings(tokenizer, decoding.stop, prompt_tails, prompt_len)])
    out = model.generate(input_ids=input_ids, attention_mask=attention_mask, generation_config=config,
                         logits_processor=processors, stopping_criteria=criteria)

    return [response_from_tokens(tokenizer, prompt_tails[row], seq, set(eos), decoding.stop)
            for row, seq in enumerate(out[:, prompt_len:].tolist())]


def generate_texts(model, tokenizer, prompts: Sequence[str], decoding: DecodingParams,
                   batch_size: int, sort_by_length: bool = True) -> list[str]:
    """Responses to every prompt, in the order given, decoded in (length-sorted) batches."""
    lengths = [len(ids) for ids in tokenizer(list(prompts))["input_ids"]] if sort_by_length else [0] * len(prompts)
    batches = (length_sorted_batches(lengths, batch_size) if sort_by_length
               else [list(range(i, min(i + batch_size, len(prompts)))) for i in range(0, len(prompts), batch_size)])
    responses: list[str | None] = [None] * len(prompts)
    start = time.perf_counter()
    for b, batch in enumerate(batches, start=1):
        for i, text in zip(batch, generate_batch(model, tokenizer, [prompts[i] for i in batch], decoding)):
            responses[i] = text
        log.info("batch %d/%d (%d prompts) done, %.1f s elapsed", b, len(batches), len(batch), time.perf_counter() - start)
    return responses  # type: ignore[return-value]
