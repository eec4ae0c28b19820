"""What the round-trip rules need from the config: the (source, language) pairs, paths and params."""

from __future__ import annotations

import importlib.util

from ..errors import ConfigError

from .paths import ROUNDTRIP, ROUNDTRIP_SCORES

__all__ = ["ROUNDTRIP", "ROUNDTRIP_SCORES"]
# What Bactrian-X back-translates ("the translated instructions", §3.2): instruction or prompt fields.
DEFAULT_FIELDS = ("instruction", "prompt")


def study_roundtrip_pairs(config: dict, study: str) -> list[tuple[str, str]]:
    """Every translated (source, language) the study uses, when the study asks for round trips."""
    from ..grid import study_translation_pairs

    if not config["studies"][study].get("roundtrip"):
        return []
    return study_translation_pairs(config, study)


def study_roundtrip_scores(config: dict, study: str) -> list[str]:
    return [ROUNDTRIP_SCORES.format(source=s, lang=lang) for s, lang in study_roundtrip_pairs(config, study)]


def roundtrip_jobs(config: dict) -> list[tuple[str, str]]:
    return sorted({pair for study in config["studies"] for pair in study_roundtrip_pairs(config, study)})


def report_pairs(config: dict, study: str) -> list[list[str]]:
    """[source, lang, translator] of every pair the study round-trips: the report rule's param."""
    return [[source, lang, config["translations"][source]["translator"]]
            for source, lang in study_roundtrip_pairs(config, study)]


def roundtrip_targets(config: dict) -> list[str]:
    from ..grid import study_report_targets

    return study_report_targets(config, "roundtrip", "roundtrip")


def scored_fields(config: dict, study: str, source: str) -> list[str]:
    spec = config["studies"][study]["roundtrip"]
    translated = list(config["translations"][source]["fields"])
    if "fields" in spec:
        return [f for f in spec["fields"] if f in translated]
    return [f for f in translated if f in DEFAULT_FIELDS] or translated


def _study_params(config: dict, study: str, source: str) -> dict:
    spec = config["studies"][study]["roundtrip"]
    return {"sample": spec["sample"], "fields": scored_fields(config, study, source), "seed": config["seed"],
            "comet_model": spec.get("comet_model")}


def roundtrip_params(config: dict, source: str, lang: str) -> dict:
    """What a round trip's output depends on: the sample, the fields, the seed (and the COMET model)."""
    for study in config["studies"]:
        if (source, lang) in study_roundtrip_pairs(config, study):
            return _study_params(config, study, source)
    raise ConfigError(f"no study asks for a round trip of {source}/{lang}")


def check_roundtrip(config: dict) -> None:
    """Studies sharing a translated source agree on its round trip; a COMET model needs its package."""
    errors: list[str] = []
    seen: dict[str, tuple[str, dict]] = {}
    for study, body in config["studies"].items():
        spec = body.get("roundtrip")
        if not spec:
            continue
        where = f"studies.{study}.roundtrip"
        for source in sorted({s for s, _ in study_roundtrip_pairs(config, study)}):
            if "fields" in spec and not scored_fields(config, study, source):
                errors.append(f"{where}.fields: none of {spec['fields']} is translated in translations.{source}.fields "
                              f"({', '.join(config['translations'][source]['fields'])})")
            mine = _study_params(config, study, source)
            if source in seen and seen[source][1] != mine:
                errors.append(f"{where}: sample, fields or comet_model differ from studies.{seen[source][0]}.roundtrip "
                              f"for source {source!r}, which both round-trip; make them equal")
            seen.setdefault(source, (study, mine))
        if spec.get("comet_model") and importlib.util.find_spec("comet") is None:
            errors.append(f"{where}.comet_model: COMET needs the unbabel-comet package, which is not installed (it "
                          "does not resolve with this project's torch/transformers pins, see docs/FIDELITY.md); "
                          "remove comet_model to score with BLEU and chrF++ only")
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
