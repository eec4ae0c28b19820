"""`polyalpaca plan`: jobs, GPU hours and judge requests/cost per study and stage, from the config alone."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest

from polyalpaca.cli import main
from polyalpaca.config import load_config, study_runs
from polyalpaca.evaluate import lid_ceiling_jobs
from polyalpaca.pairs import study_generation_runs
from polyalpaca.plan import format_plan, plan, study_jobs, train_gpu_hours, train_tokens

from .conftest import REPO


@pytest.fixture(scope="module")
def grid():
    return load_config(REPO / "config.yaml")


def _row(rows, study, stage):
    return next(r for r in rows if r.study == study and r.stage == stage)


def test_train_formula_full_and_lora(grid):
    # zero-shot study: 1000 steps x 4000-token batches x 4 accumulation steps
    assert train_tokens(grid, "llama2-13b", "dolly-en", "zs-full-lr1e-5") == 16e6
    full = train_gpu_hours(grid, "llama2-13b", "dolly-en", "zs-full-lr1e-5")
    assert full == pytest.approx(6 * 13e9 * 16e6 / (120e12 * 3600))
    lora = train_gpu_hours(grid, "llama2-13b", "dolly-en", "zs-lora-lr1e-5")
    assert lora == pytest.approx(full * 4 / 6)


def test_epoch_tokens_follow_the_recipe(grid):
    en = train_tokens(grid, "pythia-70m", "alpaca-en", "chen-lora")
    assert en == pytest.approx(51760 * 0.98 * 170 * 5)
    multi = train_tokens(grid, "pythia-70m", "alpaca-multi", "chen-lora")
    # 9 languages, 8 of them translated (x1.3 tokens)
    assert multi == pytest.approx(9 * 51760 * 0.98 * 170 * (1 + 8 * 1.3) / 9 * 5)
    downsampled = train_tokens(grid, "pythia-70m", "alpaca-multi-ds", "chen-lora")
    assert downsampled == pytest.approx(en * (1 + 8 * 1.3) / 9)  # alpaca-en's budget, multilingual tokens


def test_counts_per_study(grid):
    rows = plan(grid)
    for study in grid["studies"]:
        runs = study_runs(grid, study)
        assert _row(rows, study, "train").jobs == len(runs)
        generating = study_generation_runs(grid, study)  # the runs and the study's baselines
        assert _row(rows, study, "generate").jobs == sum(len(r.languages) for r in generating)
    # chen2024: lid + judge-single (gpt-3.5) on 50 prompts per (run, language)
    chen = _row(rows, "chen2024", "evaluate")
    gens = _row(rows, "chen2024", "generate").jobs
    ceilings = len(lid_ceiling_jobs(grid, "chen2024"))  # LID of the human test prompts, per language
    assert ceilings > 0
    assert chen.jobs == 2 * gens + ceilings + 1 and chen.requests == 50 * gens  # + the judge cost table
    assert chen.cost_usd == pytest.approx(50 * gens * (900 * 0.0015 + 120 * 0.002) / 1000)
    # bactrianx (§6): the three pairs, "we interchange the order of the provided answers, and assign scores
    # twice for each question"; "We select 5 questions from each category, resulting in 40 questions per
    # language" (sources.vicuna80.sample); the 12 test languages; GPT-4 prices
    bx = _row(rows, "bactrianx", "evaluate")
    assert bx.requests == 3 * 12 * 40 * 2
    tok = grid["resources"]["estimates"]["judge_tokens"]["judge_pairwise"]
    assert bx.cost_usd == pytest.approx(3 * 12 * 40 * 2 * (tok["input"] * 0.03 + tok["output"] * 0.06) / 1000)
    # zeroshot: relevance on 113 prompts for 54 runs x 4 languages; criteria on the LR selection's chosen run
    # of each of the 7 judged configurations only
    assert _row(rows, "zeroshot", "evaluate").requests == 54 * 4 * 113 + 7 * 4 * 113
    # translation: shards + 1 merge per (source, language), a download and a conversion per translator
    assert _row(rows, "zeroshot", "translate").jobs == 3 * (4 + 1) + 3 * (2 + 1) + 2  # dolly 4, alpacafarm 2 shards
    # LID of 44 run and 24 baseline generations (12 languages), 3 pairs x 12 languages, LID ceilings, cost table
    assert _row(rows, "bactrianx", "evaluate").jobs == 68 + 36 + len(lid_ceiling_jobs(grid, "bactrianx")) + 1
    # round trips: back-translation and scores per translated (source, language), and the study's report
    assert _row(rows, "zeroshot", "roundtrip").jobs == 2 * 6 + 1
    # lm-evaluation-harness: 3 tasks for each of the 13 runs and their 3 base models, and the report
    assert _row(rows, "bactrianx", "benchmark").jobs == 3 * 14 + 1
    assert _row(rows, "zeroshot", "benchmark").jobs == 0


def test_total_counts_shared_jobs_once(grid):
    rows = plan(grid)
    per_study = sum(r.jobs for r in rows if r.study != "total" and r.stage == "data")
    total = _row(rows, "total", "data").jobs
    assert total < per_study  # alpaca, dolly, llama-7b, bloom-7b1 serve two studies
    keys = {("data", j.key) for s in grid["studies"] for j in study_jobs(grid, s) if j.stage == "data"}
    assert total == len(keys)


def test_unknown_sizes_are_shown_not_zeroed(grid):
    cfg = copy.deepcopy(grid)
    del cfg["resources"]["estimates"]["sources"]["dolly"]
    rows = plan(cfg)
    zs_train = _row(rows, "zeroshot", "train")
    assert zs_train.unknown == 0  # max_steps x batch_tokens needs no data size
    assert _row(rows, "zeroshot", "translate").unknown == 3 * 4  # dolly's shards
    text = format_plan(cfg, rows)
    assert "resources.estimates.sources.dolly" in text
    assert "+?" in text


def test_cli_prints_the_plan(capsys):
    assert main(["plan", "--config", str(REPO / "config.yaml"), "--profile", ""]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["study", "stage", "jobs", "GPU", "hours", "API", "requests",
                                           "API", "cost", "$"]
    distill = next(line.split() for line in out.splitlines() if line.startswith("bactrianx") and " distill " in line)
    assert distill[2:5] == ["52", "0.0", f"{51 * 67013:,}"]  # the distillation's requests and cost are shown
    assert "6·N·T" in out and "total:" in out


def test_cli_reports_config_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "config.yaml").read_text(encoding="utf-8").replace("use_gpus: true", "use_gpu: true"))
    proc = subprocess.run([sys.executable, "-m", "polyalpaca.cli", "plan", "--config", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert str(bad) in proc.stderr and "use_gpu" in proc.stderr


def test_smoke_config_plans_without_estimates():
    cfg = load_config(REPO / "tests" / "smoke" / "config.yaml")
    text = format_plan(cfg, plan(cfg))
    assert "?" in text and "resources.estimates.sources" in text


def test_distillation_cost_matches_the_paper_at_its_price(grid):
    """"The total cost for generating responses amounts to around $3,000 USD" (Bactrian-X §3.1; gpt-3.5-turbo,
    April 2023, then $0.002 per 1k tokens in and out): the plan's distillation estimate at that price."""
    config = copy.deepcopy(grid)
    config["judges"]["gpt35-turbo"].update(price_per_1k_input=0.002, price_per_1k_output=0.002)
    row = _row(plan(config), "bactrianx", "distill")
    assert row.jobs == 51 + 1  # one job per distilled language, and the distillation table
    assert row.requests == 51 * 67013  # every record of Alpaca (52,002) + Dolly (15,011), per language
    assert 2700 <= row.cost_usd <= 3300
    # at today's price of the alias, as config.yaml states it
    assert _row(plan(grid), "bactrianx", "distill").cost_usd == pytest.approx(row.cost_usd * (0.0005 * 100 + 0.0015 * 340)
                                                                               / (0.002 * 440))
