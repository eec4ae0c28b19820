"""Generate responses for one (run, test set, language): read prompts, render, decode, write records."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ..errors import DataError
from ..io import read_jsonl, write_jsonl
from ..templates import render_prompt
from .settings import DecodingParams, GenerateSettings, RunId

log = logging.getLogger(__name__)


def _check_prompt(lang: str):
    def check(record: dict) -> None:
        for key in ("id", "prompt"):
            if key not in record:
                raise ValueError(f"test prompt record has no {key!r}")
        if not isinstance(record["prompt"], str) or not record["prompt"].strip():
            raise ValueError(f"test prompt {record['id']!r}: 'prompt' must be a non-empty string")
        if record.get("lang", lang) != lang:
            raise ValueError(f"test prompt {record['id']!r} has lang {record['lang']!r}, expected {lang!r}")
    return check


# a task-modified prompt's fields (recipes.modifiers), kept for the LID check and the judge
MODIFIER_FIELDS = ("modifier", "modifier_text", "reply_lang")


def read_prompts(path: str | Path, lang: str, on_bad_line: str = "fail") -> list[dict]:
    records = read_jsonl(path, on_bad_line=on_bad_line, check=_check_prompt(lang))
    if not records:
        raise DataError(f"{path}: no test prompts")
    ids = [r["id"] for r in records]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise DataError(f"{path}: duplicate test prompt id {dup!r}")
    return records


def generate_responses(
    prompts_path: str | Path,
    run_dir: str | Path,
    base_dir: str | Path,
    output_path: str | Path,
    run: RunId,
    decoding: DecodingParams,
    settings: GenerateSettings = GenerateSettings(),
    on_bad_line: str = "fail",
) -> int:
    """Write one generation record per test prompt to ``output_path`` (atomically); returns the count."""
    records = read_prompts(prompts_path, run.lang, on_bad_line)
    rendered = [render_prompt(run.prompt_template, instruction=r["prompt"]) for r in records]
    log.info("%s/%s/%s on %s/%s: %d prompts, decoding %s, backend %s, batch size %d", run.model, run.trainset,
             run.tuning, run.testset, run.lang, len(records), decoding, settings.backend, settings.batch_size)
    start = time.perf_counter()
    if settings.backend == "vllm":
        from .vllm_backend import generate_texts_vllm

        responses = generate_texts_vllm(run_dir, base_dir, rendered, decoding, settings.dtype)
    else:
        import torch

        from .hf_backend import generate_texts

        torch.set_num_threads(settings.threads)
        from .loading import load_for_generation

        model, tokenizer = load_for_generation(run_dir, base_dir, dtype=settings.dtype, device=settings.device,
                                               merge_lora=settings.merge_lora)
        responses = generate_texts(model, tokenizer, rendered, decoding, settings.batch_size, settings.sort_by_length)
    log.info("generated %d responses in %.1f s (%d empty)", len(responses), time.perf_counter() - start,
             sum(1 for r in responses if not r))
    out = [
        {"id": rec["id"], "lang": run.lang, "prompt": rec["prompt"], "response": resp, "model": run.model,
         "trainset": run.trainset, "tuning": run.tuning, "decoding": decoding.name,
         **{k: rec[k] for k in MODIFIER_FIELDS if k in rec}}
        for rec, resp in zip(records, responses)
    ]
    return write_jsonl(output_path, out)
