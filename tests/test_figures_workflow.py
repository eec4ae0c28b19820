"""Figures stage through Snakemake: a figure's dry-run schedules only its own runs and their upstream."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter

from polyalpaca.config import load_config
from polyalpaca.figures import figure_inputs, plot_specs

from .conftest import REPO


def parse_dry_run(text: str) -> list[tuple[str, dict]]:
    """(rule, wildcards) of every job printed by `snakemake -n`."""
    jobs: list[tuple[str, dict]] = []
    for line in text.splitlines():
        head = re.match(r"^(?:local)?rule (\S+):$", line)
        if head:
            jobs.append((head.group(1), {}))
        elif jobs and line.startswith("    wildcards: "):
            pairs = line[len("    wildcards: "):].split(", ")
            jobs[-1][1].update(p.split("=", 1) for p in pairs if "=" in p)
    return jobs


def test_dry_run_of_fig3_schedules_only_bloom_lora_runs_and_their_upstream(tmp_path):
    config = load_config(REPO / "config.yaml")
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-s", str(REPO / "Snakefile"), "--configfile",
         str(REPO / "config.yaml"), "--directory", str(tmp_path), "results/figures/fig3.pdf"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    jobs = parse_dry_run(proc.stdout)
    rules = Counter(rule for rule, _ in jobs)
    assert rules["figure_fig3"] == 1
    assert not [r for r in rules if r.startswith("figure_") and r != "figure_fig3"]
    assert "study_table" not in rules
    bloom = {m for m, body in config["models"].items() if body["family"] == "bloom"}
    spec = plot_specs(config)["fig3"]
    trainsets = {inp.trainset for inp in figure_inputs(config, spec)}
    for rule, wc in jobs:
        assert wc.get("model", "bloom-560m") in bloom, (rule, wc)
        assert wc.get("tuning", "chen-lora") == "chen-lora", (rule, wc)
        assert wc.get("testset", "oasst_test") == "oasst_test", (rule, wc)
        assert wc.get("trainset", "alpaca-en") in trainsets, (rule, wc)
    n_scores = len(figure_inputs(config, spec))
    scored = [wc for rule, wc in jobs if wc.get("metric") == "judge-single"]
    assert len(scored) == n_scores  # one job per score file the figure reads
    trained = {(wc["model"], wc["trainset"]) for rule, wc in jobs if rule.startswith("train") and "trainset" in wc}
    assert len(trained) == len({(inp.model, inp.trainset) for inp in figure_inputs(config, spec)})


def test_missing_scores_stop_the_dry_run_with_the_inputs(tmp_path):
    """With only the figures rules (no score producers), the missing score files are named."""
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(f'include: "{REPO}/rules/common.smk"\ninclude: "{REPO}/rules/figures.smk"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-s", str(snakefile), "--configfile",
         str(REPO / "tests" / "figures_config.yaml"), "--directory", str(tmp_path), "results/tables/bx.csv"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "MissingInputException" in proc.stderr + proc.stdout
    assert "results/pairwise/pairwise/l-7/alpaca-multi/lora/vs/l-7/published/alp/vicuna80/en.jsonl" in proc.stderr + proc.stdout
