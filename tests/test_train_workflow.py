"""Rule train_run through Snakemake: a tiny model and a small trainset in, a verified adapter out."""

import json
import subprocess
import sys

import yaml

from .conftest import REPO, no_slurm_env
from .test_train_support import build_models, write_trainset

LANG = {"en": {"name": "English", "nllb": "eng_Latn", "lid176": "en"}}
CONFIG = {
    "languages": LANG,
    "sources": {"alpaca": {"path": "raw/alpaca.json", "format": "alpaca"},
                "prompts": {"path": "raw/prompts.jsonl", "format": "prompts"}},
    "families": {"llama": {"lora_target_modules": ["q_proj", "v_proj"]}},
    "models": {"tiny": {"path": "raw/model", "family": "llama", "params_b": 0.01}},
    "tunings": {"lora": {"method": "lora", "lora": {"r": 4, "alpha": 8, "dropout": 0.0}, "learning_rate": 1e-2,
                         "global_batch_size": 4, "micro_batch_size": 2, "epochs": 3, "max_length": 192,
                         "loss_on": "response", "prompt_template": "alpaca"}},
    "decodings": {"d": {"max_new_tokens": 4}},
    "trainsets": {"learn": {"recipe": "mono", "source": "alpaca", "lang": "en"}},
    "testsets": {"t": {"source": "prompts", "languages": ["en"]}},
    "studies": {"s": {"testset": "t", "decoding": "d", "metrics": [], "runs": [
        {"models": ["tiny"], "tunings": ["lora"], "trainsets": ["learn"], "languages": ["en"]}]}},
    # the smoke-style settings: a step cap, checkpoints in a custom folder
    "train": {"caps": {"max_steps": 3, "max_train_examples": 24}, "checkpoint_root": "ckpt", "logging_steps": 1},
}


def test_rule_trains_one_run_and_is_then_up_to_date(tmp_path):
    (tmp_path / "Snakefile").write_text("".join(f'include: "{REPO}/rules/{name}.smk"\n' for name in ("common", "train")))
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    build_models(tmp_path / "resources/models", families=("llama",))
    (tmp_path / "resources/models/llama").rename(tmp_path / "resources/models/tiny")
    write_trainset(tmp_path / "results/trainsets/learn")

    env = no_slurm_env(tmp_path)  # no slurmctld here: skip the Slurm plugin's scontrol wait
    cmd = [sys.executable, "-m", "snakemake", "-s", str(tmp_path / "Snakefile"), "--directory", str(tmp_path),
           "--configfile", str(tmp_path / "config.yaml"), "--cores", "2", "only_train"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]

    out = tmp_path / "results/models/tiny/learn/lora"
    log = json.loads((out / "train_log.json").read_text())
    assert log["steps"] == 3 and log["hyperparameters"]["max_steps"] == 3  # train.caps.max_steps applied
    assert log["data"]["train"]["examples"] == 24  # train.caps.max_train_examples applied
    assert log["hyperparameters"]["lora"]["target_modules"] == ["q_proj", "v_proj"]  # from families:
    assert log["verification"]["adapter"]["lora_b_nonzero"] == 2 * 2  # 2 layers x (q, v)
    assert (out / "adapter_model.safetensors").is_file()
    assert (tmp_path / "logs/train/tiny/learn/lora.log").read_text().count("step 1: loss=") == 1
    assert (tmp_path / "results/benchmarks/train/tiny/learn/lora.tsv").is_file()
    assert not (tmp_path / "ckpt/tiny/learn/lora").exists()  # checkpoints removed after publishing

    again = subprocess.run([*cmd, "-n"], capture_output=True, text=True, timeout=120, env=env)
    assert "Nothing to be done" in again.stdout + again.stderr, again.stdout[-3000:]
