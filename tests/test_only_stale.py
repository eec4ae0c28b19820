"""Only stale work reruns: on a touched smoke grid, changing one setting schedules exactly the jobs whose
output it changes — none for an operational setting, only figures and tables for a cosmetic one, the
affected runs and their downstream for a result setting.

The grid is "touched" as a user's finished run would be: every output of ``snakemake -n all`` on the
smoke config exists and ``snakemake --touch --forceall`` recorded each job's params and code, so a dry
run compares the new params with those of the finished jobs, as on a real project. The settings are
enumerated from the validated config and their ``x-effect`` in the schemas (polyalpaca.effects), so a
new setting is covered the day it is added.
"""

from __future__ import annotations

import copy
import csv
import io
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from polyalpaca.config import all_runs, load_config, validate_config
from polyalpaca.effects import effect_of, leaves, node_at

from .conftest import REPO, copy_repo

SMOKE_CONFIG = REPO / "tests" / "smoke" / "config.yaml"
DIRECTORY_RULES = {"fetch_model", "fetch_tokenizer", "fetch_adapter", "fetch_nllb", "convert_nllb", "train_run"}
TABLE_OR_FIGURE = re.compile(r"^(study_table|study_provenance|judge_cost|distill_table|roundtrip_report|benchmark_report"
                             r"|token_stats_report|figure_\w+)$")
STAGE_BLOCKS = ("translate", "generate", "train", "evaluate", "recipes", "data", "figures", "resources")


def _snakemake(work: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--profile", "profiles/smoke", *args], cwd=work,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(work / "src")},
                          timeout=600)
    if proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="module")
def touched(tmp_path_factory) -> Path:
    work = copy_repo(tmp_path_factory.mktemp("touched") / "repo")
    summary = _snakemake(work, "--summary", "all").stdout
    rows = list(csv.DictReader(io.StringIO(summary[summary.index("output_file"):]), delimiter="\t"))
    assert len(rows) > 100
    for row in rows:
        path = work / row["output_file"]
        if row["rule"] in DIRECTORY_RULES:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
    _snakemake(work, "--touch", "--forceall", "--quiet", "all")
    assert "Nothing to be done" in _snakemake(work, "-n", "all").stdout
    return work


