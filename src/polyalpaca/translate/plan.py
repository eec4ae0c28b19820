"""What the translate rules need from the config: paths, translators, shard names, languages.

Kept here (not in ``rules/*.smk``) so it is testable without Snakemake.
"""

from __future__ import annotations

from ..config import translation_pairs
from ..effects import operational_view, result_view
from ..errors import ConfigError
from ..resources import gpus_for
from .settings import FilterSettings, TranslateSettings
from .shard import nllb_code

NLLB_DIR = "resources/nllb"
PROGRESS_DIR = "results/translate/.progress"


def translation(config: dict, source: str) -> dict:
    block = config["translations"]
    if source not in block:
        raise ConfigError(f"translations.{source} is not defined (defined: {', '.join(sorted(block)) or 'none'})")
    return block[source]


def translator(config: dict, name: str) -> dict:
    block = config["translators"]
    if name not in block:
        raise ConfigError(f"translators.{name} is not defined (defined: {', '.join(sorted(block)) or 'none'})")
    return block[name]


def translate_device(config: dict) -> str:
    """``translate.device``, with ``auto`` resolved: cuda when translate jobs get GPUs, else cpu."""
    device = config["translate"]["device"]
    if device == "auto":
        return "cuda" if gpus_for(config, "translate") > 0 else "cpu"
    return device


def quantization(config: dict, name: str) -> str:
    spec = translator(config, name)
    key = "gpu_quantization" if translate_device(config) == "cuda" else "quantization"
    return spec.get(key, "int8_float16" if key == "gpu_quantization" else "int8")


def snapshot_dir(config: dict, name: str) -> str:
    """The transformers checkpoint of a translator: its ``path``, or ``resources/nllb/{name}`` (downloaded/built)."""
    spec = translator(config, name)
    return spec["path"] if "path" in spec else f"{NLLB_DIR}/{name}"


def ct2_dir(config: dict, name: str) -> str:
    return f"{NLLB_DIR}/{name}-ct2-{quantization(config, name)}"


def source_language(config: dict, source: str) -> str:
    """The language a source is translated from: its test set's ``translate_from``, else en."""
    langs = {t["translate_from"] for t in config.get("testsets", {}).values()
             if t.get("source") == source and "translate_from" in t}
    if len(langs) > 1:
        raise ConfigError(f"testsets: source {source!r} is translated from several languages {sorted(langs)}")
    return langs.pop() if langs else "en"


def shard_names(config: dict, source: str) -> list[str]:
    """Shard wildcards of a source: ``0`` .. ``shards-1`` (plain integers, no padding)."""
    return [str(i) for i in range(translation(config, source)["shards"])]


def shard_path(source: str, lang: str, shard: str | int) -> str:
    return f"results/translate/{source}/{lang}/{shard}.jsonl"


def progress_path(source: str, lang: str, shard: str | int) -> str:
    return f"{PROGRESS_DIR}/{source}/{lang}/{shard}.jsonl"


def tiny_sources(config: dict, name: str) -> list[str]:
    """Sources whose text trains a tiny translator's tokenizer: those it translates."""
    used = {s for s, _ in translation_pairs(config)}
    mine = sorted(s for s, t in config["translations"].items() if t["translator"] == name)
    return [s for s in mine if s in used] or mine


def job_params(config: dict, source: str, lang: str) -> dict:
    """Everything a translate_shard job needs from the config except the shard number (a rule param)."""
    tr = translation(config, source)
    src_lang = source_language(config, source)
    languages = config["languages"]
    return {
        "source": source,
        "lang": lang,
        "src_lang": src_lang,
        "src_code": nllb_code(languages, src_lang),
        "tgt_code": nllb_code(languages, lang),
        "translator": tr["translator"],
        "shards": tr["shards"],
        "fields": list(tr["fields"]),
        "on_bad_line": config["on_bad_line"],
    }


def translate_settings(config: dict) -> dict:
    """The result settings of ``translate:`` without ``filters``, device resolved; checked by building
    them (with the operational ones, which the job reads itself)."""
    values = {k: v for k, v in result_view(config, "translate").items() if k != "filters"}
    values["device"] = translate_device(config)
    TranslateSettings.from_config({**values, **operational_view(config, "translate")})
    return values


def filter_settings(config: dict) -> dict:
    return FilterSettings.from_config(result_view(config, "translate", "filters")).as_dict()


def translation_targets(config: dict) -> list[str]:
    """Merged translations and reports of every (source, lang) pair the studies need."""
    out = []
    for source, lang in translation_pairs(config):
        out += [f"results/translate/{source}/{lang}.jsonl", f"results/translate/{source}/{lang}.report.json"]
    return out
