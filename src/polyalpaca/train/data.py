"""Training examples: prompt template, EOS, loss mask, truncation; length-grouped batches; padding.

Token ids of an example are exactly what generation will see (``tokenizer(render_prompt(...))``)
followed by the target and EOS, so training and inference cannot drift apart. With
``loss_on="response"`` the prompt positions get label -100 (no loss); with ``"all"`` every real
token carries the loss. Padding positions never do.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from ..errors import DataError
from ..io import ReadStats, iter_jsonl
from ..templates import render_prompt

log = logging.getLogger(__name__)

IGNORE_INDEX = -100


@dataclass
class EncodeStats:
    """What encoding did to a split (reported in train_log.json)."""

    records: int = 0
    examples: int = 0
    truncated: int = 0
    dropped_no_target: int = 0
    retokenized_boundary: int = 0
    tokens: int = 0
    loss_tokens: int = 0
    skipped_lines: list[str] = field(default_factory=list)


def _check_record(record: dict) -> None:
    for key in ("instruction", "output"):
        if not isinstance(record.get(key), str):
            raise ValueError(f"field {key!r} must be a string")
    if not isinstance(record.get("input", ""), (str, type(None))):
        raise ValueError("field 'input' must be a string")
    if not record["output"].strip():
        raise ValueError("empty 'output' (nothing to learn)")


def read_records(path: str | Path, *, on_bad_line: str = "fail", limit: int | None = None,
                 stats: EncodeStats | None = None) -> list[dict]:
    """Trainset records ``{"id", "instruction", "input", "output", ...}``; bad lines per ``on_bad_line``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: training split not found")
    read_stats = ReadStats(str(path))
    records = []
    for record in iter_jsonl(path, on_bad_line=on_bad_line, check=_check_record, stats=read_stats):
        records.append(record)
        if limit is not None and len(records) >= limit:
            break
    if stats is not None:
        stats.records = len(records)
        stats.skipped_lines = read_stats.skipped
    return records


def _texts(template: str, record: dict) -> tuple[str, str]:
    prompt = render_prompt(template, record["instruction"], record.get("input") or "")
    return prompt, prompt + record["output"]


def _combine(tokenizer, record: dict, prompt_ids: list[int], full_ids: list[int], *, max_length: int,
             loss_on: str) -> dict | None:
    if full_ids[: len(prompt_ids)] == prompt_ids and len(full_ids) > len(prompt_ids):
        target_ids = full_ids[len(prompt_ids):]
        retokenized = False
    else:
        # The prompt's last token merges with the target's first characters (e.g. a prompt ending in
        # a space). Generation sees the prompt's own tokens, so keep them and encode the target alone.
        target_ids = tokenizer(record["output"], add_special_tokens=False)["input_ids"]
        retokenized = True
    if tokenizer.eos_token_id is None:
        raise DataError("tokenizer has no EOS token; every target must end with EOS")
    if target_ids and target_ids[-1] == tokenizer.eos_token_id:  # tokenizers that add EOS themselves
        target_ids = target_ids[:-1]
    target_ids = list(target_ids) + [tokenizer.eos_token_id]
    input_ids = list(prompt_ids) + target_ids
    if loss_on == "response":
        labels = [IGNORE_INDEX] * len(prompt_ids) + target_ids
    else:
        labels = list(input_ids)
    truncated = len(input_ids) > max_length
    input_ids, labels = input_ids[:max_length], labels[:max_length]
    if sum(1 for x in labels[1:] if x != IGNORE_INDEX) == 0:
        return None
    return {"input_ids": input_ids, "labels": labels, "truncated": truncated, "boundary_retokenized": retokenized}


def encode_example(tokenizer, template: str, record: dict, *, max_length: int, loss_on: str) -> dict | None:
    """``{"input_ids", "labels", "truncated", "boundary_retokenized"}`` or ``None`` when no loss token is left.

    The ids are ``tokenizer(prompt)`` (what generation feeds the model) followed by the target's
    tokens in context and EOS; labels are -100 on the prompt when ``loss_on == "response"``.
    """
    prompt, full = _texts(template, record)
    return _combine(tokenizer, record, tokenizer(prompt)["input_ids"], tokenizer(full)["input_ids"],
                    max_length=max_length, loss_on=loss_on)


class EncodedDataset:
    """A list of encoded examples usable by a torch DataLoader (index -> dict of id lists)."""

    def __init__(self, examples: list[dict]):
        self.examples = examples
        self.lengths = [len(e["input_ids"]) for e in examples]

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict:
        e = self.examples[index]
        return {"input_ids": e["input_ids"], "labels": e["labels"]}


ENCODE_CHUNK = 1000


def _count(stats: EncodeStats, enc: dict | None, examples: list[dict]) -> None:
    if enc is None:
        stats.dropped_no_target += 1
        return
    stats.truncated += enc["truncated"]
    stats.retokenized_boundary += enc["boundary_retokenized"]
    stats.tokens += len(enc["input_ids"])
    stats.loss_tokens += sum(1 for x in enc["labels"] if x != IGNORE_INDEX)
    examples.append(enc)


