"""GPU self-check: ``python -m polyalpaca.gpucheck`` runs the pipeline's GPU code paths on tiny models in
a few minutes, one line per check, before a cluster spends hours on them.

On CUDA: full fine-tuning with DeepSpeed ZeRO-2 and ZeRO-3 on one GPU and on all visible GPUs through
the real launcher (torchrun; loss falls; the saved weights reload to the trained logits), LoRA in bf16,
a CTranslate2 int8_float16 translation (CUDA-12 cuBLAS loaded), and batched greedy generation with the
transformers and (where installed) vLLM backends, which must agree. Without CUDA it says so and exits
0; ``--device cpu`` runs the checks that do not need CUDA (no DeepSpeed, no vLLM) on the CPU.
Exit status: 1 when a check failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

WORDS = ["red", "blue", "green", "cat", "dog", "sun", "moon", "tree", "fish", "bird", "rain", "snow"]
LANGS = ("eng_Latn", "fra_Latn")


@dataclass(frozen=True)
class Result:
    name: str
    status: str  # PASS / FAIL / SKIP
    detail: str
    seconds: float

    def line(self) -> str:
        return f"{self.status:<4}  {self.name:<28} {self.seconds:7.1f}s  {self.detail}"


def _records(count: int, seed: int = 0) -> list[dict]:
    """Records whose answer follows from the instruction (joining two words): a loss that can fall."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        out.append({"id": f"r{i}", "instruction": f"Join {a} and {b}", "input": "", "output": f"{a}-{b}",
                    "lang": "en", "source": "gpucheck"})
    return out


def _texts(records: list[dict]) -> list[str]:
    from .templates import get_template

    template = get_template("alpaca")
    return [f"{r['instruction']} {r['output']}" for r in records] + [template.prompt, template.prompt_no_input] * 3


class GpuCheck:
    def __init__(self, root: Path, device: str):
        self.root, self.device = root, device
        self.records = _records(96)
        self._models: dict[str, Path] = {}

    def tiny_model(self, family: str) -> Path:
        from .tiny import build_causal_model

        if family not in self._models:
            self._models[family] = build_causal_model(family, self.root / "base" / family, _texts(self.records),
                                                      hidden_size=64, layers=2, heads=4, vocab_size=600, seed=0)
        return self._models[family]

    def data(self) -> tuple[Path, Path]:
        from .io import write_jsonl

        folder = self.root / "data"
        if not (folder / "train.jsonl").is_file():
            write_jsonl(folder / "train.jsonl", self.records[:80])
            write_jsonl(folder / "val.jsonl", self.records[80:])
        return folder / "train.jsonl", folder / "val.jsonl"

    def train(self, method: str, stage: int, gpus: int, bf16: bool) -> str:
        from .train import LoraParams, TrainJob, TrainSettings, TuningParams, run_training

        family = "llama"
        name = f"{method}-z{stage}-{gpus}gpu-{'bf16' if bf16 else 'fp32'}"
        lora = LoraParams(r=8, alpha=16, dropout=0.0, target_modules=("q_proj", "v_proj")) if method == "lora" else None
        tuning = TuningParams(name=name, method=method, learning_rate=3e-3, prompt_template="alpaca", max_length=64,
                              loss_on="response", global_batch_size=16, micro_batch_size=2, max_steps=12,
                              lr_scheduler="constant", eval_every=6, select_best="last", deepspeed_stage=stage,
                              bf16=bf16, lora=lora)
        train, val = self.data()
        job = TrainJob(model=f"tiny-{family}", family=family, trainset="gpucheck", base_model=str(self.tiny_model(family)),
                       train_file=str(train), val_file=str(val), output_dir=str(self.root / "runs" / name),
                       checkpoint_dir=str(self.root / "checkpoints" / name), tuning=tuning,
                       settings=TrainSettings(logging_steps=1), processes=max(1, gpus), gpus=gpus, threads=2, seed=1)
        out = run_training(job)
        log = json.loads((out / "train_log.json").read_text(encoding="utf-8"))
        losses = [entry["loss"] for entry in log["losses"]]
        first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
        if not last < first:
            raise AssertionError(f"loss did not fall: {first:.3f} -> {last:.3f}")
        verification = log["verification"]
        return (f"loss {first:.2f} -> {last:.2f}, {log['resolved']['precision']}, reloaded weights reproduce the "
                f"trained logits (max diff {verification['reproduce_max_abs_diff']:.1e})")

    def translate(self) -> str:
        from .translate.engine import Ct2Translator
        from .translate.models import build_tiny_snapshot, convert_nllb
        from .translate.settings import TranslateSettings

        quant = "int8_float16" if self.device == "cuda" else "int8"
        snapshot = build_tiny_snapshot(self.root / "nllb", _texts(self.records), LANGS)
        ct2 = convert_nllb(snapshot, self.root / f"nllb-ct2-{quant}", quant, where="gpucheck")
        translator = Ct2Translator(ct2, TranslateSettings(device=self.device, compute_type=quant))
        out = translator.translate(["Join red and blue.", "The sun and the moon."], *LANGS)
        if len(out) != 2 or not all(t.out_tokens > 0 for t in out):
            raise AssertionError(f"unexpected translations: {out}")
        return f"CTranslate2 {quant} on {self.device}: 2 sentences, {sum(t.out_tokens for t in out)} tokens out"

    def generate(self) -> str:
        import importlib.util

        from .generate.hf_backend import generate_texts
        from .generate.loading import load_for_generation
        from .generate.settings import DecodingParams
        from .templates import render_prompt

        base = self.tiny_model("llama")
        prompts = [render_prompt("alpaca", instruction=r["instruction"]) for r in self.records[:12]]
        decoding = DecodingParams("gpucheck", max_new_tokens=16, repetition_penalty=1.0, no_repeat_ngram_size=0,
                                  stop=("### ",))
        batched = generate_texts(*load_for_generation(base, base, device=self.device), prompts, decoding, batch_size=8)
        single = generate_texts(*load_for_generation(base, base, device=self.device), prompts, decoding, batch_size=1)
        if batched != single:
            raise AssertionError("batched greedy decoding differs from one prompt at a time")
        if self.device != "cuda" or importlib.util.find_spec("vllm") is None:
            return ("transformers: batched == one at a time (vLLM not checked: needs CUDA and vllm, e.g. "
                    "in envs/generate-vllm.yaml)")
        from .generate.vllm_backend import generate_texts_vllm

        if generate_texts_vllm(base, base, prompts, decoding) != batched:
            raise AssertionError("vLLM and transformers greedy responses differ")
        return "transformers: batched == one at a time == vLLM"

    def plan(self, gpus: int) -> list[tuple[str, Callable[[], str]]]:
        checks = []
        if self.device == "cuda":
            for count in sorted({1, gpus}):
                for stage in (2, 3):
                    checks.append((f"train-full-zero{stage}-{count}gpu",
                                   lambda s=stage, c=count: self.train("full", s, c, bf16=True)))
            checks.append(("train-lora-bf16-1gpu", lambda: self.train("lora", 0, 1, bf16=True)))
        else:
            checks.append(("train-full-cpu", lambda: self.train("full", 0, 0, bf16=False)))
            checks.append(("train-lora-cpu", lambda: self.train("lora", 0, 0, bf16=False)))
        checks.append((f"translate-ct2-{self.device}", self.translate))
        checks.append((f"generate-{self.device}", self.generate))
        return checks


