"""Learning-rate selection by surface metrics (Chirkova & Nikoulina: "We train all listed model
configurations with three learning rates (LRs) and choose the best LR based on surface metrics").

A *configuration* is a study's runs that differ only in learning rate: same model, trainset and tuning
method (``zs-full-lr1e-6`` / ``-lr1e-5`` / ``-lr1e-4``). ``studies.<study>.lr_selection`` says which
surface metrics decide (``metrics``), how (``rule``), which judge metrics are spent on the chosen run
only (``judged``) and, optionally, which configurations the judges see at all (``configurations``: the
paper's GPT-3.5 evaluation covers the 7 configurations of its Figure 3).

The selection table (``results/tables/{study}_lr_selection.csv``) has one row per run: its configuration,
learning rate, the mean of each surface metric (mean over the test languages of the mean over prompts),
the rule's score and ``selected``. The judge rule reads it: a judge job of a run that is not selected
(or of a configuration the judges do not see) writes records saying so and sends nothing, so the
DAG stays fixed (no checkpoint) and the plan's job counts stay the dry run's, while only selected
runs cost judge calls.
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass
from pathlib import Path

from ..config import Run, study_runs
from ..errors import ConfigError, DataError
from ..io import atomic_open

log = logging.getLogger(__name__)

RULES = ("mean", "min")
COLUMNS = ["configuration", "model", "trainset", "method", "tuning", "learning_rate", "score", "selected", "judged"]


def selection_path(study: str, root: str | Path = "results") -> str:
    return str(Path(root) / "tables" / f"{study}_lr_selection.csv")


def selection_targets(config: dict) -> list[str]:
    """The selection table of every study with an ``lr_selection`` block."""
    return [selection_path(study) for study, body in config["studies"].items() if body.get("lr_selection")]


@dataclass(frozen=True)
class Configuration:
    model: str
    trainset: str
    method: str

    @property
    def id(self) -> str:
        return f"{self.model}/{self.trainset}/{self.method}"


def spec(config: dict, study: str) -> dict | None:
    """The study's ``lr_selection`` block (checked), or None when the study selects nothing."""
    block = config["studies"][study].get("lr_selection")
    if not block:
        return None
    where = f"studies.{study}.lr_selection"
    metrics = config["studies"][study]["metrics"]
    for key in ("metrics", "judged"):
        for i, name in enumerate(block[key]):
            if name not in metrics:
                raise ConfigError(f"{where}.{key}[{i}]: {name!r} is not a metric of the study ({', '.join(metrics)})")
    for i, name in enumerate(block["metrics"]):
        if config["metrics"][name]["kind"] not in ("lid", "spellcheck", "relevance"):
            raise ConfigError(f"{where}.metrics[{i}]: {name!r} is not a surface metric (lid, spellcheck, relevance)")
    for i, name in enumerate(block["judged"]):
        if name in block["metrics"]:
            raise ConfigError(f"{where}.judged[{i}]: {name!r} decides the selection, it cannot depend on it")
    known = set(configurations(config, study))
    for i, conf in enumerate(block.get("configurations") or []):
        if Configuration(conf["model"], conf["trainset"], conf["method"]) not in known:
            raise ConfigError(f"{where}.configurations[{i}]: the study has no run of {conf['model']} on "
                              f"{conf['trainset']} with a {conf['method']} tuning")
    return block


def configurations(config: dict, study: str) -> dict[Configuration, list[Run]]:
    """Configuration -> its runs, by learning rate."""
    out: dict[Configuration, list[Run]] = {}
    for run in study_runs(config, study):
        conf = Configuration(run.model, run.trainset, config["tunings"][run.tuning]["method"])
        out.setdefault(conf, []).append(run)
    for runs in out.values():
        runs.sort(key=lambda r: config["tunings"][r.tuning]["learning_rate"])
    return out


def judged_configurations(config: dict, study: str) -> set[Configuration]:
    block = spec(config, study)
    listed = block.get("configurations") if block else None
    if not listed:
        return set(configurations(config, study))
    return {Configuration(c["model"], c["trainset"], c["method"]) for c in listed}


def selects_for(config: dict, metric: str, testset: str, run_id: str) -> str | None:
    """The study whose LR selection decides whether ``metric`` judges run ``run_id`` on ``testset``, or None."""
    for name, body in config["studies"].items():
        block = body.get("lr_selection")
        if (block and metric in block["judged"] and body["testset"] == testset
                and any(r.id == run_id for r in study_runs(config, name))):
            return name
    return None


def selection_view(config: dict, study: str) -> dict:
    """What the selection reads from the config, as a config of its own without operational and cosmetic
    settings (the rule's param: a label edit must not re-select, and so re-run the judges)."""
    from ..effects import result_view

    body = config["studies"][study]
    runs = study_runs(config, study)
    return {"on_bad_line": config["on_bad_line"],
            "studies": {study: result_view(config, "studies", study)},
            "tunings": {t: result_view(config, "tunings", t) for t in sorted({r.tuning for r in runs})},
            "metrics": {m: result_view(config, "metrics", m) for m in body["metrics"]}}


