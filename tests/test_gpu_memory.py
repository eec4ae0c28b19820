"""The per-GPU memory model (polyalpaca.gpu_memory), the sizing in `polyalpaca plan --gpu-mem-gb`, and
the launch checks that validate_config makes before any job is queued (issue 14, defects 3 and 6)."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import yaml

from polyalpaca.config import load_config, validate_config
from polyalpaca.errors import ConfigError
from polyalpaca.gpu_memory import GB, fit_train, model_arch, train_footprint

from .conftest import REPO

N13 = 13.0e9


@pytest.fixture(scope="module")
def grid():
    return load_config(REPO / "config.yaml")


def _raw():
    return yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


def test_zero3_shards_states_but_not_activations(grid):
    """16 bytes of model states per parameter (bf16 weights and grads, fp32 master + Adam) divide by the
    GPU count under ZeRO-3; activations and logits are per GPU and do not."""
    two = train_footprint(grid, "llama2-13b", "zs-full-lr1e-5", 2)
    four = train_footprint(grid, "llama2-13b", "zs-full-lr1e-5", 4)
    assert two.weights + two.gradients + two.optimizer == pytest.approx(16 * N13 / 2 / GB)
    assert four.weights + four.gradients + four.optimizer == pytest.approx(16 * N13 / 4 / GB)
    assert four.activations == two.activations > 0
    assert four.logits == two.logits == pytest.approx(4000 * 32000 * 14 / GB)  # batch_tokens x vocab x 14


def test_lora_replicas_do_not_shrink_with_gpus(grid):
    one = train_footprint(grid, "llama2-13b", "zs-lora-lr1e-5", 1)
    eight = train_footprint(grid, "llama2-13b", "zs-lora-lr1e-5", 8)
    assert one == eight
    assert one.weights == pytest.approx(2 * N13 * 1.01 / GB)  # frozen bf16 weights + adapters
    assert one.optimizer == 0


def test_activation_checkpointing_is_on_for_full_fine_tuning_by_default(grid):
    assert grid["train"]["gradient_checkpointing"] == "auto"
    full = train_footprint(grid, "llama2-13b", "zs-full-lr1e-5", 4)
    off = train_footprint(grid, "llama2-13b", "zs-full-lr1e-5", 4, checkpointing=False)
    tokens, h, layers = 4000, 5120, 40
    assert full.activations == pytest.approx(tokens * h * (2 * layers + 34) / GB)
    assert off.activations == pytest.approx(tokens * h * 34 * layers / GB)  # 28 GB: would not fit beside the states


def test_bloom_vocabulary_dominates_small_models(grid):
    """BLOOM's 250,880-entry vocabulary: logits outweigh activations at 4 x 512 tokens."""
    fp = train_footprint(grid, "bloom-560m", "chen-full", 1)
    assert model_arch(grid, "bloom-560m").vocab_size == 250880
    assert fp.logits == pytest.approx(4 * 512 * 250880 * 14 / GB)
    assert fp.logits > 10 * fp.activations


def test_shape_without_arch_is_estimated_and_said(grid):
    cfg = copy.deepcopy(grid)
    del cfg["models"]["llama2-7b"]["arch"]
    arch = model_arch(cfg, "llama2-7b")
    assert arch.estimated and 3500 < arch.hidden_size < 4500 and 25 <= arch.layers <= 35


def test_divisibility_decides_between_gpu_counts(grid):
    """On 40 GB a 13B zero-shot full run fits memory only on 8 GPUs, and 4 micro-batches per step do not
    split over 8 processes: no count works, and the reason says both."""
    cfg = copy.deepcopy(grid)
    cfg["resources"]["gpu"]["mem_gb"] = 40
    fit = fit_train(cfg, "llama2-13b", "zs-full-lr1e-5")
    assert fit.gpus is None
    assert "8 GPUs fit memory but" in fit.reason and "cannot be split over 8 processes" in fit.reason
    cfg["tunings"]["zs-full-lr1e-5"]["gradient_accumulation_steps"] = 8
    assert fit_train(cfg, "llama2-13b", "zs-full-lr1e-5").gpus == 8


def test_validate_config_names_every_run_that_cannot_launch():
    raw = _raw()
    raw["resources"]["gpu"]["mem_gb"] = 40
    with pytest.raises(ConfigError) as err:
        validate_config(raw)
    text = str(err.value)
    assert "models.llama2-13b with tunings.zs-full-lr1e-4" in text
    assert "models.pythia-12b with tunings.chen-lora" in text and "gradient_checkpointing: true" in text


def test_cpu_processes_must_divide_the_global_batch():
    raw = yaml.safe_load((REPO / "tests" / "smoke" / "config.yaml").read_text(encoding="utf-8"))
    raw.setdefault("train", {})["cpu_processes"] = 3
    with pytest.raises(ConfigError, match=r"global_batch_size: \d+ is not divisible by .*train\.cpu_processes=3"):
        validate_config(raw)


def test_host_memory_and_time_include_checkpoint_saves(grid):
    from polyalpaca.resources import mem_mb_for, runtime_for, save_bytes

    # ZeRO-3 save: 16-bit weights gathered on rank 0 (2N) while the ranks serialize fp32 shards (4N),
    # plus 4 workers x 4 GB
    assert mem_mb_for(grid, "train", "llama2-13b", 1, "zs-full-lr1e-5") == int((6 * N13 / GB + 4 * 4) * 1024) + 4000
    assert save_bytes(grid, "llama2-13b", "zs-full-lr1e-5") == 16 * N13
    cfg = copy.deepcopy(grid)
    cfg["resources"]["memory"]["write_gb_per_s"] = 0.1  # a slow file system: 11 saves of 208 GB
    slow = runtime_for(cfg, "train", "llama2-13b", "zs-full-lr1e-5", "dolly-en")
    fast = runtime_for(grid, "train", "llama2-13b", "zs-full-lr1e-5", "dolly-en")
    assert slow - fast == pytest.approx(11 * 16 * N13 / GB * (10 - 1) / 60 * 2, abs=2)


def _plan(*args):
    return subprocess.run([sys.executable, "-m", "polyalpaca.cli", "plan", "--config", str(REPO / "config.yaml"),
                           *args], capture_output=True, text=True, cwd=REPO)


def test_plan_for_80gb_fits_and_for_40gb_names_the_runs():
    ok = _plan("--gpu-mem-gb", "80")
    assert ok.returncode == 0, ok.stderr
    assert "GPU sizing for 80 GB GPUs" in ok.stdout and "cannot run" not in ok.stdout
    row = next(line for line in ok.stdout.splitlines() if line.startswith("train     llama2-13b     zs-full-lr1e-5"))
    assert row.split()[4:6] == ["4", "54.6"]  # GPUs, GB per GPU
    small = _plan("--gpu-mem-gb", "40")
    assert small.returncode == 1
    assert "13 configuration(s) cannot run on 40 GB GPUs" in small.stdout
    assert "benchmark llama-13b (6 jobs)" in small.stdout  # lm-eval jobs are sized like generation
    assert "train llama2-13b with zs-full-lr1e-5 (3 jobs): 8 GPUs fit memory but" in small.stdout
    assert "generate llama2-13b (" in small.stdout and "generate.batch_size: 13 would fit" in small.stdout
