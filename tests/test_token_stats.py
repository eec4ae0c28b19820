"""Bactrian-X Table 1: tokens per example of each field under mBART-50, BLOOM and LLaMA tokenizers, by
languages seen / unseen in pre-training (the rules fetch_tokenizer, trainset_stats, token_stats_report).

The stage runs through Snakemake on a small project; the expected numbers are computed here by
tokenizing the trainset's records one by one with the tokenizers the run left behind.
"""

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from polyalpaca.config import load_config
from polyalpaca.data.tokenizer import TOKENIZER_PATTERNS, fetch_tokenizer
from polyalpaca.errors import ConfigError, PolyalpacaError
from polyalpaca.io import read_jsonl, write_json, write_jsonl
from polyalpaca.recipes.tokenizers import check_token_stats, stats_tokenizers, table_tokenizers
from polyalpaca.tiny import train_tokenizer
from polyalpaca.tiny.mbart import build_mbart50_tokenizer

from .conftest import REPO, no_slurm_env
from .test_recipes_workflow import CONFIG as RECIPES_CONFIG
from .test_recipes_workflow import english, french

BACTRIAN = ("We analyzed the tokenized texts in the 52 languages using the mBART-50, LLaMA, and BLOOM tokenizers, "
            "and present the statistics in Table 1.")
TABLE_1_HEADER = "Tokenizer | Vocab size | Lang | Instruction tokens | Input tokens | Response tokens | Total tokens"
TEXTS = ["Explain the topic in simple words.", "Expliquez le sujet avec des mots simples.",
         "Write a short poem about the sea.", "Écrivez un court poème sur la mer."] * 25


def test_table_1_uses_the_papers_tokenizers():
    paper = Path(REPO).parent / "shared" / "papers" / "001_3f6678c503611105.txt"
    if paper.is_file():  # the quotes are the paper's own words (CI's clean clone may have no papers beside it)
        text = paper.read_text(encoding="utf-8")
        assert BACTRIAN in text and TABLE_1_HEADER in text
    config = load_config(REPO / "config.yaml")
    block = config["studies"]["bactrianx"]["token_stats"]
    assert block == {"trainset": "bactrian-multi", "tokenizers": ["mbart-50", "bloom-7b1", "llama-7b"]}
    assert config["tokenizers"]["mbart-50"]["hf"] == "facebook/mbart-large-50"
    tokenizers = table_tokenizers(config, "bactrianx")
    assert tokenizers["mbart-50"]["seen"] == "all"  # "Since mBART-50 is trained on all 52 languages"
    assert {config["models"][m]["family"] for m in ("bloom-7b1", "llama-7b")} == {"bloom", "llama"}
    assert tokenizers["llama-7b"]["seen"] == config["families"]["llama"]["pretraining_languages"]
    assert "mbart-50" in stats_tokenizers(config, "bactrian-multi")


def test_tiny_mbart50_tokenizer_loads_like_the_hub_snapshot(tmp_path):
    from transformers import AutoTokenizer, MBart50Tokenizer

    build_mbart50_tokenizer(tmp_path / "tok", TEXTS, vocab_size=150)
    tok = AutoTokenizer.from_pretrained(str(tmp_path / "tok"))
    assert isinstance(tok, MBart50Tokenizer)
    assert tok.convert_ids_to_tokens([0, 1, 2, 3]) == ["<s>", "<pad>", "</s>", "<unk>"]  # fairseq ids
    assert tok.convert_tokens_to_ids("fr_XX") > 3 and tok.mask_token == "<mask>"
    ids = tok("Expliquez le sujet.", add_special_tokens=False)["input_ids"]
    assert 0 < len(ids) and tok.unk_token_id not in ids
    assert fetch_tokenizer("mbart-50", {"tiny": {"vocab_size": 150}}, tmp_path / "res/mbart-50", texts=TEXTS) == len(tok)


