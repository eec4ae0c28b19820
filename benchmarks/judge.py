"""Judge throughput: N items against a local OpenAI-compatible server that answers after 100 ms.

Runs the judge_single metric (openai backend) over the same items three times:
1. concurrently (``--concurrency`` requests in flight), into an empty cache;
2. sequentially (one request at a time), into another empty cache;
3. concurrently again on the first cache (a rerun: every answer should come from the cache).
The server runs in its own process (as a real endpoint would) and counts the requests it gets.

    python benchmarks/judge.py [--items 1000] [--delay 0.1] [--concurrency 64]

Last line: ``speedup=<sequential/concurrent> rerun_requests=<requests sent by the rerun>``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from polyalpaca.evaluate.judge import JudgeConfig, JudgeJob, JudgeSettings, score_generations  # noqa: E402
from polyalpaca.evaluate.judge.templates import builtin_template_path  # noqa: E402
from polyalpaca.io import write_jsonl  # noqa: E402

KEY_ENV = "POLYALPACA_BENCH_JUDGE_KEY"


def _server_requests(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as response:
        return json.load(response)["requests"]


def _run(folder: Path, cache: str, port: int, concurrency: int, paths: dict) -> tuple[float, int]:
    judge = JudgeConfig(name="bench", backend="openai", model="gpt-bench", base_url=f"http://127.0.0.1:{port}/v1",
                        api_key_env=KEY_ENV, max_concurrency=concurrency, timeout_s=30, max_retries=3)
    job = JudgeJob(metric="judge-single", kind="judge_single", judge="bench", model="m", trainset="t", tuning="u",
                   testset="bench", lang="fr", language="French")
    before = _server_requests(port)
    start = time.perf_counter()
    summary = score_generations(job, judge, JudgeSettings(cache_dir=str(folder / cache)),
                                template=builtin_template_path("judge_single"), generations=paths["generations"],
                                lid=paths["lid"], output=folder / f"{cache}-{concurrency}.jsonl")
    elapsed = time.perf_counter() - start
    assert summary["errors"] == 0, summary
    return elapsed, _server_requests(port) - before


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.1, help="server seconds per answer")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import openai  # noqa: F401  (imported once before timing: both runs then measure judging only)
    os.environ[KEY_ENV] = "sk-bench-not-a-real-key"
    server = subprocess.Popen([sys.executable, str(REPO / "tests" / "fake_openai_server.py"), "--delay",
                               str(args.delay)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            gens = [{"id": f"q{i:04d}", "lang": "fr", "prompt": f"Question {i} : expliquez le sujet numéro {i}.",
                     "response": f"Réponse {i} : le sujet {i} est expliqué ici en quelques phrases.",
                     "model": "m", "trainset": "t", "tuning": "u", "decoding": "greedy"} for i in range(args.items)]
            paths = {"generations": folder / "generations.jsonl", "lid": folder / "lid.jsonl"}
            write_jsonl(paths["generations"], gens)
            write_jsonl(paths["lid"], [{"id": g["id"], "lang": "fr", "metric": "lid", "value": 1.0} for g in gens])
            concurrent, sent_c = _run(folder, "cache-concurrent", port, args.concurrency, paths)
            print(f"concurrent ({args.concurrency} in flight): {args.items} items in {concurrent:.2f} s, "
                  f"{sent_c} requests, {args.items / concurrent:.0f} items/s", flush=True)
            sequential, sent_s = _run(folder, "cache-sequential", port, 1, paths)
            print(f"sequential: {args.items} items in {sequential:.2f} s, {sent_s} requests, "
                  f"{args.items / sequential:.1f} items/s", flush=True)
            rerun, sent_r = _run(folder, "cache-concurrent", port, args.concurrency, paths)
            print(f"rerun from cache: {args.items} items in {rerun:.2f} s, {sent_r} requests", flush=True)
    finally:
        server.terminate()
        server.wait(10)
    print(f"speedup={sequential / concurrent:.1f} rerun_requests={sent_r}")


if __name__ == "__main__":
    main()
