"""Benchmark: batched greedy generation against one prompt at a time, on a tiny random model on CPU.

50 rendered test prompts (several languages and lengths) go through a tiny model of the chosen family
twice: in length-sorted batches with left padding, and one at a time (what the original code of these
studies does). The outputs must be identical. Random models never emit EOS, so every prompt decodes
exactly ``--max-new-tokens`` tokens (unless a stop string ends it the same way in both modes).

    python benchmarks/generate.py [--family llama] [--prompts 50] [--max-new-tokens 64] [--batch-size 50]

Last line: ``speedup=<ratio>`` (one-at-a-time time / batched time).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import torch

from polyalpaca.generate.hf_backend import generate_texts
from polyalpaca.generate.loading import load_for_generation
from polyalpaca.generate.settings import DecodingParams
from polyalpaca.templates import render_prompt, stop_strings
from polyalpaca.tiny import build_causal_model

INSTRUCTIONS = [
    "Write a short poem about the sea.",
    "Explique la photosynthèse en termes simples.",
    "¿Cuál es la capital de Francia y por qué es famosa?",
    "Назови три основных цвета и объясни, как их смешивать.",
    "请介绍一下中国的四大发明。",
    "Как да приготвя баница у дома?",
    "Give three tips for staying healthy.",
    "Quels sont les avantages du télétravail ?",
]


def prompts(n: int) -> list[str]:
    """``n`` rendered prompts of varied length (1 to 4 instructions joined)."""
    out = []
    for i in range(n):
        parts = [INSTRUCTIONS[(i + k) % len(INSTRUCTIONS)] for k in range(1 + i % 4)]
        out.append(render_prompt("alpaca", instruction=" ".join(parts)))
    return out


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="llama", choices=["gpt_neox", "bloom", "llama"])
    parser.add_argument("--prompts", type=int, default=50)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--repetition-penalty", type=float, default=1.1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)

    texts = INSTRUCTIONS * 10
    decoding = DecodingParams("bench", max_new_tokens=args.max_new_tokens,
                              repetition_penalty=args.repetition_penalty, stop=tuple(stop_strings("alpaca")))
    batch = prompts(args.prompts)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_causal_model(args.family, Path(tmp) / args.family, texts)
        model, tokenizer = load_for_generation(model_dir, model_dir, dtype="float32", device="cpu")
        generate_texts(model, tokenizer, batch[:2], decoding, batch_size=2)  # warm-up

        start = time.perf_counter()
        batched = generate_texts(model, tokenizer, batch, decoding, batch_size=args.batch_size)
        t_batched = time.perf_counter() - start

        start = time.perf_counter()
        one_by_one = [generate_texts(model, tokenizer, [p], decoding, batch_size=1)[0] for p in batch]
        t_single = time.perf_counter() - start

    same = sum(a == b for a, b in zip(batched, one_by_one))
    print(f"family={args.family} prompts={len(batch)} max_new_tokens={args.max_new_tokens} "
          f"batch_size={args.batch_size} threads={args.threads}")
    print(f"identical={same}/{len(batch)}")
    print(f"batched_s={t_batched:.3f} one_at_a_time_s={t_single:.3f}")
    assert same == len(batch), f"batched and one-at-a-time outputs differ for {len(batch) - same} prompts"
    speedup = t_single / t_batched
    print(f"speedup={speedup:.2f}")
    return speedup


if __name__ == "__main__":
    main(sys.argv[1:])
