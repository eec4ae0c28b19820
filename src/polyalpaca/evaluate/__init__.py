"""Metrics of generated responses, one score file per (metric, run, test set, language).

Surface metrics: :mod:`.lid_score` (language correctness, fastText) and :mod:`.spellcheck`
(Hunspell). Judge metrics live in :mod:`.judge`. Submodules are imported on use (they load models).
"""

from __future__ import annotations

from ..config import study_runs

SURFACE_KINDS = ("lid", "spellcheck")


def metric_jobs(config: dict, kinds: tuple[str, ...] | None = None) -> list[tuple[str, str, str, str, str, str]]:
    """Every (metric, model, trainset, tuning, testset, lang) the studies score, for metrics of ``kinds``
    (all kinds when None), each once, sorted."""
    jobs = set()
    for name, study in config["studies"].items():
        metrics = [m for m in study["metrics"] if kinds is None or config["metrics"][m]["kind"] in kinds]
        for run in study_runs(config, name):
            for lang in run.languages:
                jobs.update((m, run.model, run.trainset, run.tuning, study["testset"], lang) for m in metrics)
    return sorted(jobs)


__all__ = ["SURFACE_KINDS", "metric_jobs"]
