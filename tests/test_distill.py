"""Response distillation (Bactrian-X §3.1) against a local OpenAI-compatible server with injected faults.

"For each translated instruction, we use ChatGPT (gpt-3.5-turbo) to obtain a response. [...] For English, we
pair the instruction with the original response." — Bactrian-X, §3.1. The answers go through the judge
client: one cache (a rerun sends nothing), retries, the budget pre-flight; a flagged answer (empty, cut at
the token limit, wrong language) is counted and never silently kept.
"""

from __future__ import annotations

import json

import pytest

from polyalpaca.config import load_config
from polyalpaca.distill import DistillSpec, distill_responses
from polyalpaca.distill.report import write_distill_table
from polyalpaca.distill.templates import template_path
from polyalpaca.errors import ConfigError, DataError
from polyalpaca.evaluate.judge.calls import BudgetExceededError
from polyalpaca.io import read_jsonl, write_jsonl

from .fake_openai_server import FakeJudgeServer
from .judge_helpers import KEY_ENV, judge_config, settings

LANGUAGES = {"fr": {"name": "French", "nllb": "fra_Latn", "lid176": "fr"}}
FRENCH = "La photosynthèse transforme la lumière du soleil en énergie chimique pour les plantes vertes."
ENGLISH = "Photosynthesis turns sunlight into chemical energy that green plants can use to grow."


def _translation(folder, instructions):
    path = folder / "fr.jsonl"
    write_jsonl(path, [{"id": f"a{i}-fr", "source_id": f"a{i}", "instruction": text, "input": "" if i % 2 else
                        "Contexte : une leçon de biologie.", "output": "English original", "lang": "fr",
                        "source": "src", "translator": "nllb"} for i, text in enumerate(instructions)])
    return path


def _run(folder, server, translation, spec=None, judge=None, **settings_overrides):
    spec = spec or DistillSpec.from_config("src", {"judge": "fake", "max_tokens": 64, "max_dropped_fraction": 0.9})
    out = {name: folder / f"out.{name}" for name in ("records", "flagged", "report")}
    report = distill_responses(spec, judge or judge_config(server, name="fake"), settings(folder, **settings_overrides),
                               translation=translation, lang="fr", languages=LANGUAGES, output=out["records"],
                               flagged=out["flagged"], report=out["report"],
                               template=template_path(spec.template))
    return report, out


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-distill-0123456789")


def test_answers_replace_outputs_and_flagged_ones_are_dropped_and_counted(tmp_path, key):
    instructions = [f"Expliquez la photosynthèse. @reply:{FRENCH}",
                    "Réponds vide. @fault:empty",
                    f"Réponse coupée. @fault:length @reply:{FRENCH}",
                    f"Réponds en anglais. @reply:{ENGLISH}",
                    "Trop long. @fault:400",
                    f"Deux erreurs passagères. @fault:429x2 @reply:{FRENCH} Encore."]
    translation = _translation(tmp_path, instructions)
    with FakeJudgeServer() as server:
        report, out = _run(tmp_path, server, translation)
        requests = server.requests
        body = next(b for b in server.bodies if b["messages"][0]["content"].startswith(instructions[0]))
    kept = read_jsonl(out["records"])
    assert [r["id"] for r in kept] == ["a0-fr", "a5-fr"]
    assert kept[0]["output"] == FRENCH and kept[0]["distiller"] == "fake"
    assert kept[0]["instruction"] == instructions[0] and kept[0]["source_id"] == "a0"
    # the translated instruction, then its translated input after a blank line, is the only message
    assert body["messages"] == [{"role": "user", "content": instructions[0] + "\n\nContexte : une leçon de biologie."}]
    assert body["max_tokens"] == 64
    flagged = {r["id"]: r["flags"] for r in read_jsonl(out["flagged"])}
    assert flagged == {"a1-fr": ["empty"], "a2-fr": ["truncated"], "a3-fr": ["wrong_language"], "a4-fr": ["empty"]}
    assert report["flags"] == {"empty": 2, "truncated": 1, "wrong_language": 1}
    assert (report["items"], report["kept"], report["dropped"]) == (6, 2, 4)
    assert report["retries"] == 2 and report["failed_calls"] == 1
    assert json.loads(out["report"].read_text())["kept"] == 2

    with FakeJudgeServer() as server:  # a rerun: every answer from the cache, nothing sent but the failed item
        again, _ = _run(tmp_path, server, translation)
        assert server.requests == 1 < requests
    assert again["cached_answers"] == 5 and again["new_answers"] == 0
    assert read_jsonl(out["records"]) == kept


def test_kept_flags_are_still_counted(tmp_path, key):
    translation = _translation(tmp_path, [f"Réponds en anglais. @reply:{ENGLISH}", f"Bien. @reply:{FRENCH}"])
    spec = DistillSpec.from_config("src", {"judge": "fake", "drop": ["empty"], "max_dropped_fraction": 0.0})
    with FakeJudgeServer() as server:
        report, out = _run(tmp_path, server, translation, spec=spec)
    assert report["flags"]["wrong_language"] == 1 and report["kept"] == 2 and report["dropped"] == 0
    assert [r["flags"] for r in read_jsonl(out["flagged"])] == [["wrong_language"]]


