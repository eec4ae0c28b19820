"""Which tokenizers count a trainset's tokens, where their files are, and which languages each has seen.

A tokenizer is named by a key of ``tokenizers:`` (a tokenizer that is no base model, e.g. mBART-50:
fetched alone into ``resources/tokenizers/{name}``) or of ``models:`` (the base model's own tokenizer,
in ``resources/models/{model}``). A trainset is counted with the tokenizers of the base models that
train on it and those of every study's ``token_stats`` on it. A tokenizer has seen the languages of its
``pretraining_languages`` (``all`` or a list); a model's, those of its family.
"""

from __future__ import annotations

from typing import Mapping

from ..config import study_runs
from ..errors import ConfigError
from .settings import trainset_models

ALL = "all"


def tokenizer_dir(config: Mapping, name: str) -> str:
    """The folder of tokenizer ``name``: a standalone tokenizer's, or its model's."""
    if name in config["tokenizers"]:
        return f"resources/tokenizers/{name}"
    return f"resources/models/{name}"


def study_token_stats(config: Mapping) -> dict[str, dict]:
    """study -> its ``token_stats`` block, for the studies that have one."""
    return {study: body["token_stats"] for study, body in config["studies"].items() if body.get("token_stats")}


def stats_tokenizers(config: Mapping, trainset: str) -> list[str]:
    """Tokenizers counted in ``trainset``'s stats.json: its base models' and the token tables' (sorted)."""
    names = set(trainset_models(config, trainset))
    for block in study_token_stats(config).values():
        if block["trainset"] == trainset:
            names |= set(block["tokenizers"])
    return sorted(names)


def table_tokenizers(config: Mapping, study: str) -> dict[str, dict]:
    """The token table's tokenizers in its order: name -> ``label`` and ``seen`` (``all`` or a language list)."""
    out = {}
    for name in config["studies"][study]["token_stats"]["tokenizers"]:
        if name in config["tokenizers"]:
            spec = config["tokenizers"][name]
            out[name] = {"label": spec.get("label", name), "seen": spec["pretraining_languages"]}
        else:
            family = config["models"][name]["family"]
            out[name] = {"label": f"{name} ({family})",
                         "seen": config["families"][family]["pretraining_languages"]}
    return out


def used_tokenizers(config: Mapping) -> list[str]:
    """Standalone tokenizers (``tokenizers:`` keys) some study's token table uses: what the data stage fetches."""
    return sorted({name for block in study_token_stats(config).values() for name in block["tokenizers"]
                   if name in config["tokenizers"]})


def check_token_stats(config: Mapping) -> None:
    """Every token table names a defined trainset and tokenizers whose seen languages are known."""
    errors: list[str] = []
    clash = sorted(set(config["tokenizers"]) & set(config["models"]))
    for name in clash:
        errors.append(f"tokenizers.{name}: also a key of models (a token table could not tell which is meant)")
    for study, block in study_token_stats(config).items():
        where = f"studies.{study}.token_stats"
        trained = sorted({run.trainset for run in study_runs(config, study)})
        if block["trainset"] not in trained:
            errors.append(f"{where}.trainset: {block['trainset']!r} is not a trainset of the study's runs "
                          f"({', '.join(trained)})")
        for i, name in enumerate(block["tokenizers"]):
            key = f"{where}.tokenizers[{i}]"
            if name in config["tokenizers"]:
                if "pretraining_languages" not in config["tokenizers"][name]:
                    errors.append(f"tokenizers.{name}.pretraining_languages: needed by {key} (seen / unseen "
                                  f"languages; 'all' or a list)")
            elif name in config["models"]:
                family = config["models"][name]["family"]
                if "pretraining_languages" not in config["families"].get(family, {}):
                    errors.append(f"families.{family}.pretraining_languages: needed by {key} (model {name!r}: "
                                  f"seen / unseen languages)")
            else:
                errors.append(f"{key}: {name!r} is neither a key of tokenizers "
                              f"({', '.join(sorted(config['tokenizers'])) or 'none'}) nor of models")
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
