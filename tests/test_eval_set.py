"""The zero-shot study's evaluation set: "a subset of 113 instructions from AlpacaFarm that include a balanced
number of instructions per "task"" (Chirkova & Nikoulina, §3). Default: a seeded balanced sample of
AlpacaFarm's eval set over its categories; or a user file with a task per instruction."""

import json
from collections import Counter

import pytest

from polyalpaca.config import load_config
from polyalpaca.data import fetch_source
from polyalpaca.errors import DataError
from polyalpaca.io import read_jsonl

from .conftest import REPO

PAPER = "§3: select a subset of 113 instructions from AlpacaFarm that include a balanced number of instructions per \"task\""


def _alpacafarm(path, sizes: dict[str, int]):
    rows = [{"instruction": f"{cat} instruction {i}", "input": "", "output": "", "dataset": cat}
            for cat, n in sizes.items() for i in range(n)]
    path.write_text(json.dumps(rows))
    return path


def _fetch(tmp_path, spec, name="alpacafarm_eval"):
    out, rep = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.report.json"
    fetch_source(name, spec, out, rep)
    return read_jsonl(out), json.loads(rep.read_text())


def test_config_draws_113_balanced_over_alpacafarm_categories():
    full = load_config(REPO / "config.yaml")
    source = full["sources"][full["testsets"][full["studies"]["zeroshot"]["testset"]]["source"]]
    assert source["hf"] == "tatsu-lab/alpaca_farm" and source["sample"]["size"] == 113, PAPER
    assert source["sample"]["by"] == "category", PAPER


def test_balanced_sample_is_seeded_and_balanced(tmp_path):
    # AlpacaFarm's eval categories, real sizes (805 in all)
    src = _alpacafarm(tmp_path / "af.json", {"helpful_base": 129, "koala": 156, "oasst": 188, "selfinstruct": 252,
                                             "vicuna": 80})
    spec = {"path": str(src), "format": "alpacafarm", "sample": {"size": 113, "by": "category", "seed": 42}}
    records, report = _fetch(tmp_path, spec)
    counts = Counter(r["category"] for r in records)
    assert len(records) == 113 and sorted(counts.values()) == [22, 22, 23, 23, 23], PAPER
    assert report["sample"]["per_group"]["en"] == dict(counts) and report["records"] == 113
    again, _ = _fetch(tmp_path / "again", spec)
    assert again == records  # the same draw
    other, _ = _fetch(tmp_path / "other", {**spec, "sample": {**spec["sample"], "seed": 7}})
    assert {r["id"] for r in other} != {r["id"] for r in records}
    ids = [r["id"] for r in records]
    assert ids == sorted(ids)  # source order kept


def test_a_small_group_gives_its_share_to_the_others(tmp_path):
    src = _alpacafarm(tmp_path / "af.json", {"a": 2, "b": 50, "c": 50})
    records, _ = _fetch(tmp_path, {"path": str(src), "format": "alpacafarm",
                                   "sample": {"size": 30, "by": "category", "seed": 1}})
    assert Counter(r["category"] for r in records) == {"a": 2, "b": 14, "c": 14}
    with pytest.raises(DataError, match="sources.alpacafarm_eval.sample.size: 200 but the source has 102"):
        _fetch(tmp_path, {"path": str(src), "format": "alpacafarm", "sample": {"size": 200, "by": "category", "seed": 1}})


def test_user_file_with_tasks(tmp_path):
    lines = [{"id": "t1", "prompt": "Write an email to my landlord.", "task": "write an email"},
             {"id": "t2", "prompt": "Suggest a recipe with lentils.", "task": "suggest a recipe"}]
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    spec = {"path": str(path), "format": "prompts", "tasks": ["write an email", "suggest a recipe"]}
    records, _ = _fetch(tmp_path, spec, "zs_eval")
    assert [r["task"] for r in records] == ["write an email", "suggest a recipe"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(lines[0]) + "\n" + json.dumps({"id": "t3", "prompt": "Rhyme with cat.", "task": "rhymes"})
                   + "\n")
    with pytest.raises(DataError, match=rf"{bad}:2: unknown task 'rhymes' \(sources.zs_eval.tasks: write an email"):
        _fetch(tmp_path, {**spec, "path": str(bad)}, "zs_eval")
    bad.write_text(json.dumps({"id": "t4", "prompt": "No task here."}) + "\n")
    with pytest.raises(DataError, match=rf"{bad}:1: missing field 'task'"):
        _fetch(tmp_path, {**spec, "path": str(bad)}, "zs_eval")
