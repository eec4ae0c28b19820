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
    # the smoke grid adds `realmodel`: the real SmolLM2 judging its own zero-shot run
    assert load_config(SMOKE)["studies"].keys() == {"chen2024", "bactrianx", "zeroshot", "realmodel"}


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
# Each asserted value sits next to the sentence of the paper that states it (verbatim from the plain
# text of the papers; table cells as extracted). Quotes are embedded: CI runs on a clean clone without
# the papers. docs/FIDELITY.md lists every setting per study, the choices where a paper is silent and
# the deviations (pinned in test_documented_deviations).
CHEN = {  # Chen et al., "Monolingual or Multilingual Instruction Tuning: Which Makes a Better Alpaca"
    "lid": "§3.4: We use the fastText framework (Joulin et al., 2017) with a recent checkpoint from "
           "Burchell et al. (2023).",  # OpenLID
    "fig6": "§4.4: We report the *average* of the score differences across all six test languages seen "
            "during the instruction-tuning time.",
    "lora_rank": "§3.2: we apply it to the attention matrices and use a rank of 8",
    "lora_table": "Table 1: LoRA modules rank scaling factor dropout learning rate global batch size\t"
                  "query, key, value 8 16 0.05 $3e^{-4}$ 128 5",
    "lora_epochs": "§3.2: We set a fixed training budget of 5 epochs and select the best checkpoint based on "
                   "validation cross-entropy.",
    "batch": "§3.2: we maintain the same global batch size for each tuning technique: 128 for LoRA and 256 for "
             "full-parameter fine-tuning.",
    "full_table": r"Table 1: Full-parameter	learning rate global batch size epochs	$\frac{3}{2e^{-5}}$ 256 3",
    "full_epochs": "§3.2: For full-parameter fine-tuning, we follow the strategy of Alpaca by training for 3 epochs "
                   "with a warmup ratio of 0.03.",
    "data": "§3.1: We use the publicly available cleaned version.³ / ³https://huggingface.co/datasets/yahma/ "
            "alpaca-cleaned",
    "langs": "§3.1: The seed data is then translated by us into eight languages: Bulgarian (bg), Czech (cs), "
             "Chinese (zh), German (de), Finnish (fi), French (fr), Russian (ru), and Spanish (es)",
    "multi": "§3.1: for *multilingual* tuning, we combine and shuffle the data in all languages.",
    "downsampled": "§3.1: training on a *multi-lingual dataset downsampled* randomly to the size of a single language",
    "english": "§3.1: we test a naive baseline using an *English* instruction-tuned model to decode all languages.",
    "pythia": "§2.4: We experiment with the full range from 70M to 12B.",
    "bloom": "§2.4: We use the checkpoints from 560M to 7.1B for experiments.",
    "llama": "§2.4: We report its 7B model's performance.",
    "openllama": "§2.4: Similarly, we use the 7B version.",
    "full_bloom": "§4.1: Moving on to full-parameter fine-tuning with BLOOM in Figure 4",
    "test": "§3.3: We employ native speakers to manually translate 50 prompts sampled from OpenAssistant",
    "seen": "§3.3: The *seen* category includes six languages: English, Spanish, French, Bulgarian, Russian, "
            "and Chinese.",
    "unseen": "§3.3: For *unseen* tests, we pick Bengali and Norwegian.",
    "judge": "§3.4: We used GPT-3.5 as the judge.⁶ / ⁶gpt-3.5-turbo-0613",
    "score": "§3.4: $score = eval_score \\times language_id$. It ranges between 0 and 150.",
    "fig5": "Figure 5: LoRA and full-parameter fine-tuning with BLOOM at different sizes, and tested on unseen "
            "languages.",
    "fig7": "§4.5: we plot the evaluation scores for multilingual, downsampled multilingual, and monolingual LoRA "
            "tuning on six languages.",
}
BACTRIAN = {  # Li et al., "Bactrian-X: Multilingual Replicable Instruction-Following Models with Low-Rank Adaptation"
    "peft": "§4: We train our LoRA adapters (Hu et al., 2022) using PyTorch with the HuggingFace PEFT implementation",
    "batch": "Table 7: batch size | 128 | 128 |",
    "lr": "Table 7: learning rate | 3e-4 | 3e-4 |",
    "r": "Table 7: lora r | 64 | 16 |",
    "alpha": "Table 7: lora alpha | 16 | 16 |",
    "dropout": "Table 7: lora dropout | 0.05 | 0.05 |",
    "steps": "Table 7: steps | 100k | 5k |",
    "max_length": "Table 7: max seq length | 768 | 1024 | (Multi | Mono); Limitations: the maximum sequence length "
                  "for multilingual models was set to 768 sub-word units.",
    "loss": "App. C: during the fine-tuning process, the instructions are masked, and the loss is computed only "
            "for the responses.",
    "data": "§3.1: We use English instructions developed for Alpaca (52K) and Dolly (15K)",
    "code": "§3.1: we identify instructions containing programming-related content based on a keyword-matching "
            "method and exclude them from the translation process.",
    "models": "§4: Given limitations of computation resources, we use base LLMs with 7B and 13B parameters only.",
    "no_bloom_13b": "§4: We do not train BX (13B) because BLOOM (13B) is not available.",
    "mono": "§4: we additionally train some 7B monolingual Bactrian models (BM) for analysis",
    "vicuna": "§6: We adopt a challenging set of 80 questions covering 8 categories from Chiang et al. (2023) for "
              "open-ended question evaluation.",
    "gpt4": "§6: we provide two answers from different models in a single prompt, and ask GPT-4 to rate the answers",
    "swap": "§6: To ensure fairness, we interchange the order of the provided answers, and assign scores twice for "
            "each question.",
}
ZEROSHOT = {  # Chirkova & Nikoulina, "Zero-shot cross-lingual transfer in instruction tuning of large language models"
    "models": "§4: (1) LLaMA-2 at 7B and 13B sizes, (2) TowerBase-7B, built on top of LLaMa-2-7B",
    "methods": "§4: We consider two most popular supervised finetuning techniques: full finetuning and LoRA "
               "finetuning. We train all listed model configurations with three learning rates (LRs)",
    "lrs": "§5: with LR of 1e-5 (1e-4 for LoRa adaptation). The lower LR of 1e-6 leads to lower relevance scores "
           "in some languages, due to model under-training. On the other side, the higher LR of 1e-4 leads to "
           "overfitting",
    "steps": "App. B: We train models on English data for 1k steps with a batch size of 4000 tokens and use the "
             "last checkpoint for all models.",
    "schedule": "App. B: We use Adam optimizer with standard inverse square root LR schedule and without warm up, "
                "and update model parameters after processing each 4 mini-batches.",
    "data": "App. B: Dolly Databricks (2023) (CC BY-SA 3.0 license), 15k crowdsourced instructions covering 7 "
            "different categories, and LIMA Zhou et al. (2023) (CC BY-NC-SA license), 1k samples",
    "dt": "App. B: we translate it automatically into French, Portuguese and Russian using NLLB-3.3B",
    "uniform": "App. B: The resulting four-language data is then sampled uniformly for mini-batch creation during "
               "training.",
    "decoding": "App. B: We generate responses of all models for translated instructions using greedy decoding "
                "with the repeat penalty of 1.1.",
    "langs": "App. B: We evaluate responses in four languages: English, French, Portuguese, and Russian.",
    "lid": "App. B: Model lid.176.bin available at https://fasttext.cc/docs/en/language-identification.html.",
    "spell": "App. B: conduct the spell checking of words using the Hunspell",
    "relevance": "App. B: evaluate relevance to the task on a binary scale (relevant / not relevant)",
    "criteria": "§3: we judge them with 6 criteria: helpfulness (how helpful in general is the response for the "
                "user), language correctness (does the language of the response match the language of the task), "
                "fluency, factual accuracy, logical coherence and harmlessness.",
    "scale": "App. B: We also use the same scale from 1 to 3 for each criteria as in (Zhang et al., 2023a)",
}


