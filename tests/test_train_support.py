"""Shared helpers of the train tests (no tests here): a small learnable data set, tiny models, jobs."""

from __future__ import annotations

import random
from pathlib import Path

from polyalpaca.io import write_jsonl
from polyalpaca.templates import get_template
from polyalpaca.train import LoraParams, TrainJob, TrainSettings, TuningParams

FAMILY_TARGETS = {"gpt_neox": ("query_key_value",), "bloom": ("query_key_value",), "llama": ("q_proj", "v_proj")}
WORDS = ["red", "blue", "green", "cat", "dog", "sun", "moon", "tree", "fish", "bird", "rain", "snow"]


def learnable_records(count: int, seed: int = 0) -> list[dict]:
    """Records whose answer follows from the instruction (joining two words), half with an input."""
    rng = random.Random(seed)
    records = []
    for i in range(count):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        with_input = i % 2 == 0
        records.append({"id": f"r{i}", "instruction": f"Join {a} and {b}", "input": "use a dash" if with_input else "",
                        "output": f"{a}-{b}", "lang": "en", "source": "test"})
    return records


def tokenizer_texts(records: list[dict]) -> list[str]:
    texts = [f"{r['instruction']} {r['input']} {r['output']}" for r in records]
    for name in ("alpaca", "bactrian"):
        t = get_template(name)
        texts += [t.prompt, t.prompt_no_input] * 3
    return texts


def write_trainset(folder: Path, train: int = 48, val: int = 8, seed: int = 0) -> tuple[Path, Path]:
    records = learnable_records(train + val, seed)
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "train.jsonl", records[:train])
    write_jsonl(folder / "val.jsonl", records[train:])
    return folder / "train.jsonl", folder / "val.jsonl"


def build_models(root: Path, families=("gpt_neox", "bloom", "llama")) -> dict[str, Path]:
    from polyalpaca.tiny import build_causal_model

    texts = tokenizer_texts(learnable_records(200))
    return {family: build_causal_model(family, root / family, texts, hidden_size=32, layers=2, heads=4,
                                       vocab_size=600, seed=0) for family in families}


def make_tuning(method: str = "lora", family: str = "llama", **overrides) -> TuningParams:
    values = dict(name="t-test", method=method, learning_rate=3e-3 if method == "lora" else 1e-3,
                  prompt_template="alpaca", max_length=192, loss_on="response", global_batch_size=4,
                  micro_batch_size=2, max_steps=4, lr_scheduler="constant", eval_every=2, select_best="val_loss")
    if method == "lora":
        values["lora"] = LoraParams(r=8, alpha=16, dropout=0.0, target_modules=FAMILY_TARGETS[family])
    values.update(overrides)
    return TuningParams(**values)


def make_job(tmp: Path, base: Path, family: str, tuning: TuningParams, data: tuple[Path, Path],
             processes: int = 1, **settings) -> TrainJob:
    settings.setdefault("logging_steps", 1)
    return TrainJob(model=f"tiny-{family}", family=family, trainset="learn", base_model=str(base),
                    train_file=str(data[0]), val_file=str(data[1]),
                    output_dir=str(tmp / "models" / family / tuning.name),
                    checkpoint_dir=str(tmp / "checkpoints" / family / tuning.name),
                    tuning=tuning, settings=TrainSettings(**settings), processes=processes, threads=2, seed=1)
