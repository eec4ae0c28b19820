"""Benchmark: our CTranslate2 int8 translation path against plain transformers ``generate``, on CPU.

One random-weight model of the NLLB architecture (M2M100; by default the shape of nllb-200-distilled-600M:
12+12 layers, d_model 1024, FFN 4096, 16 heads, the 256,206-token vocabulary) with an NLLB tokenizer trained on the spot, converted to
CTranslate2 int8 by the stage's converter. The same few hundred Alpaca-like sentences go through

- ``ct2``: :class:`polyalpaca.translate.Ct2Translator` (length-sorted token batches, target language
  prefix), the stage's real engine;
- ``hf``: ``AutoModelForSeq2SeqLM.generate`` in fp32, sentences sorted by length, padded batches,
  ``forced_bos_token_id`` for the target language;

with the same beam size and the same output length. Random models never emit EOS, so both decode
exactly ``--out-tokens`` tokens per sentence (checked). Each engine runs at its best batching: a small
search on the first sentences picks the batch size (hf) and the token budget (ct2). As a check that
both run the same model, the log-probabilities both assign to the same target tokens are compared.
The full set is timed ``--repeats`` times per engine, alternating, and the fastest run counts (other
jobs on a shared machine only ever add time).

    python benchmarks/translate.py [--sentences 160] [--layers 12] [--d-model 1024] [--beam 4] [--threads 2]

Last line: ``speedup=<ratio>`` (hf time / ct2 time on the full set).
"""

from __future__ import annotations

import argparse
import logging
import math
import tempfile
import time
from pathlib import Path

import torch

from polyalpaca.tiny.nllb import build_nllb_model
from polyalpaca.translate import Ct2Translator, TranslateSettings, convert_nllb

BASE = [
    "Give three tips for staying healthy.",
    "Eat a balanced diet and make sure to include plenty of fruits and vegetables.",
    "Exercise regularly to keep your body active and strong.",
    "Get enough sleep and maintain a consistent sleep schedule.",
    "What are the three primary colors?",
    "The three primary colors are red, blue, and yellow.",
    "Describe the structure of an atom.",
    "An atom is made up of a nucleus, which contains protons and neutrons, surrounded by electrons that travel in orbits.",
    "How can we reduce air pollution?",
    "There are a number of ways to reduce air pollution, such as shifting to renewable energy sources.",
    "Pretend you are a project manager of a construction company and describe a time you had to make a difficult decision.",
    "Write a short story in third person narration about a protagonist who has to make an important career decision.",
    "Render a 3D model of a house.",
    "Explain why the following fraction is equivalent to one quarter.",
    "Identify the odd one out: Twitter, Instagram, Telegram.",
    "Look up the boiling point of water and write it in Celsius.",
    "Generate a list of ten items a person might need for a camping trip.",
    "Discuss the causes of the Great Depression and its effects on the world economy in the following decade.",
    "Convert the given equation into an algebraic expression.",
    "Brainstorm possible solutions to reduce water pollution in rivers and lakes near large industrial cities.",
]
OPENERS = ["", "Please ", "In one paragraph, ", "Briefly, ", "For a school project, ", "As an expert, "]
CLOSERS = ["", " Keep it short.", " Use simple words.", " Give an example for each point you make.",
           " Answer in a friendly tone and avoid jargon where possible."]


