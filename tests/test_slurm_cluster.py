"""A real single-node Slurm on localhost: jobs go through sbatch with the resources polyalpaca sizes.

The cluster is started by tests/slurm/slurm-local.sh (root, Debian's slurm-wlm + munge; install.sh
installs them). Where it cannot start, the tests are skipped with the reason — unless
POLYALPACA_REQUIRE_SLURM=1 or CI=true (as in CI), then they fail.

The workflow runs through profiles/slurm with a local override only for what a test cluster lacks:
`squeue` status checks (no accounting daemon), a 1 s first status
check, short latency wait.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import REPO

SCRIPT = REPO / "tests" / "slurm" / "slurm-local.sh"
pytestmark = pytest.mark.slurm


def _skip_or_fail(reason: str):
    # CI (CI=true) must really run the cluster test, not skip it
    if os.environ.get("POLYALPACA_REQUIRE_SLURM") == "1" or os.environ.get("CI") == "true":
        pytest.fail(f"POLYALPACA_REQUIRE_SLURM=1 but local Slurm cannot run: {reason}")
    pytest.skip(f"local Slurm cannot run here: {reason}")


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    check = subprocess.run(["bash", str(SCRIPT), "check"], capture_output=True, text=True)
    if check.returncode != 0:
        _skip_or_fail(check.stdout.strip() or check.stderr.strip())
    base = tmp_path_factory.mktemp("slurm-local")
    env = dict(os.environ, SLURM_LOCAL_DIR=str(base))
    subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True)
    started = subprocess.run(["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=120)
    if started.returncode != 0:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True)
        _skip_or_fail(f"slurm-local.sh start failed: {started.stderr[-2000:]}")
    yield env
    subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, timeout=60)


def local_profile(dest: Path, jobs: int = 4) -> Path:
    """profiles/slurm with only the settings a throwaway cluster needs changed."""
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text(encoding="utf-8"))
    profile.update({
        "slurm-status-command": "squeue",  # no slurmdbd: sacct fails quietly and the plugin would wait forever
        "slurm-init-seconds-before-status-checks": 1,
        "seconds-between-status-checks": 1,
        "latency-wait": 5,
        "jobs": jobs,
        "slurm-keep-successful-logs": True,
    })
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False), encoding="utf-8")
    return dest


def run_snakemake(cluster_env: dict, workdir: Path, profile: Path, *args: str,
                  timeout: int = 240) -> subprocess.CompletedProcess:
    # Snakemake ignores SIGTERM while jobs are pending: stop it with SIGINT (it then scancels its jobs).
    cmd = ["timeout", "-s", "INT", str(timeout), sys.executable, "-m", "snakemake", "--profile", str(profile),
           "--directory", str(workdir), "--verbose", *args]
    env = dict(cluster_env, PYTHONPATH=str(REPO / "src"))
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=env, timeout=timeout + 60)


PROBE_SNAKEFILE = """
import sys
sys.path.insert(0, {src!r})
from polyalpaca.config import load_config
from polyalpaca.resources import rule_resources

config = load_config({config!r})

rule all:
    input:
        "probe/recipes.txt",
        "probe/retry.txt",
        "probe/train/llama2-13b/dolly-en/zs-full-lr1e-4.txt",

rule probe_recipes:  # a CPU stage: one task, its floor memory and time
    output: "probe/recipes.txt"
    threads: 1
    resources: **rule_resources(config, "recipes")
    shell: "scontrol show job $SLURM_JOB_ID > {{output}}"

rule probe_retry:  # fails on the first attempt; the retry must get more memory and time
    output: "probe/retry.txt"
    threads: 1
    resources: **rule_resources(config, "figures")
    shell: "test {{resources.mem_mb}} -gt 4000 && scontrol show job $SLURM_JOB_ID > {{output}}"

rule probe_train:  # sized from params_b: a 13B full fine-tuning needs 4 GPUs, which this node lacks
    output: "probe/train/{{model}}/{{trainset}}/{{tuning}}.txt"
    threads: 1
    resources: **rule_resources(config, "train")
    shell: "nvidia-smi > {{output}}"