def test_chen_presets(full):
    lora, ft = full["tunings"]["chen-lora"], full["tunings"]["chen-full"]
    lid = [m for m in full["studies"]["chen2024"]["metrics"] if full["metrics"][m]["kind"] == "lid"]
    assert [full["metrics"][m]["lid_model"] for m in lid] == ["openlid"], CHEN["lid"]
    assert full["figures"]["plots"]["fig6"]["languages"] == ["en", "es", "fr", "bg", "ru", "zh"], CHEN["fig6"]
    assert lora["method"] == "lora", CHEN["lora_rank"]
    assert lora["lora"] == {"r": 8, "alpha": 16, "dropout": 0.05}, (CHEN["lora_rank"], CHEN["lora_table"])
    assert lora["learning_rate"] == 3e-4, CHEN["lora_table"]
    assert lora["global_batch_size"] == 128, CHEN["batch"]
    assert lora["epochs"] == 5 and lora["select_best"] == "val_loss", CHEN["lora_epochs"]
    # "query, key, value" (Table 1): fused in GPT-NeoX and BLOOM, separate in LLaMA
    assert full["families"]["gpt_neox"]["lora_target_modules"] == ["query_key_value"], CHEN["lora_table"]
    assert full["families"]["bloom"]["lora_target_modules"] == ["query_key_value"], CHEN["lora_table"]
    assert full["families"]["llama"]["lora_target_modules"] == ["q_proj", "k_proj", "v_proj"], CHEN["lora_table"]
    assert ft["method"] == "full"
    assert ft["learning_rate"] == 2e-5, CHEN["full_table"]
    assert ft["global_batch_size"] == 256, CHEN["batch"]
    assert ft["epochs"] == 3 and ft["warmup_ratio"] == 0.03, CHEN["full_epochs"]


