"""What the benchmark rules need from the config: jobs, paths, params, and the DAG-time checks.

A job is (model run, task): the run is a study's fine-tuned run (``{trainset}/{tuning}``) or, with
``base_models``, its base model (``base``); the task is a key of ``studies.<s>.benchmarks.tasks``, whose
languages are harness tasks (``xcopa_et`` ...). No harness import here: the Snakefile reads this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..config import study_runs
from ..errors import ConfigError
from .tasks import harness_task_dir, quick_task_names, unknown_tasks

BENCHMARK_RESULT = "results/lm_eval/{model}/{variant}/{task}.json"
BASE_VARIANT = "base"
DEFAULT_NAME = "{task}_{lang}"
LM_EVAL_PIN = "lm-eval==0.4.13"


@dataclass(frozen=True)
class BenchmarkJob:
    model: str
    variant: str  # "base" or "{trainset}/{tuning}"
    task: str

    @property
    def output(self) -> str:
        return BENCHMARK_RESULT.format(model=self.model, variant=self.variant, task=self.task)


def run_variant(trainset: str | None, tuning: str | None) -> str:
    return BASE_VARIANT if trainset is None else f"{trainset}/{tuning}"


def split_variant(variant: str) -> tuple[str | None, str | None]:
    if variant == BASE_VARIANT:
        return None, None
    trainset, tuning = variant.split("/")
    return trainset, tuning


def harness_names(task: str, spec: dict) -> dict[str, str]:
    """Language -> harness task name of one configured task."""
    pattern = spec.get("name", DEFAULT_NAME)
    return {lang: pattern.replace("{task}", task).replace("{lang}", lang) for lang in spec["languages"]}


def study_benchmark_jobs(config: dict, study: str) -> list[BenchmarkJob]:
    spec = config["studies"][study].get("benchmarks")
    if not spec:
        return []
    runs = study_runs(config, study)
    variants = {(r.model, run_variant(r.trainset, r.tuning)) for r in runs}
    if spec["base_models"]:
        variants |= {(r.model, BASE_VARIANT) for r in runs}
    return [BenchmarkJob(m, v, t) for m, v in sorted(variants) for t in spec["tasks"]]


def benchmark_jobs(config: dict) -> list[BenchmarkJob]:
    return sorted({job for study in config["studies"] for job in study_benchmark_jobs(config, study)},
                  key=lambda j: j.output)


def study_benchmark_results(config: dict, study: str) -> list[str]:
    return [job.output for job in study_benchmark_jobs(config, study)]


def benchmark_targets(config: dict) -> list[str]:
    from ..grid import study_report_targets

    return study_report_targets(config, "benchmarks", "benchmarks")


def _job_settings(config: dict, study: str, task: str) -> dict:
    spec = config["studies"][study]["benchmarks"]
    task_spec = spec["tasks"][task]
    return {"task": task, "harness_tasks": harness_names(task, task_spec), "metric": task_spec["metric"],
            "num_fewshot": spec["num_fewshot"], "limit": spec.get("limit"), "task_dirs": list(spec["task_dirs"])}


def job_study(config: dict, model: str, variant: str, task: str) -> str:
    """The first study that asks for this job (where its operational settings, e.g. batch_size, are read)."""
    for study in config["studies"]:
        if BenchmarkJob(model, variant, task) in study_benchmark_jobs(config, study):
            return study
    raise ConfigError(f"no study benchmarks {model}/{variant} on task {task!r}")


def benchmark_params(config: dict, model: str, variant: str, task: str) -> dict:
    """What one job's output depends on (checked equal across the studies that share the job)."""
    trainset, tuning = split_variant(variant)
    study = job_study(config, model, variant, task)
    return {"model": model, "trainset": trainset, "tuning": tuning, **_job_settings(config, study, task)}


def _family_languages(task: str, spec: dict, known: frozenset[str]) -> list[str]:
    pattern = spec.get("name", DEFAULT_NAME).replace("{task}", task)
    head, _, tail = pattern.partition("{lang}")
    rx = re.compile(re.escape(head) + r"([A-Za-z0-9_-]+?)" + re.escape(tail) + "$")
    return sorted({m.group(1) for name in known if (m := rx.match(name))})


def check_benchmarks(config: dict) -> None:
    """Every configured harness task exists (a language the task lacks names the ones it has); studies that
    share a (run, task) job agree on its settings. Raises :class:`ConfigError` naming the key to fix."""
    errors: list[str] = []
    settings: dict[str, tuple[str, dict]] = {}
    for study, body in config["studies"].items():
        spec = body.get("benchmarks")
        if not spec:
            continue
        where = f"studies.{study}.benchmarks"
        names = {(task, lang): name for task, tspec in spec["tasks"].items()
                 for lang, name in harness_names(task, tspec).items()}
        missing = set(unknown_tasks(sorted(set(names.values())), spec["task_dirs"]))
        if missing and harness_task_dir() is None:
            errors.append(f"{where}: lm-evaluation-harness is not installed (pip install {LM_EVAL_PIN}), and "
                          f"{', '.join(sorted(missing))} are not among the task_dirs' tasks")
            missing = set()
        known = quick_task_names(spec["task_dirs"]) if missing else frozenset()
        for task, tspec in spec["tasks"].items():
            for i, lang in enumerate(tspec["languages"]):
                name = names[(task, lang)]
                if name not in missing:
                    continue
                has = _family_languages(task, tspec, known)
                hint = (f"task {task!r} has languages: {', '.join(has)}" if has else
                        f"no harness task matches {tspec.get('name', DEFAULT_NAME).replace('{task}', task)!r}; "
                        "name a task of the installed lm-evaluation-harness, or add a task YAML under task_dirs")
                errors.append(f"{where}.tasks.{task}.languages[{i}]: {lang!r}: lm-evaluation-harness has no task "
                              f"{name!r} ({hint})")
            mine = _job_settings(config, study, task)
            if task in settings and settings[task][1] != mine:
                errors.append(f"{where}.tasks.{task}: differs from studies.{settings[task][0]}.benchmarks (task, "
                              "num_fewshot, limit, task_dirs) for the same task; give one of them another task key")
            settings.setdefault(task, (study, mine))
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
