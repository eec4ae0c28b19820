"""LLM judging: single 1-3 rating, six-criteria JSON, pairwise with order swap, relevance.

Templates are data (``templates/*.yaml``), one parser per output format (``parsers``), two backends
(any OpenAI-compatible endpoint; a local transformers model read through label probabilities), a
persistent cache so nothing is paid for twice (``cache``), bounded concurrency with rate limits,
retries and a budget (``engine``), and the cost table (``cost_table``).

Entry point for a Snakemake job: :func:`score_generations`.
"""

from .calls import BudgetExceededError, JudgeFatalError
from .run import score_generations
from .settings import JudgeConfig, JudgeJob, JudgeSettings
from .targets import judge_job, judge_metric_names, judge_score_targets

__all__ = [
    "BudgetExceededError",
    "JudgeConfig",
    "JudgeFatalError",
    "JudgeJob",
    "JudgeSettings",
    "judge_job",
    "judge_metric_names",
    "judge_score_targets",
    "score_generations",
]
