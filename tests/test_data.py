"""Source loaders on real-shaped files, including the defects real files have."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from polyalpaca.data import fetch_source
from polyalpaca.errors import DataError, PolyalpacaError
from polyalpaca.io import read_jsonl

from .conftest import REPO


def _write_lines(path, lines, final_newline=True):
    path.write_text("\n".join(lines) + ("\n" if final_newline else ""), encoding="utf-8")
    return path


def _fetch(tmp_path, name, spec, **kw):
    out, rep = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.report.json"
    report = fetch_source(name, spec, out, rep, **kw)
    return read_jsonl(out), report, json.loads(rep.read_text())


def test_alpaca_json_list(tmp_path):
    src = tmp_path / "alpaca.json"
    src.write_text(json.dumps([{"instruction": "Say hi", "input": "", "output": "Hi"},
                               {"instruction": "Add", "input": "1 and 2", "output": "3"}]))
    records, report, _ = _fetch(tmp_path, "alpaca", {"path": str(src), "format": "alpaca"})
    assert records == [
        {"id": "alpaca-000001", "instruction": "Say hi", "input": "", "output": "Hi", "lang": "en", "source": "alpaca"},
        {"id": "alpaca-000002", "instruction": "Add", "input": "1 and 2", "output": "3", "lang": "en", "source": "alpaca"},
    ]
    assert report["records"] == 2 and report["skipped"] == 0


def test_dolly_jsonl_without_final_newline(tmp_path):
    src = _write_lines(tmp_path / "dolly.jsonl", [
        json.dumps({"instruction": "Who?", "context": "Ada wrote it.", "response": "Ada", "category": "closed_qa"}),
        json.dumps({"instruction": "Name a fruit", "context": "", "response": "Apple", "category": "brainstorming"}),
    ], final_newline=False)
    records, _, _ = _fetch(tmp_path, "dolly", {"path": str(src), "format": "dolly"})
    assert [r["input"] for r in records] == ["Ada wrote it.", ""]
    assert records[1] == {"id": "dolly-000002", "instruction": "Name a fruit", "input": "", "output": "Apple",
                          "lang": "en", "source": "dolly", "category": "brainstorming"}


def test_lima_first_exchange(tmp_path):
    src = _write_lines(tmp_path / "lima.jsonl", [
        json.dumps({"conversations": ["Q1", "A1", "Q2", "A2"], "source": "multi_turn"}),
        json.dumps({"conversations": ["Q", "A"], "source": "stackexchange"}),
    ])
    records, _, _ = _fetch(tmp_path, "lima", {"path": str(src), "format": "lima"})
    assert [(r["instruction"], r["output"]) for r in records] == [("Q1", "A1"), ("Q", "A")]


def test_prompts_per_language_files(tmp_path):
    for lang in ("en", "fr"):
        _write_lines(tmp_path / f"test_{lang}.jsonl", [json.dumps({"id": f"{lang}-1", "prompt": f"p {lang}"})])
    spec = {"path": str(tmp_path / "test_{lang}.jsonl"), "languages": ["en", "fr"], "format": "prompts"}
    records, report, _ = _fetch(tmp_path, "oasst_test", spec)
    assert records == [{"id": "en-1", "prompt": "p en", "lang": "en", "source": "oasst_test"},
                       {"id": "fr-1", "prompt": "p fr", "lang": "fr", "source": "oasst_test"}]
    assert report["per_lang"] == {"en": 1, "fr": 1}


def test_vicuna_and_alpacafarm(tmp_path):
    vic = _write_lines(tmp_path / "q.jsonl", [json.dumps({"question_id": 7, "category": "math", "turns": ["2+2?", "and 3+3?"]})])
    records, _, _ = _fetch(tmp_path, "vicuna80", {"path": str(vic), "format": "vicuna"})
    assert records == [{"id": "7", "prompt": "2+2?", "lang": "en", "source": "vicuna80", "category": "math"}]
    af = tmp_path / "af.json"
    af.write_text(json.dumps([{"instruction": "Summarize.", "input": "Long text.", "output": "", "dataset": "koala"}]))
    records, _, _ = _fetch(tmp_path, "alpacafarm_eval", {"path": str(af), "format": "alpacafarm"})
    assert records[0]["prompt"] == "Summarize.\n\nLong text." and records[0]["category"] == "koala"


def test_csv_and_parquet(tmp_path):
    frame = pd.DataFrame({"instruction": ["A", "B"], "input": ["", "x"], "output": ["a", "b"]})
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "a.parquet")
    from_csv, _, _ = _fetch(tmp_path, "alpaca", {"path": str(tmp_path / "a.csv"), "format": "alpaca"})
    from_pq, _, _ = _fetch(tmp_path, "alpaca", {"path": str(tmp_path / "a.parquet"), "format": "alpaca"})
    assert from_csv == from_pq and [r["output"] for r in from_csv] == ["a", "b"]


def _defective(tmp_path):
    return _write_lines(tmp_path / "test_en.jsonl", [
        json.dumps({"id": "en-1", "prompt": "fine"}),
        '{"id": "en-2", "prompt": "unterminated',
        json.dumps({"id": "bad id!", "prompt": "x"}),
        json.dumps({"id": "en-4", "prompt": 5}),
        json.dumps({"id": "en-1", "prompt": "duplicate"}),
        json.dumps({"id": "en-6", "prompt": "also fine"}),
    ], final_newline=False)


def test_bad_line_stops_with_path_and_line(tmp_path):
    path = _defective(tmp_path)
    with pytest.raises(DataError, match=rf"^{path}:2: not valid JSON"):
        _fetch(tmp_path, "t", {"path": str(path), "format": "prompts"})
    assert not (tmp_path / "t.jsonl").exists()  # nothing half-written


def test_bad_id_and_type_named(tmp_path):
    path = _write_lines(tmp_path / "p.jsonl", [json.dumps({"id": "bad id!", "prompt": "x"})])
    with pytest.raises(DataError, match=rf"{path}:1: id 'bad id!' breaks the id pattern"):
        _fetch(tmp_path, "t", {"path": str(path), "format": "prompts"})
    path = _write_lines(tmp_path / "q.jsonl", [json.dumps({"id": "a", "prompt": 5})])
    with pytest.raises(DataError, match=rf"{path}:1: field 'prompt' must be a string, got int"):
        _fetch(tmp_path, "t", {"path": str(path), "format": "prompts"})


def test_skip_mode_counts_every_bad_line(tmp_path):
    path = _defective(tmp_path)
    records, report, on_disk = _fetch(tmp_path, "t", {"path": str(path), "format": "prompts"}, on_bad_line="skip")
    assert [r["id"] for r in records] == ["en-1", "en-6"]
    assert on_disk["skipped"] == 4 and report == on_disk
    reasons = on_disk["skipped_lines"]
    assert reasons[0].startswith(f"{path}:2: not valid JSON")
    assert reasons[1].startswith(f"{path}:3: id 'bad id!'")
    assert reasons[2].startswith(f"{path}:4: field 'prompt' must be a string")
    assert reasons[3].startswith(f"{path}:5: duplicate id 'en-1' (first at {path}:1)")


def test_missing_file_and_empty_source(tmp_path):
    with pytest.raises(DataError, match="sources.t.path: .*missing.jsonl does not exist"):
        _fetch(tmp_path, "t", {"path": str(tmp_path / "missing.jsonl"), "format": "prompts"})
    empty = _write_lines(tmp_path / "e.jsonl", ["not json"])
    with pytest.raises(DataError, match="sources.t: no usable records \\(1 bad lines skipped\\)"):
        _fetch(tmp_path, "t", {"path": str(empty), "format": "prompts"}, on_bad_line="skip")


def test_unreachable_hub_says_how_to_provide_the_file(tmp_path):
    spec = {"hf": "GAIR/lima", "format": "lima", "split": "train", "gated": "GAIR/lima is gated: set sources.lima.path"}
    with pytest.raises(PolyalpacaError, match="sources.lima: could not load 'GAIR/lima'.*set sources.lima.path"):
        _fetch(tmp_path, "lima", spec)


def test_fetch_source_rule_through_snakemake(tmp_path):
    """The data rules on the smoke config: normalized records and a tiny model, from a Snakemake run."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    targets = ["resources/sources/oasst_test.jsonl", "resources/models/tiny-judge"]
    (tmp_path / "tests").symlink_to(REPO / "tests")  # the smoke config's data paths are relative
    subprocess.run([sys.executable, "-m", "snakemake", *targets, "--profile", "profiles/smoke",
                    "--directory", str(tmp_path), "--snakefile", str(REPO / "Snakefile")],
                   cwd=REPO, env=env, check=True, capture_output=True, timeout=600)
    records = read_jsonl(tmp_path / "resources/sources/oasst_test.jsonl")
    assert {r["lang"] for r in records} == {"en", "fr", "es", "de"}
    assert (tmp_path / "resources/models/tiny-judge/model.safetensors").exists()
