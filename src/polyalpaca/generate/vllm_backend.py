"""Optional vLLM backend (GPU machines): the same prompts, dtype, stops and output format as transformers.

vLLM runs in an environment of its own (``envs/generate-vllm.yaml``: its torch/transformers pins differ
from the project's, see pyproject.toml); this module only
imports it when the backend is chosen, and says how to install it (or switch back) when it is missing.
Parity with the transformers backend, which tests/test_generate_vllm.py checks where vLLM can run:

- **dtype**: ``auto`` resolves exactly as the transformers backend does on CUDA (bf16 where supported,
  else fp16); vLLM's own ``auto`` would take the checkpoint's dtype (fp16 for Pythia and LLaMA-1).
- **LoRA**: vLLM serves adapters only for models that implement its LoRA interface; its BLOOM and
  GPT-NeoX models do not (``enable_lora=True`` raises), so their adapters are merged into the base
  weights first (as the transformers backend does by default), and other families get a LoRARequest.
- **stops**: responses are cut from the generated token ids by the function the transformers backend
  uses (:func:`polyalpaca.generate.stops.response_from_tokens`), with the prompt's tail, so a stop
  string that begins in the prompt ends the response in both.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

from ..errors import ConfigError
from .loading import run_method
from .settings import DecodingParams
from .stops import response_from_tokens, stop_tail_tokens

log = logging.getLogger(__name__)

# model_type of families whose vLLM implementation has no LoRA support (vllm/model_executor/models/
# bloom.py and gpt_neox.py do not implement SupportsLoRA).
VLLM_WITHOUT_LORA = frozenset({"bloom", "gpt_neox"})


def require_vllm() -> None:
    if importlib.util.find_spec("vllm") is None:
        raise ConfigError("generate.backend: 'vllm' is chosen but the vllm package is not installed. vLLM pins its own "
                          "torch and transformers, so it is no pip install '.[vllm]' extra of this environment: run "
                          "the generate rule in envs/generate-vllm.yaml (--sdm conda) on a GPU node; otherwise set "
                          "generate.backend: transformers")


def vllm_dtype(dtype: str, bf16_supported: bool) -> str:
    """The dtype name vLLM gets: the transformers backend's choice on CUDA for ``auto``."""
    if dtype == "auto":
        return "bfloat16" if bf16_supported else "float16"
    return dtype


def model_type(model_dir: str | Path) -> str:
    config = Path(model_dir) / "config.json"
    if not config.is_file():
        raise ConfigError(f"{model_dir}: no config.json (not a model folder)")
    return json.loads(config.read_text(encoding="utf-8")).get("model_type", "")


def merge_adapter(run_dir: str | Path, base_dir: str | Path, out_dir: str | Path, dtype: str) -> Path:
    """Save base + LoRA adapter merged into plain weights of ``dtype`` (with the run's tokenizer) in ``out_dir``."""
    from .loading import load_for_generation

    model, tokenizer = load_for_generation(run_dir, base_dir, dtype=dtype, device="cpu", merge_lora=True)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def eos_ids(model_dir: Path, tokenizer) -> set[int]:
    """The ids that end a response: the model's generation config and the tokenizer's EOS (as the
    transformers backend reads them from the loaded model)."""
    from transformers import GenerationConfig

    ids = set()
    if (model_dir / "generation_config.json").is_file():
        eos = GenerationConfig.from_pretrained(model_dir).eos_token_id
        ids |= {eos} if isinstance(eos, int) else set(eos or [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def generate_texts_vllm(run_dir: str | Path, base_dir: str | Path, prompts: Sequence[str], decoding: DecodingParams,
                        dtype: str = "auto") -> list[str]:
    """Greedy responses with vLLM, cut as the transformers backend cuts them."""
    require_vllm()
    for key in ("no_repeat_ngram_size", "num_beams"):
        if getattr(decoding, key) > (1 if key == "num_beams" else 0):
            raise ConfigError(f"decodings.{decoding.name}.{key}: not supported by the vllm backend "
                              "(use generate.backend: transformers)")
    import torch
    from vllm import LLM, SamplingParams

    run_dir, base_dir = Path(run_dir), Path(base_dir)
    name = vllm_dtype(dtype, torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    merged = None
    request = None
    lora = run_method(run_dir) == "lora"
    family = model_type(base_dir) if lora else None
    try:
        if lora and family in VLLM_WITHOUT_LORA:
            merged = Path(tempfile.mkdtemp(prefix="polyalpaca-merged-"))
            log.info("vLLM has no LoRA support for %s: serving the adapter merged into the base weights", family)
            llm = LLM(model=str(merge_adapter(run_dir, base_dir, merged, name)), dtype=name, seed=0)
        elif lora:
            from vllm.lora.request import LoRARequest

            rank = json.loads((run_dir / "adapter_config.json").read_text(encoding="utf-8")).get("r", 16)
            # a published adapter (a baseline) ships no tokenizer: its base model's, as load_tokenizer does
            tokenizer = run_dir if (run_dir / "tokenizer_config.json").is_file() else base_dir
            llm = LLM(model=str(base_dir), tokenizer=str(tokenizer), dtype=name, enable_lora=True,
                      max_lora_rank=max(8, int(rank)), seed=0)
            request = LoRARequest("adapter", 1, str(run_dir))
        else:
            llm = LLM(model=str(run_dir), dtype=name, seed=0)
        # vLLM's stop strings end most rows early; the cut below also sees stops that begin in the prompt
        params = SamplingParams(temperature=0.0, max_tokens=decoding.max_new_tokens,
                                repetition_penalty=decoding.repetition_penalty, stop=list(decoding.stop))
        outputs = llm.generate(list(prompts), params, lora_request=request)
        tokenizer = llm.get_tokenizer()
        eos = eos_ids(merged or (base_dir if request else run_dir), tokenizer)
        tail = stop_tail_tokens(decoding.stop)
        return [response_from_tokens(tokenizer, list(out.prompt_token_ids)[-tail:] if tail else [],
                                     list(out.outputs[0].token_ids), eos, decoding.stop) for out in outputs]
    finally:
        if merged is not None:
            shutil.rmtree(merged, ignore_errors=True)
