"""Train stage: preset resolution, global-batch arithmetic, settings, DeepSpeed configs, launch commands."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

from polyalpaca.config import load_config, validate_config
from polyalpaca.errors import ConfigError
from polyalpaca.train import TrainJob, TrainSettings, resolve_tuning
from polyalpaca.train.launch import deepspeed_config, launch_command, uses_deepspeed, write_deepspeed_config
from polyalpaca.effects import result_view
from polyalpaca.train.run import FINGERPRINT_FILE, prepare_checkpoint_dir

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def config():
    return load_config(REPO / "config.yaml")


def test_global_batch_split_over_processes(config):
    lora = resolve_tuning(config, "llama-7b", "chen-lora")  # 128 examples, micro batch 4
    assert [lora.accumulation_steps(n) for n in (1, 2, 4, 8, 32)] == [32, 16, 8, 4, 1]
    full = resolve_tuning(config, "bloom-7b1", "chen-full")  # 256 examples, micro batch 4
    assert full.accumulation_steps(8) == 8


def test_global_batch_that_does_not_divide_is_an_error_naming_the_key(config):
    lora = resolve_tuning(config, "llama-7b", "chen-lora")
    with pytest.raises(ConfigError, match=r"tunings\.chen-lora\.global_batch_size: 128 .* 4 x 3 = 12"):
        lora.accumulation_steps(3)
    with pytest.raises(ConfigError, match=r"tunings\.chen-lora\.global_batch_size"):
        lora.accumulation_steps(64)  # 4 x 64 > 128


def test_token_batches_keep_their_micro_batch_count_per_step(config):
    zs = resolve_tuning(config, "llama2-7b", "zs-full-lr1e-5")
    assert zs.token_batches and zs.batch_tokens == 4000
    assert [zs.accumulation_steps(n) for n in (1, 2, 4)] == [4, 2, 1]
    with pytest.raises(ConfigError, match=r"tunings\.zs-full-lr1e-5\.gradient_accumulation_steps"):
        zs.accumulation_steps(3)


def test_job_fails_early_on_an_indivisible_batch(config, tmp_path):
    tuning = resolve_tuning(config, "llama-7b", "chen-lora")
    with pytest.raises(ConfigError, match="global_batch_size"):
        TrainJob(model="llama-7b", family="llama", trainset="x", base_model="b", train_file="t", val_file="v",
                 output_dir=str(tmp_path / "o"), checkpoint_dir=str(tmp_path / "c"), tuning=tuning, processes=3)


def test_presets_resolve_family_length_and_lora_modules_from_config(config):
    # Bactrian-X Table 7: 768 for the multilingual preset and 1024 for the monolingual one, whatever the family
    assert resolve_tuning(config, "llama-7b", "bactrian-lora-multi").max_length == 768
    assert resolve_tuning(config, "bloom-7b1", "bactrian-lora-mono").max_length == 1024
    by_family = copy.deepcopy(config)
    by_family["tunings"]["bactrian-lora-multi"]["max_length_by_family"] = {"llama": 1024}
    assert resolve_tuning(by_family, "llama-7b", "bactrian-lora-multi").max_length == 1024
    assert resolve_tuning(by_family, "bloom-7b1", "bactrian-lora-multi").max_length == 768
    assert resolve_tuning(config, "llama-7b", "chen-lora").lora.target_modules == ("q_proj", "k_proj", "v_proj")
    assert resolve_tuning(config, "pythia-70m", "chen-lora").lora.target_modules == ("query_key_value",)
    assert resolve_tuning(config, "bloom-560m", "chen-full").lora is None
    other = copy.deepcopy(config)
    other["families"]["llama"]["lora_target_modules"] = ["o_proj"]
    assert resolve_tuning(other, "llama-7b", "chen-lora").lora.target_modules == ("o_proj",)
    lora = resolve_tuning(config, "llama-7b", "bactrian-lora-mono")
    assert (lora.lora.r, lora.lora.alpha, lora.loss_on, lora.prompt_template) == (16, 16, "response", "bactrian")


def test_every_preset_of_the_paper_grid_resolves_for_every_model(config):
    for model in config["models"]:
        for tuning in config["tunings"]:
            params = resolve_tuning(config, model, tuning)
            assert params.to_dict()["name"] == tuning


def test_caps_shrink_presets_for_smoke_runs(config):
    capped = copy.deepcopy(config)
    capped["train"] = {"caps": {"max_steps": 3, "global_batch_size": 8, "max_length": 128, "batch_tokens": 256}}
    validate_config(capped)
    lora = resolve_tuning(capped, "llama-7b", "chen-lora")
    assert (lora.max_steps, lora.epochs, lora.global_batch_size, lora.micro_batch_size, lora.max_length) == \
        (3, 5, 8, 4, 128)
    zs = resolve_tuning(capped, "llama2-7b", "zs-lora-lr1e-4")
    assert (zs.max_steps, zs.batch_tokens, zs.max_length) == (3, 256, 128)
    assert resolve_tuning(config, "llama-7b", "chen-lora").max_steps is None  # uncapped config untouched


def test_unknown_settings_and_tuning_names_are_errors(config):
    bad = copy.deepcopy(config)
    bad["train"] = {"evals_per_epok": 2}
    with pytest.raises(ConfigError, match="evals_per_epok"):
        validate_config(bad)
    with pytest.raises(ConfigError, match="train: unknown setting"):
        TrainSettings.from_config({"bogus": 1})
    with pytest.raises(ConfigError, match="tunings: 'nope' is not defined"):
        resolve_tuning(config, "llama-7b", "nope")


def test_inverse_sqrt_runs_without_warmup(config):
    from polyalpaca.train import TuningParams

    zs = resolve_tuning(config, "llama2-7b", "zs-lora-lr1e-4").to_dict()
    with pytest.raises(ConfigError, match=r"tunings\.zs-lora-lr1e-4\.warmup_ratio"):
        TuningParams.from_dict({**zs, "warmup_ratio": 0.1})
    with pytest.raises(ConfigError, match="smaller than max_length"):
        TuningParams.from_dict({**zs, "batch_tokens": 1000})


def test_rule_params_and_checkpoint_fingerprint_hold_the_same_result_settings(config, tmp_path):
    from polyalpaca.train import TrainJob, TrainSettings

    params = result_view(config, "train")
    assert {"caps", "group_by_length", "max_grad_norm"} <= set(params)
    assert not {"checkpoint_root", "keep_checkpoints", "logging_steps", "dataloader_workers"} & set(params)
    job = TrainJob(model="pythia-70m", family="gpt_neox", trainset="alpaca-en", base_model="b", train_file="t",
                   val_file="v", output_dir=str(tmp_path / "o"), checkpoint_dir=str(tmp_path / "c"),
                   tuning=resolve_tuning(config, "pythia-70m", "chen-lora"),
                   settings=TrainSettings.from_config(config["train"]))
    # a resumed checkpoint must have been trained with the same result settings as the rule's params
    assert job.fingerprint()["settings"] == params


def test_deepspeed_stage3_config_gathers_16bit_weights_and_leaves_batches_to_the_trainer(tmp_path):
    ds = deepspeed_config(3, bf16=True, max_grad_norm=1.0)
    zero = ds["zero_optimization"]
    assert zero["stage"] == 3 and zero["stage3_gather_16bit_weights_on_model_save"] is True
    assert zero["offload_optimizer"]["device"] == "none" and zero["offload_param"]["device"] == "none"
    assert ds["bf16"] == {"enabled": True} and ds["fp16"] == {"enabled": False}
    assert ds["gradient_clipping"] == 1.0
    for key in ("train_micro_batch_size_per_gpu", "gradient_accumulation_steps", "train_batch_size"):
        assert ds[key] == "auto"  # filled by the HF Trainer from its own arguments: cannot disagree
    path = write_deepspeed_config(tmp_path / "ds.json", 3, bf16=False)
    assert json.loads(path.read_text())["bf16"] == {"enabled": False}


def test_deepspeed_stage2_config_and_when_deepspeed_is_used():
    zero = deepspeed_config(2, bf16=True)["zero_optimization"]
    assert zero["stage"] == 2 and zero["overlap_comm"] and zero["contiguous_gradients"]
    assert "stage3_gather_16bit_weights_on_model_save" not in zero
    with pytest.raises(ConfigError, match="no ZeRO template for stage 1"):
        deepspeed_config(1, bf16=True)
    assert uses_deepspeed("full", 3, cuda=True) and uses_deepspeed("full", 2, cuda=True)
    assert not uses_deepspeed("full", 3, cuda=False)  # CPU smoke: same code, no DeepSpeed
    assert not uses_deepspeed("lora", 3, cuda=True) and not uses_deepspeed("full", 0, cuda=True)


def test_launch_command_is_one_torchrun_with_a_worker_per_gpu():
    assert launch_command(1, "job.json") == [sys.executable, "-m", "polyalpaca.train.worker", "job.json"]
    cmd = launch_command(4, "job.json")
    assert cmd[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert "--nproc_per_node=4" in cmd and "--standalone" in cmd and "--nnodes=1" in cmd
    assert cmd[-3:] == ["-m", "polyalpaca.train.worker", "job.json"]
    with pytest.raises(ConfigError):
        launch_command(0, "job.json")


def test_checkpoints_of_other_parameters_are_discarded(config, tmp_path):
    tuning = resolve_tuning(config, "llama-7b", "chen-lora")
    job = TrainJob(model="llama-7b", family="llama", trainset="x", base_model="b", train_file="t", val_file="v",
                   output_dir=str(tmp_path / "o"), checkpoint_dir=str(tmp_path / "c"), tuning=tuning)
    ckpt = prepare_checkpoint_dir(job)
    (ckpt / "checkpoint-5").mkdir()
    prepare_checkpoint_dir(job)  # same parameters: kept for resuming
    assert (ckpt / "checkpoint-5").is_dir()
    other = TrainJob(**{**job.to_dict(), "tuning": {**tuning.to_dict(), "learning_rate": 1e-4}})
    prepare_checkpoint_dir(other)
    assert not (ckpt / "checkpoint-5").exists()
    assert json.loads((ckpt / FINGERPRINT_FILE).read_text())["tuning"]["learning_rate"] == 1e-4
    assert TrainJob.from_json(_dump(job, tmp_path)) == job


def _dump(job, tmp_path):
    job.to_json(tmp_path / "job.json")
    return tmp_path / "job.json"


@pytest.mark.parametrize("stage", [2, 3])
def test_deepspeed_accepts_our_configs_after_the_trainer_fills_them(stage):
    """Runs where DeepSpeed is installed (the gpu extra); checked here in a throwaway venv with 0.19.8."""
    pytest.importorskip("deepspeed")
    from types import SimpleNamespace

    from deepspeed.runtime.config import DeepSpeedConfig
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig

    hf = HfTrainerDeepSpeedConfig(deepspeed_config(stage, bf16=True, max_grad_norm=1.0))
    args = SimpleNamespace(world_size=1, per_device_train_batch_size=4, gradient_accumulation_steps=8, max_grad_norm=1.0,
                           learning_rate=2e-5, adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, weight_decay=0.0,
                           save_on_each_node=False, fp16=False, fp16_full_eval=False, bf16=True, bf16_full_eval=False,
                           get_warmup_steps=lambda steps: 0)
    hf.trainer_config_process(args)
    hf.trainer_config_finalize(args, SimpleNamespace(config=SimpleNamespace(hidden_size=4096)), 1000)
    assert hf.mismatches == []  # nothing we set explicitly disagrees with the Trainer's arguments
    parsed = DeepSpeedConfig(hf.config)
    assert (parsed.zero_optimization_stage, parsed.train_batch_size, parsed.gradient_clipping) == (stage, 32, 1.0)
    assert parsed.zero_config.gather_16bit_weights_on_model_save is (stage == 3)


def test_activation_checkpointing_is_on_for_full_fine_tuning_by_default():
    settings = TrainSettings.from_config(load_config(Path(__file__).parents[1] / "config.yaml")["train"])
    assert settings.gradient_checkpointing == "auto"
    assert settings.checkpoints_activations("full") and not settings.checkpoints_activations("lora")
    assert TrainSettings.from_config({"gradient_checkpointing": True}).checkpoints_activations("lora")
    with pytest.raises(ConfigError, match=r"train.gradient_checkpointing: auto, true or false, got 'yes'"):
        TrainSettings.from_config({"gradient_checkpointing": "yes"})


def test_deepspeed_jobs_go_through_torchrun_even_on_one_gpu(tmp_path):
    """ZeRO-3 loading outside torchrun falls back to MPI discovery and dies: every DeepSpeed job is launched."""
    from polyalpaca.train.run import launches_workers

    from .test_train_support import make_job, make_tuning

    data = (tmp_path / "train.jsonl", tmp_path / "val.jsonl")

    def job(method, gpus, processes=1, stage=3):
        made = make_job(tmp_path, tmp_path, "llama", make_tuning(method, deepspeed_stage=stage), data,
                        processes=processes)
        return TrainJob(**{**made.to_dict(), "gpus": gpus})

    assert launches_workers(job("full", gpus=1))  # one GPU, ZeRO-3: torchrun with one process
    assert not launches_workers(job("full", gpus=1, stage=0))  # no DeepSpeed: in this process
    assert not launches_workers(job("lora", gpus=1))  # LoRA never uses DeepSpeed
    assert not launches_workers(job("full", gpus=0))  # CPU: same code, no DeepSpeed
    assert launches_workers(job("lora", gpus=0, processes=2))  # several processes: always torchrun
