"""Round-trip translation quality: sacrebleu against hand-computed scores, the paper's metric settings, the
seeded sample, a real back-translation on a tiny NLLB, the table's floor flag and the config checks."""

import copy
import json

import pandas as pd
import pytest

from polyalpaca.config import load_config
from polyalpaca.validate import validate_workflow_config as validate_config
from polyalpaca.errors import ConfigError
from polyalpaca.grid import grid_jobs, study_translation_pairs
from polyalpaca.io import read_jsonl, write_jsonl
from polyalpaca.roundtrip.plan import report_pairs, roundtrip_params
from polyalpaca.roundtrip.report import write_roundtrip_report
from polyalpaca.roundtrip.run import back_translate, sample_records
from polyalpaca.roundtrip.score import bleu_chrf, score_roundtrip
from polyalpaca.tiny.nllb import build_nllb_model
from polyalpaca.translate import TranslateSettings, convert_nllb
from polyalpaca.translate.engine import Ct2Translator

from .conftest import REPO

BACTRIANX = (REPO.parent / "shared" / "papers" / "001_3f6678c503611105.txt")


# ---------------------------------------------------------------- sacrebleu against hand-computed scores
def test_bleu_of_one_sentence_by_hand():
    # hyp "the cat sat on the mat", ref "the cat sat on a mat": clipped n-gram precisions 5/6, 3/5, 2/4, 1/3,
    # equal lengths (brevity penalty 1): BLEU = (5/6 * 3/5 * 2/4 * 1/3) ** (1/4) = (1/12) ** 0.25
    scores = bleu_chrf(["the cat sat on the mat"], ["the cat sat on a mat"])
    assert scores["bleu"] == pytest.approx(100 * (1 / 12) ** 0.25)  # 53.728


def test_bleu_is_a_corpus_score_not_a_mean_of_sentences():
    # adding "hello world" (exact) sums the counts: 7/8, 4/6, 2/4, 1/3 -> (7/72) ** (1/4)
    scores = bleu_chrf(["the cat sat on the mat", "hello world"], ["the cat sat on a mat", "hello world"])
    assert scores["bleu"] == pytest.approx(100 * (7 / 72) ** 0.25)  # 55.839, not the mean of 53.7 and 100


def test_chrf_plus_plus_by_hand():
    # chrF++ = character 1..6-grams (spaces removed) and word 1..2-grams, precision and recall averaged over
    # the orders both sides have, then F-beta with beta 2. hyp "a b" vs ref "a c": char1 1/2, char2 0/1,
    # word1 1/2, word2 0/1 -> P = R = (0.5 + 0 + 0.5 + 0) / 4 = 0.25 -> F2 = 5 * P * R / (4P + R) = 0.25.
    assert bleu_chrf(["a b"], ["a c"])["chrf"] == pytest.approx(25.0)
    # with "x" vs "x" the counts add up: char1 2/3, char2 0/1, word1 2/3, word2 0/1 -> 1/3
    assert bleu_chrf(["a b", "x"], ["a c", "x"])["chrf"] == pytest.approx(100 / 3)


@pytest.mark.skipif(not BACTRIANX.is_file(), reason="the papers are not beside this checkout")
def test_metric_settings_are_the_papers():
    """Bactrian-X §3.2, footnotes 4 and 5: 'nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|' (BLEU) and
    'nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|' (chrF++), sacrebleu 2.3.1."""
    text = BACTRIANX.read_text(encoding="utf-8")
    scores = bleu_chrf(["a"], ["a"])
    for key, quoted in (("bleu_signature", "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|"),
                        ("chrf_signature", "nrefs:1|case:mixed|eff:yes|nc:6|nw:2|")):
        assert quoted in text
        assert scores[key].startswith(quoted)
    assert "space:no|" in scores["chrf_signature"]
    assert "100 randomly-sampled instances" in text
    assert load_config(REPO / "config.yaml")["studies"]["bactrianx"]["roundtrip"]["sample"] == 100


# ---------------------------------------------------------------- the sample
RECORDS = [{"id": f"s{i}-fr", "source_id": f"s{i}", "lang": "fr", "instruction": f"Phrase {i}.",
            "input": "", "output": "x"} for i in range(20)]


def test_sample_is_seeded_and_in_source_order():
    first = sample_records(list(reversed(RECORDS)), ["instruction"], 5, seed=42)
    assert first == sample_records(RECORDS, ["instruction"], 5, seed=42)
    assert [r["source_id"] for r in first] == sorted(r["source_id"] for r in first)
    assert len(first) == 5 and first != sample_records(RECORDS, ["instruction"], 5, seed=7)
    assert sample_records(RECORDS, ["input"], 5, seed=42) == []  # no record has an input
    assert len(sample_records(RECORDS, ["instruction"], 100, seed=42)) == 20  # all when fewer


# ---------------------------------------------------------------- a real round trip on a tiny NLLB
TEXTS = ["Give three tips for staying healthy.", "Summarize the text.", "The cat sat on the mat.",
         "Donne trois conseils pour rester en bonne santé.", "Résume le texte.", "Le chat est assis."] * 4


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("nllb")
    snapshot = build_nllb_model(root / "tiny", TEXTS, ["eng_Latn", "fra_Latn"], d_model=32, encoder_layers=1,
                                decoder_layers=1, heads=4, ffn_dim=64, vocab_size=300)
    model = convert_nllb(snapshot, root / "tiny-ct2-int8", "int8")
    return Ct2Translator(model, TranslateSettings(beam_size=1, threads=1), threads=1, name="tiny-nllb")


