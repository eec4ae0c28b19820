"""Benchmark: `snakemake -n all` on the paper grid (config.yaml), this checkout against a baseline commit.

Issue 13's target: the dry run of the full grid stays under 10 s on the 2-core development machine.
The baseline (default 8097041, before imports were cached per file and the decoding lookup was built
once) is exported with `git archive` into a temporary folder and timed in the same run.

    python benchmarks/dry_run.py [--baseline REV] [--repeats 3]

Last line: ``seconds=<median> baseline_seconds=<median> speedup=<baseline/this>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def dry_run_seconds(workdir: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        # the `snakemake` command users type (`python -m snakemake` imports more and takes ~2 s longer)
        proc = subprocess.run([str(Path(sys.executable).parent / "snakemake"), "-n", "all", "-q"], cwd=workdir,
                              capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(workdir / "src")})
        times.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise SystemExit(f"{workdir}: snakemake -n all failed:\n{proc.stderr[-2000:]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="8097041")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        archive = subprocess.run(["git", "archive", args.baseline], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        baseline = dry_run_seconds(base, args.repeats)
    this = dry_run_seconds(REPO, args.repeats)
    print(f"this checkout: {this:.2f} s, baseline {args.baseline}: {baseline:.2f} s (median of {args.repeats})")
    print(f"seconds={this:.2f} baseline_seconds={baseline:.2f} speedup={baseline / this:.2f}")


if __name__ == "__main__":
    main()
