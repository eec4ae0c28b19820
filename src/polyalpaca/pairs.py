"""Baselines (published models not trained here) and the pairs a study's pairwise judge compares.

A baseline ``b`` (``baselines.<b>``: a full model, or a published LoRA adapter on a base model) is the run
``{model}/published/{b}`` in every path: ``model`` the models key whose weights it loads (the adapter's base
model), trainset the reserved word ``published`` (no trainset, no training job), tuning the baseline's own
name. So generations, score files and judges treat it like any run, and the path says what it is.

A study's ``pairs`` name two members each, a run of the study (``model/trainset/tuning``) or one of its
``baselines``; a judge_pairwise metric judges every pair in both orders, in the languages both members are
tested in (Bactrian-X §6: BX-LLaMA vs Alpaca, BX-BLOOM vs BLOOMZ, BX-BLOOM vs BX-LLaMA).
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import Run, study_runs

PUBLISHED = "published"


def is_published(trainset: str) -> bool:
    """A baseline's run: its trainset part is the reserved word ``published``."""
    return trainset == PUBLISHED


def baseline_run_id(config: dict, name: str) -> str:
    return f"{config['baselines'][name]['model']}/{PUBLISHED}/{name}"


def study_test_languages(config: dict, study: str) -> tuple[str, ...]:
    """Languages any run of the study is tested in, in the test set's order."""
    tested = {lang for run in study_runs(config, study) for lang in run.languages}
    return tuple(lang for lang in config["testsets"][config["studies"][study]["testset"]]["languages"]
                 if lang in tested)


def study_baselines(config: dict, study: str) -> list[Run]:
    """The study's baselines as runs, tested in every test language of the study's runs."""
    langs = study_test_languages(config, study)
    return [Run(config["baselines"][b]["model"], PUBLISHED, b, langs) for b in config["studies"][study]["baselines"]]


def study_generation_runs(config: dict, study: str) -> list[Run]:
    """Everything the study generates with: its fine-tuned runs, then its baselines."""
    return study_runs(config, study) + study_baselines(config, study)


def prompt_template_of(config: dict, trainset: str, tuning: str) -> str:
    """The prompt template a run is prompted with: its tuning's, or the baseline's own."""
    if is_published(trainset):
        return config["baselines"][tuning]["prompt_template"]
    return config["tunings"][tuning]["prompt_template"]


@dataclass(frozen=True)
class Pair:
    """Two runs judged against each other; in the score records ``a`` is the run, ``b`` the ``reference``."""

    a: Run
    b: Run
    languages: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.a.id} vs {self.b.id}"


def _members(config: dict, study: str) -> dict[str, Run]:
    """Names a pair may use: run ids of the study and its baseline names."""
    out = {run.id: run for run in study_runs(config, study)}
    out.update({run.tuning: run for run in study_baselines(config, study)})
    return out


def study_pairs(config: dict, study: str) -> list[Pair]:
    members = _members(config, study)
    pairs = []
    for first, second in config["studies"][study]["pairs"]:
        a, b = members[first], members[second]
        pairs.append(Pair(a, b, tuple(lang for lang in a.languages if lang in b.languages)))
    return pairs


def reference_errors(config: dict) -> list[str]:
    """Baselines and pairs name what exists (checked after every other cross reference)."""
    from .templates import get_template

    errors: list[str] = []
    models, tunings = config["models"], config["tunings"]
    if PUBLISHED in config["trainsets"]:
        errors.append(f"trainsets.{PUBLISHED}: the name is reserved for baselines (runs model/{PUBLISHED}/<baseline>)")
    for name, spec in config["baselines"].items():
        where = f"baselines.{name}"
        if spec["model"] not in models:
            errors.append(f"{where}.model: {spec['model']!r} is not defined in models "
                          f"(defined: {', '.join(sorted(models))})")
        if name in tunings:
            errors.append(f"{where}: the name is also a tunings key; a baseline's run is "
                          f"{spec['model']}/{PUBLISHED}/{name}, so its name must not be a tuning's")
        try:
            get_template(spec["prompt_template"])
        except Exception as err:  # ConfigError naming the known templates
            errors.append(f"{where}.prompt_template: {err}")
    if errors:
        return errors
    for sname, study in config["studies"].items():
        where = f"studies.{sname}"
        for i, name in enumerate(study["baselines"]):
            if name not in config["baselines"]:
                errors.append(f"{where}.baselines[{i}]: {name!r} is not defined in baselines "
                              f"(defined: {', '.join(sorted(config['baselines'])) or 'none'})")
        if any(name not in config["baselines"] for name in study["baselines"]):
            continue
        members = _members(config, sname)
        for i, pair in enumerate(study["pairs"]):
            for j, member in enumerate(pair):
                if member not in members:
                    kind = "baseline" if "/" not in member else "run"
                    errors.append(f"{where}.pairs[{i}][{j}]: {member!r} is not a {kind} of the study (runs: "
                                  f"{', '.join(r for r in members if '/' in r)}; baselines: "
                                  f"{', '.join(study['baselines']) or 'none'})")
            if all(m in members for m in pair):
                a, b = members[pair[0]], members[pair[1]]
                if a == b:
                    errors.append(f"{where}.pairs[{i}]: both members are {pair[0]!r}")
                elif not set(a.languages) & set(b.languages):
                    errors.append(f"{where}.pairs[{i}]: {pair[0]} and {pair[1]} share no test language")
        kinds = {config["metrics"][m]["kind"] for m in study["metrics"] if m in config["metrics"]}
        if "judge_pairwise" in kinds and not study["pairs"]:
            errors.append(f"{where}: a judge_pairwise metric needs 'pairs' (the runs and baselines it compares)")
        if study["pairs"] and "judge_pairwise" not in kinds:
            errors.append(f"{where}.pairs: no metric of kind judge_pairwise in {where}.metrics judges them")
    return errors


# ---------------------------------------------------------------- language groups (Bactrian-X figure 6)
def group_families(config: dict, study: str) -> list[str]:
    """Families of the pairs' models that say which languages their pre-training saw, in ``families`` order."""
    used = {config["models"][run.model]["family"] for pair in study_pairs(config, study) for run in (pair.a, pair.b)}
    return [f for f, spec in config["families"].items() if f in used and spec.get("pretraining_languages")]


def language_groups(config: dict, study: str, langs) -> dict[str, str]:
    """lang -> its group: the families whose pre-training saw it, numbered as Bactrian-X §6.1 does for
    BLOOM and LLaMA (1 both, 2 the first only, 3 the second only, 4 neither: subsets by size, then order)."""
    fams = group_families(config, study)
    seen = {f: set(config["families"][f]["pretraining_languages"]) for f in fams}
    subsets = sorted((tuple(f for i, f in enumerate(fams) if mask >> i & 1) for mask in range(2 ** len(fams))),
                     key=lambda sub: (-len(sub), [fams.index(f) for f in sub]))

    def label(sub: tuple[str, ...]) -> str:
        number = subsets.index(sub) + 1
        if not sub:
            return f"{number}: seen by neither" if len(fams) > 1 else f"{number}: unseen"
        if len(sub) == len(fams) and len(fams) > 1:
            return f"{number}: seen by {' and '.join(sub)}"
        return f"{number}: seen by {'+'.join(sub)} only" if len(fams) > 1 else f"{number}: seen by {sub[0]}"

    return {lang: label(tuple(f for f in fams if lang in seen[f])) for lang in langs}
