"""The OpenAI-compatible backend against a local fake endpoint with injected faults.

Proves: every item ends with a score or an explicit error; Retry-After is honoured; a rerun sends no
request already answered; the budget stop sends nothing; repeated failures stop the job; the API key
appears in no file the run wrote.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time

import pytest

from polyalpaca.evaluate.judge import BudgetExceededError, JudgeFatalError
from polyalpaca.evaluate.judge.cache import JudgeCache
from polyalpaca.evaluate.judge.limits import RateLimiter
from polyalpaca.io import read_jsonl

from .fake_openai_server import FakeJudgeServer
from .judge_helpers import KEY_ENV, judge_config, messages_key, run_judge, write_inputs

KEY = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    return KEY


@pytest.fixture
def server():
    with FakeJudgeServer(api_key=KEY, retry_after=0.3, slow_s=1.0) as srv:
        yield srv


def _assert_complete(records, n):
    assert len(records) == n
    for r in records:
        assert (r["value"] is not None) != ("error" in r), r  # a value, or an explicit error — never both/neither


def test_single_rating_with_faults(tmp_path, key, server):
    responses = ["Une réponse correcte.", "@fault:429x2 réponse", "@fault:500x2 réponse", "@fault:slowx1 réponse",
                 "@fault:empty", "@fault:malformed", "@fault:rating7", "@style:1 @rate:3", "@style:3 @rate:1",
                 "@style:4 @rate:3", "@fault:400", "@style:5 @rate:1", "@style:2", "wrong language @rate:3"]
    paths = write_inputs(tmp_path / "in", responses, wrong_language={13})
    out = tmp_path / "out.jsonl"
    summary = run_judge("judge_single", judge_config(server), tmp_path, paths, out)
    records = read_jsonl(out)
    _assert_complete(records, len(responses))
    by_id = {r["id"]: r for r in records}
    assert [by_id[f"q{i:03d}"]["value"] for i in (0, 1, 2, 3)] == [2.0] * 4  # recovered from 429, 500, timeout
    assert by_id["q004"]["error"].startswith("unparseable answer after 2 attempts: empty answer")
    assert by_id["q004"]["raw"] == ""
    assert "no answer after 4 attempts" in by_id["q005"]["error"] and "malformed" in by_id["q005"]["error"]
    assert "rating 7 is outside 1-3" in by_id["q006"]["error"] and "[[7]]" in by_id["q006"]["raw"]
    assert "HTTP 400" in by_id["q010"]["error"]
    assert [by_id[f"q{i:03d}"]["rating"] for i in (7, 8, 9, 11, 12)] == [3, 1, 3, 1, 2]
    wrong = by_id["q013"]
    assert (wrong["rating"], wrong["lid_match"], wrong["value"]) == (3, 0.0, 0.0)  # Chen: x LID match
    ok = by_id["q000"]
    assert ok["judge"] == "fake" and ok["judge_model"] == "fake-judge-0613" and ok["fingerprint"] == "fp_fake123"
    assert ok["template"] == "chen2024-single-v1" and ok["usage"]["answers"] == 1 and ok["usage"]["prompt_tokens"] > 0
    # Retry-After (0.3 s) was waited for, not the 0.01 s backoff
    times = next(server.times[messages_key(b)] for b in server.bodies if "@fault:429x2" in b["messages"][-1]["content"])
    assert len(times) == 3 and min(b - a for a, b in zip(times, times[1:])) >= 0.28
    # temperature 0 and a seed on the first attempt; a parse retry samples with a new seed
    empty = [b for b in server.bodies if "@fault:empty" in b["messages"][-1]["content"]]
    assert [(b["temperature"], b["seed"]) for b in empty] == [(0.0, 0), (0.7, 1)]
    assert summary["errors"] == 4 and summary["retries"] >= 6

    # rerun: nothing already answered is sent again (only the items without an answer are retried)
    answered_before = dict(server.answered)
    rerun = run_judge("judge_single", judge_config(server), tmp_path, paths, tmp_path / "out2.jsonl")
    assert rerun["new_answers"] == 0 and rerun["cached_answers"] == 14
    assert dict(server.answered) == answered_before
    assert [r.get("value") for r in read_jsonl(tmp_path / "out2.jsonl")] == [r.get("value") for r in records]


def test_criteria_json_mode_skips_wrong_language(tmp_path, key, server):
    responses = ["bonne réponse @rate:3", "wrong language @rate:2", "@fault:badjson_once @rate:1", "@fault:badjson"]
    paths = write_inputs(tmp_path / "in", responses, wrong_language={1})
    out = tmp_path / "out.jsonl"
    run_judge("judge_criteria", judge_config(server, json_mode=True), tmp_path, paths, out)
    records = read_jsonl(out)
    _assert_complete(records, 4)
    first, wrong, retried, bad = records
    assert first["criteria"] == dict.fromkeys(first["criteria"], 3) and first["value"] == 3.0 and first["skipped"] == []
    assert wrong["criteria"]["language_correctness"] == 2 and wrong["value"] == 2.0
    assert set(wrong["skipped"]) == {"helpfulness", "fluency", "factual_accuracy", "logical_coherence", "harmlessness"}
    assert all(wrong["criteria"][name] is None for name in wrong["skipped"])
    assert retried["value"] == 1.0 and retried["usage"]["answers"] == 2  # parse retry succeeded
    assert bad["value"] is None and "no JSON object" in bad["error"] and bad["raw"].startswith("helpfulness")
    assert all(b.get("response_format") == {"type": "json_object"} for b in server.bodies)


def test_pairwise_order_swap_and_relevance(tmp_path, key, server):
    run = ["@good clear answer", "weak answer", "similar", "@biasA answer"]
    ref = ["weak reference", "@good reference", "similar too", "reference"]
    paths = write_inputs(tmp_path / "in", run, reference=ref)
    out = tmp_path / "pair.jsonl"
    run_judge("judge_pairwise", judge_config(server), tmp_path, paths, out)
    records = read_jsonl(out)
    _assert_complete(records, 4)
    assert [r["verdict"] for r in records] == ["win", "loss", "tie", "tie"]
    assert [r["value"] for r in records] == [1.0, 0.0, 0.5, 0.5]
    biased = records[3]  # the judge always says A: the verdict flips with the order -> tie
    assert (biased["verdict_ab"], biased["verdict_ba"]) == ("win", "loss")
    assert records[0]["reference"] == "ref/t/u" and records[0]["usage"]["answers"] == 2
    bodies = [b["messages"][-1]["content"] for b in server.bodies]
    first_item = [t for t in bodies if "@good clear" in t]
    assert len(bodies) == 8 and len(first_item) == 2  # each item judged once in each order
    assert sorted(t.index("@good clear") < t.index("weak reference") for t in first_item) == [False, True]

    rel_paths = write_inputs(tmp_path / "rel", ["on topic", "@irrelevant", None])
    sent = server.requests
    run_judge("relevance", judge_config(server), tmp_path, rel_paths, tmp_path / "rel.jsonl")
    relevance = read_jsonl(tmp_path / "rel.jsonl")
    assert [r["value"] for r in relevance] == [1, 0, None] and server.requests == sent + 2
    assert "no response text" in relevance[2]["error"]  # a failed generation is not judged


def test_budget_stop_sends_nothing(tmp_path, key, server):
    paths = write_inputs(tmp_path / "in", [f"réponse {i}" for i in range(20)])
    expensive = judge_config(server, price_per_1k_input=10.0, price_per_1k_output=30.0, budget_usd=0.5)
    with pytest.raises(BudgetExceededError, match=r"judges\.fake\.budget_usd: 20 uncached requests .* Nothing was sent"):
        run_judge("relevance", expensive, tmp_path, paths, tmp_path / "out.jsonl")
    assert server.requests == 0
    assert not (tmp_path / "out.jsonl").exists()
    # within budget it runs, and the spend is recorded; a rerun from the cache needs no budget at all
    run_judge("relevance", judge_config(server, price_per_1k_input=0.001, budget_usd=1.0), tmp_path, paths,
              tmp_path / "out.jsonl")
    sent = server.requests
    run_judge("relevance", judge_config(server, price_per_1k_input=10.0, budget_usd=0.0), tmp_path, paths,
              tmp_path / "again.jsonl")
    assert server.requests == sent


def test_repeated_failures_stop_the_job(tmp_path, key, server):
    paths = write_inputs(tmp_path / "in", [f"@fault:500x99 item {i}" for i in range(30)])
    with pytest.raises(JudgeFatalError, match="requests in a row failed"):
        run_judge("relevance", judge_config(server, max_retries=1, max_concurrency=2), tmp_path, paths,
                  tmp_path / "out.jsonl", settings={"max_consecutive_failures": 3})
    assert server.requests <= 2 * (3 + 2)  # bounded: stopped after 3 failed calls (+ those in flight)
    assert not (tmp_path / "out.jsonl").exists()


def test_api_key_never_written(tmp_path, key, monkeypatch):
    log_file = tmp_path / "logs" / "judge.log"
    log_file.parent.mkdir()
    handler = logging.FileHandler(log_file, encoding="utf-8")
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        with FakeJudgeServer(api_key=KEY, retry_after=0.01) as srv:
            paths = write_inputs(tmp_path / "in", ["ok", "@fault:429x1", "@fault:500x1", "@fault:malformed"])
            run_judge("judge_single", judge_config(srv, max_retries=1), tmp_path, paths, tmp_path / "out.jsonl")
        # a wrong key: the endpoint echoes it back in its 401 message, as OpenAI does
        wrong = "sk-test-wrongwrongwrong0123456789"
        monkeypatch.setenv(KEY_ENV, wrong)
        with FakeJudgeServer(api_key=KEY) as srv:
            with pytest.raises(JudgeFatalError) as info:
                run_judge("judge_single", judge_config(srv), tmp_path, paths, tmp_path / "out401.jsonl")
        assert "refused the API key (HTTP 401)" in str(info.value) and KEY_ENV in str(info.value)
        logging.getLogger("test").error("job failed: %s", info.value)  # what Snakemake would log
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(old_level)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert log_file in written and any(p.suffix == ".sqlite" for p in written)
    for path in written:
        data = path.read_bytes()
        assert KEY.encode() not in data and wrong.encode() not in data, path
        assert b"wrongwrongwrong" not in data and b"9f8e7d6c5b4a" not in data, path
    assert str(info.value).find(wrong) < 0 and repr(info.value).find("wrongwrong") < 0


def test_missing_key_variable_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with FakeJudgeServer() as srv:
        paths = write_inputs(tmp_path / "in", ["ok"])
        with pytest.raises(Exception, match=f"judges.fake.api_key_env: the environment variable {KEY_ENV} is not set"):
            run_judge("relevance", judge_config(srv), tmp_path, paths, tmp_path / "out.jsonl")
        assert srv.requests == 0


def test_rate_limiter_bounds_requests_per_minute():
    async def burst(limiter, n):
        start = time.monotonic()
        for _ in range(n):
            await limiter.acquire(tokens=100)
        return time.monotonic() - start

    # 1200 rpm = 20/s with one second of burst: 30 requests need about half a second more
    assert 0.4 < asyncio.run(burst(RateLimiter(requests_per_minute=1200), 30)) < 3
    # 60k tokens per minute = 1000/s: 15 requests of 100 tokens need about half a second
    assert 0.4 < asyncio.run(burst(RateLimiter(tokens_per_minute=60_000), 15)) < 3
    limiter = RateLimiter()
    limiter.pause(0.3)  # a Retry-After holds every worker
    assert asyncio.run(burst(limiter, 1)) >= 0.28


def _write_many(cache_dir, worker, n_own, n_shared):
    with JudgeCache(cache_dir) as cache:
        for i in range(n_own + n_shared):
            key = f"shared-{i}" if i >= n_own else f"w{worker}-{i}"
            cache.put(key, judge="j", model="m", request={"i": i}, answer={"text": str(i), "prompt_tokens": 1,
                                                                          "completion_tokens": 1})


def test_cache_shared_by_concurrent_processes(tmp_path):
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_write_many, args=(tmp_path, w, 150, 50)) for w in range(3)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
        assert p.exitcode == 0
    with JudgeCache(tmp_path) as cache:
        assert len(cache) == 3 * 150 + 50
        assert cache.get("w2-149")["text"] == "149" and cache.tokens_used("j") == (500, 500)


_CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
from tests.judge_helpers import judge_config, run_judge
class Server:
    base_url = {base_url!r}
folder = Path({folder!r})
paths = {{k: Path(v) for k, v in json.loads({paths!r}).items()}}
run_judge("judge_single", judge_config(Server, max_concurrency=4), folder, paths, folder / "out.jsonl")
"""


