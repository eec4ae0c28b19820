"""Config validation (schema + cross references), the grid expansion, and the paper presets."""

import copy

import pytest
import yaml

from polyalpaca.config import load_config, study_runs, translation_pairs, used_trainsets, validate_config
from polyalpaca.errors import ConfigError

from .conftest import REPO

FULL = REPO / "config.yaml"
SMOKE = REPO / "tests" / "smoke" / "config.yaml"


@pytest.fixture(scope="module")
def raw_full():
    return yaml.safe_load(FULL.read_text())


@pytest.fixture(scope="module")
def full():
    return load_config(FULL)


def _invalid(raw, edit):
    cfg = copy.deepcopy(raw)
    edit(cfg)
    with pytest.raises(ConfigError) as info:
        validate_config(cfg)
    return str(info.value)


def test_full_and_smoke_configs_are_valid():
    assert load_config(FULL)["studies"].keys() == {"chen2024", "bactrianx", "zeroshot"}
    assert load_config(SMOKE)["studies"].keys() == {"chen2024", "bactrianx", "zeroshot"}


def test_unknown_key_is_named(raw_full):
    msg = _invalid(raw_full, lambda c: c["tunings"]["chen-lora"]["lora"].update(rnak=8))
    assert "tunings.chen-lora.lora" in msg and "'rnak'" in msg


def test_unknown_top_level_key_is_named(raw_full):
    msg = _invalid(raw_full, lambda c: c.update(studys={}))
    assert "'studys'" in msg


def test_wrong_type_is_named(raw_full):
    msg = _invalid(raw_full, lambda c: c["tunings"]["chen-lora"]["lora"].update(r="eight"))
    assert "tunings.chen-lora.lora.r" in msg


def test_unknown_language_is_named(raw_full):
    msg = _invalid(raw_full, lambda c: c["trainsets"]["alpaca-mono-fr"].update(lang="xx"))
    assert "trainsets.alpaca-mono-fr.lang: 'xx' is not defined in languages" in msg


def test_undefined_model_is_named(raw_full):
    msg = _invalid(raw_full, lambda c: c["studies"]["chen2024"]["runs"][0]["models"].append("pythia-7b"))
    assert "studies.chen2024.runs[0].models[15]: 'pythia-7b' is not defined in models" in msg


def test_undefined_family_and_judge_are_named(raw_full):
    def edit(c):
        c["models"]["pythia-70m"]["family"] = "gptneox"
        c["metrics"]["judge-single"]["judge"] = "gpt5"

    msg = _invalid(raw_full, edit)
    assert "models.pythia-70m.family: 'gptneox' is not defined in families" in msg
    assert "metrics.judge-single.judge: 'gpt5' is not defined in judges" in msg


def test_language_outside_testset_is_named(raw_full):
    msg = _invalid(raw_full, lambda c: c["studies"]["zeroshot"]["runs"][0]["languages"].append("zh"))
    assert "studies.zeroshot.runs[0].languages[4]: 'zh' is not a language of testset 'alpacafarm_eval'" in msg