"""


def _field(text: str, name: str) -> str:
    match = re.search(rf"\b{name}=(\S+)", text)
    assert match, f"{name} not in:\n{text}"
    return match.group(1)


def test_jobs_go_through_sbatch_with_sized_resources(slurm_cluster, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "Snakefile").write_text(PROBE_SNAKEFILE.format(src=str(REPO / "src"), config=str(REPO / "config.yaml")))
    profile = local_profile(tmp_path / "profile")
    proc = run_snakemake(slurm_cluster, work, profile, "all")
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, "the 4-GPU job cannot run on a GPU-less node; the run must fail:\n" + log[-3000:]

    # A CPU job ran inside a Slurm allocation with the recipes stage's floor (4000 MB, 60 min), one task.
    job = (work / "probe" / "recipes.txt").read_text()
    assert _field(job, "TimeLimit") == "01:00:00"
    assert _field(job, "MinMemoryNode") == "4000M"
    assert _field(job, "NumTasks") == "1"
    assert _field(job, "Partition") == "debug"
    assert _field(job, "Requeue") == "1"  # slurm-requeue: preempted jobs go back to the queue

    # The retried job: attempt 2 got memory x2 (figures floor 4000 -> 8000 MB) and time x2 (30 -> 60 min).
    retry = (work / "probe" / "retry.txt").read_text()
    assert _field(retry, "MinMemoryNode") == "8000M"
    assert _field(retry, "TimeLimit") == "01:00:00"

    # The GPU job reached sbatch as ONE task with 4 GPUs (no --ntasks-per-gpu), and Slurm refused it.
    sbatch_calls = [line for line in log.splitlines() if "sbatch " in line and "--gpus=4" in line]
    assert sbatch_calls, "no sbatch call with --gpus=4 in the log:\n" + log[-4000:]
    assert all("ntasks-per-gpu" not in line for line in sbatch_calls)
    assert "Requested node configuration is not available" in log
    assert not (work / "probe" / "train").exists()


def test_smoke_pipeline_jobs_through_slurm(slurm_cluster, smoke_workdir, tmp_path):
    """Real pipeline rules (generation and LID of a smoke run) submitted through profiles/slurm."""
    from .conftest import SMOKE_SLICE, copy_workdir

    work = copy_workdir(smoke_workdir, tmp_path / "repo")
    target = SMOKE_SLICE[1]  # LID scores of a full fine-tuning run: generation -> LID
    generation = work / target.replace("results/scores/lid/", "results/generations/")
    before = generation.stat().st_mtime_ns
    profile = local_profile(tmp_path / "profile")
    proc = run_snakemake(slurm_cluster, work, profile, target, "--configfile", "tests/smoke/config.yaml",
                         "--forcerun", "generate_responses")  # --forcerun takes every word after it
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]
    assert generation.stat().st_mtime_ns > before
    # One Slurm job for the generation and the LID score that reads it (the profile's group "generation"):
    # Snakemake's group job runs both inside one allocation, one after the other.
    calls = [line for line in log.splitlines() if line.startswith("sbatch call:")]
    assert len(calls) == 1, log[-3000:]
    assert "--comment rule_generation_generate_responses_score_lid" in calls[0]
    # sized by polyalpaca.resources for the smoke config (no GPUs): the widest job's memory (generate's
    # 16000 MB floor) and the two jobs' time limits one after the other (generate 60 + evaluate 120 min)
    assert "--mem 16000" in calls[0] and "-t 180" in calls[0]
    assert "--gpus" not in calls[0]
    assert (work / target).stat().st_mtime_ns > before
    assert list((work / "logs" / "slurm" / "group_generation_generate_responses_score_lid").rglob("*.log"))


PACK_SNAKEFILE = """
rule all:
    input: expand("out/{{i}}.txt", i=range(4))

rule lm_eval_task:  # named like the benchmark rule, so profiles/slurm packs it (group benchmark, 4 per job)
    output: "out/{{i}}.txt"
    threads: 1
    resources: gpu=1, runtime=10, mem_mb=1000
    shell: "nvidia-smi > {{output}}"
"""


def test_packed_gpu_jobs_run_one_after_another_on_one_gpu(slurm_cluster, tmp_path):
    """Four one-GPU jobs packed into one Slurm job ask for ONE GPU and four times the time (the profile's
    `cores` and `set-threads` lay them out one after another), not four GPUs all computing on device 0."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "Snakefile").write_text(PACK_SNAKEFILE.format())
    proc = run_snakemake(slurm_cluster, work, local_profile(tmp_path / "profile"), "all", timeout=120)
    log = proc.stdout + proc.stderr
    # the node has no GPU: Slurm refuses the job, and the profile's retries submit it again (attempts 2, 3)
    calls = [line for line in log.splitlines() if line.startswith("sbatch call:") and "--attempt 1 " in line]
    assert len(calls) == 1, log[-3000:]
    head = calls[0].split("--wrap")[0]
    assert "--comment rule_benchmark_lm_eval_task" in head, head
    assert "--gpus=1 " in head and "-t 40 " in head and "--mem 1000 " in head, head
