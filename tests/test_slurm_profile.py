"""profiles/slurm without a cluster: settings, partition/account from the environment, GPU rules, and the
plugin's own sbatch command for a multi-GPU job (one task, all GPUs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from .conftest import REPO

PROFILE = REPO / "profiles" / "slurm" / "config.yaml"


@pytest.fixture(scope="module")
def profile():
    return yaml.safe_load(PROFILE.read_text(encoding="utf-8"))


def rule_stages() -> dict[str, str]:
    """rule name (or the prefix of rules named in a loop, ``name: f"figure_{...}"``) -> its stage, the
    rules/<stage>.smk defining it (the evaluate stage's rules are in metrics.smk and judge.smk)."""
    stages = {}
    for smk in sorted((REPO / "rules").glob("*.smk")):
        text = smk.read_text(encoding="utf-8")
        stage = "evaluate" if smk.stem in ("metrics", "judge") else smk.stem
        for name in re.findall(r"^(?:rule (\w+):|use rule \w+ as (\w+))", text, flags=re.M):
            name = "".join(name)
            stages[name] = stage
        for prefix in re.findall(r"\bname:\s*f[\"'](\w+)\{", text):
            stages[prefix + "*"] = stage
    return stages


def stage_of(rule: str, stages: dict[str, str]) -> str:
    if rule in stages:
        return stages[rule]
    return next(stage for key, stage in stages.items() if key.endswith("*") and rule.startswith(key[:-1]))


def dry_run_jobs(stdout: str) -> list[tuple[str, bool, str]]:
    """(rule, local, resources line) of every job in a dry run's output, group members (indented under
    their "Group job" header) included."""
    jobs, current = [], None
    for line in stdout.splitlines():
        head = re.match(r"^(?:    )?(local)?rule (\w+):$", line)
        if head:
            current = (head.group(2), bool(head.group(1)))
            continue
        resources = re.match(r"^(?:    )?    resources: (.*)$", line)
        if current and resources:
            jobs.append((*current, resources.group(1)))
            current = None
    return jobs


def gpu_group_riders(profile: dict) -> set[str]:
    """CPU rules that share a group with a GPU rule (they must use its partition: Snakemake requires a
    group's string resources to agree)."""
    groups = dict(entry.split("=") for entry in profile["groups"])
    gpu_rules = ("generate_responses", "train_run", "translate_shard", "roundtrip_translate", "lm_eval_task")
    gpu_groups = {groups[r] for r in gpu_rules if r in groups}
    return {rule for rule, group in groups.items() if group in gpu_groups}


def test_cluster_settings(profile):
    assert profile["executor"] == "slurm"
    assert profile["jobs"] >= 10
    assert profile["retries"] >= 1
    assert profile["latency-wait"] >= 60
    assert profile["slurm-requeue"] is True
    assert "software-deployment-method" not in profile  # opt-in (--sdm conda): the dry run needs no conda
    assert {"params", "code", "input", "mtime"} <= set(profile["rerun-triggers"])


def test_no_task_geometry_for_gpu_jobs(profile):
    # tasks / tasks_per_gpu on a GPU job become --ntasks-per-gpu: one copy of the job per GPU.
    for where, resources in [("default-resources", profile["default-resources"]),
                             *((f"set-resources.{r}", v) for r, v in (profile["set-resources"] or {}).items())]:
        assert not {"tasks", "tasks_per_gpu", "mpi"} & set(resources), where


def test_set_resources_name_existing_rules(profile):
    rules = rule_stages()
    for name in profile["set-resources"] or {}:
        assert name in rules, f"profiles/slurm set-resources names a rule that does not exist: {name}"


def test_full_grid_dry_run(tmp_path):
    """`snakemake --profile profiles/slurm -n` on config.yaml: every GPU job goes to the GPU partition, no
    CPU job does, and the job counts per stage are the ones `polyalpaca plan` announces."""
    from polyalpaca.config import load_config
    from polyalpaca.plan import plan

    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLYALPACA_SLURM", "SBATCH_"))}
    env.update(POLYALPACA_SLURM_PARTITION="cpuq", POLYALPACA_SLURM_GPU_PARTITION="gpuq")
    # --forceall: every job of the grid, whatever results this checkout holds
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--profile", str(PROFILE.parent), "-n", "--forceall",
                           "all"], cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    jobs = dry_run_jobs(proc.stdout)
    stages = rule_stages()
    counts: dict[str, int] = {}
    riders = gpu_group_riders(yaml.safe_load(PROFILE.read_text(encoding="utf-8")))
    assert riders == {"generate_responses", "score_lid", "score_spellcheck", "judge_local", "roundtrip_translate",
                      "roundtrip_score", "lm_eval_task", "translate_shard"}
    for rule, local, resources in jobs:
        gpus = int(re.search(r"\bgpu=(\d+)", resources).group(1)) if re.search(r"\bgpu=", resources) else 0
        partition = re.search(r"slurm_partition=([^,]*)", resources).group(1)
        if not local:
            expected = "gpuq" if gpus or rule in riders else "cpuq"
            assert partition == expected, f"{rule}: gpu={gpus} on partition {partition!r}"
        assert not (local and gpus), f"{rule} asks for {gpus} GPUs but is a local rule"
        if rule != "all":
            stage = stage_of(rule, stages)
            counts[stage] = counts.get(stage, 0) + 1
    planned = {r.stage: r.jobs for r in plan(load_config(REPO / "config.yaml")) if r.study == "total"}
    assert counts == planned, f"dry run {counts} != plan {planned}"