def test_chen_data_models_and_evaluation(full):
    assert full["sources"]["alpaca"]["hf"] == "yahma/alpaca-cleaned", CHEN["data"]
    eight = {"bg", "cs", "zh", "de", "fi", "fr", "ru", "es"}
    ts = full["trainsets"]
    assert {ts[f"alpaca-mono-{lang}"]["lang"] for lang in eight} == eight, CHEN["langs"]
    assert ts["alpaca-multi"]["recipe"] == "multi" and set(ts["alpaca-multi"]["languages"]) == eight | {"en"}, \
        CHEN["multi"]
    assert ts["alpaca-multi-ds"]["recipe"] == "multi_downsampled", CHEN["downsampled"]
    assert ts["alpaca-multi-ds"]["budget_of"] == "alpaca-en", CHEN["downsampled"]
    assert (ts["alpaca-en"]["recipe"], ts["alpaca-en"]["source"], ts["alpaca-en"]["lang"]) == ("mono", "alpaca", "en"), \
        CHEN["english"]

    runs = study_runs(full, "chen2024")
    lora_models = {r.model for r in runs if r.tuning == "chen-lora"}
    pythia = {m for m in lora_models if m.startswith("pythia-")}
    bloom = {m for m in lora_models if m.startswith("bloom-")}
    assert {full["models"][m]["params_b"] for m in pythia} == {0.07, 0.16, 0.41, 1.0, 1.4, 2.8, 6.9, 12.0}, \
        CHEN["pythia"]
    assert {full["models"][m]["params_b"] for m in bloom} == {0.56, 1.1, 1.7, 3.0, 7.1}, CHEN["bloom"]
    assert full["models"]["llama-7b"]["hf"] == "huggyllama/llama-7b" and "llama-7b" in lora_models, CHEN["llama"]
    assert "openllama-7b" in lora_models, CHEN["openllama"]
    assert {r.model for r in runs if r.tuning == "chen-full"} == bloom, CHEN["full_bloom"]

    study = full["studies"]["chen2024"]
    assert study["testset"] == "oasst_test", CHEN["test"]
    seen, unseen = ["en", "es", "fr", "bg", "ru", "zh"], ["bn", "no"]
    assert study["runs"][0]["languages"] == seen + unseen, (CHEN["seen"], CHEN["unseen"])
    judge = full["metrics"]["judge-single"]
    assert judge["kind"] == "judge_single" and full["judges"][judge["judge"]]["model"] == "gpt-3.5-turbo-0613", \
        CHEN["judge"]
    assert study["metrics"] == ["lid-openlid", "judge-single"], CHEN["score"]  # rating x language-ID match
    plots = full["figures"]["plots"]
    assert plots["fig5"]["family"] == "bloom" and plots["fig5"]["method"] == ["lora", "full"], CHEN["fig5"]
    assert plots["fig5"]["languages"] == "unseen", CHEN["fig5"]
    assert plots["fig7"]["method"] == "lora" and plots["fig7"]["languages"] == "seen", CHEN["fig7"]


