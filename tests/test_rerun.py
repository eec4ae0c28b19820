"""Only what is stale reruns: dry runs (`snakemake -n`) of a finished smoke slice after one change.

(a) a second run schedules nothing; (b) editing the judge template reruns only judging; (c) changing
one tuning preset's LoRA rank reruns only that preset's runs and their downstream; (d) a change to a
stage's library code marks that stage stale (Snakemake does not track imported modules by itself: rules
pass polyalpaca.provenance.code_version as a param); (e) deleting one translation shard reruns that
shard and its dependents only, once the shard is named as a target (Snakemake does not redo a deleted
intermediate file whose dependents are up to date). Each change is made in the shared ``smoke_workdir`` and undone
(content and modification time) after its dry run, which writes nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest
import yaml

from .conftest import SMOKE_SLICE, copy_workdir, snakemake

LORA_RUN = "tiny-bloom-s/alpaca-multi/chen-lora"
FULL_RUN = "tiny-bloom-s/alpaca-en/chen-full"


def scheduled(workdir: Path, *extra_targets: str) -> list[tuple[str, dict]]:
    """(rule, wildcards) of every job a dry run of the smoke slice (and ``extra_targets``) would run."""
    proc = snakemake(workdir, "-n", *SMOKE_SLICE, *extra_targets, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    jobs, current = [], None
    for line in proc.stdout.splitlines():
        head = re.match(r"^(?:local)?rule (\w+):$", line)
        if head:
            if current:
                jobs.append(current)
            current = (head.group(1), {})
        elif current and line.startswith("    wildcards: "):
            current[1].update(kv.split("=", 1) for kv in line[len("    wildcards: "):].split(", "))
    if current:
        jobs.append(current)
    return jobs


def rules(jobs) -> set[str]:
    return {rule for rule, _ in jobs}


def run_of(wildcards: dict) -> str | None:
    if {"model", "trainset", "tuning"} <= set(wildcards):
        return f"{wildcards['model']}/{wildcards['trainset']}/{wildcards['tuning']}"
    return None


@contextlib.contextmanager
def edited(path: Path, change):
    """``path`` rewritten by ``change(text) -> text`` for the duration; then restored with its mtime."""
    text, stat = path.read_text(encoding="utf-8"), path.stat()
    path.write_text(change(text), encoding="utf-8")
    try:
        yield path
    finally:
        path.write_text(text, encoding="utf-8")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@contextlib.contextmanager
def removed(path: Path):
    aside = path.with_name(path.name + ".aside")
    path.rename(aside)  # a rename keeps the modification time
    try:
        yield path
    finally:
        aside.rename(path)


@pytest.fixture
def work(smoke_workdir):
    return smoke_workdir


def test_a_complete_run_schedules_nothing(smoke_workdir):
    assert scheduled(smoke_workdir) == []


def test_a_moved_project_schedules_nothing(smoke_workdir, tmp_path):
    # no absolute paths in inputs or params: a project copied or moved elsewhere is still complete
    moved = copy_workdir(smoke_workdir, tmp_path / "moved")
    assert scheduled(moved) == []


def test_b_editing_the_judge_template_reruns_only_judging(work):
    template = work / "src" / "polyalpaca" / "evaluate" / "judge" / "templates" / "chen2024-single-v1.yaml"
    with edited(template, lambda text: text + "\n# reworded\n"):
        jobs = scheduled(work)
    assert rules(jobs) == {"judge_local"}  # the smoke judges are local models
    assert {run_of(w) for _, w in jobs} == {LORA_RUN}


def test_c_changing_one_presets_rank_reruns_only_its_runs(work):
    def bump_rank(text: str) -> str:
        config = yaml.safe_load(text)
        config["tunings"]["chen-lora"]["lora"]["r"] += 4
        return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)

    with edited(work / "tests" / "smoke" / "config.yaml", bump_rank):
        jobs = scheduled(work)
    assert "train_run" in rules(jobs)
    assert {run_of(w) for _, w in jobs} == {LORA_RUN}, "only chen-lora's run and what depends on it"
    assert rules(jobs) <= {"train_run", "generate_responses", "score_lid", "judge_local"}


def test_d_library_code_change_marks_its_stage_stale(work):
    module = work / "src" / "polyalpaca" / "generate" / "__init__.py"
    with edited(module, lambda text: text + "\n# a change to generation code\n"):
        jobs = scheduled(work)
    assert "generate_responses" in rules(jobs)
    assert {run_of(w) for rule, w in jobs if rule == "generate_responses"} == {LORA_RUN, FULL_RUN}
    # downstream of generation only: nothing upstream (training, data, translation, recipes) reruns
    assert rules(jobs) <= {"generate_responses", "score_lid", "judge_local"}


def test_e_deleting_one_translation_shard_reruns_it_and_its_dependents(work):
    """Snakemake keeps up-to-date results whose intermediate inputs were deleted (a plain run does
    nothing); naming the deleted shard as a target redoes it and exactly what depends on it."""
    shards = sorted((work / "results" / "translate" / "alpaca" / "fr").glob("*.jsonl"))
    assert len(shards) >= 2, shards
    with removed(shards[0]):
        assert scheduled(work) == []
        jobs = scheduled(work, str(shards[0].relative_to(work)))
    translated = [w for rule, w in jobs if rule == "translate_shard"]
    assert translated == [{"source": "alpaca", "lang": "fr", "shard": shards[0].stem}]  # not the other shard
    upstream = {"fetch_source", "fetch_model", "fetch_nllb", "convert_nllb", "derive_source", "build_testset"}
    assert not rules(jobs) & upstream
    assert {"merge_translations", "align_source", "build_trainset", "train_run", "generate_responses",
            "judge_local"} <= rules(jobs)
    assert {run_of(w) for rule, w in jobs if rule == "train_run"} == {LORA_RUN, FULL_RUN}  # both use the pool
