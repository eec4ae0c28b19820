"""Train stage data: template + EOS, loss masks token by token, truncation, length-grouped batches."""

from __future__ import annotations

import random

import pytest
from .test_train_support import learnable_records, tokenizer_texts

from polyalpaca.errors import DataError
from polyalpaca.io import write_jsonl
from polyalpaca.templates import render_prompt
from polyalpaca.tiny import train_tokenizer
from polyalpaca.train.data import (IGNORE_INDEX, EncodeStats, LengthGroupedBatchSampler, PadCollator,
                                   encode_example, encode_records, make_batches, read_records,
                                   real_token_fraction)


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(tokenizer_texts(learnable_records(200)), vocab_size=600)


RECORD = {"id": "1", "instruction": "Join cat and dog", "input": "use a dash", "output": "cat-dog"}


@pytest.mark.parametrize("template", ["alpaca", "bactrian"])
@pytest.mark.parametrize("with_input", [True, False])
def test_response_only_mask_token_by_token(tokenizer, template, with_input):
    record = {**RECORD, "input": RECORD["input"] if with_input else ""}
    enc = encode_example(tokenizer, template, record, max_length=512, loss_on="response")
    prompt_ids = tokenizer(render_prompt(template, record["instruction"], record["input"]))["input_ids"]
    ids, labels = enc["input_ids"], enc["labels"]
    n = len(prompt_ids)
    assert ids[:n] == prompt_ids  # exactly the tokens generation will feed the model
    assert labels[:n] == [IGNORE_INDEX] * n  # no loss on any prompt token
    assert labels[n:] == ids[n:]  # loss on every response token ...
    assert ids[-1] == tokenizer.eos_token_id and labels[-1] == tokenizer.eos_token_id  # ... and on EOS
    assert tokenizer.decode(ids[n:-1]).strip() == record["output"]
    assert len(ids) == len(labels)


def test_loss_on_all_tokens(tokenizer):
    enc = encode_example(tokenizer, "alpaca", RECORD, max_length=512, loss_on="all")
    assert enc["labels"] == enc["input_ids"] and enc["input_ids"][-1] == tokenizer.eos_token_id


def test_prompt_ending_in_whitespace_keeps_the_prompt_tokens(tokenizer):
    """Bactrian's prompt ends with whitespace (a newline) that BPE could merge into the answer's first word."""
    enc = encode_example(tokenizer, "bactrian", RECORD, max_length=512, loss_on="response")
    prompt = render_prompt("bactrian", RECORD["instruction"], RECORD["input"])
    assert prompt.endswith("### Output:\n")
    n = len(tokenizer(prompt)["input_ids"])
    assert tokenizer.decode(enc["input_ids"][:-1]) == prompt + RECORD["output"]
    assert enc["labels"][n:] == enc["input_ids"][n:]


def test_truncation_and_examples_without_a_response_token(tokenizer):
    full = encode_example(tokenizer, "alpaca", RECORD, max_length=512, loss_on="response")
    n_prompt = sum(1 for x in full["labels"] if x == IGNORE_INDEX)
    cut = encode_example(tokenizer, "alpaca", RECORD, max_length=n_prompt + 1, loss_on="response")
    assert len(cut["input_ids"]) == n_prompt + 1 and cut["truncated"]
    assert cut["labels"][-1] == full["labels"][n_prompt]  # the one response token left carries the loss
    assert encode_example(tokenizer, "alpaca", RECORD, max_length=n_prompt, loss_on="response") is None
    stats = EncodeStats()
    data = encode_records(tokenizer, [RECORD, RECORD], template="alpaca", max_length=n_prompt, loss_on="response",
                          stats=stats)
    assert len(data) == 0 and stats.dropped_no_target == 2
    # with loss on all tokens a truncated prompt still teaches something
    assert encode_example(tokenizer, "alpaca", RECORD, max_length=n_prompt, loss_on="all") is not None


def test_bad_records_report_path_and_line(tmp_path):
    path = tmp_path / "train.jsonl"
    write_jsonl(path, [RECORD, {"id": "2", "instruction": "x", "output": ""}])
    with pytest.raises(DataError, match=r"train\.jsonl:2: empty 'output'"):
        read_records(path)
    stats = EncodeStats()
    assert len(read_records(path, on_bad_line="skip", stats=stats)) == 1 and len(stats.skipped_lines) == 1
    with pytest.raises(DataError, match="not found"):
        read_records(tmp_path / "missing.jsonl")


def _lengths(n=2000, seed=0):
    rng = random.Random(seed)
    return [max(8, min(512, int(rng.lognormvariate(4.9, 0.6)))) for _ in range(n)]


def test_length_grouping_pads_far_less_than_naive_batches():
    lengths = _lengths()
    order = list(range(len(lengths)))
    random.Random(1).shuffle(order)
    naive = make_batches(lengths, order, batch_size=4, group_size=None)
    grouped = make_batches(lengths, order, batch_size=4, group_size=1024)
    assert real_token_fraction(lengths, grouped) > 0.97 > real_token_fraction(lengths, naive)
    assert sorted(i for b in grouped for i in b) == list(range(len(lengths)))


def test_token_budget_batches_respect_the_budget():
    lengths = _lengths()
    batches = make_batches(lengths, list(range(len(lengths))), batch_tokens=4000, group_size=1024)
    assert all(max(lengths[i] for i in b) * len(b) <= 4000 for b in batches)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert real_token_fraction(lengths, batches) > 0.95


@pytest.mark.parametrize("mode", [{"batch_size": 4}, {"batch_tokens": 1500}])
def test_sampler_is_deterministic_per_epoch_with_a_fixed_length(mode):
    lengths = _lengths(500)
    a = LengthGroupedBatchSampler(lengths, group_size=128, seed=3, **mode)
    b = LengthGroupedBatchSampler(lengths, group_size=128, seed=3, **mode)
    epoch0 = list(a)
    a.set_epoch(1)
    epoch1 = list(a)
    assert epoch0 == list(b) and epoch0 != epoch1
    assert len(epoch0) == len(epoch1) == len(a)
    for batches in (epoch0, epoch1):
        assert sorted(i for batch in batches for i in batch) == list(range(500))  # every example once


def test_collator_pads_right_and_masks_padding():
    batch = PadCollator(pad_token_id=1)([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]},
                                         {"input_ids": [8], "labels": [8]}])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 1, 1]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [8, -100, -100]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert PadCollator(1, multiple_of=8)([{"input_ids": [5], "labels": [5]}])["input_ids"].shape[1] == 8


def test_batched_encoding_equals_encoding_one_by_one(tokenizer):
    records = learnable_records(30) + [RECORD]
    data = encode_records(tokenizer, records, template="bactrian", max_length=60, loss_on="response")
    single = [encode_example(tokenizer, "bactrian", r, max_length=60, loss_on="response") for r in records]
    assert [data[i] for i in range(len(data))] == [{"input_ids": e["input_ids"], "labels": e["labels"]}
                                                    for e in single if e is not None]
