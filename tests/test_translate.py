"""The translate stage through real CTranslate2 on a tiny converted NLLB: shards, merge, resume, errors."""

import collections
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from polyalpaca.errors import ConfigError, DataError
from polyalpaca.io import read_jsonl, write_jsonl
from polyalpaca.lid import LanguageIdentifier
from polyalpaca.tiny.nllb import build_nllb_model
from polyalpaca.translate import (Ct2Translator, FilterSettings, ShardJob, TranslateSettings, convert_nllb,
                                  download_snapshot, merge_translations, nllb_code, translate_records,
                                  translate_shard)
from polyalpaca.translate.models import check_snapshot

from .conftest import REPO

LANGUAGES = {"en": {"nllb": "eng_Latn"}, "fr": {"nllb": "fra_Latn"}, "es": {"nllb": "spa_Latn"},
             "de": {"nllb": "deu_Latn"}}
CODE = "```python\ndef add(a, b):\n    return a + b  # Sum. Of two.\n```"
RECORDS = [
    {"id": "r0", "instruction": "Give three tips for staying healthy.", "input": "",
     "output": "1. Eat a balanced diet.\n2. Exercise regularly. Sleep well.\n\n3. Visit https://example.com/health today.",
     "lang": "en", "source": "mini"},
    {"id": "r1", "instruction": "Write a function that adds two numbers.", "input": "",
     "output": f"Here is the code:\n{CODE}\nCall `add(1, 2)` to get {{result}}.", "lang": "en", "source": "mini"},
    {"id": "r2", "instruction": "Summarize the text.", "input": "The cat sat on the mat. It was happy.",
     "output": "A happy cat sat.", "lang": "en", "source": "mini"},
    {"id": "r3", "instruction": "Summarize the text.", "input": "The cat sat on the mat. It was happy.",
     "output": "The cat was happy on the mat.", "lang": "en", "source": "mini"},
    {"id": "r4", "instruction": "Reply to %s with <noinput>.", "input": None, "output": "Mail me at jo@example.org.",
     "lang": "en", "source": "mini"},
]
FIELDS = ("instruction", "input", "output")
TEXTS = [r[f] for r in RECORDS for f in FIELDS if r[f]] + [
    "Donne trois conseils pour rester en bonne santé.", "Da tres consejos para mantenerse sano.",
    "Gib drei Tipps, um gesund zu bleiben."] * 3
FLAG_ONLY = {r: {"action": "flag"} for r in ("length_ratio", "repetition", "wrong_language")}


@pytest.fixture(scope="module")
def ct2_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("nllb")
    snapshot = build_nllb_model(root / "tiny", TEXTS, [v["nllb"] for v in LANGUAGES.values()], d_model=32,
                                encoder_layers=1, decoder_layers=1, heads=4, ffn_dim=64, vocab_size=300)
    return convert_nllb(snapshot, root / "tiny-ct2-int8", "int8")


SETTINGS = TranslateSettings(beam_size=2, batch_tokens=64, max_input_tokens=40, length_factor=1.5, length_offset=2,
                             threads=1, checkpoint_segments=4)


@pytest.fixture(scope="module")
def engine(ct2_model):
    return Ct2Translator(ct2_model, SETTINGS, threads=1, name="tiny-nllb")


class CountingEngine:
    """The real engine, counting how often each sentence is sent to it."""

    def __init__(self, engine):
        self.engine, self.name, self.model_dir = engine, engine.name, engine.model_dir
        self.sent = collections.Counter()

    def translate(self, sentences, src, tgt):
        self.sent.update(sentences)
        return self.engine.translate(sentences, src, tgt)


def job(**kw):
    base = dict(source="mini", lang="fr", src_lang="en", src_code="eng_Latn", tgt_code="fra_Latn",
                translator="tiny-nllb", fields=FIELDS)
    return ShardJob(**{**base, **kw})


def test_conversion_keeps_the_tokenizer_and_the_output_is_bounded(engine, ct2_model):
    assert (ct2_model / "model.bin").is_file() and (ct2_model / "tokenizer.json").is_file()
    sentences = ["Give three tips for staying healthy.", "Eat.", "The cat sat on the mat and was happy all day."]
    out = engine.translate(sentences, "eng_Latn", "fra_Latn")
    assert len(out) == 3
    for sentence, t in zip(sentences, out):
        assert isinstance(t.text, str) and t.text and "fra_Latn" not in t.text
        assert t.src_tokens == len(engine.tokenizer.tokenize(sentence))
        # a random model never stops by itself: its output is cut by the bound of its batch (<= 64 tokens)
        assert 1 <= t.out_tokens <= 1.5 * 40 + 2 and t.hit_limit
    long = " ".join(["healthy"] * 100)  # more than max_input_tokens (40): translated in parts, never truncated
    [t] = engine.translate([long], "eng_Latn", "fra_Latn")
    assert t.src_tokens == len(engine.tokenizer.tokenize(long)) > 40 and t.out_tokens > 1.5 * 40 + 2
    alone = engine.translate(["Eat."], "eng_Latn", "fra_Latn")[0]
    assert alone.out_tokens == int(1.5 * alone.src_tokens + 2 + 0.99)  # bounded relative to its own input


