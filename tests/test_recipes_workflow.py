"""The recipes rules through Snakemake on a small project: derive -> align -> trainsets -> stats -> tokens.csv.

Sources, translations and the base model's tokenizer are placed beforehand (their stages are tested
elsewhere); only the rules of rules/common.smk, data.smk and recipes.smk are included.
"""

import csv
import json
import subprocess
import sys

import yaml

from polyalpaca.io import read_jsonl, write_json, write_jsonl
from polyalpaca.tiny import train_tokenizer

from .conftest import REPO, no_slurm_env

LANG = {"en": {"name": "English", "nllb": "eng_Latn", "lid176": "en"},
        "fr": {"name": "French", "nllb": "fra_Latn", "lid176": "fr"}}
CONFIG = {
    "seed": 5,
    "languages": LANG,
    "sources": {
        "alpaca": {"path": "raw/alpaca.json", "format": "alpaca"},
        "dolly": {"path": "raw/dolly.jsonl", "format": "dolly"},
        "vicuna80": {"path": "raw/vicuna.jsonl", "format": "vicuna"},
        "bactrian_en": {"derive": {"from": ["alpaca", "dolly"], "exclude_keywords": "code"}, "format": "derived"},
    },
    "keyword_lists": {"code": ["code", "python", "program*"]},
    "families": {"gpt_neox": {"lora_target_modules": ["query_key_value"]}},
    "models": {"tok-model": {"path": "raw/model", "family": "gpt_neox", "params_b": 0.07}},
    "translators": {"t": {"tiny": {}}},
    "translations": {name: {"translator": "t", "shards": 1} for name in ("alpaca", "bactrian_en")}
    | {"vicuna80": {"translator": "t", "shards": 1, "fields": ["prompt"]}},
    "tunings": {"lora": {"method": "lora", "lora": {"r": 4, "alpha": 8, "dropout": 0.0}, "learning_rate": 1e-3,
                         "global_batch_size": 4, "max_steps": 2, "max_length": 64, "loss_on": "all",
                         "prompt_template": "alpaca"}},
    "decodings": {"d": {"max_new_tokens": 4}},
    "trainsets": {
        "alpaca-en": {"recipe": "mono", "source": "alpaca", "lang": "en"},
        "alpaca-mono-fr": {"recipe": "mono", "source": "alpaca", "lang": "fr"},
        "alpaca-multi-ds": {"recipe": "multi_downsampled", "source": "alpaca", "languages": ["en", "fr"],
                            "budget_of": "alpaca-en"},
        "bactrian-multi": {"recipe": "multi", "source": "bactrian_en", "languages": ["en", "fr"]},
    },
    "testsets": {"vicuna80": {"source": "vicuna80", "languages": ["en", "fr"], "translate_from": "en"}},
    "studies": {"s": {"testset": "vicuna80", "decoding": "d", "metrics": [], "runs": [
        {"models": ["tok-model"], "tunings": ["lora"], "trainsets": ["alpaca-en", "alpaca-multi-ds", "bactrian-multi"],
         "languages": ["en", "fr"]},
        {"models": ["tok-model"], "tunings": ["lora"], "trainsets": ["alpaca-mono-{lang}"], "languages": ["fr"]}]}},
}


def english(source, n, code_every=0):
    return [{"id": f"{source}-{i:06d}", "instruction": ("Write Python code for task" if code_every and i % code_every == 0
                                                         else "Describe item") + f" {i}.",
             "input": "", "output": f"Answer {i}.", "lang": "en", "source": source} for i in range(n)]


def french(records, drop=()):
    return [{**r, "instruction": "[fr] " + r["instruction"], "output": "[fr] " + r["output"], "lang": "fr",
             "source_id": r["id"], "translator": "t"} for i, r in enumerate(records) if i not in drop]


def test_rules_build_every_trainset_and_the_token_table(tmp_path):
    (tmp_path / "Snakefile").write_text("".join(f'include: "{REPO}/rules/{name}.smk"\n'
                                                for name in ("common", "data", "recipes")))
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    alpaca, dolly = english("alpaca", 120, code_every=10), english("dolly", 40, code_every=4)
    prompts = [{"id": f"v{i}", "prompt": f"Question {i}?", "lang": "en", "source": "vicuna80"} for i in range(5)]
    for name, records in (("alpaca", alpaca), ("dolly", dolly), ("vicuna80", prompts)):
        write_jsonl(tmp_path / "resources/sources" / f"{name}.jsonl", records)
        write_json(tmp_path / "resources/sources" / f"{name}.report.json", {"records": len(records)})
    kept = [r for r in alpaca + dolly if "Python" not in r["instruction"]]
    write_jsonl(tmp_path / "results/translate/alpaca/fr.jsonl", french(alpaca, drop={7, 8}))
    write_jsonl(tmp_path / "results/translate/bactrian_en/fr.jsonl", french(kept))
    write_jsonl(tmp_path / "results/translate/vicuna80/fr.jsonl",
                [{**p, "prompt": "[fr] " + p["prompt"], "lang": "fr", "source_id": p["id"]} for p in prompts])
    train_tokenizer([r["instruction"] for r in alpaca] + [r["instruction"] for r in french(alpaca)],
                    vocab_size=300).save_pretrained(tmp_path / "resources/models/tok-model")

    env = no_slurm_env(tmp_path)  # no slurmctld here: skip the Slurm plugin's scontrol wait
    cmd = [sys.executable, "-m", "snakemake", "-s", str(tmp_path / "Snakefile"), "--directory", str(tmp_path),
           "--configfile", str(tmp_path / "config.yaml"), "--cores", "2", "only_recipes"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]

    def split_sizes(name):
        return tuple(len(read_jsonl(tmp_path / f"results/trainsets/{name}/{s}.jsonl")) for s in ("train", "val"))

    # equal budget: the English set, the mono set and the downsampled set have the same sizes (118 aligned ids)
    assert split_sizes("alpaca-en") == split_sizes("alpaca-mono-fr") == split_sizes("alpaca-multi-ds") == (116, 2)
    report = json.loads((tmp_path / "resources/sources/bactrian_en.filter.json").read_text())
    assert report["removed_by_parent"] == {"alpaca": 12, "dolly": 10} and report["kept"] == len(kept)
    assert sum(split_sizes("bactrian-multi")) == 2 * len(kept)
    assert [r["lang"] for r in read_jsonl(tmp_path / "results/testsets/vicuna80/fr.jsonl")] == ["fr"] * 5
    rows = list(csv.DictReader((tmp_path / "results/tables/tokens.csv").open()))
    assert {(r["trainset"], r["lang"]) for r in rows} == {
        ("alpaca-en", "en"), ("alpaca-mono-fr", "fr"), ("alpaca-multi-ds", "en"), ("alpaca-multi-ds", "fr"),
        ("bactrian-multi", "en"), ("bactrian-multi", "fr")}
    assert all(r["tokenizer"] == "tok-model" and int(r["tokens"]) > int(r["examples"]) > 0 for r in rows)

    again = subprocess.run([*cmd, "-n"], capture_output=True, text=True, timeout=120, env=env)
    assert "Nothing to be done" in again.stdout + again.stderr, again.stdout[-3000:]