def test_paper_grid_slurm_submissions_within_target():
    """`polyalpaca plan` counts what the profile submits, from Snakemake's own dry run: a generation and
    its surface metrics share one job, API judges go 20 to a job, and the paper grid stays within 1,200
    submissions while every output keeps its own Snakemake job."""
    from polyalpaca import grid
    from polyalpaca.config import load_config
    from polyalpaca.evaluate.judge.targets import judge_metric_names
    from polyalpaca.submissions import slurm_submissions

    config = load_config(REPO / "config.yaml")
    jobs = grid.grid_jobs(config)
    generations = sum(job.rule == "generate_responses" for job in jobs)
    api_judges = set(judge_metric_names(config, local=False))  # rule judge; judge_local rides with generations
    judges = sum(job.rule in ("score", "judge_pair") and job.get("metric") in api_judges for job in jobs)
    subs = slurm_submissions(REPO / "config.yaml", PROFILE.parent, REPO)
    # Bactrian-X's baselines (24 generation groups: 2 baselines x 12 languages) and pairs (36 API judge jobs)
    # took the grid to 1,207; token statistics packed 20 to a job bring it back within the target
    assert subs.total <= 1200, subs
    assert subs.by_unit["group stats"] == -(-sum(job.rule == "trainset_stats" for job in jobs) // 20)
    assert subs.by_unit["group generation"] == generations
    assert subs.by_unit["group judge"] == -(-judges // 20)
    distills = sum(job.rule == "distill_responses" for job in jobs)
    assert distills == 51 and subs.by_unit["group distill"] == -(-distills // 20)  # API distillation, 20 a job
    shards = sum(job.rule == "translate_shard" for job in jobs)
    assert subs.by_unit["group translation"] == -(-shards // 4)
    assert subs.by_unit["rule train_run"] == sum(job.rule == "train_run" for job in jobs)
    assert not {"rule score_lid", "rule score_spellcheck", "rule judge", "rule judge_local", "rule lid_ceiling"} \
        & set(subs.by_unit)
    assert not any(unit.startswith("rule fetch_") for unit in subs.by_unit)  # local rules: the submit host
    plan = subprocess.run([sys.executable, "-m", "polyalpaca.cli", "plan", "--config", "config.yaml"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert plan.returncode == 0, plan.stderr[-2000:]
    assert f"slurm_submissions={subs.total}" in plan.stdout.splitlines()


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    """Resources of two jobs, as Snakemake resolves the profile (dry run, no cluster)."""

    def run(env_vars: dict) -> dict[str, str]:
        work = tmp_path_factory.mktemp("profile")
        gpu_rule = "train_run"
        (work / "Snakefile").write_text(
            f'rule all:\n    input: "g.txt", "c.txt"\n'
            f'rule {gpu_rule}:\n    output: "g.txt"\n    resources: gpu=2\n    shell: "touch {{output}}"\n'
            f'rule cpu_job:\n    output: "c.txt"\n    shell: "touch {{output}}"\n')
        env = {k: v for k, v in os.environ.items() if not k.startswith(("POLYALPACA_SLURM", "SBATCH_"))}
        proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--profile", str(PROFILE.parent)],
                              cwd=work, capture_output=True, text=True, env={**env, **env_vars}, timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        found = dict(re.findall(r"^rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", proc.stdout, flags=re.M))
        return {"gpu": found[gpu_rule], "cpu": found["cpu_job"]}

    return run


def test_partition_and_account_from_environment(dry_run):
    res = dry_run({"POLYALPACA_SLURM_ACCOUNT": "proj1", "POLYALPACA_SLURM_PARTITION": "cpuq",
                   "POLYALPACA_SLURM_GPU_PARTITION": "gpuq"})
    assert "slurm_account=proj1" in res["cpu"] and "slurm_account=proj1" in res["gpu"]
    assert "slurm_partition=cpuq" in res["cpu"]
    assert "slurm_partition=gpuq" in res["gpu"] and "gpu=2" in res["gpu"]
    assert "mem_mb=4000" in res["cpu"] and "runtime=60" in res["cpu"]


def test_gpu_jobs_stay_on_one_node_with_cpus_per_gpu_and_the_gpu_type(dry_run):
    res = dry_run({"POLYALPACA_SLURM_GPU_CONSTRAINT": "a100|h100", "POLYALPACA_SLURM_CPUS_PER_GPU": "6"})
    assert "nodes=1" in res["gpu"] and "cpus_per_gpu=6" in res["gpu"] and "slurm_extra=-C 'a100|h100'" in res["gpu"]
    assert "nodes=" not in res["cpu"] and "slurm_extra" not in res["cpu"]
    bare = dry_run({})
    assert "cpus_per_gpu=8" in bare["gpu"] and re.search(r"slurm_extra=(,|$)", bare["gpu"])


def test_unset_variables_fall_back_to_sbatch_defaults(dry_run):
    res = dry_run({"SBATCH_ACCOUNT": "acct0", "SBATCH_PARTITION": "main"})
    assert "slurm_account=acct0" in res["cpu"] and "slurm_partition=main" in res["gpu"]
    bare = dry_run({})
    # empty: the plugin guesses the account and sbatch uses the cluster's default partition
    assert re.search(r"slurm_account=(,|$)", bare["cpu"]) and re.search(r"slurm_partition=(,|$)", bare["cpu"])


class _Job:
    """The attributes of a Snakemake job that the plugin's submit-string builder reads."""

    class _Resources(dict):
        __getattr__ = dict.__getitem__

    def __init__(self, threads: int, **resources):
        self.threads = threads
        self.resources = self._Resources(resources)


def test_plugin_submits_a_multi_gpu_job_as_one_task():
    from snakemake_executor_plugin_slurm.submit_string import get_submit_command
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    job = _Job(threads=8, gpu=4, mem_mb=64000, runtime=600)
    params = {"run_uuid": "u", "slurm_logfile": "log", "comment_str": "train", "account": "", "partition": "",
              "workdir": "."}
    call = get_submit_command(job, params) + set_gres_string(job)
    assert "--gpus=4" in call and "--cpus-per-task=8" in call
    assert "ntasks" not in call, call
    # the profile's GPU settings: one node, CPUs per GPU, the GPU type
    pinned = get_submit_command(_Job(threads=4, gpu=4, nodes=1, cpus_per_gpu=8, slurm_extra="-C 'a100|h100'"), params)
    assert "--nodes=1" in pinned and "--cpus-per-gpu=8" in pinned and "--cpus-per-task" not in pinned
    assert "-C 'a100|h100'" in pinned
    # what the profile must never do: any task count turns into one copy per GPU
    with_tasks = get_submit_command(_Job(threads=8, gpu=4, tasks=1), params)
    assert "--ntasks-per-gpu=1" in with_tasks
