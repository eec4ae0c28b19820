"""Metrics of generated responses, one score file per (metric, run, test set, language).

Surface metrics: :mod:`.lid_score` (language correctness: fastText or lingua; also the LID ceiling on
the test prompts) and :mod:`.spellcheck`
(Hunspell). Judge metrics live in :mod:`.judge`. Submodules are imported on use (they load models).
"""

from __future__ import annotations

from ..config import study_runs
from ..grid import OUTPUTS, metric_outputs

SURFACE_KINDS = ("lid", "spellcheck")
SCORES = OUTPUTS["score"]


def metric_names(config: dict, kind: str) -> list[str]:
    """Keys of ``metrics:`` of one kind (``lid``, ``spellcheck``, ...)."""
    return sorted(name for name, m in config["metrics"].items() if m["kind"] == kind)


def surface_score_targets(config: dict) -> list[str]:
    """Every LID and spellcheck score file the studies need."""
    return metric_outputs(config, SURFACE_KINDS)


def lid_candidates(config: dict, metric: str, testset: str) -> list[str] | None:
    """The ISO codes a LID metric's predictions are restricted to on ``testset`` (None: all)."""
    candidates = config["metrics"][metric]["candidates"]
    if candidates == "all":
        return None
    if candidates == "study":
        return list(config["testsets"][testset]["languages"])
    return list(candidates)


def lid_params(config: dict, metric: str, testset: str) -> dict:
    """Fields of :class:`~polyalpaca.evaluate.lid_score.LidParams` for a LID metric on ``testset``."""
    spec = config["metrics"][metric]
    model = spec["lid_model"]
    return {"model": model,  # openlid_path: operational, read by the job
            "candidates": lid_candidates(config, metric, testset), "equivalents": spec["equivalents"],
            "min_prob": spec["min_prob"], "uncertain": spec["uncertain"]}


def lid_languages(config: dict, metric: str) -> dict:
    """The label table's slice of ``languages:`` for the metric's LID model (only what changes scores)."""
    key = config["metrics"][metric]["lid_model"]
    return {iso: {key: entry[key]} for iso, entry in config["languages"].items() if key in entry}


# The LID metric run on the test prompts themselves: their language is known, so the share it
# identifies is the ceiling of that language's LID scores (polyalpaca.lid_audit).
LID_CEILING = "{root}/lid_ceiling/{metric}/{testset}/{lang}.jsonl"


def lid_ceiling_jobs(config: dict, study: str | None = None) -> list[tuple[str, str, str]]:
    """(lid metric, test set, language) of every language a study (or ``study``) scores, each once, sorted."""
    jobs = set()
    for name in [study] if study is not None else config["studies"]:
        body = config["studies"][name]
        metrics = [m for m in body["metrics"] if config["metrics"][m]["kind"] == "lid"]
        langs = {lang for run in study_runs(config, name) for lang in run.languages}
        jobs.update((m, body["testset"], lang) for m in metrics for lang in langs)
    return sorted(jobs)


def lid_ceiling_path(metric: str, testset: str, lang: str, root: str = "results") -> str:
    return LID_CEILING.format(root=root, metric=metric, testset=testset, lang=lang)


def lid_ceiling_targets(config: dict, study: str | None = None, root: str = "results") -> list[str]:
    return [lid_ceiling_path(m, t, lang, str(root)) for m, t, lang in lid_ceiling_jobs(config, study)]


def spell_languages(config: dict, lang: str) -> dict:
    """The ``languages:`` entry a spellcheck job of ``lang`` reads (its Hunspell dictionary name)."""
    entry = config["languages"][lang]
    return {lang: {"hunspell": entry["hunspell"]} if "hunspell" in entry else {}}


def spell_settings(config: dict) -> dict:
    """Fields of :class:`~polyalpaca.evaluate.spellcheck.SpellcheckParams` from ``evaluate:``."""
    return {"missing_dictionary": config["evaluate"]["missing_dictionary"]}  # hunspell_dir: operational


__all__ = ["LID_CEILING", "SCORES", "SURFACE_KINDS", "lid_candidates", "lid_ceiling_jobs", "lid_ceiling_path",
           "lid_ceiling_targets", "lid_languages", "lid_params", "metric_names",
           "spell_languages", "spell_settings", "surface_score_targets"]
