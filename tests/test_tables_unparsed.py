"""The study tables keep unparsed judge answers visible: per row ``n_answers``, ``n_unparsed`` and
``unparsed_share``; per judge and language a section of the HTML page."""

from __future__ import annotations

import math

import pytest

from polyalpaca.figures import score_inputs, study_table
from polyalpaca.figures.tables import unparsed_by_judge, write_study_table
from polyalpaca.io import write_jsonl

from .test_figures import config, records, root  # noqa: F401  (fixtures and the synthetic records)


def _counted(inp, unparsed: dict[int, int]) -> list[dict]:
    """Records of ``inp`` with answer counts: prompt i took 1 + unparsed[i] answers (parse retries)."""
    out = records(inp)
    for i, rec in enumerate(out):
        extra = unparsed.get(i, 0)
        rec.update(judge="j", answered=1 + extra, unparsed=extra)
        if extra >= 2:  # every retry unparsed: no value
            rec.update(value=None, rating=None, error="unparseable answer after 3 attempts: no rating found")
    return out


@pytest.fixture
def counted_root(config, root):  # noqa: F811
    for inp in score_inputs(config, "chen", root=root):
        if inp.kind != "judge_single":
            continue
        unparsed = {0: 1, 1: 2} if inp.lang == "fr" else {}  # fr: 2 of 3 answers, then 3 of 3 unparsed
        write_jsonl(inp.path, _counted(inp, unparsed))
    return root


def test_rows_carry_the_unparsed_share(config, counted_root):  # noqa: F811
    table = study_table(config, "chen", counted_root)
    judged = table[table["metric"] == "judge-single"]
    fr, en = judged[judged["lang"] == "fr"], judged[judged["lang"] == "en"]
    assert (fr["n_answers"] == 10 + 1 + 2).all() and (fr["n_unparsed"] == 3).all()
    assert fr["unparsed_share"].tolist() == pytest.approx([3 / 13] * len(fr))
    assert (en["unparsed_share"] == 0).all() and (en["n_answers"] == 10).all()
    assert (fr["n_errors"] == 1).all()  # the prompt whose every answer was unparsed has no value
    others = table[table["metric"] != "judge-single"]  # LID rows and the derived sub-metrics
    assert others["unparsed_share"].isna().all() and others["n_answers"].isna().all()


def test_report_section_per_judge_and_language(config, counted_root, tmp_path):  # noqa: F811
    table = write_study_table(config, "chen", str(tmp_path / "chen.csv"), str(tmp_path / "chen.html"),
                              counted_root)
    per_judge = unparsed_by_judge(config, table).set_index(["judge", "lang"])
    runs = len(table[(table["metric"] == "judge-single") & (table["lang"] == "fr")])
    assert per_judge.loc[("j", "fr"), "n_answers"] == 13 * runs
    assert per_judge.loc[("j", "fr"), "unparsed_share"] == pytest.approx(3 / 13)
    assert per_judge.loc[("j", "en"), "unparsed_share"] == 0
    page = (tmp_path / "chen.html").read_text(encoding="utf-8")
    assert "Judge answers without a usable verdict, per judge and language" in page
    assert "unparsed_share" in page and "unparsed_share" in (tmp_path / "chen.csv").read_text().splitlines()[0]


def test_records_without_counts_leave_the_share_empty(config, root):  # noqa: F811
    """Score files written before the judge counted its answers: no share, rather than a made-up 0."""
    table = study_table(config, "chen", root)
    assert table["unparsed_share"].isna().all()
    assert unparsed_by_judge(config, table).empty
    assert math.isnan(table["n_answers"].iloc[0])
