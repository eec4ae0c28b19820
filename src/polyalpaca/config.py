"""Load, validate and expand the polyalpaca configuration.

Validation has two layers: the JSON Schema in ``schemas/`` (types, required keys, no unknown keys,
defaults filled in) and :func:`check_references`, which checks that every name a block uses is
defined (a model's family, a trainset's source and languages, a study's runs ...). Every message
names the key path to fix, e.g. ``studies.chen2024.runs[0].models: 'pythia-7b' is not defined``.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .errors import ConfigError

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
if not SCHEMA_DIR.is_dir():  # editable install or source checkout: schemas/ at the repo root
    SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"

LANG_PLACEHOLDER = "{lang}"


# ---------------------------------------------------------------- schema validation
def _extend_with_default(validator_class):
    """A validator that fills in ``default`` values of missing properties while validating."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for prop, subschema in properties.items():
                if "default" in subschema and prop not in instance:
                    instance[prop] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_DefaultFillingValidator = _extend_with_default(jsonschema.Draft202012Validator)


def _registry(schema_dir: Path) -> Registry:
    resources = []
    for path in sorted(schema_dir.rglob("*.schema.yaml")):
        contents = yaml.safe_load(path.read_text(encoding="utf-8"))
        # A "$schema" in a referenced file makes jsonschema switch to the stock validator class for
        # that dialect, which would stop filling in defaults below the reference: drop it here.
        contents.pop("$schema", None)
        rel = path.relative_to(schema_dir).as_posix()
        resources.append((rel, Resource(contents, specification=DRAFT202012)))
    return Registry().with_resources(resources)


