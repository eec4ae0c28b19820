"""Response distillation (Bactrian-X §3.1): a chat model answers each translated instruction."""

from .run import distill_responses
from .settings import FLAGS, DistillSpec

__all__ = ["FLAGS", "DistillSpec", "distill_responses"]