def sentences(n: int) -> list[str]:
    """``n`` distinct Alpaca-like sentences of varied length."""
    out = []
    for i in range(n):
        base = BASE[i % len(BASE)]
        opener = OPENERS[(i // len(BASE)) % len(OPENERS)]
        closer = CLOSERS[(i // (len(BASE) * len(OPENERS))) % len(CLOSERS)]
        text = opener + (base[0].lower() + base[1:] if opener else base) + closer
        out.append(text if text not in out else f"{text} ({i})")
    return out


def run_ct2(model_dir: Path, texts: list[str], beam: int, out_tokens: int, threads: int, batch_tokens: int):
    settings = TranslateSettings(beam_size=beam, batch_tokens=batch_tokens, max_input_tokens=200, length_factor=0.0001,
                                 length_offset=out_tokens - 1, threads=threads)
    engine = Ct2Translator(model_dir, settings, threads=threads, name="bench")
    engine.translate(texts[:4], "eng_Latn", "fra_Latn")  # warm-up
    start = time.perf_counter()
    out = engine.translate(texts, "eng_Latn", "fra_Latn")
    return time.perf_counter() - start, [t.out_tokens for t in out], engine


def run_hf(model, tokenizer, texts: list[str], beam: int, out_tokens: int, batch_size: int):
    tokenizer.src_lang = "eng_Latn"
    forced = tokenizer.convert_tokens_to_ids("fra_Latn")
    order = sorted(range(len(texts)), key=lambda i: len(tokenizer.tokenize(texts[i])))
    lengths = []
    start = time.perf_counter()
    for b in range(0, len(order), batch_size):
        batch = tokenizer([texts[i] for i in order[b:b + batch_size]], return_tensors="pt", padding=True)
        with torch.inference_mode():
            gen = model.generate(**batch, forced_bos_token_id=forced, num_beams=beam, do_sample=False,  # +1: the
                                 max_new_tokens=out_tokens + 1, min_new_tokens=out_tokens + 1)  # language code
        lengths += [int((row != tokenizer.pad_token_id).sum()) - 2 for row in gen]  # minus start and language
    return time.perf_counter() - start, lengths


def logprob_check(engine, model, tokenizer, texts: list[str]) -> float:
    """Mean |difference| of the per-token log-probs CTranslate2 and transformers give the same targets."""
    src = engine._tokenize(texts, "eng_Latn")
    targets = [["fra_Latn"] + tokenizer.convert_ids_to_tokens(list(range(100 + i, 108 + i))) for i in range(len(texts))]
    ct2 = engine.translator.score_batch(src, targets)
    diffs = []
    for i, text in enumerate(texts):
        enc = tokenizer(text, return_tensors="pt")
        labels = torch.tensor([tokenizer.convert_tokens_to_ids(targets[i]) + [tokenizer.eos_token_id]])
        dec_in = torch.cat([torch.tensor([[tokenizer.eos_token_id]]), labels[:, :-1]], dim=1)
        with torch.inference_mode():
            logits = model(**enc, decoder_input_ids=dec_in).logits.log_softmax(-1)[0]
        ours = logits.gather(1, labels[0].unsqueeze(1)).squeeze(1).tolist()  # language code, tokens, </s>
        diffs += [abs(a - b) for a, b in zip(ours, ct2[i].log_probs)]
    return sum(diffs) / len(diffs)


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=160)
    parser.add_argument("--layers", type=int, default=12, help="encoder and decoder layers each")
    parser.add_argument("--d-model", type=int, default=1024)
    parser.add_argument("--ffn", type=int, default=4096)
    parser.add_argument("--heads", type=int, default=16)
    parser.add_argument("--vocab", type=int, default=256206, help="model vocabulary (NLLB: 256206)")
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--out-tokens", type=int, default=0, help="tokens decoded per sentence (0: 1.2 x mean input)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--search", type=int, default=64, help="sentences used to pick each engine's batching")
    parser.add_argument("--ct2-batch-tokens", type=int, nargs="+", default=[2048, 4096, 8192])
    parser.add_argument("--hf-batch-sizes", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--repeats", type=int, default=2, help="timed runs of the full set per engine (fastest counts)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    texts = sentences(args.sentences)

    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        snapshot = build_nllb_model(Path(tmp) / "nllb", texts + BASE, ["eng_Latn", "fra_Latn"], d_model=args.d_model,
                                    encoder_layers=args.layers, decoder_layers=args.layers, heads=args.heads,
                                    ffn_dim=args.ffn, vocab_size=2000, model_vocab_size=args.vocab, seed=0)
        ct2_dir = convert_nllb(snapshot, Path(tmp) / "nllb-ct2-int8", "int8")
        tokenizer = AutoTokenizer.from_pretrained(snapshot)
        model = AutoModelForSeq2SeqLM.from_pretrained(snapshot, dtype=torch.float32).eval()
        n_params = sum(p.numel() for p in model.parameters())
        src_lens = [len(tokenizer.tokenize(t)) for t in texts]
        out_tokens = args.out_tokens or math.ceil(1.2 * sum(src_lens) / len(src_lens))
        print(f"model: M2M100 {args.layers}+{args.layers} layers, d_model {args.d_model}, ffn {args.ffn}, vocab "
              f"{args.vocab}, {n_params / 1e6:.0f}M parameters (built and converted in {time.perf_counter() - t0:.0f}s)")
        print(f"data: {len(texts)} sentences, {min(src_lens)}-{max(src_lens)} tokens (mean "
              f"{sum(src_lens) / len(src_lens):.1f}); beam {args.beam}; {out_tokens} output tokens each; "
              f"{args.threads} threads")

        subset = texts[:args.search]
        run_hf(model, tokenizer, texts[:2], args.beam, out_tokens, 2)  # warm-up
        ct2_search = {bt: run_ct2(ct2_dir, subset, args.beam, out_tokens, args.threads, bt)[0]
                      for bt in args.ct2_batch_tokens}
        best_bt = min(ct2_search, key=ct2_search.get)
        hf_search = {bs: run_hf(model, tokenizer, subset, args.beam, out_tokens, bs)[0] for bs in args.hf_batch_sizes}
        best_bs = min(hf_search, key=hf_search.get)
        print("search ct2 batch_tokens: " + ", ".join(f"{k}={v:.1f}s" for k, v in ct2_search.items()))
        print("search hf batch_size: " + ", ".join(f"{k}={v:.1f}s" for k, v in hf_search.items()))

        ct2_times, hf_times = [], []
        for _ in range(args.repeats):  # alternating, so a burst of load elsewhere hits both engines alike
            ct2_time, ct2_lens, engine = run_ct2(ct2_dir, texts, args.beam, out_tokens, args.threads, best_bt)
            hf_time, hf_lens = run_hf(model, tokenizer, texts, args.beam, out_tokens, best_bs)
            ct2_times.append(ct2_time)
            hf_times.append(hf_time)
            assert set(ct2_lens) == {out_tokens} and set(hf_lens) == {out_tokens}, (set(ct2_lens), set(hf_lens))
        ct2_time, hf_time = min(ct2_times), min(hf_times)
        diff = logprob_check(engine, model, tokenizer, texts[:8])
        print(f"ct2 int8 (batch_tokens {best_bt}): {ct2_time:.1f}s, {len(texts) / ct2_time:.2f} sentences/s "
              f"(runs: {', '.join(f'{t:.1f}s' for t in ct2_times)})")
        print(f"hf fp32 generate (batch_size {best_bs}): {hf_time:.1f}s, {len(texts) / hf_time:.2f} sentences/s "
              f"(runs: {', '.join(f'{t:.1f}s' for t in hf_times)})")
        print(f"logprob mean abs diff (int8 vs fp32, same targets): {diff:.4f}")
    speedup = hf_time / ct2_time
    print(f"speedup={speedup:.2f}")
    return speedup


if __name__ == "__main__":
    main()