def test_fetch_tokenizer_takes_only_tokenizer_files_from_the_hub(tmp_path, monkeypatch):
    """The network edge faked: snapshot_download gets the hub id and tokenizer patterns; the folder is checked."""
    import huggingface_hub

    calls = []

    def fake_download(repo_id, revision=None, local_dir=None, allow_patterns=None):
        calls.append((repo_id, revision, allow_patterns))
        build_mbart50_tokenizer(local_dir, TEXTS, vocab_size=150)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    size = fetch_tokenizer("mbart-50", {"hf": "facebook/mbart-large-50"}, tmp_path / "mbart-50")
    assert calls == [("facebook/mbart-large-50", None, TOKENIZER_PATTERNS)] and size > 52
    assert not any(p.endswith((".bin", ".safetensors")) for p in TOKENIZER_PATTERNS)

    def offline(*args, **kwargs):
        raise OSError("Name or service not known")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(PolyalpacaError, match=r"tokenizers\.mbart-50: could not download the tokenizer of "
                                              r"'facebook/mbart-large-50'.*set tokenizers\.mbart-50\.path"):
        fetch_tokenizer("mbart-50", {"hf": "facebook/mbart-large-50"}, tmp_path / "again")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PolyalpacaError, match=r"(?s)tokenizers\.local: cannot load a tokenizer .*\[from .*empty\]"):
        fetch_tokenizer("local", {"path": str(tmp_path / "empty")}, tmp_path / "local")
    assert not (tmp_path / "local").exists()


def _config(**study_extra):
    config = yaml.safe_load(yaml.safe_dump(RECIPES_CONFIG))
    config["families"] = {"bloom": {"lora_target_modules": ["query_key_value"], "pretraining_languages": ["en"]},
                          "llama": {"lora_target_modules": ["q_proj"], "pretraining_languages": ["en", "fr"]}}
    config["models"] = {"tok-bloom": {"path": "raw/bloom", "family": "bloom", "params_b": 7.1},
                        "tok-llama": {"path": "raw/llama", "family": "llama", "params_b": 6.7}}
    config["tokenizers"] = {"mbart-50": {"tiny": {"vocab_size": 300}, "label": "mBART-50",
                                         "pretraining_languages": "all"}}
    config["studies"] = {"s": {"testset": "vicuna80", "decoding": "d", "metrics": [], "runs": [
        {"models": ["tok-bloom", "tok-llama"], "tunings": ["lora"], "trainsets": ["bactrian-multi"],
         "languages": ["en", "fr"]}],
        "token_stats": {"trainset": "bactrian-multi", "tokenizers": ["mbart-50", "tok-bloom", "tok-llama"]},
        **study_extra}}
    return config


def test_token_table_names_what_to_fix():
    from polyalpaca.config import validate_config

    config = validate_config(_config())
    check_token_stats(config)
    config["studies"]["s"]["token_stats"] = {"trainset": "alpaca-en", "tokenizers": ["mbart-50", "ghost", "tok-llama"]}
    del config["tokenizers"]["mbart-50"]["pretraining_languages"]
    del config["families"]["llama"]["pretraining_languages"]
    config["tokenizers"]["tok-bloom"] = {"tiny": {"vocab_size": 100}, "pretraining_languages": "all"}
    with pytest.raises(ConfigError) as err:
        check_token_stats(config)
    message = str(err.value)
    for expected in ("tokenizers.tok-bloom: also a key of models",
                     "studies.s.token_stats.trainset: 'alpaca-en' is not a trainset of the study's runs (bactrian-multi)",
                     "tokenizers.mbart-50.pretraining_languages: needed by studies.s.token_stats.tokenizers[0]",
                     "studies.s.token_stats.tokenizers[1]: 'ghost' is neither a key of tokenizers",
                     "families.llama.pretraining_languages: needed by studies.s.token_stats.tokenizers[2]"):
        assert expected in message, message


