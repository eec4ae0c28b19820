"""Derived sources (keyword filter), test prompt sets and token statistics."""

import csv
import json

import pytest

from polyalpaca.errors import DataError
from polyalpaca.io import read_jsonl, write_jsonl
from polyalpaca.recipes import (
    DeriveSpec,
    KeywordFilter,
    TestsetSpec,
    build_testset,
    derive_source,
    tokens_table,
    trainset_stats,
)
from polyalpaca.tiny import train_tokenizer

CODE = ["code", "program*", "python", "java", "c++", "def ", "SQL", "regex"]


def rec(i, instruction, input="", source="alpaca", output="An answer."):
    return {"id": f"{source}-{i:06d}", "instruction": instruction, "input": input, "output": output, "lang": "en",
            "source": source}


@pytest.mark.parametrize("text, hits", [
    ("Write a Python function that reverses a list.", ["python"]),
    ("What is the capital of France?", []),
    ("Explain how to program a thermostat.", ["program*"]),
    ("List three programming languages.", ["program*"]),
    ("Describe the Javanese culture.", []),           # java only as a whole word
    ("Compare Java and C++ for games.", ["java", "c++"]),
    ("Fix this:\ndef f(x): return x", ["def "]),
    ("What does the word 'undefined' mean?", []),     # no 'def ' at a word start
    ("Write a sql query", []),                        # 'SQL' has capitals: exact case only
    ("Write an SQL query", ["SQL"]),
    ("Translate the code of conduct.", ["code"]),     # word matching is not semantic: a known false positive
    ("Decode this message", []),
])
def test_keyword_matching_rules(text, hits):
    assert KeywordFilter(CODE).matches({"instruction": text}) == hits


def test_keywords_in_input_count_but_not_in_output():
    kf = KeywordFilter(CODE)
    assert kf.matches({"instruction": "Fix the bug.", "input": "x = re.compile(regex)"}) == ["regex"]
    assert kf.matches({"instruction": "Summarize.", "output": "Python is a snake."}) == []
    assert KeywordFilter(CODE, ["output"]).matches({"instruction": "Summarize.", "output": "Python is a snake."})


def test_derive_source_removes_code_records_and_reports_per_keyword(tmp_path):
    alpaca = [rec(0, "Write a Python program to sort numbers."), rec(1, "Give three tips for staying healthy."),
              rec(2, "Explain this code.", "def add(a, b): return a + b"), rec(3, "Name a Java island beach.")]
    dolly = [rec(0, "When did Virgin Australia start operating?", source="dolly"),
             rec(1, "Which SQL statement deletes rows?", source="dolly")]
    write_jsonl(tmp_path / "alpaca.jsonl", alpaca)
    write_jsonl(tmp_path / "dolly.jsonl", dolly)
    spec = DeriveSpec("bactrian_en", ("alpaca", "dolly"), tuple(CODE), "code")
    report = derive_source(spec, {"alpaca": tmp_path / "alpaca.jsonl", "dolly": tmp_path / "dolly.jsonl"},
                           tmp_path / "out.jsonl", tmp_path / "out.filter.json")
    kept = read_jsonl(tmp_path / "out.jsonl")
    assert [r["id"] for r in kept] == ["alpaca-000001", "dolly-000000"]
    assert {r["source"] for r in kept} == {"bactrian_en"} and kept[1]["parent_source"] == "dolly"
    assert report["records_in"] == 6 and report["removed"] == 4 and report["kept"] == 2
    assert report["removed_by_parent"] == {"alpaca": 3, "dolly": 1}
    assert report["removed_by_keyword"]["python"] == 1 and report["removed_by_keyword"]["program*"] == 1
    assert report["removed_by_keyword"]["code"] == 1 and report["removed_by_keyword"]["def "] == 1
    assert report["removed_by_keyword"]["java"] == 1 and report["removed_by_keyword"]["SQL"] == 1
    assert report["removed_by_keyword"]["regex"] == 0
    assert json.loads((tmp_path / "out.filter.json").read_text()) == report


def test_derive_source_prefixes_ids_that_repeat_across_parents_and_rejects_prompt_records(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [rec(0, "Say hi."), rec(1, "Say bye.")])
    write_jsonl(tmp_path / "b.jsonl", [rec(0, "Say hello.")])  # same id 'alpaca-000000'
    spec = DeriveSpec("both", ("a", "b"))
    report = derive_source(spec, {"a": tmp_path / "a.jsonl", "b": tmp_path / "b.jsonl"}, tmp_path / "o.jsonl",
                           tmp_path / "o.json")
    assert [r["id"] for r in read_jsonl(tmp_path / "o.jsonl")] == ["a:alpaca-000000", "a:alpaca-000001",
                                                                   "b:alpaca-000000"]
    assert report["ids_prefixed_with_parent"] is True
    write_jsonl(tmp_path / "p.jsonl", [{"id": "p1", "prompt": "Hi", "lang": "en", "source": "p"}])
    with pytest.raises(DataError, match=r"p\.jsonl:1: field 'instruction' is missing"):
        derive_source(DeriveSpec("x", ("p",)), {"p": tmp_path / "p.jsonl"}, tmp_path / "o.jsonl", tmp_path / "o.json")


