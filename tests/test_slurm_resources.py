"""Job sizing (polyalpaca.resources): GPUs from the per-GPU memory model, memory and time growing on retries."""

from __future__ import annotations

import copy

import pytest
from snakemake.iocontainers import Wildcards

from polyalpaca.config import load_config, validate_config
from polyalpaca.errors import ConfigError
from polyalpaca.resources import gpus_for, mem_mb_for, rule_resources, runtime_for

from .conftest import REPO


@pytest.fixture(scope="module")
def grid():
    return load_config(REPO / "config.yaml")


@pytest.mark.parametrize(("stage", "model", "tuning", "gpus"), [
    ("train", "pythia-70m", "chen-lora", 1),
    ("train", "pythia-12b", "chen-lora", 1),       # LoRA: 24 GB weights + activations, of 72 usable
    ("train", "bloom-7b1", "chen-full", 2),        # ZeRO-3: 16 x 7.1 = 114 GB of states / 2 + logits
    ("train", "llama2-13b", "zs-full-lr1e-5", 4),  # 16 x 13 = 208 GB of states: / 2 > 72, / 4 fits
    ("train", "llama2-13b", "zs-lora-lr1e-5", 1),
    ("generate", "llama2-13b", None, 1),
    ("generate", "pythia-70m", None, 1),
    ("translate", None, None, 1),
    ("recipes", None, None, 0),
    ("evaluate", "llama-7b", None, 0),             # metrics run on CPU; a local judge uses stage "judge"
    ("judge", "llama-13b", None, 1),
])
def test_gpus_sized_by_the_memory_model(grid, stage, model, tuning, gpus):
    assert gpus_for(grid, stage, model, tuning) == gpus


def test_cpu_config_asks_for_no_gpu(grid):
    cfg = copy.deepcopy(grid)
    cfg["resources"]["use_gpus"] = False
    assert gpus_for(cfg, "train", "llama2-13b", "zs-full-lr1e-5") == 0
    assert gpus_for(cfg, "translate") == 0


def test_smaller_gpus_need_more_of_them(grid):
    cfg = copy.deepcopy(grid)
    cfg["resources"]["gpu"]["mem_gb"] = 40
    # 4 x 40 GB would hold the sharded states (28 GB each) but not the BLOOM logits (6.7 GB) beside them
    assert gpus_for(cfg, "train", "bloom-7b1", "chen-full") == 8  # 6.7 GB of BLOOM logits on every GPU
    cfg["resources"]["gpu"]["max_per_job"] = 4
    with pytest.raises(ConfigError, match=r"models\.llama2-13b with tunings\.zs-full-lr1e-5: no GPU count up to "
                                          r"resources\.gpu\.max_per_job=4 works: needs .* GB per GPU"):
        gpus_for(cfg, "train", "llama2-13b", "zs-full-lr1e-5")


def test_train_needs_its_tuning(grid):
    with pytest.raises(ValueError, match="needs its tuning"):
        gpus_for(grid, "train", "pythia-70m")
    with pytest.raises(ConfigError, match="'nope' is not defined"):
        gpus_for(grid, "train", "pythia-70m", "nope")
    with pytest.raises(ValueError, match="unknown stage 'trian'"):
        gpus_for(grid, "trian", "pythia-70m")


def test_memory_grows_with_model_and_attempt(grid):
    assert mem_mb_for(grid, "recipes") == 4000
    assert mem_mb_for(grid, "recipes", attempt=3) == 12000
    # 13B in fp32 on the host: 13e9 x 4 bytes + 4000 MB headroom (no tuning: loading only)
    assert mem_mb_for(grid, "train", "llama2-13b") == int(13e9 * 4 / 1024**2) + 4000
    assert mem_mb_for(grid, "train", "pythia-70m") == 16000  # the stage floor
    assert mem_mb_for(grid, "train", "llama2-13b", attempt=2) == 2 * mem_mb_for(grid, "train", "llama2-13b")


def test_time_limit_doubles_per_attempt_and_is_capped(grid):
    assert runtime_for(grid, "figures") == 30
    assert runtime_for(grid, "figures", attempt=2) == 60
    assert runtime_for(grid, "figures", attempt=3) == 120
    assert runtime_for(grid, "translate", attempt=20) == grid["resources"]["max_runtime_min"]


def test_train_time_limit_follows_the_estimate(grid):
    from polyalpaca.plan import train_gpu_hours

    hours = train_gpu_hours(grid, "pythia-12b", "alpaca-multi", "chen-lora")
    assert hours > 10  # 4·N·T with T = 9 languages x 51k records x 5 epochs
    limit = runtime_for(grid, "train", "pythia-12b", "chen-lora", "alpaca-multi")
    # one GPU; LoRA saves only the adapter (2N x 1% per save, 6 saves at 1 GB/s: under a minute)
    saves_min = 6 * 2 * 12e9 * 0.01 / 1024**3 / 60
    assert limit == min(grid["resources"]["max_runtime_min"], int(-(-(hours * 60 + saves_min) * 2 // 1)))
    small = runtime_for(grid, "train", "pythia-70m", "chen-lora", "alpaca-en")
    assert small == grid["resources"]["runtime_min"]["train"]  # tiny run: the floor


def test_rule_resources_read_the_jobs_wildcards(grid):
    res = rule_resources(grid, "train")
    wc = Wildcards(fromdict={"model": "bloom-7b1", "trainset": "alpaca-en", "tuning": "chen-full"})
    assert res["gpu"](wc) == 2
    assert res["mem_mb"](wc, 2) == 2 * mem_mb_for(grid, "train", "bloom-7b1", tuning="chen-full")
    assert res["runtime"](wc, 1) == runtime_for(grid, "train", "bloom-7b1", "chen-full", "alpaca-en")
    judge = rule_resources(grid, "judge", model=lambda w: "llama-13b")
    assert judge["gpu"](Wildcards(fromdict={"metric": "x"})) == 1
    shard = rule_resources(grid, "translate")
    assert shard["gpu"](Wildcards(fromdict={"source": "alpaca", "lang": "fr"})) == 1


def test_resources_block_rejects_typos(grid):
    cfg = load_config(REPO / "config.yaml")
    cfg["resources"]["gpu"]["mem_gib"] = 80
    with pytest.raises(ConfigError, match="resources.gpu"):
        validate_config(cfg)


def test_defaults_fill_an_empty_block():
    cfg = load_config(REPO / "tests" / "smoke" / "config.yaml")
    assert cfg["resources"]["use_gpus"] is False
    assert cfg["resources"]["memory"]["logits_bytes_per_token"] == 14
    assert cfg["resources"]["estimates"]["judge_tokens"]["judge_pairwise"] == {"input": 1500, "output": 200}
