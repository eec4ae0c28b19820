"""Spellcheck correctness with spylls on a small Hunspell dictionary written here."""

import pytest

from polyalpaca.errors import ConfigError, DataError
from polyalpaca.evaluate.spellcheck import (
    Speller,
    SpellcheckParams,
    score_spellcheck,
    spellcheck_text,
    words_of,
)
from polyalpaca.io import read_jsonl, write_jsonl

AFF = """SET UTF-8
TRY aeioustrnlcmpdéèhgbfvqxyzj'
SFX S Y 1
SFX S 0 s .
"""
DIC = """10
chat/S
chien/S
le
la
mange
souris
petit/S
est
vite
aujourd'hui
"""
LANGUAGES = {"fr": {"name": "French", "hunspell": "xx_TEST"}, "zh": {"name": "Chinese"},
             "de": {"name": "German", "hunspell": "de_MISSING"}}


@pytest.fixture
def dict_dir(tmp_path):
    d = tmp_path / "hunspell"
    d.mkdir()
    (d / "xx_TEST.aff").write_text(AFF, encoding="utf-8")
    (d / "xx_TEST.dic").write_text(DIC, encoding="utf-8")
    return d


@pytest.fixture
def speller(dict_dir):
    return Speller(dict_dir / "xx_TEST")


def test_words_skip_numbers_urls_and_code():
    text = ("Le chat mange 3 souris à 12h30, voir https://example.org/x?a=1 ou www.test.fr et a@b.com.\n"
            "```python\ndef mange_vite(x):\n    return x\n```\n"
            "Utilisez `os.path.join` ou my_var, getValue() et config.yaml ; «vite» l'eau porte-monnaie 2e 50%.")
    assert words_of(text) == ["Le", "chat", "mange", "souris", "à", "voir", "ou", "et",
                              "Utilisez", "ou", "et", "vite", "l'eau", "porte-monnaie"]


def test_fraction_of_correct_words(speller):
    result = spellcheck_text("Le petits chats mange la sourie, le chien est vite!", speller)
    assert result["words"] == 10 and result["errors"] == 1
    assert result["value"] == pytest.approx(0.9)
    assert result["misspelled"] == ["sourie"]
    assert spellcheck_text("Aujourd'hui le chat est petit.", speller)["value"] == 1.0
    # numbers, URLs and code do not count as misspellings
    text = "Le chat mange 42 souris: https://chat.example/xyz `qwrtz()` ```\nzzz yyy\n```"
    assert spellcheck_text(text, speller) == {"value": 1.0, "words": 4, "errors": 0, "misspelled": [],
                                              "other_script": 0}


def test_no_value_without_words(speller):
    assert spellcheck_text("", speller) == {"value": None, "error": "empty response"}
    assert spellcheck_text("  \n ", speller)["error"] == "empty response"
    assert "no words to check" in spellcheck_text("1234 https://x.org `code()`", speller)["error"]
    cyr = spellcheck_text("Кошка ест мышь.", speller)
    assert cyr["value"] is None and "script the xx_TEST dictionary lacks (Cyrillic)" in cyr["error"]
    # other-script words inside a response are counted apart, not as errors
    mixed = spellcheck_text("Le chat 吃 la souris", speller)
    assert mixed["value"] == 1.0 and mixed["words"] == 4 and mixed["other_script"] == 1


def _generations(path, lang, responses):
    write_jsonl(path, [{"id": f"g{i}", "lang": lang, "prompt": "p", "response": r, "model": "m", "trainset": "t",
                        "tuning": "u", "decoding": "d"} for i, r in enumerate(responses)])
    return path


def test_score_file_format(dict_dir, tmp_path):
    gens = _generations(tmp_path / "fr.jsonl", "fr", ["Le chat mange la sourie.", "", "Привет"])
    out = tmp_path / "scores" / "fr.jsonl"
    assert score_spellcheck(gens, out, "spell", LANGUAGES, SpellcheckParams(hunspell_dir=str(dict_dir))) == 3
    rows = read_jsonl(out)
    assert list(rows[0])[:4] == ["id", "lang", "metric", "value"]
    assert rows[0] == {"id": "g0", "lang": "fr", "metric": "spell", "value": 0.8, "words": 5, "errors": 1,
                       "misspelled": ["sourie"], "other_script": 0}
    assert rows[1] == {"id": "g1", "lang": "fr", "metric": "spell", "value": None, "error": "empty response"}
    assert rows[2]["value"] is None and "Cyrillic" in rows[2]["error"]


