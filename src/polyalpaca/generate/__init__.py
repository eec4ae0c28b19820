"""Greedy generation for test prompts: batched transformers decoding (default) or vLLM where installed.

Entry point: :func:`generate_responses` (one run × test set × language). Typed params:
:class:`DecodingParams` (``decodings.<name>``), :class:`GenerateSettings` (``generate:``), :class:`RunId`.
"""

from .settings import (
    DecodingParams,
    GenerateSettings,
    RunId,
    decoding_for,
    generation_jobs,
)
from .run import generate_responses, read_prompts
from .stops import cut_at_stop

__all__ = [
    "DecodingParams",
    "GenerateSettings",
    "RunId",
    "cut_at_stop",
    "decoding_for",
    "generate_responses",
    "generation_jobs",
    "read_prompts",
]