def test_bactrian_presets(full):
    multi, mono = full["tunings"]["bactrian-lora-multi"], full["tunings"]["bactrian-lora-mono"]
    assert multi["lora"]["r"] == 64 and mono["lora"]["r"] == 16, BACTRIAN["r"]
    assert multi["max_steps"] == 100_000 and mono["max_steps"] == 5_000, BACTRIAN["steps"]
    assert "epochs" not in multi and "epochs" not in mono, BACTRIAN["steps"]
    assert multi["max_length"] == 768 and mono["max_length"] == 1024, BACTRIAN["max_length"]
    assert "max_length_by_family" not in multi and "max_length_by_family" not in mono, BACTRIAN["max_length"]
    for preset in (multi, mono):
        assert preset["method"] == "lora", BACTRIAN["peft"]
        assert preset["global_batch_size"] == 128, BACTRIAN["batch"]
        assert preset["learning_rate"] == 3e-4, BACTRIAN["lr"]
        assert preset["lora"]["alpha"] == 16, BACTRIAN["alpha"]
        assert preset["lora"]["dropout"] == 0.05, BACTRIAN["dropout"]
        assert preset["loss_on"] == "response", BACTRIAN["loss"]


# The paper gives no prompt format; the authors' released template is github.com/mbzuai-nlp/bactrian-x,
# templates/bactrian.json (quoted verbatim).
BACTRIAN_AUTHORS_TEMPLATE = {"prompt_input": "### Input:\n{instruction}\n\n{input}\n\n### Output:\n",
                             "prompt_no_input": "### Input:\n{instruction}\n\n### Output:\n"}


# Not stated in the paper: the authors' scripts/finetune_llama.sh and finetune_bloom.sh (quoted verbatim).
BACTRIAN_AUTHORS_LORA = {"llama": "--lora_target_modules 'q_proj,v_proj'", "bloom": "--lora_target_modules 'query_key_value'"}


def test_bactrian_lora_modules_are_the_authors(full):
    from polyalpaca.train.settings import resolve_tuning

    for tuning in ("bactrian-lora-multi", "bactrian-lora-mono"):
        for model, family in (("llama-7b", "llama"), ("bloom-7b1", "bloom")):
            quoted = BACTRIAN_AUTHORS_LORA[family].split("'")[1].split(",")
            assert list(resolve_tuning(full, model, tuning).lora.target_modules) == quoted, BACTRIAN_AUTHORS_LORA[family]


def test_bactrian_template_is_the_authors(full):
    from polyalpaca.templates import render_prompt

    assert {full["tunings"][t]["prompt_template"] for t in ("bactrian-lora-multi", "bactrian-lora-mono")} == {"bactrian"}
    assert render_prompt("bactrian", "Name a colour.", "in French") == \
        BACTRIAN_AUTHORS_TEMPLATE["prompt_input"].format(instruction="Name a colour.", input="in French")
    assert render_prompt("bactrian", "Name a colour.") == \
        BACTRIAN_AUTHORS_TEMPLATE["prompt_no_input"].format(instruction="Name a colour.")


def test_bactrian_data_models_and_evaluation(full):
    derive = full["sources"]["bactrian_en"]["derive"]
    assert derive["from"] == ["alpaca", "dolly"], BACTRIAN["data"]
    assert full["sources"]["dolly"]["hf"] == "databricks/databricks-dolly-15k", BACTRIAN["data"]
    assert derive["exclude_keywords"] == "code" and full["keyword_lists"]["code"], BACTRIAN["code"]
    runs = study_runs(full, "bactrianx")
    multi_models = {r.model for r in runs if r.tuning == "bactrian-lora-multi"}
    assert {full["models"][m]["params_b"] for m in multi_models} == {6.7, 13.0, 7.1}, BACTRIAN["models"]
    assert multi_models == {"llama-7b", "llama-13b", "bloom-7b1"}, BACTRIAN["no_bloom_13b"]
    assert all(full["models"][r.model]["params_b"] < 8 for r in runs if r.tuning == "bactrian-lora-mono"), \
        BACTRIAN["mono"]
    study = full["studies"]["bactrianx"]
    assert full["testsets"][study["testset"]]["source"] == "vicuna80", BACTRIAN["vicuna"]
    assert "vicuna_bench/question.jsonl" in full["sources"]["vicuna80"]["url"], BACTRIAN["vicuna"]
    pairwise = full["metrics"]["pairwise"]
    assert pairwise["kind"] == "judge_pairwise" and "pairwise" in study["metrics"], BACTRIAN["swap"]
    assert full["judges"][pairwise["judge"]]["model"].startswith("gpt-4"), BACTRIAN["gpt4"]