def test_language_without_dictionary(dict_dir, tmp_path):
    gens = _generations(tmp_path / "zh.jsonl", "zh", ["你好", "再见"])
    out = tmp_path / "zh-scores.jsonl"
    score_spellcheck(gens, out, "spell", LANGUAGES, SpellcheckParams(hunspell_dir=str(dict_dir)))
    rows = read_jsonl(out)
    assert [r["value"] for r in rows] == [None, None]
    assert "languages.zh.hunspell is not set" in rows[0]["error"]


def test_configured_dictionary_missing(dict_dir, tmp_path):
    gens = _generations(tmp_path / "de.jsonl", "de", ["Hallo Welt"])
    with pytest.raises(ConfigError, match=r"de_MISSING.*not found.*hunspell-de.*evaluate.hunspell_dir"):
        score_spellcheck(gens, tmp_path / "o.jsonl", "spell", LANGUAGES, SpellcheckParams(hunspell_dir=str(dict_dir)))
    assert not (tmp_path / "o.jsonl").exists()
    params = SpellcheckParams(hunspell_dir=str(dict_dir), missing_dictionary="record")
    score_spellcheck(gens, tmp_path / "o.jsonl", "spell", LANGUAGES, params)
    (row,) = read_jsonl(tmp_path / "o.jsonl")
    assert row["value"] is None and "not found" in row["error"]


def test_bad_generation_line(dict_dir, tmp_path):
    bad = tmp_path / "fr.jsonl"
    bad.write_text('{"id": "a", "lang": "fr", "response": "Le chat"}\n{"id": "b", "lang": "fr"}\n')
    with pytest.raises(DataError, match=r"fr.jsonl:2: generation record has no 'response'"):
        score_spellcheck(bad, tmp_path / "o.jsonl", "spell", LANGUAGES, SpellcheckParams(hunspell_dir=str(dict_dir)))


def test_settings_validation():
    with pytest.raises(ConfigError, match="evaluate.missing_dictionary"):
        SpellcheckParams(missing_dictionary="skip")


@pytest.mark.skipif(not __import__("pathlib").Path("/usr/share/hunspell/fr_FR.dic").is_file(),
                    reason="Debian hunspell-fr not installed")
def test_real_debian_french_dictionary():
    speller = Speller("/usr/share/hunspell/fr_FR")
    result = spellcheck_text("Aujourd'hui, l'élève écrit une lettre à sa grand-mère.", speller)
    assert result["value"] == 1.0 and result["words"] == 8
    assert spellcheck_text("Aujourdhui l'élèvve écrit", speller)["errors"] == 2


def test_surface_metric_targets_and_params_on_the_paper_grid():
    from polyalpaca import evaluate
    from polyalpaca.config import load_config

    config = load_config("config.yaml")
    assert evaluate.metric_names(config, "spellcheck") == ["spell"]
    targets = evaluate.surface_score_targets(config)
    assert "results/scores/spell/llama2-7b/dolly-en/zs-full-lr1e-5/alpacafarm_eval/pt.jsonl" in targets
    assert "results/scores/lid-openlid/pythia-70m/alpaca-mono-fr/chen-lora/oasst_test/fr.jsonl" in targets
    assert not any(t.startswith("results/scores/spell/") and "/oasst_test/" in t for t in targets)
    assert evaluate.spell_languages(config, "fr") == {"fr": {"hunspell": "fr_FR"}}
    assert evaluate.spell_languages(config, "zh") == {"zh": {}}
    # the dictionary folder and the OpenLID path are operational: read by the job, not params
    assert evaluate.spell_settings(config) == {"missing_dictionary": "fail"}
    assert evaluate.lid_params(config, "lid-openlid", "oasst_test") == {
        "model": "openlid", "candidates": config["testsets"]["oasst_test"]["languages"],
        "equivalents": {"no": ["nb", "nn", "nno_Latn"]}, "min_prob": None, "uncertain": "match"}
    assert evaluate.lid_languages(config, "lid-openlid")["no"] == {"openlid": "nob_Latn"}
    assert evaluate.lid_languages(config, "lid")["no"] == {"lid176": "no"}