def encode_records(tokenizer, records: Sequence[dict], *, template: str, max_length: int, loss_on: str,
                   stats: EncodeStats | None = None, where: str = "") -> EncodedDataset:
    stats = stats if stats is not None else EncodeStats()
    examples = []
    for start in range(0, len(records), ENCODE_CHUNK):  # batched calls: the fast tokenizer runs in parallel
        chunk = records[start:start + ENCODE_CHUNK]
        prompts, fulls = zip(*(_texts(template, r) for r in chunk))
        prompt_ids = tokenizer(list(prompts))["input_ids"]
        full_ids = tokenizer(list(fulls))["input_ids"]
        for record, p_ids, f_ids in zip(chunk, prompt_ids, full_ids):
            enc = _combine(tokenizer, record, p_ids, f_ids, max_length=max_length, loss_on=loss_on)
            _count(stats, enc, examples)
    stats.examples = len(examples)
    if stats.dropped_no_target:
        log.warning("%s: dropped %d of %d examples whose prompt fills max_length %d (no response token left)",
                    where, stats.dropped_no_target, len(records), max_length)
    if stats.truncated:
        log.info("%s: truncated %d examples to max_length %d", where, stats.truncated, max_length)
    return EncodedDataset(examples)


def make_batches(lengths: Sequence[int], order: Sequence[int], *, batch_size: int | None = None,
                 batch_tokens: int | None = None, group_size: int | None = None) -> list[list[int]]:
    """Cut ``order`` into batches; within each group of ``group_size`` examples sort by length first.

    ``batch_size``: fixed number of examples. ``batch_tokens``: as many examples as fit in
    ``batch_tokens`` padded tokens (batch size x longest example). ``group_size=None``: no sorting
    (naive padding in the given order).
    """
    if (batch_size is None) == (batch_tokens is None):
        raise ValueError("give exactly one of batch_size and batch_tokens")
    batches: list[list[int]] = []
    step = group_size or len(order) or 1
    for start in range(0, len(order), step):
        group = list(order[start:start + step])
        if group_size:
            group.sort(key=lambda i: lengths[i], reverse=True)
        if batch_size is not None:
            batches.extend(group[i:i + batch_size] for i in range(0, len(group), batch_size))
            continue
        current: list[int] = []
        longest = 0
        for idx in group:
            new_longest = max(longest, lengths[idx])
            if current and new_longest * (len(current) + 1) > batch_tokens:
                batches.append(current)
                current, new_longest = [], lengths[idx]
            current.append(idx)
            longest = new_longest
        if current:
            batches.append(current)
    return batches


class LengthGroupedBatchSampler:
    """Batches of similar length, in a random order that depends only on (seed, epoch).

    Fixed-size batches are re-formed every epoch (shuffle, sort within groups, cut, shuffle the
    batches); their number is the same every epoch. Token-budget batches are formed once and only
    their order changes per epoch, so the number of steps per epoch is fixed too. Deterministic, so
    a resumed run skips exactly the batches it had already trained on.
    """

    def __init__(self, lengths: Sequence[int], *, batch_size: int | None = None, batch_tokens: int | None = None,
                 group_size: int | None = 1024, shuffle: bool = True, seed: int = 0):
        if not lengths:
            raise DataError("no training examples to batch")
        self.lengths = list(lengths)
        # not named `batch_size`: accelerate would then treat smaller batches as incomplete ones
        self.examples_per_batch, self.batch_tokens = batch_size, batch_tokens
        self.group_size, self.shuffle, self.seed = group_size, shuffle, seed
        self.epoch = 0
        self._fixed = None
        if batch_tokens is not None:
            self._fixed = make_batches(self.lengths, self._order(0), batch_tokens=batch_tokens, group_size=group_size)
        self._len = len(self._batches(0))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _order(self, epoch: int) -> list[int]:
        order = list(range(len(self.lengths)))
        if self.shuffle:
            random.Random(self.seed * 1_000_003 + epoch).shuffle(order)
        return order

    def _batches(self, epoch: int) -> list[list[int]]:
        if self._fixed is not None:
            batches = list(self._fixed)
        else:
            batches = make_batches(self.lengths, self._order(epoch), batch_size=self.examples_per_batch,
                                   group_size=self.group_size)
        if self.shuffle:
            random.Random(self.seed * 1_000_003 + epoch + 7919).shuffle(batches)
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._batches(self.epoch))

    def __len__(self) -> int:
        return self._len


def real_token_fraction(lengths: Sequence[int], batches: Sequence[Sequence[int]], multiple_of: int = 1) -> float:
    """Real tokens / padded tokens of a list of batches."""
    real = padded = 0
    for batch in batches:
        longest = max(lengths[i] for i in batch)
        longest = int(math.ceil(longest / multiple_of) * multiple_of)
        real += sum(lengths[i] for i in batch)
        padded += longest * len(batch)
    return real / padded if padded else 0.0


class PadCollator:
    """Right padding to the longest example of the batch (optionally a multiple of 8 on GPUs)."""

    def __init__(self, pad_token_id: int, multiple_of: int = 1):
        self.pad_token_id = pad_token_id
        self.multiple_of = multiple_of

    def __call__(self, features: list[dict]) -> dict:
        import torch

        longest = max(len(f["input_ids"]) for f in features)
        longest = int(math.ceil(longest / self.multiple_of) * self.multiple_of)
        input_ids = torch.full((len(features), longest), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(features), longest), IGNORE_INDEX, dtype=torch.long)
        attention = torch.zeros((len(features), longest), dtype=torch.long)
        for row, f in enumerate(features):
            n = len(f["input_ids"])
            input_ids[row, :n] = torch.tensor(f["input_ids"], dtype=torch.long)
            labels[row, :n] = torch.tensor(f["labels"], dtype=torch.long)
            attention[row, :n] = 1
        return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}