def test_zeroshot_presets(full):
    for method in ("full", "lora"):
        lrs = sorted(full["tunings"][f"zs-{method}-lr{lr}"]["learning_rate"] for lr in ("1e-6", "1e-5", "1e-4"))
        assert lrs == [1e-6, 1e-5, 1e-4], ZEROSHOT["lrs"]
        for lr in ("1e-6", "1e-5", "1e-4"):
            preset = full["tunings"][f"zs-{method}-lr{lr}"]
            assert preset["method"] == method, ZEROSHOT["methods"]
            assert preset["max_steps"] == 1000 and preset["batch_tokens"] == 4000, ZEROSHOT["steps"]
            assert preset["select_best"] == "last", ZEROSHOT["steps"]
            assert preset["gradient_accumulation_steps"] == 4, ZEROSHOT["schedule"]
            assert preset["lr_scheduler"] == "inverse_sqrt" and preset["warmup_ratio"] == 0.0, ZEROSHOT["schedule"]
            assert preset["weight_decay"] == 0.0, ZEROSHOT["schedule"]  # Adam: AdamW without weight decay
    assert full["decodings"]["zs-greedy"]["repetition_penalty"] == 1.1, ZEROSHOT["decoding"]
    assert full["studies"]["zeroshot"]["decoding"] == "zs-greedy", ZEROSHOT["decoding"]


def test_zeroshot_data_models_and_evaluation(full):
    runs = study_runs(full, "zeroshot")
    assert {r.model for r in runs} == {"llama2-7b", "llama2-13b", "towerbase-7b"}, ZEROSHOT["models"]
    assert full["models"]["towerbase-7b"]["hf"] == "Unbabel/TowerBase-7B-v0.1", ZEROSHOT["models"]
    ts = full["trainsets"]
    assert (ts["dolly-en"]["source"], ts["lima-en"]["source"]) == ("dolly", "lima"), ZEROSHOT["data"]
    assert ts["dolly-dt"]["source"] == "dolly" and ts["dolly-dt"]["languages"] == ["en", "fr", "pt", "ru"], \
        ZEROSHOT["dt"]
    assert full["translators"][full["translations"]["dolly"]["translator"]]["hf"] == "facebook/nllb-200-3.3B", \
        ZEROSHOT["dt"]
    assert ts["dolly-dt"]["recipe"] == "uniform", ZEROSHOT["uniform"]
    study = full["studies"]["zeroshot"]
    assert full["testsets"][study["testset"]]["languages"] == ["en", "fr", "pt", "ru"], ZEROSHOT["langs"]
    metrics = {name: full["metrics"][name] for name in study["metrics"]}
    assert metrics["lid"]["kind"] == "lid" and metrics["lid"]["lid_model"] == "lid176", ZEROSHOT["lid"]
    assert metrics["spell"]["kind"] == "spellcheck", ZEROSHOT["spell"]
    assert metrics["relevance"]["kind"] == "relevance", ZEROSHOT["relevance"]
    assert metrics["judge-criteria"]["kind"] == "judge_criteria", (ZEROSHOT["criteria"], ZEROSHOT["scale"])


# Where config.yaml differs from what a paper states (docs/FIDELITY.md, "Deviations found"). Pinned so
# that changing one of these values fails here: then update docs/FIDELITY.md and move the assert above.
DEVIATIONS = {
    "bactrian_vicuna40": "Bactrian-X §6: We select 5 questions from each category, resulting in 40 questions per "
                         "language.",
    "zs_judge": "Zero-shot App. B: We use the following model: gpt-3.5-turbo-0125",
    "zs_json": 'Zero-shot App. B: specify the flag response_format={ "type": "json_object" }',
    "zs_relevance": "Zero-shot App. B: evaluate relevance to the task on a binary scale (relevant / not relevant) "
                    "by prompting LLama-2-chat-7B",
}


def test_documented_deviations(full):
    assert "limit" not in full["testsets"]["vicuna80"], DEVIATIONS["bactrian_vicuna40"]
    criteria_judge = full["judges"][full["metrics"]["judge-criteria"]["judge"]]
    assert criteria_judge["model"] == "gpt-4-0613", DEVIATIONS["zs_judge"]
    assert criteria_judge["json_mode"] is False, DEVIATIONS["zs_json"]
    relevance_judge = full["judges"][full["metrics"]["relevance"]["judge"]]
    assert relevance_judge["backend"] == "openai" and relevance_judge["model"] == "gpt-3.5-turbo-0613", \
        DEVIATIONS["zs_relevance"]


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
