"""Which judge scores the config asks for, and what each judging job reads (used by rules/judge.smk)."""

from __future__ import annotations

from pathlib import Path

from ...effects import result_view
from ...errors import ConfigError
from ...grid import OUTPUTS, metric_outputs
from ..lr_selection import selection_path, selects_for
from .settings import KINDS, JudgeJob
from .templates import TEMPLATE_DIR, builtin_template_path, template_reference

SCORE = OUTPUTS["score"]
GENERATION = "results/generations/{model}/{trainset}/{tuning}/{testset}/{lang}.jsonl"


def judge_metric_names(config: dict, local: bool | None = None, pairwise: bool | None = None) -> list[str]:
    """Judge metrics; ``local`` True/False: only those whose judge runs locally (a GPU job) / at an API;
    ``pairwise`` True/False: only judge_pairwise metrics (rule judge_pair) / the others (rule judge)."""
    return sorted(name for name, m in config["metrics"].items() if m["kind"] in KINDS
                  and (local is None or (config["judges"][m["judge"]]["backend"] == "local") == local)
                  and (pairwise is None or (m["kind"] == "judge_pairwise") == pairwise))


def judge_score_targets(config: dict) -> list[str]:
    """Every judge score file of every study (pair score files included)."""
    return metric_outputs(config, KINDS)


def _studies_for(config: dict, metric: str, testset: str) -> list[str]:
    names = [name for name, s in config["studies"].items() if metric in s["metrics"] and s["testset"] == testset]
    if not names:
        raise ConfigError(f"metrics.{metric}: no study scores test set {testset!r} with this metric")
    return names


def lid_metric_for(config: dict, metric: str, testset: str) -> str:
    """The language-ID metric of the study (or studies) that use ``metric`` on ``testset``."""
    found = set()
    for name in _studies_for(config, metric, testset):
        lids = [m for m in config["studies"][name]["metrics"] if config["metrics"][m]["kind"] == "lid"]
        if not lids:
            raise ConfigError(f"studies.{name}.metrics: metric {metric!r} "
                              f"({config['metrics'][metric]['kind']}) needs a metric of kind lid in the same study")
        found.add(lids[0])
    if len(found) > 1:
        raise ConfigError(f"metrics.{metric}: studies on test set {testset!r} use different language-ID metrics "
                          f"({', '.join(sorted(found))}); use one, or a separate judge metric per study")
    return found.pop()


def template_path(config: dict, metric: str) -> str:
    """The metric's template file: the user's (as written in the config) or the built-in one, relative to
    the working directory when inside it — so a project moved elsewhere does not look changed (rejudge)."""
    spec = config["metrics"][metric]
    path = template_reference(spec["template"]) if spec.get("template") else builtin_template_path(spec["kind"])
    if path.parent != TEMPLATE_DIR:  # a user file, as written in the config
        return spec["template"]
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:  # the library lives outside the working directory (installed, or --directory elsewhere)
        return str(path)


def judge_job(config: dict, metric: str, model: str, trainset: str, tuning: str, testset: str, lang: str,
              model_b: str | None = None, trainset_b: str | None = None, tuning_b: str | None = None) -> JudgeJob:
    """The scoring job; a judge_pairwise job judges run ``model/trainset/tuning`` against run ``*_b`` (the
    second member of a study's pair, its ``reference`` in the records)."""
    spec = config["metrics"][metric]
    reference = f"{model_b}/{trainset_b}/{tuning_b}" if model_b else None
    return JudgeJob(metric=metric, kind=spec["kind"], judge=spec["judge"], model=model, trainset=trainset,
                    tuning=tuning, testset=testset, lang=lang, language=config["languages"][lang]["name"],
                    reference_run=reference, on_bad_line=config["on_bad_line"])


