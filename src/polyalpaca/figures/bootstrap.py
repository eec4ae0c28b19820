"""Seeded percentile bootstrap over prompts, for one sample or several strata.

Strata (e.g. the test languages a figure averages over) are resampled independently; the statistic
of a replicate is the mean over strata of each stratum's aggregate (sum or mean of its prompts). With
one stratum this is the ordinary bootstrap of a sum or a mean. Every interval gets its own generator,
seeded from the config seed and a key naming what is estimated, so a value's interval does not
depend on which other values are computed in the same job (tables and figures agree).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

AGGREGATES = ("sum", "mean")


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_low: float
    ci_high: float


def rng_for(seed: int, key: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and a stable hash of ``key`` (independent of Python's hash seed)."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    return np.random.default_rng([seed, digest])


def _aggregate(values: np.ndarray, aggregate: str, axis=None):
    if aggregate == "sum":
        return values.sum(axis=axis)
    if aggregate == "mean":
        return values.mean(axis=axis)
    raise ValueError(f"aggregate must be one of {AGGREGATES}, not {aggregate!r}")


def bootstrap_strata(strata: Sequence[Sequence[float]], aggregate: str, *, seed: int, key: str,
                     n_resamples: int = 1000, confidence: float = 0.95) -> Estimate:
    """Point estimate and percentile CI of ``mean over strata of aggregate(stratum)``.

    Empty strata are not allowed (the caller lists them as missing); NaN values are not allowed.
    """
    if not strata:
        return Estimate(float("nan"), float("nan"), float("nan"))
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), not {confidence!r}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, not {n_resamples!r}")
    arrays = [np.asarray(s, dtype=float) for s in strata]
    for arr in arrays:
        if arr.size == 0:
            raise ValueError(f"{key}: empty stratum")
        if np.isnan(arr).any():
            raise ValueError(f"{key}: NaN in a stratum")
    point = float(np.mean([_aggregate(arr, aggregate) for arr in arrays]))
    rng = rng_for(seed, key)
    replicates = np.zeros(n_resamples)
    for arr in arrays:
        idx = rng.integers(0, arr.size, size=(n_resamples, arr.size))
        replicates += _aggregate(arr[idx], aggregate, axis=1)
    replicates /= len(arrays)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(replicates, [alpha, 1.0 - alpha])
    return Estimate(point, float(low), float(high))


def bootstrap_ci(values: Sequence[float], aggregate: str = "mean", *, seed: int, key: str,
                 n_resamples: int = 1000, confidence: float = 0.95) -> Estimate:
    """Point estimate and percentile CI of the sum or mean of ``values`` (NaN for no values)."""
    if len(values) == 0:
        return Estimate(float("nan"), float("nan"), float("nan"))
    return bootstrap_strata([values], aggregate, seed=seed, key=key, n_resamples=n_resamples, confidence=confidence)