def selection_inputs(config: dict, study: str, root: str | Path = "results") -> list[str]:
    """The surface-metric score files the selection reads (every run of the study)."""
    from ..figures.specs import score_inputs

    return [inp.path for inp in score_inputs(config, study, metrics=tuple(spec(config, study)["metrics"]), root=root)]


def counts_judge_requests(config: dict, study: str, metric: str, model: str, trainset: str, tuning: str) -> bool:
    """For the plan, before any selection exists: whether this run's judge job of ``metric`` is counted as
    sending requests. Under an LR selection one run per judged configuration is (its lowest LR stands for
    the one that will be chosen), so the plan's totals are those of the selected runs."""
    block = config["studies"][study].get("lr_selection")
    if not block or metric not in block["judged"]:
        return True
    conf = Configuration(model, trainset, config["tunings"][tuning]["method"])
    if conf not in judged_configurations(config, study):
        return False
    return configurations(config, study)[conf][0].tuning == tuning


def _run_score(means: list[float], rule: str) -> float:
    if not means or any(math.isnan(m) for m in means):
        return math.nan
    return sum(means) / len(means) if rule == "mean" else min(means)


def selection_rows(config: dict, study: str, root: str | Path = "results") -> list[dict]:
    """One row per run of the study: surface-metric means, the rule's score, selected, judged."""
    from ..figures.scores import read_score_file
    from ..figures.specs import score_inputs

    block = spec(config, study)
    if block is None:
        raise ConfigError(f"studies.{study}: no lr_selection block")
    judged = judged_configurations(config, study)
    rows = []
    for conf, runs in configurations(config, study).items():
        scored = []
        for run in runs:
            row = {"configuration": conf.id, "model": run.model, "trainset": run.trainset, "method": conf.method,
                   "tuning": run.tuning, "learning_rate": config["tunings"][run.tuning]["learning_rate"]}
            means = []
            for metric in block["metrics"]:
                per_lang = []
                for inp in score_inputs(config, study, [run], (metric,), root):
                    values = [r["value"] for r in read_score_file(inp, config["on_bad_line"])
                              if r["metric"] == metric and not math.isnan(r["value"])]
                    per_lang.append(sum(values) / len(values) if values else math.nan)
                row[metric] = sum(per_lang) / len(per_lang) if per_lang else math.nan
                means.append(row[metric])
            row["score"] = _run_score(means, block["rule"])
            scored.append(row)
        candidates = [r for r in scored if not math.isnan(r["score"])]
        if not candidates:
            raise DataError(f"{selection_path(study, root)}: configuration {conf.id} has no run with a value for "
                            f"every metric of studies.{study}.lr_selection.metrics ({', '.join(block['metrics'])})")
        # best score; a tie goes to the lower learning rate (runs are sorted by it)
        best = max(candidates, key=lambda r: (r["score"], -r["learning_rate"]))
        for row in scored:
            row["selected"] = row is best
            row["judged"] = row is best and conf in judged
        rows.extend(scored)
    return rows


def write_selection(config: dict, study: str, output: str | Path, root: str | Path = "results") -> list[dict]:
    rows = selection_rows(config, study, root)
    metrics = spec(config, study)["metrics"]
    header = COLUMNS[:6] + list(metrics) + COLUMNS[6:]
    lines = [",".join(header)]
    for row in rows:
        lines.append(",".join(_cell(row[c]) for c in header))
    with atomic_open(output) as handle:
        handle.write("\n".join(lines) + "\n")
    for row in rows:
        if row["selected"]:
            log.info("%s: learning rate %g (%s), score %.4f%s", row["configuration"], row["learning_rate"],
                     row["tuning"], row["score"], "" if row["judged"] else " (not judged)")
    return rows


def _cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def read_selection(path: str | Path) -> dict[str, dict]:
    """run id (model/trainset/tuning) -> its row of the selection table."""
    out = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                run_id = f"{row['model']}/{row['trainset']}/{row['tuning']}"
                out[run_id] = {**row, "selected": row["selected"] == "true", "judged": row["judged"] == "true"}
            except KeyError as err:
                raise DataError(f"{path}:{line}: missing column {err}") from None
    return out


def not_judged_reason(selection: dict[str, dict], run_id: str) -> str | None:
    """Why the judge skips ``run_id`` (None: it is judged)."""
    row = selection.get(run_id)
    if row is None:
        raise DataError(f"run {run_id} is not in the LR selection table")
    if row["judged"]:
        return None
    if not row["selected"]:
        chosen = next(r["tuning"] for r in selection.values() if r["configuration"] == row["configuration"]
                      and r["selected"])
        return f"not judged: the LR selection chose {chosen} for {row['configuration']}"
    return f"not judged: configuration {row['configuration']} is not among lr_selection.configurations"