def test_too_many_dropped_fails_without_writing_outputs(tmp_path, key):
    translation = _translation(tmp_path, [f"Anglais. @reply:{ENGLISH}", f"Bien. @reply:{FRENCH}"])
    spec = DistillSpec.from_config("src", {"judge": "fake", "max_dropped_fraction": 0.2})
    with FakeJudgeServer() as server, pytest.raises(DataError, match=r"max_dropped_fraction: 1 \(50%\) of the 2 fr"):
        _run(tmp_path, server, translation, spec=spec)
    assert not (tmp_path / "out.records").exists() and not (tmp_path / "out.report").exists()


def test_budget_preflight_sends_nothing(tmp_path, key):
    translation = _translation(tmp_path, [f"Question {i}. @reply:{FRENCH}" for i in range(5)])
    with FakeJudgeServer() as server:
        judge = judge_config(server, name="fake", price_per_1k_input=1.0, price_per_1k_output=1.0, budget_usd=0.01)
        with pytest.raises(BudgetExceededError, match="judges.fake.budget_usd: 5 uncached requests"):
            _run(tmp_path, server, translation, judge=judge)
        assert server.requests == 0


def test_key_never_in_errors_or_logs(tmp_path, monkeypatch, caplog):
    secret = "sk-wrong-secret-0123456789"
    monkeypatch.setenv(KEY_ENV, secret)
    translation = _translation(tmp_path, [f"Question. @reply:{FRENCH}"])
    with FakeJudgeServer(api_key="sk-right-one") as server, pytest.raises(Exception) as err:
        _run(tmp_path, server, translation)
    assert "refused the API key" in str(err.value)
    assert secret not in str(err.value) and secret not in caplog.text


def test_distill_table_prices_every_report(tmp_path, key):
    translation = _translation(tmp_path, [f"Question. @reply:{FRENCH}", "Vide. @fault:empty"])
    with FakeJudgeServer() as server:
        report, out = _run(tmp_path, server, translation)
    table = tmp_path / "distill.csv"
    write_distill_table([out["report"]], {"fake": {"price_per_1k_input": 2.0, "price_per_1k_output": 4.0}}, table)
    import csv

    (row,) = list(csv.DictReader(table.open()))
    assert (row["lang"], row["kept"], row["empty"]) == ("fr", "1", "1")
    expected = (report["prompt_tokens"] * 2.0 + report["completion_tokens"] * 4.0) / 1000
    assert float(row["cost_usd"]) == pytest.approx(expected) and expected > 0


def test_config_errors_name_the_key():
    config = load_config("config.yaml")
    raw = json.loads(json.dumps(config))
    raw["trainsets"]["bactrian-multi"]["responses"] = "translated"  # bactrian_en translates no outputs
    from polyalpaca.config import check_references

    with pytest.raises(ConfigError, match=r"trainsets.bactrian-multi.responses: translated responses need 'output' "
                                          r"in translations.bactrian_en.fields"):
        check_references(raw)
    raw = json.loads(json.dumps(config))
    del raw["distillations"]["bactrian_en"]
    with pytest.raises(ConfigError, match=r"trainsets.bactrian-\w+.responses: distilled, but "
                                          r"distillations.bactrian_en is not defined"):
        check_references(raw)
    with pytest.raises(ConfigError, match="drop: \\['typo'\\] are not flags"):
        DistillSpec.from_config("src", {"judge": "x", "drop": ["typo"]})
    with pytest.raises(ConfigError, match="drop: must include 'empty'"):
        DistillSpec.from_config("src", {"judge": "x", "drop": ["truncated"]})


def test_paper_grid_distils_51_languages_with_gpt35_turbo():
    """"construct the Bactrian-X dataset [...] translating instructions from Alpaca (Taori et al., 2023) and Dolly
    [...] into 51 different languages"; English keeps "the original response" (§3.1)."""
    from polyalpaca.distill.inputs import distill_pairs
    from polyalpaca.recipes.inputs import trainset_inputs

    config = load_config("config.yaml")
    pairs = distill_pairs(config)
    assert len(pairs) == 51 and {s for s, _ in pairs} == {"bactrian_en"} and ("bactrian_en", "en") not in pairs
    assert config["judges"][config["distillations"]["bactrian_en"]["judge"]]["model"] == "gpt-3.5-turbo"
    assert config["sources"]["bactrian_en"]["derive"]["from"] == ["alpaca_original", "dolly"]
    assert config["sources"]["alpaca_original"]["hf"] == "tatsu-lab/alpaca"
    assert config["translations"]["bactrian_en"]["fields"] == ["instruction", "input"]

    class Wildcards:
        trainset = "bactrian-multi"

    inputs = trainset_inputs(config, Wildcards)
    assert inputs["english"] == "resources/sources/bactrian_en.jsonl"
    assert len(inputs["translations"]) == 51
    assert all(p.startswith("results/distill/bactrian_en/") for p in inputs["translations"])


def test_a_lid_model_without_the_language_is_a_config_error():
    from polyalpaca.config import check_references

    raw = json.loads(json.dumps(load_config("config.yaml")))
    raw["distillations"]["bactrian_en"]["lid_model"] = "lid176"  # fastText lid.176 has no Xhosa
    with pytest.raises(ConfigError, match=r"distillations.bactrian_en.lid_model: lid176 has no label for xh"):
        check_references(raw)
