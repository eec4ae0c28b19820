"""What the distillation rule reads, its params and resources, and which (source, lang) pairs the config
distils (used by rules/distill.smk, polyalpaca.grid and polyalpaca plan)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ..effects import result_view
from ..errors import ConfigError
from ..recipes.inputs import distill_path, distilled_languages, translation_path
from .templates import TEMPLATE_DIR, template_path

FLAGGED = "results/distill/{source}/{lang}.flagged.jsonl"
REPORT = "results/distill/{source}/{lang}.report.json"
TABLE = "results/tables/distill.csv"


def distill_pairs(config: Mapping, sources=None) -> list[tuple[str, str]]:
    """(source, lang) pairs whose responses some configured trainset takes distilled (of ``sources`` only)."""
    names = config["distillations"] if sources is None else [s for s in sources if s in config["distillations"]]
    return sorted((source, lang) for source in names for lang in distilled_languages(config, source))


def distill_judge(config: Mapping, source: str) -> dict:
    spec = config["distillations"].get(source)
    if spec is None:
        raise ConfigError(f"distillations.{source}: not configured, but a trainset of source {source!r} takes "
                          "distilled responses")
    return config["judges"][spec["judge"]]


def local_model(config: Mapping, source: str) -> str | None:
    judge = distill_judge(config, source)
    return judge["model"] if judge["backend"] == "local" else None


def template_input(config: Mapping, source: str) -> str:
    """The template file, relative to the working directory when it is a built-in (as the judge's are)."""
    value = config["distillations"][source]["template"]
    path = template_path(value)
    if path.parent != TEMPLATE_DIR:
        return value
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def distill_inputs(config: Mapping, source: str, lang: str) -> dict[str, str]:
    inputs = {"translation": translation_path(source, lang), "template": template_input(config, source)}
    model = local_model(config, source)
    if model:
        inputs["model_dir"] = f"resources/models/{model}"
    if config["distillations"][source]["lid_model"] == "openlid":
        inputs["openlid"] = config["evaluate"]["openlid_path"]
    return inputs


def distill_params(config: Mapping, source: str, lang: str) -> dict:
    """Exactly what changes this language's answers and which are kept: the distillation's result settings (the
    equivalents of this language only), what the endpoint sends (backend, model; a local model's token cap), the
    request seed, and this language's name and LID label."""
    spec = dict(result_view(config, "distillations", source))
    spec["equivalents"] = {lang: spec["equivalents"][lang]} if lang in spec["equivalents"] else {}
    judge = config["judges"][spec["judge"]]
    endpoint = {key: judge[key] for key in ("backend", "model")}
    if judge["backend"] == "local":
        endpoint["local_max_new_tokens"] = judge["local_max_new_tokens"]
    return {"spec": spec, "endpoint": endpoint, "settings": {"seed": config["evaluate"]["judge"]["seed"]},
            "language": {key: config["languages"][lang][key] for key in ("name", spec["lid_model"])
                         if key in config["languages"][lang]}}


def distill_threads(config: Mapping, source: str) -> int:
    return config["evaluate"]["judge"]["local_threads"] if local_model(config, source) else 1


def distill_resources(config: Mapping) -> dict:
    """A local chat model is sized like a local judge (a GPU job on a cluster); an API one gets no GPU."""
    from ..evaluate.judge.targets import chat_resources

    return chat_resources(config, lambda wc: local_model(config, wc.source))


def distill_targets(config: Mapping) -> list[str]:
    return [distill_path(source, lang) for source, lang in distill_pairs(config)]


def report_inputs(config: Mapping) -> list[str]:
    return [REPORT.format(source=source, lang=lang) for source, lang in distill_pairs(config)]
