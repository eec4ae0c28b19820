"""Plan before spending: per study and stage, the jobs, the GPU hours and the judge requests and cost.

Everything is computed from the config alone (no data needed). Sizes the config cannot know come from
``resources.estimates`` (records and mean tokens per source, translator sizes, judge request tokens);
throughputs from ``resources.gpu``. Formulas (N = parameters, T = tokens):

- training: FLOPs = 6·N·T for full fine-tuning, 4·N·T for LoRA (no weight gradients for the frozen
  base); T = train records x tokens per record (capped at max_length) x epochs, or
  max_steps x batch tokens; GPU hours = FLOPs / (gpu.train_tflops x 3600).
- generation: FLOPs = 2·N·(prompt + max_new_tokens) per prompt; at gpu.decode_tflops.
- translation: FLOPs = N·T·(1 + beam) (encoder once, decoder per beam); at gpu.decode_tflops.
- judges: requests = runs x languages x prompts (pairwise: x 2 orders, the reference run excluded);
  cost = requests x (input tokens x price_per_1k_input + output tokens x price_per_1k_output) / 1000.

Job counts follow the rules (tests/test_slurm_profile.py compares them with the full-grid dry run): data = one
per fetched source and per model; translate = one download and one conversion per translator, the
shards and one merge per (source, language); recipes = derived sources, one aligned pool per source,
a trainset and its token statistics per trainset, a prompt set per (test set, language), one token
table; train = one per run; generate = one per (run, language); evaluate = one per (metric, run,
language) + the judge cost table; figures = a table and a provenance page per study + one per figure.
Jobs shared by studies count once in the total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .config import LANG_PLACEHOLDER, Run, study_runs, trainset_languages

STAGES = ("data", "translate", "recipes", "train", "generate", "evaluate", "figures")
JUDGE_KINDS = ("judge_single", "judge_criteria", "judge_pairwise", "relevance")
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class Job:
    """One job of the DAG as the plan sees it; ``gpu_hours`` is None when it cannot be estimated."""

    stage: str
    key: tuple
    gpu_hours: float | None = 0.0
    requests: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class Row:
    study: str
    stage: str
    jobs: int
    gpu_hours: float
    requests: int
    cost_usd: float
    unknown: int  # jobs whose GPU hours could not be estimated


# ---------------------------------------------------------------- sizes
def _estimates(config: dict) -> dict:
    return config["resources"]["estimates"]


def source_size(config: dict, source: str) -> tuple[int, float] | None:
    """(records, tokens per record) of a source (per language for a per-language source), or None."""
    est = _estimates(config)
    entry = est["sources"].get(source)
    if entry:
        return entry["records"], entry.get("tokens_per_record", est["default_tokens_per_record"])
    derive = config["sources"][source].get("derive")
    if derive:  # upper bound: every parent record survives the filter
        parents = [source_size(config, parent) for parent in derive["from"]]
        if all(parents):
            records = sum(p[0] for p in parents)
            return records, sum(p[0] * p[1] for p in parents) / records
    return None


def _lang_factor(config: dict, lang: str) -> float:
    return 1.0 if lang == "en" else _estimates(config)["translated_token_factor"]


def trainset_size(config: dict, trainset: str) -> tuple[int, float] | None:
    """(records, mean tokens per record) of a trainset before the validation split, or None."""
    ts = config["trainsets"][trainset]
    size = source_size(config, ts["source"])
    if size is None:
        return None
    records, tokens = size
    langs = trainset_languages(config, trainset)
    mean_tokens = tokens * sum(_lang_factor(config, lang) for lang in langs) / len(langs)
    if ts["recipe"] == "multi":
        records *= len(langs)
    elif ts["recipe"] == "multi_downsampled":
        if "size" in ts:
            records = ts["size"]
        else:
            budget = trainset_size(config, ts["budget_of"])
            if budget is None:
                return None
            records = budget[0]
    return records, mean_tokens


def _max_length(config: dict, model: str, tuning: dict) -> int:
    family = config["models"][model]["family"]
    return tuning.get("max_length_by_family", {}).get(family, tuning["max_length"])


def train_tokens(config: dict, model: str, trainset: str, tuning: str) -> float | None:
    """Tokens one run processes over its whole training (T), or None without a size estimate."""
    tun = config["tunings"][tuning]
    if "max_steps" in tun and "batch_tokens" in tun:  # token batches: no data size needed
        return float(tun["max_steps"] * tun["batch_tokens"] * tun["gradient_accumulation_steps"])
    size = trainset_size(config, trainset)
    if size is None:
        return None
    records, tokens = size
    tokens = min(tokens, _max_length(config, model, tun))
    if "max_steps" in tun:
        return float(tun["max_steps"] * tun["global_batch_size"] * tokens)
    val_fraction = config["trainsets"][trainset].get("val_fraction", 0.02)
    return records * (1 - val_fraction) * tokens * tun["epochs"]


def train_flops(config: dict, model: str, trainset: str, tuning: str) -> float | None:
    tokens = train_tokens(config, model, trainset, tuning)
    if tokens is None:
        return None
    per_token = 6 if config["tunings"][tuning]["method"] == "full" else 4
    return per_token * config["models"][model]["params_b"] * 1e9 * tokens


def train_gpu_hours(config: dict, model: str, trainset: str, tuning: str) -> float | None:
    flops = train_flops(config, model, trainset, tuning)
    tflops = config["resources"]["gpu"]["train_tflops"]
    return None if flops is None else flops / (tflops * 1e12 * SECONDS_PER_HOUR)


def _decode_hours(config: dict, flops: float) -> float:
    return flops / (config["resources"]["gpu"]["decode_tflops"] * 1e12 * SECONDS_PER_HOUR)


def testset_prompts(config: dict, testset: str) -> tuple[int, float] | None:
    """(prompts per language, tokens per prompt in English) of a test set, or None."""
    tset = config["testsets"][testset]
    size = source_size(config, tset["source"])
    if size is None:
        return None
    records, tokens = size
    return (min(records, tset["limit"]) if "limit" in tset else records), tokens


# ---------------------------------------------------------------- jobs per stage
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


def study_trainsets(config: dict, study: str) -> list[str]:
    names = {run.trainset for run in study_runs(config, study)}
    names |= {config["trainsets"][n]["budget_of"] for n in list(names) if "budget_of" in config["trainsets"][n]}
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


def _translation_jobs(config: dict, study: str) -> list[Job]:
    jobs, translators = [], set()
    for source, lang in study_translation_pairs(config, study):
        spec = config["translations"][source]
        translators.add(spec["translator"])
        size = source_size(config, source)
        tr = _estimates(config)["translators"].get(spec["translator"])
        hours = None
        if size and tr:
            tokens = size[0] * size[1]
            hours = _decode_hours(config, tr["params_b"] * 1e9 * tokens * (1 + tr.get("beam_size", 4)))
        per_shard = None if hours is None else hours / spec["shards"]
        jobs += [Job("translate", ("shard", source, lang, shard), per_shard) for shard in range(spec["shards"])]
        jobs.append(Job("translate", ("merge", source, lang)))
    for name in sorted(translators):
        jobs += [Job("translate", ("fetch_nllb", name)), Job("translate", ("convert", name))]
    return jobs


def _eval_jobs(config: dict, study: str, runs: list[Run], prompts: tuple[int, float] | None) -> list[Job]:
    spec = config["studies"][study]
    jobs = []
    ref = spec.get("pairwise_reference")
    for metric in spec["metrics"]:
        mdef = config["metrics"][metric]
        kind = mdef["kind"]
        judge = config["judges"].get(mdef.get("judge")) if kind in JUDGE_KINDS else None
        for run in runs:
            is_reference = kind == "judge_pairwise" and ref and (run.model, run.trainset, run.tuning) == (
                ref["model"], ref["trainset"], ref["tuning"])
            for lang in run.languages:
                key = (metric, run.id, spec["testset"], lang)
                if judge is None or is_reference:  # the reference is not compared with itself: no requests
                    jobs.append(Job("evaluate", key))
                    continue
                if prompts is None:
                    jobs.append(Job("evaluate", key, None))
                    continue
                requests = prompts[0] * (2 if kind == "judge_pairwise" else 1)
                tok = _estimates(config)["judge_tokens"][kind]
                if judge["backend"] == "local":
                    params = config["models"][judge["model"]]["params_b"] * 1e9
                    hours = _decode_hours(config, 2 * params * requests * (tok["input"] + tok["output"]))
                    jobs.append(Job("evaluate", key, hours, requests, 0.0))
                else:
                    cost = requests * (tok["input"] * judge["price_per_1k_input"]
                                       + tok["output"] * judge["price_per_1k_output"]) / 1000
                    jobs.append(Job("evaluate", key, 0.0, requests, cost))
    if any(config["metrics"][m]["kind"] in JUDGE_KINDS for m in spec["metrics"]):
        jobs.append(Job("evaluate", ("judge_cost",)))
    return jobs


def study_jobs(config: dict, study: str) -> list[Job]:
    """Every job one study needs, with its GPU hours and judge requests."""
    spec = config["studies"][study]
    runs = study_runs(config, study)
    models = {run.model for run in runs}
    for metric in spec["metrics"]:
        judge = config["judges"].get(config["metrics"][metric].get("judge"), {})
        if judge.get("backend") == "local":
            models.add(judge["model"])
    sources = study_sources(config, study)
    jobs = [Job("data", ("source", s)) for s in sources if "derive" not in config["sources"][s]]
    jobs += [Job("data", ("model", m)) for m in sorted(models)]
    jobs += _translation_jobs(config, study)
    trainsets = study_trainsets(config, study)
    jobs += [Job("recipes", ("derive", s)) for s in sources if "derive" in config["sources"][s]]
    jobs += [Job("recipes", ("align", s)) for s in sorted({config["trainsets"][t]["source"] for t in trainsets})]
    jobs += [Job("recipes", (step, t)) for t in trainsets for step in ("trainset", "stats")]
    test_langs = sorted({lang for run in runs for lang in run.languages})
    jobs += [Job("recipes", ("testset", spec["testset"], lang)) for lang in test_langs]
    jobs.append(Job("recipes", ("tokens_table",)))
    jobs += [Job("train", (run.id,), train_gpu_hours(config, run.model, run.trainset, run.tuning)) for run in runs]

    prompts = testset_prompts(config, spec["testset"])
    max_new = config["decodings"][spec["decoding"]]["max_new_tokens"]
    for run in runs:
        for lang in run.languages:
            hours = None
            if prompts:
                tokens = prompts[0] * (prompts[1] * _lang_factor(config, lang) + max_new)
                hours = _decode_hours(config, 2 * config["models"][run.model]["params_b"] * 1e9 * tokens)
            jobs.append(Job("generate", (run.id, spec["testset"], lang), hours))
    jobs += _eval_jobs(config, study, runs, prompts)
    jobs += [Job("figures", (page, study)) for page in ("table", "provenance")]
    jobs += [Job("figures", ("figure", f)) for f in spec.get("figures", [])]
    return jobs


def _row(study: str, stage: str, jobs: list[Job]) -> Row:
    known = [j.gpu_hours for j in jobs if j.gpu_hours is not None]
    return Row(study, stage, len(jobs), sum(known), sum(j.requests for j in jobs),
               sum(j.cost_usd for j in jobs), len(jobs) - len(known))


def plan(config: dict) -> list[Row]:
    """Rows per (study, stage), then ``total`` rows per stage over the union of all studies' jobs."""
    rows, union = [], {}
    for study in config["studies"]:
        jobs = study_jobs(config, study)
        for job in jobs:
            union.setdefault((job.stage, job.key), job)
        rows += [_row(study, stage, [j for j in jobs if j.stage == stage]) for stage in STAGES]
    rows += [_row("total", stage, [j for j in union.values() if j.stage == stage]) for stage in STAGES]
    return rows