def test_back_translation_pairs_each_sample_with_its_original(tmp_path, engine):
    source = [{"id": f"s{i}", "instruction": t, "input": "", "output": "o", "lang": "en"}
              for i, t in enumerate(TEXTS[:3])]
    translated = [{"id": f"s{i}-fr", "source_id": f"s{i}", "lang": "fr", "instruction": t, "input": "",
                   "output": "o", "translator": "tiny-nllb"} for i, t in enumerate(TEXTS[3:6])]
    write_jsonl(tmp_path / "src.jsonl", source)
    write_jsonl(tmp_path / "fr.jsonl", translated)
    job = {"source": "mini", "lang": "fr", "src_lang": "en", "src_code": "eng_Latn", "tgt_code": "fra_Latn",
           "translator": "tiny-nllb", "on_bad_line": "fail"}
    params = {"sample": 2, "fields": ["instruction"], "seed": 42, "comet_model": None}
    segments = back_translate(tmp_path / "fr.jsonl", tmp_path / "src.jsonl", tmp_path / "rt.jsonl", job, params,
                              engine, engine.settings)
    assert segments == read_jsonl(tmp_path / "rt.jsonl") and len(segments) == 2
    by_id = {r["id"]: r for r in source}
    for seg in segments:
        assert seg["original"] == by_id[seg["source_id"]]["instruction"]
        assert seg["translated"] == TEXTS[3 + int(seg["source_id"][1:])]
        assert isinstance(seg["back"], str) and seg["field"] == "instruction"
    # the same engine, called directly fr -> en, gives the same back-translation
    direct = engine.translate([segments[0]["translated"]], "fra_Latn", "eng_Latn")[0].text
    assert segments[0]["back"] == direct
    result = score_roundtrip(tmp_path / "rt.jsonl", tmp_path / "rt.scores.json", source="mini", lang="fr")
    expected = bleu_chrf([s["back"] for s in segments], [s["original"] for s in segments])
    assert result["bleu"] == expected["bleu"] and result["chrf"] == expected["chrf"]
    assert json.loads((tmp_path / "rt.scores.json").read_text())["n_records"] == 2


# ---------------------------------------------------------------- the table flags low pairs
def _smoke():
    return load_config(REPO / "tests/smoke/config.yaml")


def test_table_flags_pairs_below_the_floor(tmp_path, caplog):
    config = _smoke()
    pairs = study_translation_pairs(config, "bactrianx")
    assert len(pairs) >= 2
    chrfs = [30.0, 70.0] + [80.0] * (len(pairs) - 2)
    for (source, lang), chrf in zip(pairs, chrfs):
        path = tmp_path / f"results/roundtrip/{source}/{lang}.scores.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"bleu": chrf / 2, "chrf": chrf, "n_records": 4, "n_segments": 4,
                                    "fields": ["instruction"], "comet": None}))
    out = {k: str(tmp_path / f"out.{k}") for k in ("csv", "html", "pdf", "png")}
    write_roundtrip_report(report_pairs(config, "bactrianx"), 50, "bactrianx", root=tmp_path, **out)
    table = pd.read_csv(out["csv"])
    assert list(table["below_floor"]) == [c < 50 for c in chrfs]
    html = open(out["html"], encoding="utf-8").read()
    assert f"{pairs[0][0]} {pairs[0][1]}: chrF++ 30.0" in html and "below the floor 50" in html
    assert "25% Q." in html  # Table 2's summary rows
    assert any("below the floor" in r.message for r in caplog.records)


def test_table_names_a_missing_score_file(tmp_path):
    out = {k: str(tmp_path / f"out.{k}") for k in ("csv", "html", "pdf", "png")}
    with pytest.raises(Exception, match=r"results/roundtrip/.*\.scores\.json: round-trip scores missing"):
        write_roundtrip_report(report_pairs(_smoke(), "bactrianx"), 50, "bactrianx", root=tmp_path, **out)


# ---------------------------------------------------------------- config and grid
def test_full_config_round_trips_every_translated_source_and_language():
    config = load_config(REPO / "config.yaml")
    jobs = grid_jobs(config)
    translated = {(j.get("source"), j.get("lang")) for j in jobs if j.rule == "merge_translations"}
    for rule in ("roundtrip_translate", "roundtrip_score"):
        assert {(j.get("source"), j.get("lang")) for j in jobs if j.rule == rule} == translated
    assert roundtrip_params(config, "alpaca", "fr") == {"sample": 100, "fields": ["instruction"], "seed": 42,
                                                         "comet_model": None}
    assert roundtrip_params(config, "vicuna80", "de")["fields"] == ["prompt"]


def _raw(path):
    import yaml

    return yaml.safe_load(open(path, encoding="utf-8"))


def test_comet_without_its_package_stops_at_validation():
    config = _raw(REPO / "tests/smoke/config.yaml")
    config["studies"]["bactrianx"]["roundtrip"]["comet_model"] = "Unbabel/wmt22-comet-da"
    try:
        import comet  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match=r"studies\.bactrianx\.roundtrip\.comet_model: COMET needs the "
                                              r"unbabel-comet package"):
            validate_config(config)
    else:
        validate_config(config)


def test_studies_sharing_a_source_must_agree():
    config = _raw(REPO / "tests/smoke/config.yaml")
    config["studies"]["chen2024"]["roundtrip"] = {"sample": 4}
    config["studies"]["bactrianx"]["roundtrip"] = {"sample": 4}
    validate_config(copy.deepcopy(config))  # no shared source: fine
    config["studies"]["zeroshot"]["roundtrip"] = {"sample": 7}
    config["studies"]["realmodel"] = copy.deepcopy(config["studies"]["zeroshot"])
    config["studies"]["realmodel"]["roundtrip"] = {"sample": 9}
    with pytest.raises(ConfigError, match=r"studies\.realmodel\.roundtrip: sample, fields or comet_model differ "
                                          r"from studies\.zeroshot\.roundtrip"):
        validate_config(config)
