"""The workflow as a whole: lint, and the dry-run of the full paper grid."""

import subprocess
import sys
import time

from .conftest import REPO


def _snakemake(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def test_lint_is_clean():
    proc = _snakemake("--lint")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dry_run_of_the_full_grid_is_fast():
    start = time.monotonic()
    proc = _snakemake("-n", "--quiet", "rules", "all")
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert elapsed < 60, f"dry-run of the full grid took {elapsed:.0f}s"


def test_invalid_config_names_file_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (REPO / "tests/smoke/config.yaml").read_text().replace("params_b: 0.07", "params_b: -1")
    bad.write_text(text)
    proc = _snakemake("all", "-n", "--configfile", str(bad))
    assert proc.returncode != 0
    assert "models.tiny-pythia-s.params_b" in proc.stdout + proc.stderr
