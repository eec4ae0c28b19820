"""Plan before spending: per study and stage, the jobs, the GPU hours and the judge requests and cost.

Everything is computed from the config alone (no data needed). Sizes the config cannot know come from
``resources.estimates`` (records and mean tokens per source, translator sizes, judge request tokens);
throughputs from ``resources.gpu``. Formulas (N = parameters, T = tokens):

- training: FLOPs = 6·N·T for full fine-tuning, 4·N·T for LoRA (no weight gradients for the frozen
  base); T = train records x tokens per record (capped at max_length) x epochs, or
  max_steps x batch tokens; GPU hours = FLOPs / (gpu.train_tflops x 3600).
- generation: FLOPs = 2·N·(prompt + max_new_tokens) per prompt; at gpu.decode_tflops.
- translation: FLOPs = N·T·(1 + beam) (encoder once, decoder per beam); at gpu.decode_tflops.
- judges: requests = runs x languages x prompts (pairwise: pairs x languages both are tested in x
  prompts x 2 orders);
  cost = requests x (input tokens x price_per_1k_input + output tokens x price_per_1k_output) / 1000.
- distillation (stage distill): one request per source record and distilled language, priced the same way
  with ``judge_tokens.distill`` (the requests and cost columns count API calls of judges and distillation).

The jobs are the grid's (polyalpaca.grid, the enumeration the rules' targets come from; a test compares
its counts with the full-grid dry run). Jobs shared by studies count once in the total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import grid
from .evaluate.lr_selection import counts_judge_requests
from .config import LANG_PLACEHOLDER, trainset_languages
from .grid import JUDGE_KINDS, STAGES, GridJob, study_sources, study_translation_pairs

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
        sample = config["sources"][source].get("sample")  # a seeded subset (the 40 Vicuna questions of Bactrian-X)
        records = min(entry["records"], sample["size"]) if sample else entry["records"]
        return records, entry.get("tokens_per_record", est["default_tokens_per_record"])
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
    val_fraction = config["trainsets"][trainset]["val_fraction"]
    return records * (1 - val_fraction) * tokens * tun["epochs"]


def train_saves(config: dict, tuning: str) -> int:
    """Checkpoints a run writes (one per validation, polyalpaca.train.trainer's schedule) plus the final model."""
    tun, train = config["tunings"][tuning], config["train"]
    if "max_steps" in tun:
        per_run = tun["max_steps"] // tun["eval_every"] if "eval_every" in tun else train["evals_per_step_budget"]
    else:
        per_run = math.ceil(tun["epochs"] * train["evals_per_epoch"])
    return max(1, per_run) + 1


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


# ---------------------------------------------------------------- estimates of the grid's jobs
def _shard_hours(config: dict, source: str) -> float | None:
    spec = config["translations"][source]
    size = source_size(config, source)
    tr = _estimates(config)["translators"].get(spec["translator"])
    if not (size and tr):
        return None
    tokens = size[0] * size[1]
    return _decode_hours(config, tr["params_b"] * 1e9 * tokens * (1 + tr.get("beam_size", 4))) / spec["shards"]


def _score_estimate(config: dict, study: str, job: GridJob, prompts: tuple[int, float] | None) -> Job:
    key = (job.rule, job.wildcards)
    kind = config["metrics"][job.get("metric")]["kind"]
    if kind not in JUDGE_KINDS:
        return Job(job.stage, key)
    if not counts_judge_requests(config, study, job.get("metric"), job.get("model"), job.get("trainset"),
                                 job.get("tuning")):  # not the run an LR selection will judge
        return Job(job.stage, key, 0.0, 0, 0.0)
    if prompts is None:
        return Job(job.stage, key, None)
    judge = config["judges"][config["metrics"][job.get("metric")]["judge"]]
    return _chat_requests(config, job, judge, prompts[0] * (2 if kind == "judge_pairwise" else 1), kind)


def _chat_requests(config: dict, job: GridJob, judge: dict, requests: int, kind: str) -> Job:
    """``requests`` to a judges entry: GPU hours of decoding for a local model, else their API cost."""
    tok = _estimates(config)["judge_tokens"][kind]
    key = (job.rule, job.wildcards)
    if judge["backend"] == "local":
        params = config["models"][judge["model"]]["params_b"] * 1e9
        return Job(job.stage, key, _decode_hours(config, 2 * params * requests * (tok["input"] + tok["output"])),
                   requests, 0.0)
    cost = requests * (tok["input"] * judge["price_per_1k_input"] + tok["output"] * judge["price_per_1k_output"]) / 1000
    return Job(job.stage, key, 0.0, requests, cost)


def _distill_estimate(config: dict, job: GridJob) -> Job:
    """One distilled language: a request per record of the source (an upper bound for a derived source, whose
    keyword filter is not counted), priced like a judge request of the chat model."""
    key = (job.rule, job.wildcards)
    size = source_size(config, job.get("source"))
    if size is None:
        return Job(job.stage, key, None)
    judge = config["judges"][config["distillations"][job.get("source")]["judge"]]
    return _chat_requests(config, job, judge, size[0], "distill")


def study_jobs(config: dict, study: str) -> list[Job]:
    """Every job one study needs (the grid's enumeration), with its GPU hours and judge requests."""
    spec = config["studies"][study]
    prompts = testset_prompts(config, spec["testset"])
    max_new = config["decodings"][spec["decoding"]]["max_new_tokens"]
    out = []
    for job in grid.study_jobs(config, study):
        key = (job.rule, job.wildcards)
        if job.rule == "translate_shard":
            out.append(Job(job.stage, key, _shard_hours(config, job.get("source"))))
        elif job.rule == "train_run":
            out.append(Job(job.stage, key, train_gpu_hours(config, job.get("model"), job.get("trainset"),
                                                           job.get("tuning"))))
        elif job.rule == "generate_responses":
            hours = None
            if prompts:
                tokens = prompts[0] * (prompts[1] * _lang_factor(config, job.get("lang")) + max_new)
                hours = _decode_hours(config, 2 * config["models"][job.get("model")]["params_b"] * 1e9 * tokens)
            out.append(Job(job.stage, key, hours))
        elif job.rule in ("score", "judge_pair"):  # judge_pair: a pair of the study, both orders
            out.append(_score_estimate(config, study, job, prompts))
        elif job.rule == "distill_responses":
            out.append(_distill_estimate(config, job))
        else:
            out.append(Job(job.stage, key))
    return out


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
        f"{'study':<12} {'stage':<10} {'jobs':>7} {'GPU hours':>11} {'API requests':>15} {'API cost $':>13}",
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
              f"{sum(r.requests for r in totals):,} API requests (judges and distillation), "
              f"${sum(r.cost_usd for r in totals):,.2f}"]
    lines += ["", "assumptions: training 6·N·T FLOPs (full) / 4·N·T (LoRA) at "
              f"{gpu['train_tflops']} TFLOP/s per GPU; decoding 2·N per token, translation N·T·(1+beam), at "
              f"{gpu['decode_tflops']} TFLOP/s; sizes from resources.estimates (generation counts max_new_tokens "
              "per prompt: an upper bound); judge and distillation prices from judges.*.price_per_1k_*."]
    missing = missing_estimates(config)
    if missing:
        lines.append("'?' = no estimate; set: " + ", ".join(missing))
    if any(LANG_PLACEHOLDER in ts for s in config["studies"].values() for b in s["runs"] for ts in b["trainsets"]):
        lines.append("runs with a {lang} trainset are generated and judged in that language only.")
    return "\n".join(lines)