def run_checks(device: str, root: Path, gpus: int = 0) -> list[Result]:
    checker = GpuCheck(root, device)
    results = []
    for name, check in checker.plan(gpus):
        start = time.perf_counter()
        try:
            detail, status = check(), "PASS"
        except Exception as err:  # noqa: BLE001 - every failure becomes a FAIL line, the next check still runs
            logging.getLogger(__name__).debug("%s failed:\n%s", name, traceback.format_exc())
            detail, status = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:400], "FAIL"
        result = Result(name, status, detail, time.perf_counter() - start)
        print(result.line(), flush=True)
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m polyalpaca.gpucheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto",
                        help="auto: CUDA when torch sees a GPU, otherwise say so and exit 0")
    parser.add_argument("--workdir", help="keep the tiny models and runs here (default: a temporary folder)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import torch

    cuda = torch.cuda.is_available()
    if args.device == "auto" and not cuda:
        print(f"no CUDA device visible to torch {torch.__version__} (built for CUDA {torch.version.cuda}): "
              "nothing to check on a GPU here. `--device cpu` runs the checks that need no CUDA.")
        return 0
    if args.device == "cuda" and not cuda:
        print(f"--device cuda: torch {torch.__version__} (built for CUDA {torch.version.cuda}) sees no GPU; check "
              "the NVIDIA driver against that CUDA version and CUDA_VISIBLE_DEVICES", file=sys.stderr)
        return 1
    device = "cuda" if args.device in ("auto", "cuda") else "cpu"
    gpus = torch.cuda.device_count() if device == "cuda" else 0
    print(f"gpucheck on {device}" + (f": {gpus} x {torch.cuda.get_device_name(0)}" if gpus else ""), flush=True)
    root = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="polyalpaca-gpucheck-"))
    try:
        results = run_checks(device, root, gpus)
    finally:
        if not args.workdir:
            shutil.rmtree(root, ignore_errors=True)
    counts = {status: sum(r.status == status for r in results) for status in ("PASS", "FAIL", "SKIP")}
    print(f"passed={counts['PASS']} failed={counts['FAIL']} skipped={counts['SKIP']}")
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