def test_yaml_error_names_file(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("languages: [en\n")
    with pytest.raises(ConfigError, match=str(bad)):
        load_config(bad)


def test_defaults_are_filled(full):
    assert full["on_bad_line"] == "fail"
    assert full["data"]["download_dir"] == "resources/downloads"
    assert full["decodings"]["chen-greedy"]["repetition_penalty"] == 1.0


def test_grid_expansion(full):
    runs = {r.id: r for r in study_runs(full, "chen2024")}
    # 15 models x 3 shared recipes x LoRA + 15 x 5 mono, 5 BLOOM x 8 x full
    assert len(runs) == 15 * 8 + 5 * 8
    assert runs["bloom-560m/alpaca-mono-fr/chen-lora"].languages == ("fr",)
    assert runs["bloom-560m/alpaca-multi/chen-full"].languages == ("en", "es", "fr", "bg", "ru", "zh", "bn", "no")
    zs = study_runs(full, "zeroshot")
    assert len(zs) == 3 * 6 * 3
    bx = {r.id for r in study_runs(full, "bactrianx")}
    assert "bloom-7b1/bactrian-multi/bactrian-lora-multi" in bx
    assert "alpaca-en" in used_trainsets(full)
    assert ("alpaca", "bg") in translation_pairs(full) and ("alpaca", "en") not in translation_pairs(full)
    assert ("vicuna80", "de") in translation_pairs(full)


# ----------------------------------------------------------------- paper presets, verbatim
def test_chen_presets(full):
    lora, ft = full["tunings"]["chen-lora"], full["tunings"]["chen-full"]
    assert lora["method"] == "lora"
    assert lora["lora"] == {"r": 8, "alpha": 16, "dropout": 0.05}
    assert lora["learning_rate"] == 3e-4 and lora["global_batch_size"] == 128 and lora["epochs"] == 5
    assert lora["select_best"] == "val_loss" and lora["loss_on"] == "all"
    # "query/key/value": fused in GPT-NeoX and BLOOM, separate in LLaMA
    assert full["families"]["gpt_neox"]["lora_target_modules"] == ["query_key_value"]
    assert full["families"]["bloom"]["lora_target_modules"] == ["query_key_value"]
    assert full["families"]["llama"]["lora_target_modules"] == ["q_proj", "k_proj", "v_proj"]
    assert ft["method"] == "full"
    assert ft["learning_rate"] == 2e-5 and ft["global_batch_size"] == 256 and ft["epochs"] == 3
    assert ft["warmup_ratio"] == 0.03


def test_bactrian_presets(full):
    multi, mono = full["tunings"]["bactrian-lora-multi"], full["tunings"]["bactrian-lora-mono"]
    assert multi["lora"]["r"] == 64 and mono["lora"]["r"] == 16
    for preset in (multi, mono):
        assert preset["lora"]["alpha"] == 16
        assert preset["max_length"] == 768 and preset["max_length_by_family"] == {"llama": 1024}
        assert preset["loss_on"] == "response"


def test_zeroshot_presets(full):
    for method in ("full", "lora"):
        lrs = sorted(full["tunings"][f"zs-{method}-lr{lr}"]["learning_rate"] for lr in ("1e-6", "1e-5", "1e-4"))
        assert lrs == [1e-6, 1e-5, 1e-4]
        for lr in ("1e-6", "1e-5", "1e-4"):
            preset = full["tunings"][f"zs-{method}-lr{lr}"]
            assert preset["method"] == method
            assert preset["max_steps"] == 1000 and preset["batch_tokens"] == 4000
            assert preset["gradient_accumulation_steps"] == 4
            assert preset["lr_scheduler"] == "inverse_sqrt" and preset["warmup_ratio"] == 0.0
    assert full["decodings"]["zs-greedy"]["repetition_penalty"] == 1.1
    assert full["studies"]["zeroshot"]["decoding"] == "zs-greedy"


def test_settings_defaults_come_from_the_schema_only():
    """The schema is the one home of defaults: settings classes take theirs from it, and a class that
    spells its own default where the schema has one fails at import."""
    from dataclasses import dataclass

    from polyalpaca.effects import node_at, schema_defaults
    from polyalpaca.generate.settings import DecodingParams
    from polyalpaca.translate.settings import TranslateSettings

    assert DecodingParams(name="p", max_new_tokens=8).stop == tuple(node_at(("decodings", "x", "stop"))[0]["default"])
    assert node_at(("translate", "device"))[0]["default"] == "auto"
    assert TranslateSettings().device == "cpu"  # auto without GPUs resolves to cpu
    assert TranslateSettings().beam_size == node_at(("translate", "beam_size"))[0]["default"]
    with pytest.raises(TypeError, match=r"Drift\.beam_size: the default lives in the schema \(translate\.beam_size"):
        @dataclass(frozen=True)
        @schema_defaults("translate")
        class Drift:
            beam_size: int = 5
