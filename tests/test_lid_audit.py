"""`polyalpaca lid-audit` on the real, human-translated OASST test prompts (../shared/data), and on
small files of the project's other formats."""

from __future__ import annotations

import json

import pytest

from polyalpaca.cli import main
from polyalpaca.lid_audit import file_lang, record_text

from .conftest import REPO

PROMPTS = REPO.parent / "shared" / "data" / "oasst-test-prompts"
FILES = [str(PROMPTS / f"test_{lang}.jsonl") for lang in ("en", "fr", "no", "bg", "zh")]
CONFIG = str(REPO / "config.yaml")
needs_prompts = pytest.mark.skipif(not PROMPTS.is_dir(), reason=f"{PROMPTS} (the shared real test prompts) is absent")


def audit(capsys, *args: str) -> tuple[int, list[str], str]:
    code = main(["lid-audit", *args, "--config", CONFIG])
    out, err = capsys.readouterr()
    return code, out.strip().splitlines(), err


@needs_prompts
def test_lid176_with_every_language_reproduces_the_measured_confusions(capsys):
    code, lines, _ = audit(capsys, *FILES, "--model", "lid176", "--candidates", "all")
    assert code == 0
    assert lines[0] == "# model=lid176 candidates=all"
    assert "no 29/50 da:17 en:2 sv:2" in lines and "bg 48/50 mk:2" in lines
    assert {"en 50/50", "fr 50/50", "zh 50/50"} <= set(lines)  # test_fr.jsonl has no final newline: 50 read
    assert lines[-1] == "accuracy=0.9080 n=250"


@needs_prompts
def test_lid176_restricted_to_the_five_languages_is_above_99_percent(capsys):
    code, lines, _ = audit(capsys, *FILES, "--candidates", "en,fr,no,bg,zh")
    assert code == 0 and "no 48/50 en:2" in lines
    accuracy, n = (part.split("=")[1] for part in lines[-1].split())
    assert float(accuracy) >= 0.99 and n == "250"
    # 'study' means the audited files' languages: the same five
    assert audit(capsys, *FILES, "--candidates", "study")[1][1:] == lines[1:]


@needs_prompts
def test_lingua_runs_on_the_real_prompts(capsys):
    # restricted to the five languages (five models; with all 75: ~11 s and ~1 GB, see the note in lid.py)
    code, lines, _ = audit(capsys, *FILES, "--model", "lingua", "--metric", "lid")
    assert code == 0
    assert lines[0].startswith("# model=lingua candidates=study equivalents=")
    assert "no 50/50" in lines and float(lines[-1].split()[0].split("=")[1]) >= 0.98


@needs_prompts
def test_metric_settings_come_from_the_config_and_flags_override_them(capsys):
    code, lines, _ = audit(capsys, FILES[2], FILES[0], "--metric", "lid", "--min-prob", "0.5")
    assert code == 0
    assert lines[0] == ("# model=lid176 candidates=study equivalents={'no': ['nb', 'nn', 'nno_Latn']} "
                        "min_prob=0.5")
    no_line = next(line for line in lines if line.startswith("no "))
    # restricted to {no, en}, "no" often wins with a low probability (lid.176's top is Danish): uncertain,
    # counted as a match by default and reported apart
    assert no_line.startswith("no 50/50 uncertain:") and int(no_line.split(":")[-1]) >= 17
    # restricted to the file's own language only: refused rather than a vacuous 100 %
    assert "fewer than two languages" in audit(capsys, FILES[2], "--metric", "lid")[2]
    assert audit(capsys, FILES[2], "--metric", "lid", "--candidates", "all")[1][1] == "no 29/50 da:17 en:2 sv:2"


def _write(path, records, raw_lines=()):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) + "".join(raw_lines),
                    encoding="utf-8")
    return str(path)


