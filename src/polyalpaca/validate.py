"""The whole DAG-time validation: the config (schema and references, :func:`polyalpaca.config.validate_config`)
and the checks of the stages that look outside it — the benchmark tasks the installed lm-evaluation-harness
has, the round trips studies share, the token tables' tokenizers. Kept apart from :mod:`polyalpaca.config`,
which every rule script imports, so that the stages' code hashes do not include the planning code."""

from __future__ import annotations

from .benchmark.plan import check_benchmarks
from .config import validate_config
from .recipes.tokenizers import check_token_stats
from .roundtrip.plan import check_roundtrip


def validate_workflow_config(config: dict) -> dict:
    """Validate ``config`` (defaults filled in) and the stage checks; raises ConfigError naming the key."""
    validate_config(config)
    check_benchmarks(config)
    check_roundtrip(config)
    check_token_stats(config)
    return config