def judge_inputs(config: dict, metric: str, model: str, trainset: str, tuning: str, testset: str,
                 lang: str, model_b: str | None = None, trainset_b: str | None = None,
                 tuning_b: str | None = None) -> dict[str, str]:
    """Named inputs of a judging job: generations, template, and lid / reference / model_dir as needed.
    Rules call it with the job's wildcards: ``judge_inputs(config, **wildcards_dict(wc))``."""
    spec = config["metrics"][metric]
    inputs = {"generations": GENERATION.format(model=model, trainset=trainset, tuning=tuning, testset=testset,
                                               lang=lang),
              "template": template_path(config, metric)}
    if spec["kind"] in ("judge_single", "judge_criteria"):
        inputs["lid"] = SCORE.format(metric=lid_metric_for(config, metric, testset), model=model, trainset=trainset,
                                     tuning=tuning, testset=testset, lang=lang)
    if spec["kind"] == "judge_pairwise":
        inputs["reference"] = GENERATION.format(model=model_b, trainset=trainset_b, tuning=tuning_b,
                                                testset=testset, lang=lang)
    else:
        selecting = selects_for(config, metric, testset, f"{model}/{trainset}/{tuning}")
        if selecting:  # judged only if the study's LR selection chose this run (else: records saying so, no calls)
            inputs["selection"] = selection_path(selecting)
    judge = config["judges"][spec["judge"]]
    if judge["backend"] == "local":
        inputs["model_dir"] = f"resources/models/{judge['model']}"
    return inputs


def judge_result_params(config: dict, metric: str) -> dict:
    """The settings that change a judge's answers (rules pass them as a param, so changing one reruns the
    metric; concurrency, limits, prices and budget do not change answers and are read at run time)."""
    name = config["metrics"][metric]["judge"]
    return {"judge": name, "endpoint": result_view(config, "judges", name),
            "settings": result_view(config, "evaluate", "judge")}


WILDCARDS = ("metric", "model", "trainset", "tuning", "testset", "lang")
PAIR_WILDCARDS = ("model_b", "trainset_b", "tuning_b")


def wildcards_dict(wildcards) -> dict[str, str]:
    """The judge rules' wildcards (judge_pair's: the second run's too) as keyword arguments of
    :func:`judge_inputs` / :func:`judge_job`."""
    names = WILDCARDS + tuple(n for n in PAIR_WILDCARDS if hasattr(wildcards, n))
    return {name: getattr(wildcards, name) for name in names}


def local_judge_model(config: dict, metric: str) -> str | None:
    """The models key of the metric's judge when it runs locally, else None (an API judge needs no GPU)."""
    judge = config["judges"][config["metrics"][metric]["judge"]]
    return judge["model"] if judge["backend"] == "local" else None


def judge_threads(config: dict, metric: str) -> int:
    return config["evaluate"]["judge"]["local_threads"] if local_judge_model(config, metric) else 1


def chat_resources(config: dict, local_model) -> dict:
    """``gpu``, ``mem_mb``, ``runtime`` of a job that sends requests to a ``judges`` entry, as callables of its
    wildcards (and attempt); ``local_model(wildcards)`` is the entry's model when it runs locally, else None. A
    local model is sized like inference of it; an API client gets no GPU and ``resources.mem_mb.api_judge``."""
    from ...resources import gpus_for, mem_mb_for, runtime_for

    def gpu(wc) -> int:
        model = local_model(wc)
        return gpus_for(config, "judge", model) if model else 0

    def mem_mb(wc, attempt) -> int:
        model = local_model(wc)
        if model:
            return mem_mb_for(config, "judge", model, attempt)
        # an API client holds its records: small, so 20 such jobs share one packed Slurm job
        return config["resources"]["mem_mb"]["api_judge"] * max(1, attempt)

    def runtime(wc, attempt) -> int:
        return runtime_for(config, "judge", local_model(wc), attempt=attempt)

    return {"gpu": gpu, "mem_mb": mem_mb, "runtime": runtime}


def judge_resources(config: dict) -> dict:
    """Resources of a judge job (see :func:`chat_resources`)."""
    return chat_resources(config, lambda wc: local_judge_model(config, wc.metric))


def judge_prices(config: dict) -> dict[str, dict[str, float]]:
    """judge -> {price_per_1k_input, price_per_1k_output} (the cost table's param)."""
    return {name: {key: float(j[key]) for key in ("price_per_1k_input", "price_per_1k_output")}
            for name, j in config["judges"].items()}