def test_records_keep_code_urls_placeholders_lines_and_empty_fields(engine):
    counting = CountingEngine(engine)
    out = translate_records(RECORDS, job(), counting, SETTINGS)
    assert max(counting.sent.values()) == 1  # every distinct sentence translated once
    assert "Summarize the text." in counting.sent and "The cat sat on the mat." in counting.sent
    assert [r["id"] for r in out] == [f"r{i}-fr" for i in range(5)]
    assert [r["source_id"] for r in out] == [f"r{i}" for i in range(5)]
    assert all(r["lang"] == "fr" and r["translator"] == "tiny-nllb" and r["source"] == "mini" for r in out)
    assert out[0]["input"] == "" and out[4]["input"] is None
    assert out[2]["input"] == out[3]["input"] and out[2]["instruction"] == out[3]["instruction"]
    for src, tr in zip(RECORDS, out):
        for field in FIELDS:
            if src[field]:
                assert tr[field] != src[field]
                assert tr[field].count("\n") == src[field].count("\n")
    assert CODE in out[1]["output"] and "`add(1, 2)`" in out[1]["output"] and "{result}" in out[1]["output"]
    assert "https://example.com/health" in out[0]["output"]
    assert out[0]["output"].split("\n")[1].startswith("2. ") and out[0]["output"].split("\n")[2] == ""
    assert "%s" in out[4]["instruction"] and "<noinput>" in out[4]["instruction"] and "jo@example.org" in out[4]["output"]
    assert all(len(r["qc"]["segments"]) >= 1 for r in out)


def test_prompt_records_translate_their_prompt_only(engine):
    prompts = [{"id": "1", "prompt": "How can I improve my time management skills?", "lang": "en",
                "source": "vicuna80", "category": "generic"}]
    [out] = translate_records(prompts, job(source="vicuna80", lang="de", tgt_code="deu_Latn", fields=("prompt",)),
                              engine, SETTINGS)
    assert out["prompt"] != prompts[0]["prompt"] and out["category"] == "generic" and out["source"] == "vicuna80"
    assert (out["id"], out["source_id"], out["lang"]) == ("1-de", "1", "de")


def _source(tmp_path, records=RECORDS):
    path = tmp_path / "mini.jsonl"
    write_jsonl(path, records)
    return path


def test_shards_merge_complete_in_source_order_and_every_drop_is_counted(engine, tmp_path):
    records = [dict(r, id=f"{r['id']}-{k}") for k in range(3) for r in RECORDS]  # 15 records, 3 shards of 5
    source = _source(tmp_path, records)
    lid = LanguageIdentifier()
    shards = [tmp_path / f"shards/{i}.jsonl" for i in range(3)]
    for i, path in enumerate(shards):
        result = translate_shard(source, path, job(shard=i, shards=3), engine, SETTINGS,
                                 progress_path=tmp_path / f"progress/{i}.jsonl", lid=lid)
        assert result.records == 5 and not (tmp_path / f"progress/{i}.jsonl").exists()
    flagged = merge_translations(source, shards, tmp_path / "fr.jsonl", tmp_path / "fr.report.json", source="mini",
                                 lang="fr", fields=FIELDS, filters=FilterSettings.from_config(FLAG_ONLY))
    merged = read_jsonl(tmp_path / "fr.jsonl")
    assert [r["source_id"] for r in merged] == [r["id"] for r in records]
    assert all("qc" not in r and isinstance(r["flags"], list) for r in merged)
    assert flagged["records_in"] == flagged["records_out"] == 15 and flagged["dropped_records"] == 0
    assert flagged["reasons"]["length_ratio"] == 15  # a random model always runs into the length bound
    assert json.loads((tmp_path / "fr.report.json").read_text()) == flagged

    dropped = merge_translations(source, shards, tmp_path / "d.jsonl", tmp_path / "d.report.json", source="mini",
                                 lang="fr", fields=FIELDS, filters=FilterSettings.from_config(
                                     {"length_ratio": {"action": "drop"}, "wrong_language": {"action": "off"}}))
    assert dropped["records_in"] == dropped["records_out"] + dropped["dropped_records"]
    assert dropped["dropped"]["length_ratio"] == dropped["dropped_records"] == 15
    assert dropped["reasons"]["wrong_language"] == 0 and read_jsonl(tmp_path / "d.jsonl") == []

    with pytest.raises(DataError, match="hold 10 records but .* has 15"):
        merge_translations(source, shards[:2], tmp_path / "x.jsonl", tmp_path / "x.json", source="mini", lang="fr",
                           fields=FIELDS, filters=FilterSettings())
    with pytest.raises(DataError, match=r"2\.jsonl: record 1 has source_id 'r0-2', expected 'r0-1'.*out of order"):
        merge_translations(source, [shards[0], shards[2], shards[1]], tmp_path / "x.jsonl", tmp_path / "x.json",
                           source="mini", lang="fr", fields=FIELDS, filters=FilterSettings())
    assert not (tmp_path / "x.jsonl").exists()


