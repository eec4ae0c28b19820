"""Synthetic score files and token table for every study of a config (tests and figure previews).

Values follow simple, plausible trends (better with size, multilingual data helps other languages,
wrong-language answers fail the LID check) so that figures can be looked at before any real run;
they carry ``"synthetic": true``. Never used by the pipeline itself.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..config import trainset_languages
from ..io import atomic_open, write_jsonl
from .bootstrap import rng_for
from .scores import CRITERIA
from .specs import ScoreInput, score_inputs, tokens_table_path


def _quality(config: dict, inp: ScoreInput) -> float:
    """A 0-1 quality of a run in a language: grows with log size; the language in training helps."""
    size = config["models"][inp.model]["params_b"]
    base = 0.25 + 0.12 * math.log10(max(size, 0.01) / 0.05)
    trained = inp.lang in trainset_languages(config, inp.trainset)
    lr = config["tunings"][inp.tuning]["learning_rate"]
    lr_penalty = 0.08 * abs(math.log10(lr) + 4.5)
    return float(np.clip(base + (0.15 if trained else -0.05) - lr_penalty, 0.02, 0.98))


def synthetic_records(config: dict, inp: ScoreInput, n: int, rng: np.random.Generator,
                      error_rate: float = 0.0) -> list[dict]:
    q = _quality(config, inp)
    trained = inp.lang in trainset_languages(config, inp.trainset)
    p_lang = 0.95 if trained else (0.35 if inp.lang != "en" else 0.9)
    records = []
    for i in range(n):
        rec = {"id": f"{inp.testset}-{inp.lang}-{i:03d}", "lang": inp.lang, "metric": inp.metric, "synthetic": True}
        if rng.random() < error_rate:
            rec.update(value=None, error="synthetic judge failure")
            records.append(rec)
            continue
        match = rng.random() < p_lang
        if inp.kind == "lid":
            rec.update(value=float(match), label=inp.lang if match else "en", prob=float(rng.uniform(0.5, 1)))
        elif inp.kind == "spellcheck":
            rec.update(value=float(np.clip(rng.normal(0.6 + 0.35 * q, 0.08), 0, 1)))
        elif inp.kind == "relevance":
            rec.update(value=float(rng.random() < q + 0.1))
        elif inp.kind == "judge_single":
            rating = int(np.clip(1 + rng.binomial(2, q), 1, 3))
            rec.update(rating=rating, value=float(rating * match), lid_match=bool(match))
        elif inp.kind == "judge_criteria":
            crit = {c: int(1 + rng.binomial(2, q)) for c in CRITERIA}
            if not match:
                crit = {c: (v if c == "language_correctness" else None) for c, v in crit.items()}
                crit["language_correctness"] = 1
            scored = [v for v in crit.values() if v is not None]
            rec.update(criteria=crit, value=float(np.mean(scored)))
        elif inp.kind == "judge_pairwise":
            u = rng.random()
            value = 1.0 if u < q * 0.8 else (0.5 if u < q * 0.8 + 0.2 else 0.0)
            rec.update(value=value, verdict={1.0: "win", 0.5: "tie", 0.0: "loss"}[value])
        records.append(rec)
    return records


def write_synthetic_scores(config: dict, root: str | Path, *, n_prompts: int = 50, seed: int = 0,
                           error_rate: float = 0.0, fail_runs: tuple[str, ...] = ()) -> list[ScoreInput]:
    """Write a score file for every input of every study; runs in ``fail_runs`` get only errors."""
    written: dict[str, ScoreInput] = {}
    for study in config["studies"]:
        for inp in score_inputs(config, study, root=root):
            if inp.path in written:
                continue
            rng = rng_for(seed, inp.path)
            rate = 1.0 if inp.run_id in fail_runs else error_rate
            write_jsonl(inp.path, synthetic_records(config, inp, n_prompts, rng, rate))
            written[inp.path] = inp
    return list(written.values())


def write_synthetic_tokens(config: dict, root: str | Path, seed: int = 0) -> str:
    """A token table (trainset, lang, model, examples, tokens) for every trainset and model of the studies."""
    from ..config import all_runs

    runs = all_runs(config)
    models = sorted({r.model for r in runs})
    rows = ["trainset,lang,model,examples,tokens"]
    rng = rng_for(seed, "tokens")
    for trainset in sorted({r.trainset for r in runs}):
        for lang in trainset_languages(config, trainset):
            examples = 1000
            for model in models:
                per_example = 60 * (1.0 if lang == "en" else rng.uniform(1.3, 3.5)) * (
                    0.8 if config["models"][model]["family"] == "bloom" else 1.0)
                rows.append(f"{trainset},{lang},{model},{examples},{int(examples * per_example)}")
    path = tokens_table_path(root)
    with atomic_open(path) as handle:
        handle.write("\n".join(rows) + "\n")
    return path
