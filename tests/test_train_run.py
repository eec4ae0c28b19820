"""Train stage end to end on tiny models (CPU): each family with LoRA and full weights, loss falls,
resume after a kill, best checkpoint by validation loss, adapter reload, empty-adapter check, torchrun."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from polyalpaca.errors import ConfigError
from polyalpaca.train import run_training
from polyalpaca.train.models import PROBE_FILE, load_base_model
from polyalpaca.train.verify import TrainCheckError, check_adapter_weights, verify_saved_run

from .test_train_support import build_models, make_job, make_tuning, write_trainset


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return build_models(tmp_path_factory.mktemp("base"))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_trainset(tmp_path_factory.mktemp("data"))


def _log(out: Path) -> dict:
    return json.loads((out / "train_log.json").read_text())


@pytest.mark.parametrize("family", ["gpt_neox", "bloom", "llama"])
@pytest.mark.parametrize("method", ["lora", "full"])
def test_each_family_trains_with_lora_and_full_weights(tmp_path, models, data, family, method):
    job = make_job(tmp_path, models[family], family, make_tuning(method, family), data)
    out = run_training(job)
    files = {p.name for p in out.iterdir()}
    if method == "lora":
        assert {"adapter_config.json", "adapter_model.safetensors"} <= files and "model.safetensors" not in files
        assert json.loads((out / "adapter_config.json").read_text())["r"] == 8
    else:
        assert {"config.json", "model.safetensors"} <= files and "adapter_config.json" not in files
    assert {"tokenizer.json", "tokenizer_config.json", "train_log.json"} <= files
    log = _log(out)
    assert (log["method"], log["steps"], log["base_model"]) == (method, 4, str(models[family]))
    assert log["tokens"] > 0 and log["train_seconds"] > 0 and log["hyperparameters"]["learning_rate"] > 0
    assert log["resolved"]["accumulation_steps"] == 2 and log["resolved"]["precision"] == "fp32"
    assert [v["step"] for v in log["val_losses"]] == [2, 4]
    assert log["verification"]["base_max_abs_diff"] > log["verification"]["reproduce_max_abs_diff"]
    assert not Path(job.checkpoint_dir).exists() and not job.staging_dir.exists()  # cleaned up, published


def test_token_budget_batches_with_the_inverse_sqrt_schedule(tmp_path, models, data):
    tuning = make_tuning("lora", "bloom", global_batch_size=None, batch_tokens=400, gradient_accumulation_steps=2,
                         lr_scheduler="inverse_sqrt", max_steps=3, eval_every=3, select_best="last")
    log = _log(run_training(make_job(tmp_path, models["bloom"], "bloom", tuning, data)))
    assert log["steps"] == 3 and log["resolved"]["accumulation_steps"] == 2
    assert log["resolved"]["global_batch"] == "2 micro batches x 400 tokens"
    rates = [entry["learning_rate"] for entry in log["losses"]]
    assert rates[0] == pytest.approx(3e-3) and rates[-1] < rates[0]  # no warmup, then decaying


def test_loss_falls_on_a_learnable_data_set(tmp_path, models, data):
    tuning = make_tuning("full", "llama", max_steps=16, learning_rate=3e-3, eval_every=8)
    log = _log(run_training(make_job(tmp_path, models["llama"], "llama", tuning, data)))
    losses = [entry["loss"] for entry in log["losses"]]
    assert sum(losses[-3:]) / 3 < 0.8 * losses[0]
    assert log["val_losses"][-1]["loss"] < log["val_losses"][0]["loss"]


class _Sabotage:
    """After ``step``, wreck the model so later checkpoints are worse: the best one comes earlier."""

    def __init__(self, step: int):
        from transformers import TrainerCallback

        outer = self

        class Callback(TrainerCallback):
            def on_step_end(self, args, state, control, model=None, **kwargs):
                if state.global_step == outer.step:
                    with torch.no_grad():
                        for name, param in model.named_parameters():
                            if param.requires_grad:
                                param.mul_(0).add_(torch.randn_like(param) * 0.5)

        self.step, self.callback = step, Callback()


@pytest.mark.parametrize("method", ["full", "lora"])
def test_best_checkpoint_is_the_one_with_the_lowest_val_loss(tmp_path, models, data, method):
    tuning = make_tuning(method, "gpt_neox", max_steps=6, eval_every=1, learning_rate=1e-2 if method == "lora" else 3e-3)
    job = make_job(tmp_path, models["gpt_neox"], "gpt_neox", tuning, data, save_total_limit=2)
    out = run_training(job, callbacks=[_Sabotage(3).callback])
    log = _log(out)
    val = {v["step"]: v["loss"] for v in log["val_losses"]}
    best_step = min(val, key=val.get)
    assert best_step < 3 and log["steps"] == 6  # trained on after the best step, kept the best
    assert log["best"] == {"step": best_step, "val_loss": val[best_step]}
    assert log["selected_checkpoint"].endswith(f"checkpoint-{best_step}")
    assert log["final_val_loss"] == pytest.approx(val[best_step], abs=1e-5)  # the saved model is the best one


class _Killed(Exception):
    pass


def _kill_after_first_save():
    from transformers import TrainerCallback

    class Kill(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            raise _Killed(f"killed after saving step {state.global_step}")

    return Kill()


def test_killed_run_resumes_from_its_checkpoint_and_ends_at_the_same_step(tmp_path, models, data):
    tuning = make_tuning("lora", "llama", max_steps=6, eval_every=2, select_best="last")
    job = make_job(tmp_path / "a", models["llama"], "llama", tuning, data)
    with pytest.raises(_Killed, match="step 2"):
        run_training(job, callbacks=[_kill_after_first_save()])
    assert not Path(job.output_dir).exists()  # nothing published by the killed job
    assert (Path(job.checkpoint_dir) / "checkpoint-2").is_dir()
    resumed = _log(run_training(job))
    assert resumed["resumed_from"].endswith("checkpoint-2") and resumed["steps"] == 6
    straight = _log(run_training(make_job(tmp_path / "b", models["llama"], "llama", tuning, data)))
    assert straight["resumed_from"] is None and straight["steps"] == 6
    # same data order and RNG state after the resume: the same validation curve
    assert [v["loss"] for v in resumed["val_losses"]] == pytest.approx([v["loss"] for v in straight["val_losses"]],
                                                                       rel=1e-4)


def test_run_killed_during_a_save_resumes_from_the_newest_complete_checkpoint(tmp_path, models, data, monkeypatch,
                                                                            caplog):
    """Killed while writing checkpoint-4 (after its weights and optimizer, before the trainer state the
    Trainer writes last): the restart sets checkpoint-4 aside and resumes from checkpoint-2."""
    from transformers.trainer_callback import TrainerState

    tuning = make_tuning("lora", "llama", max_steps=6, eval_every=2, select_best="last")
    job = make_job(tmp_path, models["llama"], "llama", tuning, data)
    save_state = TrainerState.save_to_json

    def killed_at_step_4(state, path):
        if state.global_step == 4:
            raise _Killed("killed while saving step 4")
        return save_state(state, path)

    with monkeypatch.context() as patch:
        patch.setattr(TrainerState, "save_to_json", killed_at_step_4)
        with pytest.raises(_Killed, match="step 4"):
            run_training(job)
    ckpt = Path(job.checkpoint_dir)
    cut = ckpt / "checkpoint-4"
    assert any(cut.glob("adapter_model.*")) and not (cut / "trainer_state.json").exists()
    with caplog.at_level("WARNING", logger="polyalpaca.train.checkpoints"):
        resumed = _log(run_training(job))
    assert resumed["resumed_from"].endswith("checkpoint-2") and resumed["steps"] == 6
    assert "checkpoint-4 is incomplete (no trainer_state.json" in caplog.text


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a usable GPU")
def test_a_job_given_a_gpu_it_cannot_see_refuses_to_train_on_cpu(tmp_path, models, data):
    from polyalpaca.errors import PolyalpacaError

    job = make_job(tmp_path, models["llama"], "llama", make_tuning("lora", "llama"), data)
    job = type(job)(**{**job.to_dict(), "gpus": 1})
    with pytest.raises(PolyalpacaError, match=r"given 1 GPU\(s\) \(resources.gpu\) but torch sees 0 .*Not training on CPU"):
        run_training(job)
    assert not Path(job.checkpoint_dir).exists() and not Path(job.output_dir).exists()


def test_deepspeed_shards_without_their_latest_tag_are_incomplete(tmp_path):
    from polyalpaca.train.checkpoints import incomplete_reason, newest_complete_checkpoint

    for step, latest in ((2, True), (4, False)):
        path = tmp_path / f"checkpoint-{step}"
        (path / f"global_step{step}").mkdir(parents=True)
        (path / "trainer_state.json").write_text(json.dumps({"global_step": step}))
        if latest:
            (path / "latest").write_text(f"global_step{step}")
    assert incomplete_reason(tmp_path / "checkpoint-4") == "DeepSpeed shards without their 'latest' tag"
    assert newest_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-2")
    assert (tmp_path / "incomplete-checkpoint-4").is_dir() and not (tmp_path / "checkpoint-4").exists()


def test_run_killed_after_its_last_checkpoint_publishes_the_best_one_without_extra_steps(tmp_path, models, data):
    from transformers import TrainerCallback

    class KillAtEnd(TrainerCallback):
        def on_train_end(self, args, state, control, **kwargs):
            raise _Killed("killed before publishing")

    tuning = make_tuning("full", "llama", max_steps=4, eval_every=1)
    job = make_job(tmp_path, models["llama"], "llama", tuning, data, keep_checkpoints=True, save_total_limit=2)
    with pytest.raises(_Killed):
        run_training(job, callbacks=[_Sabotage(3).callback, KillAtEnd()])
    log = _log(run_training(job))  # the Trainer itself would train a 5th step from checkpoint-4
    assert log["steps"] == 4 and log["resumed_from"].endswith("checkpoint-4")
    best = log["best"]["step"]
    assert best < 3 and log["selected_checkpoint"].endswith(f"checkpoint-{best}")
    published = (Path(job.output_dir) / "model.safetensors").read_bytes()
    assert published == (Path(job.checkpoint_dir) / f"checkpoint-{best}" / "model.safetensors").read_bytes()


def test_adapter_reload_reproduces_the_trained_logits(tmp_path, models, data):
    from peft import PeftModel

    job = make_job(tmp_path, models["bloom"], "bloom", make_tuning("lora", "bloom"), data, keep_checkpoints=True)
    out = run_training(job)
    probe = torch.load(Path(job.checkpoint_dir) / PROBE_FILE)
    base = load_base_model(models["bloom"], torch.float32)
    with torch.no_grad():
        base_logits = base(input_ids=probe["input_ids"], attention_mask=probe["attention_mask"]).logits
        model = PeftModel.from_pretrained(base, str(out)).eval()
        logits = model(input_ids=probe["input_ids"], attention_mask=probe["attention_mask"]).logits
    mask = probe["attention_mask"].bool()
    assert torch.allclose(logits[mask], probe["logits"][mask], atol=1e-5)
    assert not torch.allclose(logits[mask], base_logits[mask], atol=1e-4)


def test_an_empty_adapter_fails_the_check(tmp_path, models, data):
    from peft import LoraConfig, get_peft_model

    job = make_job(tmp_path, models["llama"], "llama", make_tuning("lora", "llama"), data, keep_checkpoints=True)
    run_training(job)
    base = load_base_model(models["llama"], torch.float32)
    untrained = get_peft_model(base, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"]))
    untrained.save_pretrained(tmp_path / "empty")  # LoRA B starts at zero: the identity adapter
    with pytest.raises(TrainCheckError, match="LoRA B matrices are zero"):
        check_adapter_weights(tmp_path / "empty")
    (tmp_path / "empty" / "adapter_model.safetensors").write_bytes(b"")
    with pytest.raises(TrainCheckError, match="missing or empty"):
        verify_saved_run(tmp_path / "empty", models["llama"], "lora", Path(job.checkpoint_dir) / PROBE_FILE)


def test_lora_modules_missing_from_the_model_name_the_family_key(tmp_path, models, data):
    tuning = make_tuning("lora", "llama", lora={"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ("q_proj",)})
    job = make_job(tmp_path, models["gpt_neox"], "gpt_neox", tuning, data)
    with pytest.raises(ConfigError, match=r"families\.gpt_neox\.lora_target_modules: \['q_proj'\]"):
        run_training(job)


def test_torchrun_two_cpu_processes_with_gloo(tmp_path, models, data):
    """Two workers under torchrun (gloo): each takes half the micro batches of a global batch."""
    tuning = make_tuning("full", "gpt_neox", global_batch_size=4, micro_batch_size=1, max_steps=3, eval_every=3)
    job = make_job(tmp_path, models["gpt_neox"], "gpt_neox", tuning, data, processes=2)
    log = _log(run_training(job, worker_env={"OMP_NUM_THREADS": "1"}))
    assert log["resolved"]["processes"] == 2 and log["resolved"]["accumulation_steps"] == 2
    assert log["steps"] == 3 and log["verification"]["reproduce_max_abs_diff"] <= log["verification"]["tolerance"]
