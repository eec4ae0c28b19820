"""The grid: every job the studies need, enumerated once from the validated config.

A job is a rule and its wildcards; its output path comes from :data:`OUTPUTS`, the path table of
docs/DESIGN.md. ``rule all`` asks for :func:`final_targets`, the partial targets (``only_translate`` ...)
for :func:`outputs`, and ``polyalpaca plan`` counts and prices :func:`study_jobs` — one enumeration, so
the plan's job counts are the dry run's (tests/test_slurm_profile.py checks that they are).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .config import study_runs, trainset_languages
from .pairs import study_baselines, study_generation_runs, study_pairs

# Output of each rule (the first, when a rule has several): DESIGN.md's path table.
OUTPUTS = {
    "fetch_source": "resources/sources/{source}.jsonl",
    "fetch_model": "resources/models/{model}",
    "fetch_adapter": "resources/adapters/{baseline}",
    "fetch_tokenizer": "resources/tokenizers/{tokenizer}",
    "fetch_nllb": "resources/nllb/{translator}",
    "fetch_openlid": "{path}",  # evaluate.openlid_path
    "convert_nllb": "resources/nllb/{translator}-ct2-{quant}",
    "translate_shard": "results/translate/{source}/{lang}/{shard}.jsonl",
    "merge_translations": "results/translate/{source}/{lang}.jsonl",
    "distill_responses": "results/distill/{source}/{lang}.jsonl",
    "distill_table": "results/tables/distill.csv",
    "derive_source": "resources/sources/{source}.jsonl",
    "align_source": "results/recipes/{source}/aligned.json",
    "build_trainset": "results/trainsets/{trainset}/train.jsonl",
    "trainset_stats": "results/trainsets/{trainset}/stats.json",
    "build_testset": "results/testsets/{testset}/{lang}.jsonl",
    "tokens_table": "results/tables/tokens.csv",
    "token_stats_report": "results/tables/{study}_tokens.csv",
    "train_run": "results/models/{model}/{trainset}/{tuning}",
    "generate_responses": "results/generations/{model}/{trainset}/{tuning}/{testset}/{lang}.jsonl",
    "score": "results/scores/{metric}/{model}/{trainset}/{tuning}/{testset}/{lang}.jsonl",
    # a judge_pairwise metric on a pair of the study (run a = {model}..., run b = {model_b}...)
    "judge_pair": "results/pairwise/{metric}/{model}/{trainset}/{tuning}/vs/{model_b}/{trainset_b}/{tuning_b}/"
                  "{testset}/{lang}.jsonl",
    "lid_ceiling": "results/lid_ceiling/{metric}/{testset}/{lang}.jsonl",
    "judge_cost": "results/tables/judge_cost.csv",
    "select_lr": "results/tables/{study}_lr_selection.csv",
    "study_table": "results/tables/{study}.csv",
    "study_provenance": "results/tables/{study}_provenance.csv",
    "figure": "results/figures/{figure}.pdf",
    "roundtrip_translate": "results/roundtrip/{source}/{lang}.jsonl",
    "roundtrip_score": "results/roundtrip/{source}/{lang}.scores.json",
    "roundtrip_report": "results/tables/{study}_roundtrip.csv",
    "lm_eval_task": "results/lm_eval/{model}/{variant}/{task}.json",
    "benchmark_report": "results/tables/{study}_benchmarks.csv",
}
STAGES = ("data", "translate", "distill", "recipes", "train", "generate", "evaluate", "roundtrip", "benchmark", "figures")
JUDGE_KINDS = ("judge_single", "judge_criteria", "judge_pairwise", "relevance")


@dataclass(frozen=True)
class GridJob:
    """One job: its stage, rule (``score`` for the metric rules, ``figure`` for figure_<name>) and wildcards."""

    stage: str
    rule: str
    wildcards: tuple[tuple[str, str], ...]

    @cached_property
    def output(self) -> str:
        return OUTPUTS[self.rule].format(**dict(self.wildcards))

    def get(self, name: str) -> str:
        return dict(self.wildcards)[name]


def _job(stage: str, rule: str, **wildcards) -> GridJob:
    return GridJob(stage, rule, tuple((k, str(v)) for k, v in wildcards.items()))


# ---------------------------------------------------------------- what a study needs
def study_trainsets(config: dict, study: str) -> list[str]:
    names = {run.trainset for run in study_runs(config, study)}
    names |= {config["trainsets"][n]["budget_of"] for n in list(names) if "budget_of" in config["trainsets"][n]}
    return sorted(names)


def study_sources(config: dict, study: str) -> list[str]:
    names = {config["trainsets"][ts]["source"] for ts in study_trainsets(config, study)}
    names.add(config["testsets"][config["studies"][study]["testset"]]["source"])
    todo = list(names)
    while todo:
        derive = config["sources"][todo.pop()].get("derive")
        for parent in derive["from"] if derive else []:
            if parent not in names:
                names.add(parent)
                todo.append(parent)
    return sorted(names)


def study_translation_pairs(config: dict, study: str) -> list[tuple[str, str]]:
    """(source, lang) translations a study needs. A source's aligned pool spans the languages of every
    configured trainset of that source (so all recipes draw from the same ids), used by a study or not."""
    pairs = set()
    sources = {config["trainsets"][name]["source"] for name in study_trainsets(config, study)}
    for name, ts in config["trainsets"].items():
        if ts["source"] in sources:
            pairs |= {(ts["source"], lang) for lang in trainset_languages(config, name) if lang != "en"}
    tset = config["testsets"][config["studies"][study]["testset"]]
    if "translate_from" in tset:
        pairs |= {(tset["source"], lang) for lang in tset["languages"] if lang != tset["translate_from"]}
    return sorted(pairs)


def study_models(config: dict, study: str) -> list[str]:
    """Base models of the study's runs and baselines, the models of its local judges and of its token table's
    tokenizers."""
    models = {run.model for run in study_generation_runs(config, study)}
    models |= {name for name in (config["studies"][study].get("token_stats") or {}).get("tokenizers", [])
               if name in config["models"]}
    for metric in config["studies"][study]["metrics"]:
        judge = config["judges"].get(config["metrics"][metric].get("judge"), {})
        if judge.get("backend") == "local":
            models.add(judge["model"])
    return sorted(models)


def study_jobs(config: dict, study: str) -> list[GridJob]:
    """Every job one study needs, in stage order."""
    from .benchmark.plan import study_benchmark_jobs
    from .recipes.inputs import distill_pairs
    from .evaluate import lid_ceiling_jobs
    from .roundtrip.plan import study_roundtrip_pairs
    from .translate.plan import quantization  # the translate stage resolves its device

    spec = config["studies"][study]
    runs = study_runs(config, study)
    sources = study_sources(config, study)
    jobs = [_job("data", "fetch_source", source=s) for s in sources if "derive" not in config["sources"][s]]
    jobs += [_job("data", "fetch_model", model=m) for m in study_models(config, study)]
    jobs += [_job("data", "fetch_adapter", baseline=b.tuning) for b in study_baselines(config, study)
             if "adapter" in config["baselines"][b.tuning]]
    if spec.get("token_stats"):
        jobs += [_job("data", "fetch_tokenizer", tokenizer=t) for t in spec["token_stats"]["tokenizers"]
                 if t in config["tokenizers"]]
    if any(config["metrics"][m].get("lid_model") == "openlid" for m in spec["metrics"]):
        jobs.append(_job("data", "fetch_openlid", path=config["evaluate"]["openlid_path"]))
    translators = set()
    for source, lang in study_translation_pairs(config, study):
        tr = config["translations"][source]
        translators.add(tr["translator"])
        jobs += [_job("translate", "translate_shard", source=source, lang=lang, shard=i) for i in range(tr["shards"])]
        jobs.append(_job("translate", "merge_translations", source=source, lang=lang))
    for name in sorted(translators):
        if "path" not in config["translators"][name]:
            jobs.append(_job("translate", "fetch_nllb", translator=name))
        jobs.append(_job("translate", "convert_nllb", translator=name, quant=quantization(config, name)))
    distilled = distill_pairs(config, {config["trainsets"][t]["source"] for t in study_trainsets(config, study)})
    jobs += [_job("distill", "distill_responses", source=s, lang=lang) for s, lang in distilled]
    if distilled:
        jobs.append(_job("distill", "distill_table"))
    trainsets = study_trainsets(config, study)
    jobs += [_job("recipes", "derive_source", source=s) for s in sources if "derive" in config["sources"][s]]
    jobs += [_job("recipes", "align_source", source=s)
             for s in sorted({config["trainsets"][t]["source"] for t in trainsets})]
    jobs += [_job("recipes", rule, trainset=t) for t in trainsets for rule in ("build_trainset", "trainset_stats")]
    test_langs = sorted({lang for run in runs for lang in run.languages})
    jobs += [_job("recipes", "build_testset", testset=spec["testset"], lang=lang) for lang in test_langs]
    jobs.append(_job("recipes", "tokens_table"))
    if spec.get("token_stats"):
        jobs.append(_job("recipes", "token_stats_report", study=study))
    jobs += [_job("train", "train_run", model=r.model, trainset=r.trainset, tuning=r.tuning) for r in runs]
    generating = study_generation_runs(config, study)  # the runs and the baselines (not trained here)
    for run in generating:
        jobs += [_job("generate", "generate_responses", model=run.model, trainset=run.trainset, tuning=run.tuning,
                      testset=spec["testset"], lang=lang) for lang in run.languages]
    for metric in spec["metrics"]:
        if config["metrics"][metric]["kind"] == "judge_pairwise":  # judged per pair, not per run
            jobs += [_job("evaluate", "judge_pair", metric=metric, model=p.a.model, trainset=p.a.trainset,
                          tuning=p.a.tuning, model_b=p.b.model, trainset_b=p.b.trainset, tuning_b=p.b.tuning,
                          testset=spec["testset"], lang=lang) for p in study_pairs(config, study) for lang in p.languages]
            continue
        jobs += [_job("evaluate", "score", metric=metric, model=run.model, trainset=run.trainset, tuning=run.tuning,
                      testset=spec["testset"], lang=lang) for run in generating for lang in run.languages]
    jobs += [_job("evaluate", "lid_ceiling", metric=metric, testset=testset, lang=lang)
             for metric, testset, lang in lid_ceiling_jobs(config, study)]
    if spec.get("lr_selection"):
        jobs.append(_job("evaluate", "select_lr", study=study))
    if any(config["metrics"][m]["kind"] in JUDGE_KINDS for m in spec["metrics"]):
        jobs.append(_job("evaluate", "judge_cost"))
    if spec.get("roundtrip"):
        pairs = study_roundtrip_pairs(config, study)
        jobs += [_job("roundtrip", rule, source=s, lang=lang) for s, lang in pairs
                 for rule in ("roundtrip_translate", "roundtrip_score")]
        jobs.append(_job("roundtrip", "roundtrip_report", study=study))
    if spec.get("benchmarks"):
        jobs += [_job("benchmark", "lm_eval_task", model=j.model, variant=j.variant, task=j.task)
                 for j in study_benchmark_jobs(config, study)]
        jobs.append(_job("benchmark", "benchmark_report", study=study))
    jobs += [_job("figures", rule, study=study) for rule in ("study_table", "study_provenance")]
    jobs += [_job("figures", "figure", figure=f) for f in spec["figures"]]
    return jobs


_LAST: list = []  # (config, jobs) of the last call: the rules ask once per target list


def grid_jobs(config: dict) -> dict[GridJob, list[str]]:
    """Every job of every study, each once, with the studies that need it."""
    if _LAST and _LAST[0] is config and _LAST[1] == repr(config):
        return _LAST[2]
    jobs: dict[GridJob, list[str]] = {}
    for study in config["studies"]:
        for job in study_jobs(config, study):
            jobs.setdefault(job, []).append(study)
    _LAST[:] = [config, repr(config), jobs]
    return jobs


def study_report_targets(config: dict, key: str, name: str) -> list[str]:
    """The table (csv, html) and figure (pdf, png) of report ``name`` of every study that has block ``key``."""
    return [path for study, spec in config["studies"].items() if spec.get(key)
            for path in (f"results/tables/{study}_{name}.csv", f"results/tables/{study}_{name}.html",
                         f"results/figures/{study}_{name}.pdf", f"results/figures/{study}_{name}.png")]


def outputs(config: dict, *rules: str) -> list[str]:
    """Output paths of every job of these rules (sorted)."""
    return sorted({job.output for job in grid_jobs(config) if job.rule in rules})


def metric_outputs(config: dict, kinds: tuple[str, ...]) -> list[str]:
    """Score files (pair score files included) of the metrics of these kinds."""
    return sorted({job.output for job in grid_jobs(config)
                   if job.rule in ("score", "judge_pair") and config["metrics"][job.get("metric")]["kind"] in kinds})