def scheduled(work: Path, config: dict) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run of ``all`` schedules with ``config``."""
    path = work / "edited.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    out = _snakemake(work, "-n", "all", "--configfile", str(path)).stdout
    jobs, rule = [], None
    for line in out.splitlines():
        if m := re.match(r"^(?:localrule|rule) (\w+):$", line):
            rule = m.group(1)
            jobs.append((rule, ""))
        elif rule and (m := re.match(r"^\s+wildcards: (.*)$", line)):
            jobs[-1] = (rule, m.group(1))
    return [job for job in jobs if job[0] != "all"]


# ---------------------------------------------------------------- the settings and how to change them
def _pattern(path: tuple) -> str:
    """``models.tiny-bloom-s.params_b`` -> ``models.*.params_b``: names (additionalProperties) become *."""
    out = []
    for i, key in enumerate(path):
        parent = node_at(path[:i])
        named = parent is not None and key not in parent[0].get("properties", {}) and not isinstance(key, int)
        out.append("*" if named else str(key))
    return ".".join(out)


def _changed(value, node: dict):
    """Another valid value of a setting (None when it has no obvious other value)."""
    if "enum" in node:
        others = [v for v in node["enum"] if v != value]
        return others[0] if others else None
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value - 1 if "maximum" in node and value + 1 > node["maximum"] else value + 1
    if isinstance(value, float):  # a small change: a figure's size filter must still select its runs
        return value * 1.01 if 0 < value * 1.01 <= node.get("maximum", float("inf")) else value * 0.99
    if isinstance(value, str) and "oneOf" in node:  # a constant or a list (`all` or languages)
        others = [v for alt in node["oneOf"] for v in alt.get("enum", [alt["const"]] if "const" in alt else [])
                  if v != value]
        lists = [alt for alt in node["oneOf"] if alt.get("type") == "array" and not alt.get("minItems")]
        return others[0] if others else [] if lists else None
    if isinstance(value, str):
        return value + "-x"
    if isinstance(value, list) and len(value) > 1:
        return value[:-1]
    return None


# Families of settings changed together (one dry run each), to keep the test within a couple of minutes:
# job sizing, the quality filter's thresholds, a figure's run selection.
BATCHED = ("resources.", "translate.filters.", "figures.plots.")
NOT_CHANGED = ("figures.plots.",)  # which runs a figure draws: tests/test_figures.py covers the selection


def _settings(config: dict) -> dict[str, list[tuple]]:
    """Setting pattern (or batch of patterns) -> the paths of its leaves in the config, grouped by effect."""
    groups: dict[str, list[tuple]] = {}
    for path, value in leaves(config):
        if node_at(path) is None or _changed(value, node_at(path)[0]) is None:
            continue
        name = _pattern(path)
        if name.startswith(NOT_CHANGED) and effect_of(path) == "result":
            continue
        batch = next((b for b in BATCHED if name.startswith(b)), None)
        if effect_of(path) == "result" and path[0] in STAGE_BLOCKS:
            batch = f"{path[0]}."  # a stage's result settings together: one dry run per stage
        if batch:
            name = f"{batch}* ({effect_of(path)})"
        groups.setdefault(name, []).append(path)
    return groups


def edited(config: dict, paths: list[tuple]) -> dict:
    new = copy.deepcopy(config)
    for path in paths:
        holder = new
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = _changed(holder[path[-1]], node_at(path)[0])
    return validate_config(new)


SMOKE = load_config(SMOKE_CONFIG)
GROUPS = _settings(SMOKE)
NON_RESULT = sorted(p for p, paths in GROUPS.items() if effect_of(paths[0]) != "result")
STAGE_RESULT = sorted(p for p, paths in GROUPS.items()
                      if effect_of(paths[0]) == "result" and paths[0][0] in STAGE_BLOCKS)


@pytest.mark.parametrize("setting", NON_RESULT)
def test_operational_or_cosmetic_setting_reruns_no_computation(touched, setting):
    paths = GROUPS[setting]
    jobs = scheduled(touched, edited(SMOKE, paths))
    if effect_of(paths[0]) == "operational":
        assert jobs == [], f"{setting} is operational but schedules {Counter(r for r, _ in jobs)}"
    else:
        rules = Counter(rule for rule, _ in jobs)
        assert all(TABLE_OR_FIGURE.match(rule) for rule in rules), f"{setting} is cosmetic but schedules {rules}"


@pytest.mark.parametrize("setting", STAGE_RESULT)
def test_result_setting_of_a_stage_reruns_something(touched, setting):
    jobs = scheduled(touched, edited(SMOKE, GROUPS[setting]))
    assert jobs, f"{setting} changes results (no x-effect in the schema) but schedules nothing"


def test_png_dpi_reruns_the_figures_and_nothing_else(touched):
    jobs = scheduled(touched, edited(SMOKE, [("figures", "png_dpi")]))
    rules = {rule for rule, _ in jobs}
    figures = {f"figure_{name}" for study in SMOKE["studies"].values() for name in study["figures"]}
    assert rules == {re.sub(r"\W", "_", f) for f in figures}


def test_one_tuning_preset_reruns_exactly_its_runs_and_their_downstream(touched):
    tuning = next(t for t in SMOKE["tunings"] if t.endswith("lora"))
    jobs = scheduled(touched, edited(SMOKE, [("tunings", tuning, "learning_rate")]))
    trained = [wc for rule, wc in jobs if rule == "train_run"]
    assert trained and all(f"tuning={tuning}" in wc for wc in trained)
    expected = {f"model={r.model}, trainset={r.trainset}, tuning={r.tuning}"
                for r in all_runs(SMOKE) if r.tuning == tuning}
    assert set(trained) == expected
    upstream = {"fetch_source", "fetch_model", "translate_shard", "merge_translations", "build_trainset",
                "build_testset", "align_source", "derive_source", "trainset_stats"}
    assert not upstream & {rule for rule, _ in jobs}
    generated = [wc for rule, wc in jobs if rule == "generate_responses"]
    assert generated and all(f"tuning={tuning}" in wc for wc in generated)