def _hand_counts(tmp_path, tokenizer_dir):
    """Average tokens per example of each field per language, tokenizing every record on its own."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    sums, examples = {}, {}
    for split in ("train", "val"):
        for record in read_jsonl(tmp_path / f"results/trainsets/bactrian-multi/{split}.jsonl"):
            lang = record["lang"]
            examples[lang] = examples.get(lang, 0) + 1
            for field in ("instruction", "input", "output"):
                n = len(tok(record[field], add_special_tokens=False)["input_ids"]) if record[field] else 0
                sums.setdefault(lang, {}).setdefault(field, 0)
                sums[lang][field] += n
    means = {lang: {f: n / examples[lang] for f, n in fields.items()} for lang, fields in sums.items()}
    for fields in means.values():
        fields["total"] = sum(fields.values())
    return len(tok), means


def test_rules_write_table_1_from_a_real_run(tmp_path):
    (tmp_path / "Snakefile").write_text("".join(f'include: "{REPO}/rules/{name}.smk"\n'
                                                for name in ("common", "data", "recipes")))
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(_config()))
    alpaca, dolly = english("alpaca", 30, code_every=10), english("dolly", 10)
    dolly[3]["input"] = "Context: the sea is large and deep."
    prompts = [{"id": f"v{i}", "prompt": f"Question {i}?", "lang": "en", "source": "vicuna80"} for i in range(3)]
    for name, records in (("alpaca", alpaca), ("dolly", dolly), ("vicuna80", prompts)):
        write_jsonl(tmp_path / "resources/sources" / f"{name}.jsonl", records)
        write_json(tmp_path / "resources/sources" / f"{name}.report.json", {"records": len(records)})
    kept = [r for r in alpaca + dolly if "Python" not in r["instruction"]]
    write_jsonl(tmp_path / "results/translate/bactrian_en/fr.jsonl", french(kept))
    texts = [r["instruction"] for r in kept] + [r["instruction"] for r in french(kept)]
    train_tokenizer(texts, vocab_size=300).save_pretrained(tmp_path / "resources/models/tok-bloom")
    train_tokenizer(texts[:20], vocab_size=280).save_pretrained(tmp_path / "resources/models/tok-llama")

    env = no_slurm_env(tmp_path)
    cmd = [sys.executable, "-m", "snakemake", "-s", str(tmp_path / "Snakefile"), "--directory", str(tmp_path),
           "--configfile", str(tmp_path / "config.yaml"), "--cores", "2", "results/tables/s_tokens.csv"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]

    rows = {(r["tokenizer"], r["lang"]): r for r in csv.DictReader((tmp_path / "results/tables/s_tokens.csv").open())}
    assert list(rows) == [("mbart-50", "all"), ("tok-bloom", "seen"), ("tok-bloom", "unseen"), ("tok-llama", "seen"),
                          ("tok-llama", "unseen")]
    folders = {"mbart-50": "resources/tokenizers/mbart-50", "tok-bloom": "resources/models/tok-bloom",
               "tok-llama": "resources/models/tok-llama"}
    groups = {"mbart-50": {"all": ["en", "fr"]}, "tok-bloom": {"seen": ["en"], "unseen": ["fr"]},
              "tok-llama": {"seen": ["en", "fr"], "unseen": []}}
    columns = {"instruction": "instruction_tokens", "input": "input_tokens", "output": "response_tokens",
               "total": "total_tokens"}
    for name, folder in folders.items():
        vocab, means = _hand_counts(tmp_path, tmp_path / folder)
        for group, langs in groups[name].items():
            row = rows[(name, group)]
            assert int(row["vocab_size"]) == vocab and row["languages"] == " ".join(langs)
            assert int(row["n_languages"]) == len(langs)
            for field, column in columns.items():
                if langs:
                    expected = sum(means[lang][field] for lang in langs) / len(langs)
                    assert float(row[column]) == pytest.approx(expected, rel=1e-5), (name, group, field)
                else:
                    assert row[column] == ""  # LLaMA here has seen every language: an empty unseen row
    assert float(rows[("mbart-50", "all")]["input_tokens"]) > 0  # the one record with an input
    assert rows[("mbart-50", "all")]["label"] == "mBART-50"
    page = (tmp_path / "results/tables/s_tokens.html").read_text()
    assert "as Bactrian-X Table 1" in page and "tok-llama (llama): no unseen language" in page

    # a label is cosmetic: only the table reruns, not the token counts
    config = _config()
    config["tokenizers"]["mbart-50"]["label"] = "mBART-50 (tiny)"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    dry = subprocess.run([*cmd, "-n"], capture_output=True, text=True, timeout=120, env=env)
    assert "token_stats_report" in dry.stdout and "trainset_stats" not in dry.stdout, dry.stdout[-3000:]