def missing_estimates(config: dict) -> list[str]:
    """Config keys that would turn an unknown ('?') into a number."""
    est = _estimates(config)
    missing = set()
    for study in config["studies"]:
        for source in study_sources(config, study):
            if source_size(config, source) is None and "derive" not in config["sources"][source]:
                missing.add(f"resources.estimates.sources.{source}")
        for source, _ in study_translation_pairs(config, study):
            translator = config["translations"][source]["translator"]
            if translator not in est["translators"]:
                missing.add(f"resources.estimates.translators.{translator}")
    return sorted(missing)


def format_plan(config: dict, rows: list[Row]) -> str:
    gpu = config["resources"]["gpu"]
    lines = [
        f"{'study':<12} {'stage':<10} {'jobs':>7} {'GPU hours':>11} {'judge requests':>15} {'judge cost $':>13}",
    ]
    last = None
    for row in rows:
        if last is not None and row.study != last:
            lines.append("")
        last = row.study
        hours = f"{row.gpu_hours:,.1f}" + ("+?" if row.unknown else "")
        if row.unknown and not row.gpu_hours:
            hours = "?"
        lines.append(f"{row.study:<12} {row.stage:<10} {row.jobs:>7,} {hours:>11} {row.requests:>15,} "
                     f"{row.cost_usd:>13,.2f}")
    totals = [r for r in rows if r.study == "total"]
    lines += ["", f"total: {sum(r.jobs for r in totals):,} jobs, {sum(r.gpu_hours for r in totals):,.1f} GPU hours, "
              f"{sum(r.requests for r in totals):,} judge requests, ${sum(r.cost_usd for r in totals):,.2f}"]
    lines += ["", "assumptions: training 6·N·T FLOPs (full) / 4·N·T (LoRA) at "
              f"{gpu['train_tflops']} TFLOP/s per GPU; decoding 2·N per token, translation N·T·(1+beam), at "
              f"{gpu['decode_tflops']} TFLOP/s; sizes from resources.estimates (generation counts max_new_tokens "
              "per prompt: an upper bound); judge prices from judges.*.price_per_1k_*."]
    missing = missing_estimates(config)
    if missing:
        lines.append("'?' = no estimate; set: " + ", ".join(missing))
    if any(LANG_PLACEHOLDER in ts for s in config["studies"].values() for b in s["runs"] for ts in b["trainsets"]):
        lines.append("runs with a {lang} trainset are generated and judged in that language only.")
    return "\n".join(lines)


def gpu_hours_total(rows: list[Row]) -> float:
    return math.fsum(r.gpu_hours for r in rows if r.study == "total")
