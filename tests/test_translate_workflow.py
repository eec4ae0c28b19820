"""The translate rules through Snakemake: tiny NLLB built, converted, a source translated in 2 shards, merged;
a rerun is a no-op. (Kept to 5 jobs: each job pays the imports of torch/transformers/CTranslate2.)"""

import json
import subprocess
import sys

import yaml

from polyalpaca.io import read_jsonl, write_jsonl

from .conftest import REPO

LANGS = {"en": {"name": "English", "nllb": "eng_Latn", "lid176": "en"},
         "fr": {"name": "French", "nllb": "fra_Latn", "lid176": "fr"},
         "de": {"name": "German", "nllb": "deu_Latn", "lid176": "de"}}
CONFIG = {
    "languages": LANGS,
    "sources": {"alpacamini": {"path": "data/alpacamini.jsonl", "format": "alpaca"},
                "prompts": {"path": "data/prompts.jsonl", "format": "prompts", "languages": ["en"]}},
    "families": {"llama": {"lora_target_modules": ["q_proj"]}},
    "models": {"m": {"family": "llama", "params_b": 0.01, "tiny": {}}},
    "tunings": {"t": {"method": "full", "learning_rate": 1e-3, "global_batch_size": 2, "micro_batch_size": 2,
                      "max_steps": 1,
                      "max_length": 64, "loss_on": "all", "prompt_template": "alpaca"}},
    "trainsets": {"mini-fr": {"recipe": "mono", "source": "alpacamini", "lang": "fr"}},
    "testsets": {"prompts": {"source": "prompts", "languages": ["en"]}},
    "decodings": {"g": {"max_new_tokens": 4}},
    "studies": {"s": {"testset": "prompts", "decoding": "g", "metrics": [],
                      "runs": [{"models": ["m"], "tunings": ["t"], "trainsets": ["mini-fr"], "languages": ["en"]}]}},
    "translators": {"tiny-nllb": {"tiny": {"d_model": 32, "encoder_layers": 1, "decoder_layers": 1,
                                           "ffn_dim": 64, "vocab_size": 300}}},
    "translations": {"alpacamini": {"translator": "tiny-nllb", "shards": 2}},
    "translate": {"threads": 1, "beam_size": 1, "filters": {r: {"action": "flag"} for r in
                                                             ("length_ratio", "repetition", "wrong_language")}},
}
ALPACA = [{"id": f"a{i}", "instruction": f"Give {i} tips for staying healthy.", "input": "" if i % 2 else "Be brief.",
           "output": f"1. Eat well.\n2. Sleep {i} hours. See https://example.com.", "lang": "en",
           "source": "alpacamini"} for i in range(5)]
PROMPTS = [{"id": f"p{i}", "prompt": f"What is the capital of country number {i}?", "lang": "en",
            "source": "prompts"} for i in range(3)]


def _snakemake(workdir, *args):
    return subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
                           str(workdir), "--configfile", str(workdir / "config.yaml"), "--cores", "2", *args],
                          cwd=workdir, capture_output=True, text=True, timeout=600)


def test_translate_rules_run_end_to_end(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    write_jsonl(tmp_path / "resources/sources/alpacamini.jsonl", ALPACA)  # the data stage's output
    write_jsonl(tmp_path / "resources/sources/prompts.jsonl", PROMPTS)
    proc = _snakemake(tmp_path, "only_translate")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]

    merged = read_jsonl(tmp_path / "results/translate/alpacamini/fr.jsonl")
    assert [r["source_id"] for r in merged] == [r["id"] for r in ALPACA]
    assert all(r["lang"] == "fr" and r["translator"] == "tiny-nllb" and r["id"] == f"{r['source_id']}-fr"
               for r in merged)
    assert all("https://example.com" in r["output"] and r["output"].count("\n") == 1 for r in merged)
    assert [r["input"] == "" for r in merged] == [r["input"] == "" for r in ALPACA]
    report = json.loads((tmp_path / "results/translate/alpacamini/fr.report.json").read_text())
    assert report["records_in"] == report["records_out"] == 5 and report["shards"] == 2
    assert (tmp_path / "resources/nllb/tiny-nllb-ct2-int8/model.bin").is_file()
    assert (tmp_path / "logs/translate/translate_shard/alpacamini/fr/1.log").read_text()
    assert (tmp_path / "results/benchmarks/translate/translate_shard/alpacamini/fr/0.tsv").is_file()
    assert not list((tmp_path / "results/translate/.progress").rglob("*.jsonl"))

    again = _snakemake(tmp_path, "only_translate", "-n")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr, again.stdout[-2000:]
