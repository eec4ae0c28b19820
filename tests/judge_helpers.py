"""Shared set-up of the judge tests: generations / LID files and job objects for a local fake endpoint."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from polyalpaca.evaluate.judge import JudgeConfig, JudgeJob, JudgeSettings, score_generations
from polyalpaca.evaluate.judge.templates import builtin_template_path
from polyalpaca.io import write_jsonl

KEY_ENV = "POLYALPACA_TEST_JUDGE_KEY"


def write_inputs(folder: Path, responses: list[str], *, wrong_language: set[int] = frozenset(),
                 reference: list[str] | None = None, lang: str = "fr") -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    gens = [{"id": f"q{i:03d}", "lang": lang, "prompt": f"Question numéro {i} : expliquez le sujet {i}.",
             "response": text, "model": "m", "trainset": "t", "tuning": "u", "decoding": "greedy"}
            for i, text in enumerate(responses)]
    paths = {"generations": folder / "generations.jsonl", "lid": folder / "lid.jsonl"}
    write_jsonl(paths["generations"], gens)
    write_jsonl(paths["lid"], [{"id": g["id"], "lang": lang, "metric": "lid",
                                "value": 0.0 if i in wrong_language else 1.0} for i, g in enumerate(gens)])
    if reference is not None:
        paths["reference"] = folder / "reference.jsonl"
        write_jsonl(paths["reference"], [dict(g, response=r, model="ref") for g, r in zip(gens, reference)])
    return paths


def judge_config(server, **overrides) -> JudgeConfig:
    values = dict(name="fake", backend="openai", model="gpt-fake", base_url=server.base_url, api_key_env=KEY_ENV,
                  timeout_s=0.5, max_retries=3, parse_retries=1, max_concurrency=8)
    values.update(overrides)
    return JudgeConfig(**values)


def settings(folder: Path, **overrides) -> JudgeSettings:
    values = dict(cache_dir=str(folder / "cache"), backoff_initial_s=0.01, max_backoff_s=0.5)
    values.update(overrides)
    return JudgeSettings(**values)


def job(kind: str, metric: str | None = None, reference_run: str | None = None) -> JudgeJob:
    return JudgeJob(metric=metric or kind, kind=kind, judge="fake", model="m", trainset="t", tuning="u",
                    testset="ts", lang="fr", language="French",
                    reference_run=reference_run or ("ref/t/u" if kind == "judge_pairwise" else None))


def run_judge(kind, judge, folder, paths, output, **kwargs):
    return score_generations(job(kind), judge, settings(folder, **kwargs.pop("settings", {})),
                             template=kwargs.pop("template", builtin_template_path(kind)),
                             generations=paths["generations"], output=output,
                             lid=paths.get("lid") if kind in ("judge_single", "judge_criteria") else None,
                             reference=paths.get("reference"), **kwargs)


def messages_key(body: dict) -> str:
    return hashlib.sha256(json.dumps(body["messages"], sort_keys=True).encode()).hexdigest()
