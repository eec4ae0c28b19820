"""The figures rules run for real (tables, provenance, a figure), `snakemake --report` builds the HTML
report, and the report is checked in headless Chromium (scripts/check_report.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from polyalpaca.config import load_config
from polyalpaca.evaluate import lid_ceiling_jobs, lid_ceiling_path
from polyalpaca.figures import score_inputs
from polyalpaca.io import write_jsonl

from .conftest import REPO
from .test_figures import records

CONFIG = REPO / "tests" / "figures_config.yaml"
TARGETS = ["results/tables/chen.csv", "results/tables/chen_provenance.csv", "results/figures/bloom_lora.pdf"]


def _snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snakemake", "-s", str(workdir / "Snakefile"), "--configfile",
                           str(CONFIG), "--directory", str(workdir), *args], capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def workflow_dir(tmp_path_factory):
    """A workflow of the common and figures rules only, with synthetic score files as its inputs."""
    workdir = tmp_path_factory.mktemp("report")
    (workdir / "Snakefile").write_text(
        f'report: "{REPO}/workflow/report/workflow.rst"\n'
        f'include: "{REPO}/rules/common.smk"\n'
        f'include: "{REPO}/rules/figures.smk"\n')
    config = load_config(CONFIG)
    for inp in score_inputs(config, "chen", root=workdir / "results"):
        write_jsonl(inp.path, records(inp))
    for metric, testset, lang in lid_ceiling_jobs(config, "chen"):  # every test prompt identified
        write_jsonl(lid_ceiling_path(metric, testset, lang, str(workdir / "results")),
                    [{"id": f"q{i}", "lang": lang, "metric": metric, "value": 1.0, "label": lang, "pred_lang": lang}
                     for i in range(10)])
    proc = _snakemake(workdir, "--cores", "2", *TARGETS)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return workdir


def test_rules_write_tables_figures_and_logs(workflow_dir):
    table = pd.read_csv(workflow_dir / "results/tables/chen.csv")
    assert {"value", "ci_low", "ci_high", "n", "n_errors"} <= set(table.columns) and len(table) > 0
    prov = pd.read_csv(workflow_dir / "results/tables/chen_provenance.csv")
    assert set(prov["run"]) == {f"{m}/{t}/{u}" for m, t, u in zip(table["model"], table["trainset"], table["tuning"])}
    for name in ("bloom_lora.pdf", "bloom_lora.png", "bloom_lora.csv"):
        assert (workflow_dir / "results/figures" / name).stat().st_size > 0
    assert "figure bloom_lora" in (workflow_dir / "logs/figures/bloom_lora.log").read_text()
    assert (workflow_dir / "results/tables/chen_provenance.html").read_text().count("<table") == 3


def test_report_renders_in_headless_chromium(workflow_dir, tmp_path):
    proc = _snakemake(workflow_dir, "--report", "report.html", *TARGETS)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = workflow_dir / "report.html"
    spec = importlib.util.spec_from_file_location("check_report", REPO / "scripts" / "check_report.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    results, categories = check.report_index(report)
    assert list(categories) == ["chen"]
    assert set(categories["chen"]) == {"Tables", "Provenance", "Figures", "Figures (PDF)", "Figure data"}
    png = results["results/figures/bloom_lora.png"]
    assert "one panel per" in png["caption"] and "bloom" in png["caption"]
    if check.find_chromium() is None:
        pytest.skip("chromium is not installed (apt-get install chromium); the report index was checked")
    summary = check.check_report(report, tmp_path / "shots", ["bloom_lora.png"])
    assert summary["problems"] == []
    assert len(summary["screenshots"]) == 2
