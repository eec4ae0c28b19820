"""One benchmark job: lm-evaluation-harness's ``simple_evaluate`` on a base model or a fine-tuned run.

The harness's HF model (``HFLM``) loads ``pretrained=<base model folder>``, with ``peft=<run folder>``
for a LoRA run (the adapter as PEFT) or ``pretrained=<run folder>`` for full weights. The harness is
imported here only, when a job runs. The result file keeps, per language, every metric the harness
reported for that language's task (``acc``, ``acc_stderr``, ``acc_norm`` ...), the sample count, and the
harness's own config of each task (its version), so a table can be rebuilt without rerunning.
"""

from __future__ import annotations

import importlib.metadata
import logging
import math
from pathlib import Path

from ..errors import ConfigError, DataError
from ..generate.loading import run_method
from ..io import write_json
from .tasks import resolved_task_dirs

log = logging.getLogger(__name__)


def model_args(base_dir: str | Path, run_dir: str | Path | None, *, dtype: str = "float32") -> dict:
    """The harness's HF model arguments for a base model (``run_dir`` None) or a run (LoRA or full)."""
    base_dir = Path(base_dir)
    if not (base_dir / "config.json").is_file():
        raise DataError(f"{base_dir}: no model here (config.json missing); build it with `snakemake {base_dir}`")
    args = {"pretrained": str(base_dir), "dtype": dtype}
    if run_dir is not None:
        run_dir = Path(run_dir)
        if run_method(run_dir) == "lora":
            args["peft"] = str(run_dir)
        else:
            args["pretrained"] = str(run_dir)
        if (run_dir / "tokenizer_config.json").is_file():
            args["tokenizer"] = str(run_dir)
    return args


def _number(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def language_scores(results: dict, harness_tasks: dict[str, str]) -> dict[str, dict]:
    """Per language: the harness's metrics of its task (``acc,none`` -> ``acc``) and ``n`` samples."""
    out = {}
    for lang, name in harness_tasks.items():
        if name not in results["results"]:
            raise DataError(f"lm-evaluation-harness returned no result for task {name!r} "
                            f"(it returned: {', '.join(sorted(results['results']))})")
        row = results["results"][name]
        metrics = {key.split(",")[0]: _number(value) for key, value in row.items()
                   if "," in key and isinstance(value, (int, float))}
        n = results.get("n-samples", {}).get(name, {})
        out[lang] = {"task": name, **metrics, "n": n.get("effective", n.get("original"))}
    return out


def load_model(params: dict, args: dict, *, batch_size: int, device: str):
    """The harness's HF model; a model it cannot load stops naming the config key of the model."""
    from lm_eval.models.huggingface import HFLM

    try:
        return HFLM(**args, batch_size=batch_size, device=device)
    except (OSError, ValueError, KeyError, TypeError) as err:
        run = f" with run {args['peft']}" if "peft" in args else ""
        raise ConfigError(f"models.{params['model']}: lm-evaluation-harness cannot load {args['pretrained']}{run} "
                          f"as a causal LM ({type(err).__name__}: {err})") from err


def run_benchmark(params: dict, base_dir: str | Path, run_dir: str | Path | None, out_path: str | Path, *,
                  batch_size: int = 8, device: str = "cpu", seed: int = 42) -> dict:
    """Evaluate one (model run, task) with the harness and write the result JSON; returns it."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    args = model_args(base_dir, run_dir)
    names = list(params["harness_tasks"].values())
    with resolved_task_dirs(params["task_dirs"]) as dirs:
        manager = TaskManager(include_path=[str(d) for d in dirs])
        missing = [n for n in names if n not in manager.all_tasks]
        if missing:
            raise ConfigError(f"benchmarks.tasks.{params['task']}: lm-evaluation-harness has no task(s) "
                              f"{', '.join(missing)}")
        log.info("lm-eval %s: %s on %s (%d-shot, batch %d, %s)", importlib.metadata.version("lm_eval"),
                 args, ", ".join(names), params["num_fewshot"], batch_size, device)
        model = load_model(params, args, batch_size=batch_size, device=device)
        results = lm_eval.simple_evaluate(
            model=model, tasks=names, num_fewshot=params["num_fewshot"], limit=params.get("limit"),
            task_manager=manager, log_samples=False, random_seed=seed, numpy_random_seed=seed,
            torch_random_seed=seed, fewshot_random_seed=seed,
        )
    if results is None:
        raise RuntimeError("lm_eval.simple_evaluate returned nothing (not the main process?)")
    record = {
        "model": params["model"], "trainset": params["trainset"], "tuning": params["tuning"],
        "task": params["task"], "metric": params["metric"], "num_fewshot": params["num_fewshot"],
        "limit": params.get("limit"), "languages": language_scores(results, params["harness_tasks"]),
        "task_versions": {n: results.get("versions", {}).get(n) for n in names},
        "model_args": args, "lm_eval_version": importlib.metadata.version("lm_eval"),
    }
    for lang, scores in record["languages"].items():
        if scores.get(params["metric"]) is None:
            raise DataError(f"task {scores['task']}: the harness reported no {params['metric']!r} "
                            f"(it reported: {', '.join(k for k in scores if k not in ('task', 'n'))}); "
                            f"set benchmarks.tasks.{params['task']}.metric")
        log.info("%s %s: %s = %.4f (n=%s)", params["task"], lang, params["metric"], scores[params["metric"]],
                 scores["n"])
    write_json(out_path, record)
    return record