def key_path(parts: Iterable[Any]) -> str:
    """``['tunings', 'chen-lora', 'lora', 'r']`` -> ``tunings.chen-lora.lora.r``; list indices as ``[i]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<top level>"


def validate_schema(config: dict, schema_dir: Path = SCHEMA_DIR) -> dict:
    """Validate ``config`` in place against ``config.schema.yaml`` and fill in defaults."""
    registry = _registry(schema_dir)
    schema = registry.contents("config.schema.yaml")
    validator = _DefaultFillingValidator(schema, registry=registry)
    errors = sorted(validator.iter_errors(config), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        lines = []
        for err in errors[:20]:
            # oneOf/anyOf failures: the most specific sub-error says more than "is not valid under any"
            best = jsonschema.exceptions.best_match(err.context) if err.context else err
            where = key_path(best.absolute_path)
            lines.append(f"{where}: {best.message}")
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(dict.fromkeys(lines)) + more)
    return config


# ---------------------------------------------------------------- cross references
def _need(errors: list[str], where: str, name: Any, block: dict, block_name: str) -> None:
    if name not in block:
        known = ", ".join(sorted(map(str, block))) or "none"
        errors.append(f"{where}: {name!r} is not defined in {block_name} (defined: {known})")


def check_references(config: dict) -> None:
    """Check that every name used by a block is defined elsewhere in the config."""
    errors: list[str] = []
    langs = config["languages"]
    sources = config["sources"]

    for name, src in sources.items():
        for i, lang in enumerate(src.get("languages", [])):
            _need(errors, f"sources.{name}.languages[{i}]", lang, langs, "languages")
        derive = src.get("derive")
        if derive:
            for i, parent in enumerate(derive["from"]):
                _need(errors, f"sources.{name}.derive.from[{i}]", parent, sources, "sources")
            if "exclude_keywords" in derive:
                _need(errors, f"sources.{name}.derive.exclude_keywords", derive["exclude_keywords"],
                      config.get("keyword_lists", {}), "keyword_lists")
        elif not any(k in src for k in ("hf", "url", "path")):
            errors.append(f"sources.{name}: needs one of hf, url, path or derive")

    for name, model in config["models"].items():
        _need(errors, f"models.{name}.family", model["family"], config["families"], "families")

    for name, tr in config.get("translations", {}).items():
        _need(errors, f"translations.{name}", name, sources, "sources")
        _need(errors, f"translations.{name}.translator", tr["translator"], config.get("translators", {}), "translators")

    for name, spec in config.get("distillations", {}).items():
        _need(errors, f"distillations.{name}", name, sources, "sources")
        _need(errors, f"distillations.{name}.judge", spec["judge"], config.get("judges", {}), "judges")
        fields = config.get("translations", {}).get(name, {}).get("fields", ())
        if "instruction" not in fields:
            errors.append(f"distillations.{name}: the chat model answers translated instructions, but "
                          f"translations.{name}.fields ({', '.join(fields) or 'none'}) has no 'instruction'")
        for code in spec.get("equivalents", {}):
            _need(errors, f"distillations.{name}.equivalents.{code}", code, langs, "languages")
        distilled = sorted({lang for ts in config["trainsets"].values() if ts["source"] == name
                            and ts["responses"] == "distilled" for _, lang in _trainset_langs(ts) if lang != "en"})
        unlabelled = [lang for lang in distilled if lang in langs and not langs[lang].get(spec["lid_model"])]
        if unlabelled:
            errors.append(f"distillations.{name}.lid_model: {spec['lid_model']} has no label for "
                          f"{', '.join(unlabelled)} (languages.<code>.{spec['lid_model']}), so it cannot check "
                          f"the answers' language; use a LID model that knows them")

    for name, ts in config["trainsets"].items():
        where = f"trainsets.{name}"
        _need(errors, f"{where}.source", ts["source"], sources, "sources")
        translation = config.get("translations", {}).get(ts["source"])
        if translation and any(lang != "en" for _, lang in _trainset_langs(ts)):
            fields = translation.get("fields", ())
            if ts["responses"] == "translated" and "output" not in fields:
                errors.append(f"{where}.responses: translated responses need 'output' in "
                              f"translations.{ts['source']}.fields ({', '.join(fields)}); translate it, or set "
                              f"responses: distilled")
            if ts["responses"] == "distilled" and ts["source"] not in config.get("distillations", {}):
                errors.append(f"{where}.responses: distilled, but distillations.{ts['source']} is not defined "
                              f"(which chat model answers the translated instructions)")
        recipe = ts["recipe"]
        if recipe == "mono" and "lang" not in ts:
            errors.append(f"{where}: recipe 'mono' needs 'lang'")
        if recipe != "mono" and "languages" not in ts:
            errors.append(f"{where}: recipe {recipe!r} needs 'languages'")
        if recipe == "multi_downsampled" and not ({"budget_of", "size"} & set(ts)):
            errors.append(f"{where}: recipe 'multi_downsampled' needs 'budget_of' or 'size'")
        if "budget_of" in ts:
            _need(errors, f"{where}.budget_of", ts["budget_of"], config["trainsets"], "trainsets")
        for key, lang in _trainset_langs(ts):
            _need(errors, f"{where}.{key}", lang, langs, "languages")
            if lang != "en" and ts["source"] not in config.get("translations", {}):
                errors.append(f"{where}.{key}: {lang!r} needs a translation of source {ts['source']!r}, "
                              f"but translations.{ts['source']} is not defined")

    for name, tset in config["testsets"].items():
        _need(errors, f"testsets.{name}.source", tset["source"], sources, "sources")
        for i, lang in enumerate(tset["languages"]):
            _need(errors, f"testsets.{name}.languages[{i}]", lang, langs, "languages")
        if "translate_from" in tset and tset["source"] not in config.get("translations", {}):
            errors.append(f"testsets.{name}.translate_from: source {tset['source']!r} has no translations entry")

    for name, metric in config.get("metrics", {}).items():
        if metric["kind"] in ("judge_single", "judge_criteria", "judge_pairwise", "relevance"):
            if "judge" not in metric:
                errors.append(f"metrics.{name}: kind {metric['kind']!r} needs 'judge'")
            else:
                _need(errors, f"metrics.{name}.judge", metric["judge"], config.get("judges", {}), "judges")
        elif metric["kind"] == "lid":
            errors.extend(_lid_metric_errors(config, name, metric))
    for name, judge in config.get("judges", {}).items():
        if judge["backend"] == "local":
            _need(errors, f"judges.{name}.model", judge.get("model"), config["models"], "models")
        elif "model" not in judge:
            errors.append(f"judges.{name}: backend 'openai' needs 'model'")

    for sname, study in config["studies"].items():
        where = f"studies.{sname}"
        _need(errors, f"{where}.testset", study["testset"], config["testsets"], "testsets")
        _need(errors, f"{where}.decoding", study["decoding"], config.get("decodings", {}), "decodings")
        for i, metric in enumerate(study["metrics"]):
            _need(errors, f"{where}.metrics[{i}]", metric, config.get("metrics", {}), "metrics")
        test_langs = config["testsets"].get(study["testset"], {}).get("languages", [])
        for b, block in enumerate(study["runs"]):
            bwhere = f"{where}.runs[{b}]"
            for i, model in enumerate(block["models"]):
                _need(errors, f"{bwhere}.models[{i}]", model, config["models"], "models")
            for i, tuning in enumerate(block["tunings"]):
                _need(errors, f"{bwhere}.tunings[{i}]", tuning, config["tunings"], "tunings")
            for i, lang in enumerate(block["languages"]):
                _need(errors, f"{bwhere}.languages[{i}]", lang, langs, "languages")
                if lang in langs and test_langs and lang not in test_langs:
                    errors.append(f"{bwhere}.languages[{i}]: {lang!r} is not a language of testset "
                                  f"{study['testset']!r} ({', '.join(test_langs)})")
            for i, pattern in enumerate(block["trainsets"]):
                names = ([pattern.replace(LANG_PLACEHOLDER, lang) for lang in block["languages"]]
                         if LANG_PLACEHOLDER in pattern else [pattern])
                for ts in names:
                    _need(errors, f"{bwhere}.trainsets[{i}]", ts, config["trainsets"], "trainsets")

    if not errors:  # baselines and pairs expand runs: only once every name they use is known
        from .pairs import reference_errors

        errors.extend(reference_errors(config))
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(dict.fromkeys(errors)))


def _lid_metric_errors(config: dict, name: str, metric: dict) -> list[str]:
    """A lid metric names known languages, and every language it scores has a label for its model."""
    errors: list[str] = []
    where, langs, model, cands = f"metrics.{name}", config["languages"], metric["lid_model"], metric["candidates"]
    if isinstance(cands, list):
        for i, code in enumerate(cands):
            _need(errors, f"{where}.candidates[{i}]", code, langs, "languages")
    for code in metric["equivalents"]:
        _need(errors, f"{where}.equivalents.{code}", code, langs, "languages")
    for sname, study in config["studies"].items():
        testset = config["testsets"].get(study["testset"])
        if name not in study["metrics"] or testset is None:
            continue
        scored = {lang for block in study["runs"] for lang in block["languages"]}
        named = set(cands) if isinstance(cands, list) else set(testset["languages"]) if cands == "study" else set()
        for lang in sorted((scored | named) & set(langs)):
            if model not in langs[lang]:
                errors.append(f"languages.{lang}: no {model} label, but metric {name!r} (lid_model {model}) "
                              f"must name {lang!r} in studies.{sname}")
        if isinstance(cands, list):
            for lang in sorted(scored - set(cands)):
                errors.append(f"{where}.candidates: {lang!r} is scored in studies.{sname} but is not a candidate")
        if cands == "study" and len(set(testset["languages"])) < 2:
            errors.append(f"{where}.candidates: 'study' means the languages of testsets.{study['testset']}, "
                          "which has fewer than two (every prediction would match)")
    return errors


def _trainset_langs(ts: dict) -> list[tuple[str, str]]:
    if "lang" in ts:
        return [("lang", ts["lang"])]
    return [(f"languages[{i}]", lang) for i, lang in enumerate(ts.get("languages", []))]


def validate_config(config: dict, schema_dir: Path = SCHEMA_DIR) -> dict:
    """Schema validation with defaults, then the cross-reference checks. Returns ``config``."""
    validate_schema(config, schema_dir)
    check_references(config)
    check_job_sizing(config)
    return config


def check_job_sizing(config: dict) -> None:
    """Every training run splits its global batch over the processes it will get (GPUs from the memory
    model, or ``train.cpu_processes``) and, with GPUs, fits some GPU count: an error at DAG time, never
    inside a queued job. Every failing (model, tuning) is named."""
    from .gpu_memory import fit_train
    from .train.settings import resolve_tuning

    pairs = sorted({(run.model, run.tuning) for study in config["studies"] for run in study_runs(config, study)})
    errors = []
    for model, tuning in pairs:
        if config["resources"]["use_gpus"]:
            fit = fit_train(config, model, tuning)
            if fit.gpus is None:
                errors.append(f"models.{model} with tunings.{tuning}: {fit.reason}")
            continue
        try:
            resolve_tuning(config, model, tuning).accumulation_steps(config["train"]["cpu_processes"])
        except ConfigError as err:
            errors.append(f"{err} (train.cpu_processes={config['train']['cpu_processes']})")
    if errors:
        raise ConfigError("runs that cannot be launched as configured (polyalpaca plan --gpu-mem-gb shows the "
                          "sizing):\n  " + "\n  ".join(errors))


def load_config(path: str | Path) -> dict:
    """Read a YAML config file and validate it; errors name ``path`` and the key."""
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return validate_config(config)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


# ---------------------------------------------------------------- the grid
@dataclass(frozen=True, order=True)
class Run:
    """One fine-tuning run and the test languages it is evaluated in."""

    model: str
    trainset: str
    tuning: str
    languages: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.model}/{self.trainset}/{self.tuning}"


def study_runs(config: dict, study: str) -> list[Run]:
    """Expand a study's run blocks into runs; a run appearing twice gets the union of its languages.
    (Its baselines, not trained here: :func:`polyalpaca.pairs.study_baselines`.)"""
    merged: dict[tuple[str, str, str], list[str]] = {}
    for block in config["studies"][study]["runs"]:
        for model, tuning, pattern in itertools.product(block["models"], block["tunings"], block["trainsets"]):
            if LANG_PLACEHOLDER in pattern:
                pairs = [(pattern.replace(LANG_PLACEHOLDER, lang), [lang]) for lang in block["languages"]]
            else:
                pairs = [(pattern, list(block["languages"]))]
            for trainset, langs in pairs:
                have = merged.setdefault((model, trainset, tuning), [])
                have.extend(lang for lang in langs if lang not in have)
    return [Run(m, ts, tu, tuple(langs)) for (m, ts, tu), langs in merged.items()]


def all_runs(config: dict) -> list[Run]:
    """Runs of every study, each once (languages merged across studies are not needed: paths differ by testset)."""
    seen: dict[str, Run] = {}
    for study in config["studies"]:
        for run in study_runs(config, study):
            seen.setdefault(run.id, run)
    return list(seen.values())


def trainset_languages(config: dict, trainset: str) -> list[str]:
    ts = config["trainsets"][trainset]
    return [ts["lang"]] if "lang" in ts else list(ts["languages"])


def used_trainsets(config: dict) -> list[str]:
    """Trainsets the studies need, plus those they depend on through ``budget_of``."""
    names = {run.trainset for run in all_runs(config)}
    for name in list(names):
        budget = config["trainsets"][name].get("budget_of")
        if budget:
            names.add(budget)
    return sorted(names)


def translation_pairs(config: dict) -> list[tuple[str, str]]:
    """(source, lang) pairs that must be machine-translated for the used trainsets and test sets."""
    pairs: set[tuple[str, str]] = set()
    for name in used_trainsets(config):
        ts = config["trainsets"][name]
        pairs.update((ts["source"], lang) for lang in trainset_languages(config, name) if lang != "en")
    for study in config["studies"].values():
        tset = config["testsets"][study["testset"]]
        if "translate_from" in tset:
            pairs.update((tset["source"], lang) for lang in tset["languages"] if lang != tset["translate_from"])
    return sorted(pairs)


