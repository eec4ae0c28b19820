"""Task modifiers (Chirkova & Nikoulina, §3, Table 1, App. B): the modified test prompts, the language a
response must be in, the judge's Helpfulness and Modifier fulfilment, and Table 1."""

from __future__ import annotations

import copy

import pytest

from polyalpaca.config import load_config
from polyalpaca.errors import ConfigError, DataError
from polyalpaca.evaluate.judge.parsers import parse_answer
from polyalpaca.evaluate.judge.scoring import Judgment, Scorer
from polyalpaca.evaluate.judge.settings import JudgeJob
from polyalpaca.evaluate.judge.targets import template_path
from polyalpaca.evaluate.judge.templates import load_template
from polyalpaca.figures.modifiers import modifier_table
from polyalpaca.figures.plotting import Settings
from polyalpaca.figures.specs import PlotSpec, ScoreInput
from polyalpaca.io import write_jsonl
from polyalpaca.recipes import TestsetSpec
from polyalpaca.recipes.modifiers import modified_prompts

from .conftest import REPO

TABLE_1 = ["Answer briefly in just a few sentences.", "Give a detailed answer.", "List N options (N random from 2 to 10)",
           "Answer in X language. (X: Fr, Pt, De)", "Use markdown formatting in the answer.",
           "Format your answer as an html page.", "Begin each point with the sign –>",
           "Capitalize each first letter in the answer.", "Write in a scientific style.",
           "The answer should use simple words."]
REPLY = ("App. B: Fr/Pt/Ru for instructions in English, Fr/Pt/De for instructions in Russian, Fr/Ru/De for "
         "instructions in Portuguese and Pt/Ru/De for instructions in French")
COUNTS = 'App. B: The total amount of tasks for each modifier varies from 12 ("List N options") to 100 ("Respond in a given language").'
HELPFULNESS = "App. B: As with main evaluation criteria, we ignore responses in the wrong language when computing Helpfulness."


@pytest.fixture(scope="module")
def full():
    return load_config(REPO / "config.yaml")


def _prompts(lang, n=30):
    return [{"id": f"p{i:02d}", "prompt": f"instruction {i} ({lang})", "lang": lang, "testset": "t",
             "category": "list" if i < 15 else "other"} for i in range(n)]


def test_config_holds_table_1(full):
    items = full["testsets"]["alpacafarm_modifiers"]["modifiers"]["items"]
    english = [spec["text"]["en"] for spec in items.values() if isinstance(spec["text"]["en"], str)]
    stated = [m for m in TABLE_1 if "N options" not in m and "X language" not in m]
    assert [m for m in english if m in stated] == stated, TABLE_1
    assert items["list-n"]["text"]["en"] == "List {n} options." and items["list-n"]["n"] == [2, 10], TABLE_1[2]
    assert items["reply-language"]["reply_languages"] == {"en": ["fr", "pt", "ru"], "ru": ["fr", "pt", "de"],
                                                          "pt": ["fr", "ru", "de"], "fr": ["pt", "ru", "de"]}, REPLY
    assert (items["list-n"]["count"], items["reply-language"]["count"]) == (12, 100), COUNTS
    assert all(set(spec["text"]) == {"en", "fr", "pt", "ru"} for spec in items.values())
    study = full["studies"]["zeroshot_modifiers"]
    assert study["testset"] == "alpacafarm_modifiers" and "judge-modifiers" in study["metrics"]


def test_modified_prompts_same_ids_in_every_language(full):
    block = copy.deepcopy(full["testsets"]["alpacafarm_modifiers"]["modifiers"])
    for spec in block["items"].values():
        spec["count"] = min(spec["count"], 10)
    block["items"]["list-n"]["tasks"] = ["list"]
    by_lang = {lang: modified_prompts(_prompts(lang), block, lang, "testsets.x") for lang in ("en", "fr", "pt", "ru")}
    ids = {lang: [r["id"] for r in recs] for lang, recs in by_lang.items()}
    assert ids["en"] == ids["fr"] == ids["ru"] and len(ids["en"]) == 10 * len(block["items"])
    for lang, recs in by_lang.items():
        for rec in recs:
            base, item = rec["id"].split("~")
            assert rec["modifier"] == item and rec["prompt"].endswith("\n\n" + rec["modifier_text"])
            if item == "list-n":
                n = int(rec["modifier_text"].split()[-2 if lang != "ru" else -2])
                assert 2 <= n <= 10 and rec["category"] == "list"
            if item == "reply-language":
                assert rec["reply_lang"] in block["items"][item]["reply_languages"][lang], REPLY
                assert rec["modifier_text"] == block["items"][item]["text"][lang][rec["reply_lang"]]
    replies = [r["reply_lang"] for r in by_lang["en"] if r["modifier"] == "reply-language"]
    assert len(set(replies)) > 1  # drawn, not fixed