def test_killed_job_rerun_sends_no_request_twice(tmp_path, key, server):
    import json
    import os
    import signal
    import subprocess
    import sys

    from .conftest import REPO

    n = 40
    paths = write_inputs(tmp_path / "in", [f"réponse {i}" for i in range(n)])
    server.hang_after = 12  # answer 12 requests, then hold every further one (the job is killed meanwhile)
    child = subprocess.Popen([sys.executable, "-c", _CHILD.format(
        repo=str(REPO), base_url=server.base_url, folder=str(tmp_path),
        paths=json.dumps({k: str(v) for k, v in paths.items()}))], env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until the 12 answers are committed to the cache
            cache_file = tmp_path / "cache" / JudgeCache.FILE_NAME
            if cache_file.exists():
                with JudgeCache(tmp_path / "cache") as cache:
                    if len(cache) >= 12:
                        break
            assert child.poll() is None, "the job ended before it was killed"
            time.sleep(0.05)
        else:
            pytest.fail("the job did not get 12 answers within 60 s")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    assert not (tmp_path / "out.jsonl").exists()  # killed: no half-written output
    assert server.stats()["answered"] == 12
    server.hang_after = None
    server.released.set()  # held requests get a 503 (never answered)

    summary = run_judge("judge_single", judge_config(server), tmp_path, paths, tmp_path / "out.jsonl")
    assert summary["cached_answers"] == 12 and summary["new_answers"] == n - 12
    stats = server.stats()
    assert stats["distinct_answered"] == n and stats["max_answered_per_body"] == 1  # nothing answered twice
    assert all(r["value"] == 2.0 for r in read_jsonl(tmp_path / "out.jsonl"))
