"""Paths and input functions of the recipes rules (``f(config, wildcards)``, called from rule lambdas).

Paths follow DESIGN.md; ``results/recipes/{source}/aligned.json`` (the aligned pool) is this stage's
own intermediate file.
"""

from __future__ import annotations

from typing import Mapping

from ..config import trainset_languages, used_trainsets
from ..errors import ConfigError
from .settings import ENGLISH, aligned_languages
from .tokenizers import stats_tokenizers, study_token_stats, tokenizer_dir


def source_path(source: str) -> str:
    return f"resources/sources/{source}.jsonl"


def translation_path(source: str, lang: str) -> str:
    return f"results/translate/{source}/{lang}.jsonl"


def distill_path(source: str, lang: str) -> str:
    return f"results/distill/{source}/{lang}.jsonl"


def distilled_languages(config: Mapping, source: str) -> set[str]:
    """Languages of ``source`` that some configured trainset takes with distilled responses."""
    return {lang for name, block in config["trainsets"].items()
            if block["source"] == source and block["responses"] == "distilled"
            for lang in translated_languages(config, name)}


def records_path(config: Mapping, source: str, lang: str, responses: str | None = None) -> str:
    """The records of a translated language: the translation, or its distilled answers. Without ``responses``
    (the aligned pool): the distilled file when any trainset distils ``lang`` (a subset of the translation's
    ids), so every trainset of the source draws from ids that all its variants have."""
    if responses is None:
        responses = "distilled" if lang in distilled_languages(config, source) else "translated"
    return distill_path(source, lang) if responses == "distilled" else translation_path(source, lang)


def pool_path(source: str) -> str:
    return f"results/recipes/{source}/aligned.json"


def trainset_path(trainset: str, split: str) -> str:
    return f"results/trainsets/{trainset}/{split}.jsonl"


def stats_path(trainset: str) -> str:
    return f"results/trainsets/{trainset}/stats.json"


TOKENS_TABLE = "results/tables/tokens.csv"


def derive_parents(config: Mapping, wildcards) -> list[str]:
    return [source_path(parent) for parent in config["sources"][wildcards.source]["derive"]["from"]]


def derive_keyword_lists(config: Mapping, wildcards) -> dict[str, list[str]]:
    """Only the keyword list the derived source uses (so editing another list reruns nothing)."""
    name = config["sources"][wildcards.source]["derive"].get("exclude_keywords")
    return {name: list(config["keyword_lists"][name])} if name else {}


def align_inputs(config: Mapping, wildcards) -> dict:
    return {"english": source_path(wildcards.source),
            "translations": [records_path(config, wildcards.source, lang)
                             for lang in aligned_languages(config, wildcards.source)]}


def translated_languages(config: Mapping, trainset: str) -> list[str]:
    return [lang for lang in trainset_languages(config, trainset) if lang != ENGLISH]


def trainset_inputs(config: Mapping, wildcards) -> dict:
    block = config["trainsets"][wildcards.trainset]
    source = block["source"]
    inputs = {"english": source_path(source), "pool": pool_path(source),
              "translations": [records_path(config, source, lang, block["responses"])
                               for lang in translated_languages(config, wildcards.trainset)]}
    if "budget_of" in block:
        inputs["budget_train"] = trainset_path(block["budget_of"], "train")
        inputs["budget_val"] = trainset_path(block["budget_of"], "val")
    return inputs


def testset_inputs(config: Mapping, wildcards) -> dict:
    tset = config["testsets"][wildcards.testset]
    if wildcards.lang not in tset["languages"]:
        raise ConfigError(f"testsets.{wildcards.testset}.languages: {wildcards.lang!r} is not a language of this "
                          f"test set ({', '.join(tset['languages'])})")
    inputs = {"source": source_path(tset["source"])}
    if "translate_from" in tset and wildcards.lang != tset["translate_from"]:
        inputs["translation"] = translation_path(tset["source"], wildcards.lang)
    return inputs


def stats_tokenizer_dirs(config: Mapping, wildcards) -> list[str]:
    return [tokenizer_dir(config, name) for name in stats_tokenizers(config, wildcards.trainset)]


def token_stats_input(config: Mapping, wildcards) -> str:
    return stats_path(config["studies"][wildcards.study]["token_stats"]["trainset"])


def token_stats_targets(config: Mapping) -> list[str]:
    """The token tables (CSV, HTML) of the studies that have one."""
    return [f"results/tables/{study}_tokens.{ext}" for study in study_token_stats(config) for ext in ("csv", "html")]


def trainset_info(config: Mapping, wildcards) -> dict:
    block = config["trainsets"][wildcards.trainset]
    return {key: block[key] for key in ("recipe", "source")}  # no label: a rename must not recount tokens


def tokens_table_inputs(config: Mapping) -> list[str]:
    return [stats_path(name) for name in used_trainsets(config)]


def recipes_targets(config: Mapping) -> list[str]:
    """Every trainset the studies use, every test set language of the studies, and the token table."""
    targets = [TOKENS_TABLE, *token_stats_targets(config)]
    for name in used_trainsets(config):
        targets += [trainset_path(name, "train"), trainset_path(name, "val")]
    for study in config["studies"].values():
        name = study["testset"]
        targets += [f"results/testsets/{name}/{lang}.jsonl" for lang in config["testsets"][name]["languages"]]
    return list(dict.fromkeys(targets))
