"""`python -m polyalpaca.gpucheck` (issue 14): without CUDA it says so and exits 0 without pretending;
`--device cpu` runs the same checks that need no CUDA (training through run_training, CTranslate2,
generation), each a real run on tiny models."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from .conftest import REPO


def _gpucheck(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "polyalpaca.gpucheck", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=timeout)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_without_cuda_it_says_so_and_exits_0():
    proc = _gpucheck()
    assert proc.returncode == 0, proc.stderr
    assert "no CUDA device visible to torch" in proc.stdout and "PASS" not in proc.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_fails():
    proc = _gpucheck("--device", "cuda")
    assert proc.returncode == 1 and "sees no GPU" in proc.stderr


def test_cpu_checks_run_the_real_code_paths(tmp_path):
    proc = _gpucheck("--device", "cpu", "--workdir", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    lines = {line.split()[1]: line for line in proc.stdout.splitlines() if line.startswith(("PASS", "FAIL"))}
    assert set(lines) == {"train-full-cpu", "train-lora-cpu", "translate-ct2-cpu", "generate-cpu"}
    assert all(line.startswith("PASS") for line in lines.values()), proc.stdout
    assert "loss" in lines["train-full-cpu"] and "reproduce the trained logits" in lines["train-full-cpu"]
    assert proc.stdout.splitlines()[-1] == "passed=4 failed=0 skipped=0"
    assert (tmp_path / "runs" / "full-z0-0gpu-fp32" / "train_log.json").is_file()  # a real run's output
