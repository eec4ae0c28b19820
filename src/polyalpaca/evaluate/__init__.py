"""Metrics of generated responses, one score file per (metric, run, test set, language).

Surface metrics: :mod:`.lid_score` (language correctness, fastText) and :mod:`.spellcheck`
(Hunspell). Judge metrics live in :mod:`.judge`. Submodules are imported on use (they load models).
"""

from __future__ import annotations

from ..grid import metric_outputs

SURFACE_KINDS = ("lid", "spellcheck")
SCORES = "results/scores/{metric}/{model}/{trainset}/{tuning}/{testset}/{lang}.jsonl"


def metric_names(config: dict, kind: str) -> list[str]:
    """Keys of ``metrics:`` of one kind (``lid``, ``spellcheck``, ...)."""
    return sorted(name for name, m in config.get("metrics", {}).items() if m["kind"] == kind)


def surface_score_targets(config: dict) -> list[str]:
    """Every LID and spellcheck score file the studies need."""
    return metric_outputs(config, SURFACE_KINDS)


def lid_params(config: dict, metric: str) -> dict:
    """Fields of :class:`~polyalpaca.evaluate.lid_score.LidParams` for a LID metric."""
    return {"model": config["metrics"][metric]["lid_model"]}  # openlid_path: operational, read by the job


def lid_languages(config: dict, metric: str) -> dict:
    """The label table's slice of ``languages:`` for the metric's LID model (only what changes scores)."""
    key = config["metrics"][metric]["lid_model"]
    return {iso: {key: entry[key]} for iso, entry in config["languages"].items() if key in entry}


def spell_languages(config: dict, lang: str) -> dict:
    """The ``languages:`` entry a spellcheck job of ``lang`` reads (its Hunspell dictionary name)."""
    entry = config["languages"][lang]
    return {lang: {"hunspell": entry["hunspell"]} if "hunspell" in entry else {}}


def spell_settings(config: dict) -> dict:
    """Fields of :class:`~polyalpaca.evaluate.spellcheck.SpellcheckParams` from ``evaluate:``."""
    return {"missing_dictionary": config["evaluate"]["missing_dictionary"]}  # hunspell_dir: operational


__all__ = ["SCORES", "SURFACE_KINDS", "lid_languages", "lid_params", "metric_names",
           "spell_languages", "spell_settings", "surface_score_targets"]