KILLABLE = """
import sys, time
from polyalpaca.translate import Ct2Translator, ShardJob, TranslateSettings, translate_shard
model, source, out, progress = sys.argv[1:5]
settings = TranslateSettings(**{settings!r})
engine = Ct2Translator(model, settings, threads=1, name="tiny-nllb")

class Slow:  # the real engine, slowed down so the test can kill the job halfway
    name, model_dir = engine.name, engine.model_dir
    def translate(self, sentences, src, tgt):
        out = engine.translate(sentences, src, tgt)
        time.sleep(0.4)
        return out

translate_shard(source, out, ShardJob(**{job!r}), Slow(), settings, progress_path=progress)
"""


def test_a_killed_shard_resumes_without_redoing_finished_sentences(engine, ct2_model, tmp_path):
    records = [dict(r, id=f"{r['id']}-{k}", instruction=f"{r['instruction']} Step {k}.") for k in range(4)
               for r in RECORDS]
    source, out, progress = _source(tmp_path, records), tmp_path / "0.jsonl", tmp_path / ".progress/0.jsonl"
    settings = SETTINGS.as_dict()
    job_args = dict(source="mini", lang="fr", src_lang="en", src_code="eng_Latn", tgt_code="fra_Latn",
                    translator="tiny-nllb", fields=list(FIELDS))
    script = tmp_path / "killable.py"
    script.write_text(textwrap.dedent(KILLABLE.format(settings=settings, job=job_args)))
    proc = subprocess.Popen([sys.executable, str(script), str(ct2_model), str(source), str(out), str(progress)],
                            env={**os.environ, "PYTHONPATH": str(REPO / "src")}, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if progress.exists() and progress.read_text().count("\n") >= 1 + 2 * SETTINGS.checkpoint_segments:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()  # a killed job leaves no output that looks complete
    with open(progress, "ab") as handle:
        handle.write(b'{"s": "a torn li')  # killed in the middle of a write
    saved = {json.loads(line)["s"] for line in progress.read_text().splitlines()[1:-1]}
    assert len(saved) >= 2 * SETTINGS.checkpoint_segments

    counting = CountingEngine(engine)
    result = translate_shard(source, out, job(), counting, SETTINGS, progress_path=progress)
    assert result.resumed == len(saved) and result.translated == result.distinct - len(saved) > 0
    assert not saved & set(counting.sent) and max(counting.sent.values()) == 1
    assert [r["source_id"] for r in read_jsonl(out)] == [r["id"] for r in records]
    assert not progress.exists()


def test_bad_inputs_say_what_to_fix(engine, tmp_path):
    with pytest.raises(ConfigError, match="unknown language 'xx'.*has de, en, es, fr"):
        nllb_code(LANGUAGES, "xx")
    with pytest.raises(ConfigError, match="no language token 'zho_Hans'.*deu_Latn, eng_Latn, fra_Latn, spa_Latn"):
        engine.translate(["Hello."], "eng_Latn", "zho_Hans")
    with pytest.raises(ConfigError, match="model.bin missing.*rule convert_nllb.*ct2-transformers-converter"):
        Ct2Translator(tmp_path / "nowhere", SETTINGS)
    with pytest.raises(ConfigError, match="config.json missing.*huggingface-cli download"):
        check_snapshot(tmp_path, "translators.nllb-600m.path")
    with pytest.raises(ConfigError, match="translators.nllb-600m.hf: cannot download.*translators.nllb-600m.path"):
        download_snapshot("facebook/nllb-200-distilled-600M", tmp_path / "nllb", name="nllb-600m")  # hub offline
    bad = [dict(RECORDS[0]), dict(RECORDS[2], output=["a", "list"])]
    with pytest.raises(DataError, match="record 'r2': field 'output' is a list, expected a string"):
        translate_shard(_source(tmp_path, bad), tmp_path / "o.jsonl", job(), engine, SETTINGS)
    with pytest.raises(DataError, match="record 'r0' has no field 'prompt'"):
        translate_records(RECORDS, job(fields=("prompt",)), engine, SETTINGS)
    with pytest.raises(DataError, match="record 'r0' has lang 'en', but mini is translated from 'fr'"):
        translate_records(RECORDS, job(src_lang="fr", src_code="fra_Latn", lang="de", tgt_code="deu_Latn"), engine,
                          SETTINGS)
    with pytest.raises(ConfigError, match="shard 3 does not exist: shards are numbered 0..2"):
        job(shard=3, shards=3)
    assert not (tmp_path / "o.jsonl").exists()