def test_language_from_the_record_or_the_file_name_and_bad_lines(tmp_path, capsys):
    gens = _write(tmp_path / "generations.jsonl", [
        {"id": "g1", "lang": "fr", "prompt": "p", "response": "Il fait très beau aujourd'hui, allons au parc."},
        {"id": "g2", "lang": "fr", "prompt": "p", "response": "The weather is lovely today, let us go to the park."},
        {"id": "g3", "lang": "fr", "prompt": "p", "response": "   "}])
    alpaca = _write(tmp_path / "alpaca_de.jsonl", [
        {"instruction": "Beschreibe das Wetter heute.", "input": "", "output": "Heute ist es sonnig und warm."}])
    code, lines, _ = audit(capsys, gens, alpaca)
    assert code == 0 and lines[1:] == ["fr 1/3 en:1 none:1", "de 1/1", "accuracy=0.5000 n=4"]

    bad = _write(tmp_path / "test_en.jsonl", [{"id": "a", "prompt": "Hello there, how are you today?"}],
                 raw_lines=["{not json\n", '{"id": "c", "prompt": 3}\n'])
    code, _, err = audit(capsys, bad)
    assert code == 2 and f"{bad}:2: not valid JSON" in err
    code, lines, _ = audit(capsys, bad, "--on-bad-line", "skip")
    assert code == 0 and lines[-1] == "accuracy=1.0000 n=1"

    nolang = _write(tmp_path / "prompts.jsonl", [{"id": "a", "prompt": "Hello there"}])
    assert "prompts.jsonl:1: no 'lang' field and no _{lang} suffix" in audit(capsys, nolang)[2]
    unknown = _write(tmp_path / "test_xx.jsonl", [{"id": "a", "prompt": "Hello there"}])
    assert "language 'xx' is not in the config's languages" in audit(capsys, unknown)[2]


def test_bad_candidates_are_clear_errors(tmp_path, capsys):
    path = _write(tmp_path / "test_en.jsonl", [{"id": "a", "prompt": "Hello there, how are you today?"}])
    assert "candidates: unknown language code 'qq'" in audit(capsys, path, "--candidates", "en,qq")[2]
    assert "--candidates: en is not among the candidates fr, de" in audit(capsys, path, "--candidates", "fr,de")[2]
    assert "--metric 'spell': not a metric of kind lid" in audit(capsys, path, "--metric", "spell")[2]
    assert main(["lid-audit", path, "--config", str(tmp_path / "no-such.yaml")]) == 2
    assert "no-such.yaml: config file not found" in capsys.readouterr().err


def test_text_of_each_project_format():
    assert record_text({"prompt": "p", "response": "r"}) == "r"  # generation
    assert record_text({"id": "x", "prompt": "p", "lang": "fr"}) == "p"  # test prompt / prompts source
    assert record_text({"question_id": 1, "turns": ["t1", "t2"]}) == "t1"  # Vicuna
    assert record_text({"conversations": ["q", "a", "q2"]}) == "q\na"  # LIMA
    assert record_text({"instruction": "i", "context": "c", "response": "r"}) == "i\nc\nr"  # Dolly
    assert record_text({"instruction": "i", "input": "", "output": "o"}) == "i\no"  # Alpaca / source record
    with pytest.raises(ValueError, match="no text to identify"):
        record_text({"id": "x", "text": "t"})
    with pytest.raises(ValueError, match="'prompt' is not a string"):
        record_text({"prompt": 3})
    assert file_lang(PROMPTS / "test_no.jsonl") == "no" and file_lang(PROMPTS / "alpaca.json") is None


# ---------------------------------------------------------------- the metric's settings in the config
@pytest.fixture
def raw_config():
    import yaml

    return yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("lid, message", [
    ({"candidates": ["en", "xx"]}, r"metrics.lid-openlid.candidates\[1\]: 'xx' is not defined in languages"),
    ({"candidates": ["en", "fr"]},
     r"metrics.lid-openlid.candidates: 'bg' is scored in studies.chen2024 but is not a candidate"),
    ({"equivalents": {"nb": ["nn"]}}, r"metrics.lid-openlid.equivalents.nb: 'nb' is not defined in languages"),
    ({"candidates": "any"}, r"metrics.lid-openlid.candidates: 'any' is not one of \['all', 'study'\]"),
    ({"uncertain": "mismatch"}, r"metrics.lid-openlid.uncertain: 'mismatch' is not one of"),
])
def test_bad_lid_metric_settings_name_the_key(raw_config, lid, message):
    from polyalpaca.config import validate_config
    from polyalpaca.errors import ConfigError

    raw_config["metrics"]["lid-openlid"].update(lid)  # Chen et al.'s LID metric
    with pytest.raises(ConfigError, match=message):
        validate_config(raw_config)


