"""Optional vLLM backend (GPU machines): same prompts, stops and output format as transformers.

vLLM is an optional extra; this module only imports it when the backend is chosen, and says how to
install it (or switch back) when it is missing. Not exercised on the CPU test machine beyond the guard.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Sequence

from ..errors import ConfigError
from .loading import run_method
from .settings import DecodingParams
from .stops import cut_at_stop

log = logging.getLogger(__name__)


def require_vllm() -> None:
    if importlib.util.find_spec("vllm") is None:
        raise ConfigError("generate.backend: 'vllm' is chosen but the vllm package is not installed. vLLM pins its own "
                          "torch and transformers (they conflict with polyalpaca's: see pyproject.toml), so it needs an "
                          "environment of its own on a GPU machine; otherwise set generate.backend: transformers")


def generate_texts_vllm(run_dir: str | Path, base_dir: str | Path, prompts: Sequence[str], decoding: DecodingParams,
                        dtype: str = "auto") -> list[str]:
    """Greedy responses with vLLM; a LoRA adapter is served on its base model with a LoRARequest."""
    require_vllm()
    for key in ("no_repeat_ngram_size", "num_beams"):
        if getattr(decoding, key) > (1 if key == "num_beams" else 0):
            raise ConfigError(f"decodings.{decoding.name}.{key}: not supported by the vllm backend "
                              "(use generate.backend: transformers)")
    from vllm import LLM, SamplingParams

    run_dir, base_dir = Path(run_dir), Path(base_dir)
    lora = run_method(run_dir) == "lora"
    llm_dtype = "auto" if dtype == "auto" else dtype
    if lora:
        from vllm.lora.request import LoRARequest

        import json

        rank = json.loads((run_dir / "adapter_config.json").read_text(encoding="utf-8")).get("r", 16)
        llm = LLM(model=str(base_dir), tokenizer=str(run_dir), dtype=llm_dtype, enable_lora=True,
                  max_lora_rank=max(8, int(rank)))
        request = LoRARequest("adapter", 1, str(run_dir))
    else:
        llm = LLM(model=str(run_dir), dtype=llm_dtype)
        request = None
    params = SamplingParams(temperature=0.0, max_tokens=decoding.max_new_tokens,
                            repetition_penalty=decoding.repetition_penalty, stop=list(decoding.stop))
    outputs = llm.generate(list(prompts), params, lora_request=request)
    # vLLM cuts at the stop string already; cut_at_stop keeps stops that begin in the prompt consistent.
    return [cut_at_stop(out.outputs[0].text, 0, decoding.stop).strip() for out in outputs]
