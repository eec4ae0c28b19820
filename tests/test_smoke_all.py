"""The whole smoke pipeline, end to end: every figure of the three studies and the report.

Slow (about 10 minutes on 2 idle cores, ~300 jobs), so it is kept out of the default run
(`-m "not slow"` in pyproject.toml); run it with `python -m pytest -m slow`. The default run covers
every stage through Snakemake on a slice of the same grid (conftest.smoke_workdir and the *_workflow tests).
"""

import pandas as pd
import pytest

from polyalpaca.config import load_config

from .conftest import copy_repo, snakemake

pytestmark = pytest.mark.slow


def test_smoke_all_builds_every_figure_and_the_report(tmp_path):
    work = copy_repo(tmp_path / "repo")
    proc = snakemake(work, "all", timeout=3600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    config = load_config(work / "tests/smoke/config.yaml")  # validated: defaults filled in (a study's figures)
    for study, spec in config["studies"].items():
        assert (work / f"results/tables/{study}.csv").stat().st_size > 0
        table = pd.read_csv(work / f"results/tables/{study}.csv")
        lid = table[table["kind"] == "lid"]  # every LID score sits next to its language's LID ceiling
        assert len(lid) and lid["lid_ceiling"].between(0, 1).all(), study
        assert "LID ceiling: each LID metric" in (work / f"results/tables/{study}.html").read_text()
        judged = table[table["kind"].str.startswith("judge_") & ~table["metric"].str.contains(".", regex=False)]
        if len(judged):  # the share of judge answers without a usable verdict, per row and per judge/language
            assert judged["unparsed_share"].notna().any() and judged["unparsed_share"].dropna().between(0, 1).all()
            assert "Judge answers without a usable verdict" in (work / f"results/tables/{study}.html").read_text()
        for figure in spec["figures"]:
            assert (work / f"results/figures/{figure}.pdf").stat().st_size > 0, figure
    # the real model (SmolLM2-135M-Instruct): its LID numbers, and its judge's free-text answers, each
    # either parsed or counted as unparsed (a row with no verdict at all has no value, never a zero)
    zeroshot = pd.read_csv(work / "results/tables/zeroshot.csv")
    assert {"lid", "spell", "relevance"} <= set(zeroshot.loc[zeroshot["model"] == "smollm2-135m", "metric"])
    real = pd.read_csv(work / "results/tables/realmodel.csv")
    # each judge metric's rows and its sub-metric rows (judge-criteria-smol.helpfulness, judge-single-smol.lid_gap)
    assert set(real["metric"].str.split(".").str[0]) == {"lid", "relevance-smol", "judge-criteria-smol",
                                                          "judge-single-smol"}
    assert real.loc[real["metric"] == "lid", "value"].between(0, 1).all()
    smol = pd.concat([real, pd.read_csv(work / "results/tables/bactrianx.csv")])
    smol = smol[smol["metric"].str.endswith("-smol")]
    assert (smol["n_answers"] > 0).all() and (smol["n_unparsed"] <= smol["n_answers"]).all()
    assert smol.loc[smol["n_unparsed"] == smol["n_answers"], "value"].isna().all()
    # translation quality and zero-shot benchmarks of bactrianx (tiny NLLB and tiny models: flagged, near chance)
    roundtrip = pd.read_csv(work / "results/tables/bactrianx_roundtrip.csv")
    assert len(roundtrip) and roundtrip["chrf"].between(0, 100).all() and roundtrip["below_floor"].all()
    bench = pd.read_csv(work / "results/tables/bactrianx_benchmarks.csv")
    assert set(bench["lang"]) == {"en", "fr"} and bench["value"].between(0, 1).all() and (bench["n"] == 8).all()
    bactrianx = pd.read_csv(work / "results/tables/bactrianx.csv")
    assert (bactrianx["kind"] == "benchmark").sum() == len(bench)
    for figure in ("bactrianx_roundtrip", "bactrianx_benchmarks"):
        assert (work / f"results/figures/{figure}.pdf").stat().st_size > 0
    # distilled responses (SmolLM2 answering the tiny translator's French instructions): every answer counted
    distill = pd.read_csv(work / "results/tables/distill.csv")
    assert list(zip(distill["source"], distill["lang"])) == [("bactrian_en", "fr")]
    assert (distill["kept"] + distill["dropped"] == distill["items"]).all() and (distill["empty"] == distill["dropped"]).all()
    fr = pd.read_json(work / "results/trainsets/bactrian-fr/train.jsonl", lines=True)
    assert (fr["distiller"] == "smol-chat").all()
    again = snakemake(work, "-n", "all")
    assert "Nothing to be done" in again.stdout + again.stderr
    report = snakemake(work, "--report", "results/report.html")
    assert report.returncode == 0, report.stderr[-4000:]
    assert (work / "results/report.html").stat().st_size > 100_000
