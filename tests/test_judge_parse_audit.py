"""``polyalpaca judge-parse``: per answer for every format (run as the real command), and per judge and
template over score files — the smoke run's judge answers among them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from polyalpaca.evaluate.judge.parse_audit import audit_scores, format_counts
from polyalpaca.io import read_jsonl, write_jsonl

from .test_judge_parsers_real import DATA, EXPECTED

REPO = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    return subprocess.run([sys.executable, "-m", "polyalpaca.cli", "judge-parse", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_rating_audit_of_the_shipped_answers_matches_the_expectation():
    proc = _cli("--format", "rating", "--scale", "1-10", str(DATA))
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    rows = [json.loads(line)["row"] for line in DATA.read_text(encoding="utf-8").splitlines()]
    assert len(results) == len(rows) == 80
    for row, result in zip(rows, results):
        assert set(result) == {"value", "error"}
        assert result["value"] == EXPECTED[row], (row, result)
        assert (result["error"] is None) == (EXPECTED[row] is not None), (row, result)


@pytest.mark.parametrize("fmt, answers, expected", [
    ("criteria", ['{"helpfulness": 2, "language_correctness": 3, "fluency": 2, "factual_accuracy": 1, '
                  '"logical_coherence": 2, "harmlessness": 3}', "All good."],
     [{"helpfulness": 2, "language_correctness": 3, "fluency": 2, "factual_accuracy": 1, "logical_coherence": 2,
       "harmlessness": 3}, None]),
    ("pair", ["A explains more.\n\n[[A]]", '"[[A]]" if A is better, "[[B]]" if B is better', "[[C]]"],
     ["A", None, "tie"]),
    ("pair-scores", ["[[8, 6]]", "[[8, 6]] or [[7, 7]]"], [[8, 6], None]),
    ("binary", ["1", "Answer: 0", "1 or 0"], [1, 0, None]),
    ("rating", ["Rating: [[2]]", "Rating: [[9]]"], [2, None]),  # default scale 1-3
])
def test_every_format_has_an_audit(tmp_path, fmt, answers, expected):
    path = tmp_path / "answers.jsonl"
    write_jsonl(path, [{"judgment": text, "question_id": i} for i, text in enumerate(answers)])
    proc = _cli("--format", fmt, str(path))
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["value"] for r in results] == expected
    assert all((r["error"] is None) == (e is not None) for r, e in zip(results, expected))


def test_bad_input_is_named(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_text('{"answer": "Rating: [[2]]"}\n', encoding="utf-8")
    proc = _cli("--format", "rating", str(path))
    assert proc.returncode == 2 and "answers.jsonl:1" in proc.stderr and "judgment" in proc.stderr
    assert "no such file" in _cli("--format", "rating", str(tmp_path / "none.jsonl")).stderr


def _score(judge, template, **fields):
    return {"id": "q1", "lang": "fr", "metric": "m", "value": None, "judge": judge, "template": template, **fields}


def test_scores_audit_counts_per_judge_and_template(tmp_path):
    folder = tmp_path / "scores" / "judge-single" / "run" / "fr.jsonl"
    write_jsonl(folder, [
        _score("gpt", "chen2024-single-v1", rating=2, raw="Rating: [[2]]"),
        _score("gpt", "chen2024-single-v1", rating=None, raw="Good answer.", error="unparseable"),
        _score("gpt", "chen2024-single-v1", rating=None, raw="Rating: [[1]] ... rating of [[3]]", error="unparseable"),
        _score("gpt", "chen2024-single-v1", raw=None, error="no response text"),  # not judged: not an answer
        {"id": "q1", "lang": "fr", "metric": "lid", "value": 1.0, "label": "fr"},  # not a judge metric
    ])
    write_jsonl(tmp_path / "scores" / "pair.jsonl", [
        _score("gpt", "pairwise-v1", raw_ab="[[A]]", raw_ba="[[B]]", verdict="win"),
    ])
    counts = audit_scores([tmp_path / "scores"])
    single, pair = counts[("gpt", "chen2024-single-v1")], counts[("gpt", "pairwise-v1")]
    assert (single.answers, single.parsed, single.unparsed) == (3, 1, 2)
    assert dict(single.reasons) == {"none": 1, "several": 1}
    assert (pair.answers, pair.parsed) == (2, 2)
    proc = _cli("--scores", str(tmp_path / "scores"))
    assert proc.returncode == 0, proc.stderr
    assert "chen2024-single-v1" in proc.stdout and "none: 1, several: 1" in proc.stdout and "0.667" in proc.stdout
    assert format_counts(counts).splitlines()[-1].split()[1:4] == ["5", "3", "2"]


def test_smoke_run_judge_answers_are_parsed_or_counted(smoke_workdir):
    """The smoke run's own judge (a tiny random model read through label probabilities): every answer
    it gave is either parsed, to the rating its record holds, or counted as unparsed."""
    paths = sorted((smoke_workdir / "results" / "scores").rglob("*.jsonl"))
    records = [r for p in paths for r in read_jsonl(p) if "judge" in r and r.get("raw")]
    assert records, "the smoke slice judged nothing"
    counts = audit_scores([smoke_workdir / "results" / "scores"])
    total = sum(c.answers for c in counts.values())
    assert total == sum(bool(r.get(k)) for r in records for k in ("raw", "raw_ab", "raw_ba"))
    assert all(c.parsed + c.unparsed == c.answers for c in counts.values())
    from polyalpaca.evaluate.judge.parsers import parse_rating_1_3

    for record in (r for r in records if "rating" in r):
        parsed = parse_rating_1_3(record["raw"])
        assert parsed.value == record["rating"] or (not parsed.ok and record.get("error")), record
        assert record["answered"] >= 1 and record["unparsed"] <= record["answered"]
