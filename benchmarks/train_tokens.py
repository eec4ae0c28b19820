"""Benchmark: how much of a training batch is real tokens, and training tokens/s (train stage).

On synthetic records with an Alpaca-like length distribution (short instructions, inputs on ~40%
of records, long-tailed responses), tokenized with the alpaca template by the stage's own encoder:

1. real_token_fraction (real tokens / padded tokens) of the batches the trainer builds
   (length-grouped micro batches of 4; token-budget batches of 4000 tokens) against naive padding
   in fixed (data set) order;
2. training throughput (real tokens per second) of a short CPU run of a tiny random LLaMA through
   ``run_training``, with length grouping on and off.

Usage: ``python benchmarks/train_tokens.py [--records 4000] [--steps 30] [--out /tmp/bench]``.
The last line is ``real_token_fraction=<x> ...`` (target >= 0.95).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

WORDS = ("the a of to and in is that for it as with be on not this by are or from at an which you was but "
         "write explain describe list give name find make how what why when where who water energy city "
         "history music science data language country people animal plant market school health computer "
         "story poem summary example reason answer question number result simple important different").split()


def alpaca_like_records(count: int, seed: int = 0) -> list[dict]:
    """Word counts drawn to resemble Alpaca: instruction ~12 words, input on 40%, response median ~45 words."""
    rng = random.Random(seed)

    def text(median: float, sigma: float, cap: int) -> str:
        n = max(1, min(cap, int(rng.lognormvariate(0, sigma) * median)))
        return " ".join(rng.choice(WORDS) for _ in range(n))

    return [{"id": str(i), "instruction": text(11, 0.5, 80), "input": text(18, 0.8, 200) if rng.random() < 0.4 else "",
             "output": text(45, 0.9, 380), "lang": "en", "source": "bench"} for i in range(count)]


def batch_fractions(records: list[dict], tokenizer, max_length: int) -> dict:
    from polyalpaca.train.data import LengthGroupedBatchSampler, encode_records, make_batches, real_token_fraction

    lengths = encode_records(tokenizer, records, template="alpaca", max_length=max_length, loss_on="all").lengths
    grouped = LengthGroupedBatchSampler(lengths, batch_size=4, group_size=1024, seed=1)
    tokens = LengthGroupedBatchSampler(lengths, batch_tokens=4000, group_size=1024, seed=1)
    naive = make_batches(lengths, list(range(len(lengths))), batch_size=4, group_size=None)
    return {
        "examples": len(lengths), "mean_len": statistics.mean(lengths), "median_len": statistics.median(lengths),
        "p90_len": sorted(lengths)[int(0.9 * len(lengths))], "max_len": max(lengths),
        "grouped": real_token_fraction(lengths, list(grouped)),
        "token_batches": real_token_fraction(lengths, list(tokens)),
        "naive": real_token_fraction(lengths, naive),
    }


def throughput(root: Path, records: list[dict], model_dir: Path, steps: int, group_by_length: bool) -> dict:
    from polyalpaca.io import write_jsonl
    from polyalpaca.train import TrainJob, TrainSettings, TuningParams, run_training

    data = root / "data"
    write_jsonl(data / "train.jsonl", records[:-16])
    write_jsonl(data / "val.jsonl", records[-16:])
    tuning = TuningParams(name="bench", method="full", learning_rate=1e-4, prompt_template="alpaca", max_length=512,
                          loss_on="all", global_batch_size=8, micro_batch_size=4, max_steps=steps,
                          lr_scheduler="constant", eval_every=steps, select_best="last")
    tag = "grouped" if group_by_length else "naive"
    job = TrainJob(model="tiny-llama", family="llama", trainset="bench", base_model=str(model_dir),
                   train_file=str(data / "train.jsonl"), val_file=str(data / "val.jsonl"),
                   output_dir=str(root / "out" / tag), checkpoint_dir=str(root / "ckpt" / tag), tuning=tuning,
                   settings=TrainSettings(group_by_length=group_by_length, logging_steps=steps), threads=2)
    log = json.loads((run_training(job) / "train_log.json").read_text())
    return {"tokens": log["tokens"], "seconds": log["train_seconds"], "tokens_per_s": log["tokens"] / log["train_seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=4000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import torch

    from polyalpaca.templates import get_template
    from polyalpaca.tiny import build_causal_model

    torch.set_num_threads(2)
    root = args.out or Path(tempfile.mkdtemp(prefix="train_tokens_"))
    records = alpaca_like_records(args.records)
    texts = [f"{r['instruction']} {r['input']} {r['output']}" for r in records[:500]]
    texts += [get_template("alpaca").prompt, get_template("alpaca").prompt_no_input]
    started = time.time()
    model_dir = build_causal_model("llama", root / "model", texts, hidden_size=64, layers=2, heads=4, vocab_size=1000)
    from polyalpaca.train.models import load_tokenizer

    fractions = batch_fractions(records, load_tokenizer(model_dir), max_length=512)
    print(f"lengths: {fractions['examples']} examples, mean {fractions['mean_len']:.0f}, median "
          f"{fractions['median_len']:.0f}, p90 {fractions['p90_len']}, max {fractions['max_len']} tokens")
    print(f"naive fixed-order micro batches of 4: real_token_fraction={fractions['naive']:.4f}")
    print(f"length-grouped micro batches of 4 (groups of 1024): real_token_fraction={fractions['grouped']:.4f}")
    print(f"token-budget batches (4000 tokens): real_token_fraction={fractions['token_batches']:.4f}")

    grouped = throughput(root / "run", records, model_dir, args.steps, True)
    naive = throughput(root / "run", records, model_dir, args.steps, False)
    speedup = grouped["tokens_per_s"] / naive["tokens_per_s"]
    for name, r in (("grouped", grouped), ("random order", naive)):
        print(f"train {name}: {r['tokens']} real tokens in {r['seconds']:.2f} s = {r['tokens_per_s']:.0f} tokens/s "
              f"(tiny LLaMA h=64, CPU, {args.steps} steps x 8 examples)")
    print(f"total {time.time() - started:.1f} s")
    if args.out is None:
        shutil.rmtree(root, ignore_errors=True)
    print(f"real_token_fraction={fractions['grouped']:.4f} naive={fractions['naive']:.4f} "
          f"token_batches={fractions['token_batches']:.4f} tokens_per_s={grouped['tokens_per_s']:.0f} "
          f"naive_tokens_per_s={naive['tokens_per_s']:.0f} speedup={speedup:.2f}")


if __name__ == "__main__":
    main()