# ---------------------------------------------------------------- test sets
def prompt(pid, text, lang, **extra):
    return {"id": pid, "prompt": text, "lang": lang, "source": "s", **extra}


def test_native_testset_filters_language_and_limits(tmp_path):
    write_jsonl(tmp_path / "oasst.jsonl", [prompt("en-01", "Hi?", "en"), prompt("fr-01", "Salut ?", "fr"),
                                           prompt("fr-02", "Ça va ?", "fr", task="chat"), prompt("fr-03", "Oui ?", "fr")])
    spec = TestsetSpec("oasst_test", "oasst", ("en", "fr", "bn"), limit=2)
    n = build_testset(spec, "fr", tmp_path / "oasst.jsonl", tmp_path / "out" / "fr.jsonl")
    assert n == 2
    assert read_jsonl(tmp_path / "out" / "fr.jsonl") == [
        {"id": "fr-01", "prompt": "Salut ?", "lang": "fr", "testset": "oasst_test"},
        {"id": "fr-02", "prompt": "Ça va ?", "lang": "fr", "testset": "oasst_test", "task": "chat"}]
    with pytest.raises(DataError, match=r"testsets\.oasst_test\.languages\[2\]: test set 'oasst_test' has no prompts "
                                        r"in language 'bn'"):
        build_testset(spec, "bn", tmp_path / "oasst.jsonl", tmp_path / "out" / "bn.jsonl")
    assert not (tmp_path / "out" / "bn.jsonl").exists()


def test_translated_testset_aligns_ids_across_languages(tmp_path):
    english = [prompt(f"v{i}", f"Question {i}?", "en", category="generic") for i in range(1, 5)]
    write_jsonl(tmp_path / "vicuna.jsonl", english)
    # translation of v1, v2, v4 (v3 dropped by the filter) plus a record beyond the limit
    write_jsonl(tmp_path / "fr.jsonl", [{**prompt(f"v{i}", f"Question {i} ?", "fr"), "source_id": f"v{i}",
                                        "translator": "nllb"} for i in (4, 1, 2)])
    spec = TestsetSpec("vicuna80", "vicuna", ("en", "fr"), translate_from="en", limit=3)
    assert build_testset(spec, "en", tmp_path / "vicuna.jsonl", tmp_path / "en.out.jsonl") == 3
    assert build_testset(spec, "fr", tmp_path / "vicuna.jsonl", tmp_path / "fr.out.jsonl",
                         translation=tmp_path / "fr.jsonl") == 2
    en, fr = read_jsonl(tmp_path / "en.out.jsonl"), read_jsonl(tmp_path / "fr.out.jsonl")
    assert [r["id"] for r in en] == ["v1", "v2", "v3"] and [r["source_id"] for r in en] == ["v1", "v2", "v3"]
    assert fr[0] == {"id": "v1", "prompt": "Question 1 ?", "lang": "fr", "testset": "vicuna80", "source_id": "v1",
                     "category": "generic", "translator": "nllb"}
    assert [r["id"] for r in fr] == ["v1", "v2"]
    write_jsonl(tmp_path / "empty.jsonl", [])
    with pytest.raises(DataError, match=r"languages\[1\]: .* no prompts in language 'fr' .*all 3 prompts were dropped"):
        build_testset(spec, "fr", tmp_path / "vicuna.jsonl", tmp_path / "x.jsonl", translation=tmp_path / "empty.jsonl")
    with pytest.raises(DataError, match=r"testsets\.vicuna80\.languages\[1\]: the translation .* into 'fr' is missing"):
        build_testset(spec, "fr", tmp_path / "vicuna.jsonl", tmp_path / "x.jsonl", translation=tmp_path / "no.jsonl")


# ---------------------------------------------------------------- statistics
@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    texts = ["Explain the topic in simple words.", "Expliquez le sujet avec des mots simples.", "用简单的话解释这个话题。"] * 20
    out = tmp_path_factory.mktemp("tok")
    train_tokenizer(texts, vocab_size=300).save_pretrained(out)
    return out