def test_modifier_errors_name_the_key(full):
    block = copy.deepcopy(full["testsets"]["alpacafarm_modifiers"]["modifiers"])
    del block["items"]["brief"]["text"]["pt"]
    with pytest.raises(ConfigError, match=r"testsets.m.modifiers.items.brief.text: no text in 'pt'"):
        TestsetSpec("m", "s", ("en", "pt"), "en", modifiers=block)
    block = copy.deepcopy(full["testsets"]["alpacafarm_modifiers"]["modifiers"])
    with pytest.raises(DataError, match=r"items.brief.count: 20 but only 5 prompts in 'en'"):
        modified_prompts(_prompts("en", 5), block, "en", "testsets.m")


def test_modifier_judge_keeps_fulfilment_for_a_wrong_language_response(full):
    template = load_template(template_path(full, "judge-modifiers"), "judge_criteria")
    text = template.render(question="Explain X.\n\nAnswer in French.", answer="Sure.", modifier="Answer in French.",
                           language="English", lang="en")[-1]["content"]
    assert "[Additional instruction in the Task]: Answer in French." in text
    parsed = parse_answer('{"Helpfulness": 3, "Modifier": 1}', template)
    assert parsed.value == {"helpfulness": 3, "modifier_fulfillment": 1}
    job = JudgeJob(metric="judge-modifiers", kind="judge_criteria", judge="j", model="m", trainset="t", tuning="u",
                   testset="s", lang="en", language="English")
    record = {"id": "p1~reply-language", "value": None}
    Scorer(job, None, template, None)._criteria(record, [Judgment(value=parsed.value)], {"value": 0.0})
    assert record["criteria"] == {"helpfulness": None, "modifier_fulfillment": 1}, HELPFULNESS
    assert record["skipped"] == ["helpfulness"] and record["value"] == 1.0


def test_table_1_per_modifier_and_language(tmp_path):
    config = load_config(REPO / "tests" / "figures_config.yaml")
    inputs = []
    for lang in ("en", "fr"):
        path = tmp_path / f"{lang}.jsonl"
        rows = []
        for i in range(4):  # brief: fulfilled 3 of 4; detailed: 1 of 4, one response in the wrong language
            rows.append({"id": f"q{i}~brief", "value": 2.0,
                         "criteria": {"helpfulness": 3, "modifier_fulfillment": 3 if i else 1}})
            rows.append({"id": f"q{i}~detailed", "value": 2.0,
                         "criteria": {"helpfulness": None if i == 0 else 2, "modifier_fulfillment": 3 if i == 1 else 2}})
        write_jsonl(path, [{**r, "lang": lang, "metric": "jm"} for r in rows])
        inputs.append(ScoreInput("l-7", "dolly-en", "lora", "alpacafarm_eval", lang, "jm", "judge_criteria", str(path)))
    spec = PlotSpec(name="t1", study="zs", kind="modifiers", languages=("en", "fr"), metrics=("jm",))
    result = modifier_table(config, spec, inputs, Settings.from_config(config))
    table = result.data.set_index(["modifier", "lang"])
    assert table.loc[("brief", "en"), "fulfilled"] == 0.75 and table.loc[("brief", "fr"), "helpfulness"] == 2.0
    assert table.loc[("detailed", "en"), "fulfilled"] == 0.25
    assert table.loc[("detailed", "en"), "helpfulness"] == 1.0 and table.loc[("detailed", "en"), "n_helpfulness"] == 3, \
        HELPFULNESS
