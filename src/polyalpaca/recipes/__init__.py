"""Recipes stage: derived sources, aligned pools, trainsets, test prompt sets and their statistics.

See :mod:`.build` for the recipes, :mod:`.align` for the equal-budget policy, :mod:`.derive` for the
keyword filter, :mod:`.testset` for test prompts and :mod:`.stats` for token counts.
"""

from .align import align_source
from .build import Budget, budget_from_size, budget_from_trainset, build_trainset, split_ids
from .derive import KeywordFilter, derive_source, keyword_pattern
from .settings import (
    DeriveSpec,
    RecipeSettings,
    TestsetSpec,
    TrainsetSpec,
    aligned_languages,
    derive_spec,
    testset_spec,
    trainset_models,
    trainset_spec,
)
from .stats import tokens_table, trainset_stats
from .testset import build_testset

__all__ = [
    "Budget", "DeriveSpec", "KeywordFilter", "RecipeSettings", "TestsetSpec", "TrainsetSpec", "align_source",
    "aligned_languages", "budget_from_size", "budget_from_trainset", "build_testset", "build_trainset",
    "derive_source", "derive_spec", "keyword_pattern", "split_ids", "testset_spec", "tokens_table",
    "trainset_models", "trainset_spec", "trainset_stats",
]