def test_stats_count_examples_and_tokens_per_language_and_tokenizer(tmp_path, tokenizer_dir):
    train = [{"id": f"{i}:{lang}", "instruction": text, "input": "", "output": text + " " + text, "lang": lang}
             for i in range(3) for lang, text in (("en", "Explain the topic."), ("zh", "解释这个话题。"))]
    write_jsonl(tmp_path / "train.jsonl", train)
    write_jsonl(tmp_path / "val.jsonl", train[:1])
    stats = trainset_stats("mix", {"train": tmp_path / "train.jsonl", "val": tmp_path / "val.jsonl"},
                           {"m-small": tokenizer_dir, "m-large": tokenizer_dir}, tmp_path / "stats.json",
                           info={"recipe": "multi"}, languages=["zh", "en"])
    assert list(stats["languages"]) == ["zh", "en"]
    assert stats["languages"]["en"] == {"train": 3, "val": 1, "examples": 4}
    assert stats["examples"] == {"train": 6, "val": 1} and stats["recipe"] == "multi"
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    n_instruction = len(tok("Explain the topic.", add_special_tokens=False)["input_ids"])
    n_output = len(tok("Explain the topic. Explain the topic.", add_special_tokens=False)["input_ids"])
    assert stats["tokens"]["m-small"]["en"] == {"instruction": 4 * n_instruction, "input": 0, "output": 4 * n_output,
                                                "total": 4 * (n_instruction + n_output)}
    assert stats["vocab_size"]["m-small"] == len(tok)
    assert stats["tokens"]["m-large"] == stats["tokens"]["m-small"]  # one tokenizer, counted once
    assert stats["tokenizers"]["m-small"] == stats["tokenizers"]["m-large"]
    write_json_stats = tmp_path / "other.json"
    trainset_stats("en-only", {"train": tmp_path / "val.jsonl"}, {"m-small": tokenizer_dir}, write_json_stats)
    assert tokens_table([tmp_path / "stats.json", write_json_stats], tmp_path / "tokens.csv") == 5
    rows = list(csv.DictReader((tmp_path / "tokens.csv").open()))
    assert list(rows[0]) == ["trainset", "lang", "tokenizer", "vocab_size", "examples", "instruction_tokens",
                             "input_tokens", "output_tokens", "tokens"]
    assert rows[0] == {"trainset": "en-only", "lang": "en", "tokenizer": "m-small", "vocab_size": str(len(tok)),
                       "examples": "1", "instruction_tokens": str(n_instruction), "input_tokens": "0",
                       "output_tokens": str(n_output), "tokens": str(n_instruction + n_output)}
    assert {(r["trainset"], r["lang"], r["tokenizer"]) for r in rows[1:]} == {
        ("mix", lang, model) for lang in ("en", "zh") for model in ("m-small", "m-large")}


def test_stats_name_a_missing_or_broken_model(tmp_path):
    write_jsonl(tmp_path / "t.jsonl", [{"id": "1", "instruction": "a", "input": "", "output": "b", "lang": "en"}])
    with pytest.raises(DataError, match=r"models\.ghost: .*ghost does not exist"):
        trainset_stats("t", {"train": tmp_path / "t.jsonl"}, {"ghost": tmp_path / "ghost"}, tmp_path / "s.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"models\.empty: cannot load a tokenizer"):
        trainset_stats("t", {"train": tmp_path / "t.jsonl"}, {"empty": tmp_path / "empty"}, tmp_path / "s.json")
    (tmp_path / "tokenizers" / "broken").mkdir(parents=True)
    with pytest.raises(DataError, match=r"tokenizers\.broken: cannot load a tokenizer"):
        trainset_stats("t", {"train": tmp_path / "t.jsonl"}, {"broken": tmp_path / "tokenizers/broken"},
                       tmp_path / "s.json")


def test_stats_name_the_line_of_a_record_without_a_field(tmp_path, tokenizer_dir):
    good = {"id": "1", "instruction": "a", "input": "", "output": "b", "lang": "en"}
    write_jsonl(tmp_path / "t.jsonl", [good, {k: v for k, v in good.items() if k != "output"} | {"id": "2"}])
    with pytest.raises(DataError, match=r"t\.jsonl:2: record '2': field 'output' is missing"):
        trainset_stats("t", {"train": tmp_path / "t.jsonl"}, {"m": tokenizer_dir}, tmp_path / "s.json")
    write_jsonl(tmp_path / "t.jsonl", [good | {"input": None}])
    with pytest.raises(DataError, match=r"t\.jsonl:1: record '1': field 'input' is NoneType, not text"):
        trainset_stats("t", {"train": tmp_path / "t.jsonl"}, {"m": tokenizer_dir}, tmp_path / "s.json")