def test_a_scored_language_without_a_label_for_the_model_is_named(raw_config):
    from polyalpaca.config import validate_config
    from polyalpaca.errors import ConfigError

    raw_config["metrics"]["lid-openlid"]["lid_model"] = "lingua"
    del raw_config["languages"]["bn"]["lingua"]
    with pytest.raises(ConfigError, match=r"languages.bn: no lingua label, but metric 'lid-openlid' \(lid_model lingua\) "
                                          r"must name 'bn' in studies.chen2024"):
        validate_config(raw_config)


def test_study_candidates_are_the_test_sets_languages():
    from polyalpaca import evaluate
    from polyalpaca.config import load_config

    config = load_config(CONFIG)
    assert evaluate.lid_candidates(config, "lid", "vicuna80") == ["en", "es", "fr", "pt", "ar", "id", "zh", "ta",
                                                                  "de", "it", "ru", "my", "tl"]
    jobs = evaluate.lid_ceiling_jobs(config, "chen2024")
    assert {lang for _, _, lang in jobs} == {"en", "es", "fr", "bg", "ru", "zh", "bn", "no"}
    assert evaluate.lid_ceiling_targets(config, "zeroshot") == [
        f"results/lid_ceiling/lid/alpacafarm_eval/{lang}.jsonl" for lang in ("en", "fr", "pt", "ru")]


# ---------------------------------------------------------------- through Snakemake (smoke config)
def test_lid_ceiling_rule_on_the_smoke_test_prompts_warns_below_the_floor(tmp_path):
    """Rule lid_ceiling runs the lid metric on results/testsets/ and the study table waits for it. Two of
    the six German smoke prompts are replaced by English ones (in the copy): ceiling 4/6, below 0.95."""
    from .conftest import copy_repo, snakemake

    work = copy_repo(tmp_path / "repo")
    german = work / "tests" / "smoke" / "data" / "test_de.jsonl"
    lines = german.read_text(encoding="utf-8").splitlines()
    lines[:2] = [json.dumps({"id": "de-01", "prompt": "What are the benefits of drinking water every day?"}),
                 json.dumps({"id": "de-02", "prompt": "Write a short poem about the sea and its waves."})]
    german.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dry = snakemake(work, "-n", "results/tables/chen2024.csv")
    assert dry.returncode == 0, dry.stdout[-3000:] + dry.stderr[-3000:]
    assert {f"results/lid_ceiling/lid/oasst_test/{lang}.jsonl" for lang in ("en", "fr", "de")} <= {
        line.split()[-1] for line in dry.stdout.splitlines() if line.strip().startswith("output: results/lid_ceiling")}
    targets = [f"results/lid_ceiling/lid/oasst_test/{lang}.jsonl" for lang in ("fr", "de")]
    proc = snakemake(work, *targets)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    german_scores = [json.loads(line) for line in (work / targets[1]).read_text().splitlines()]
    assert [s["value"] for s in german_scores] == [0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    assert german_scores[0]["pred_lang"] == "en" and german_scores[0]["top_label"] == "en"
    log = (work / "logs/evaluate/lid_ceiling/lid/oasst_test/de.log").read_text()
    assert "LID ceiling of de is 0.667, below the floor 0.95" in log and "de 4/6 en:2" in log
    assert "WARNING" not in (work / "logs/evaluate/lid_ceiling/lid/oasst_test/fr.log").read_text()


def test_audit_of_score_records_counts_every_outcome():
    from polyalpaca.lid_audit import audit_scores, total_line

    records = [{"lang": "no", "value": 1.0}, {"lang": "no", "value": 1.0, "uncertain": True},
               {"lang": "no", "value": 0.0, "pred_lang": None, "label": "da"},
               {"lang": "no", "value": 0.0, "pred_lang": None, "label": None, "top_label": "fr"},  # no candidate
               {"lang": "no", "value": 0.0, "pred_lang": "en", "label": "en"},
               {"lang": "no", "value": None, "error": "empty prompt"}, {"lang": "en", "value": 1.0}]
    audits = audit_scores(records)
    assert audits["no"].line() == "no 2/6 da:1 en:1 fr:1 none:1 uncertain:1"
    assert total_line(audits) == "accuracy=0.4286 n=7"
