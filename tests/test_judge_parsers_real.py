"""The single-rating parser on 80 real MT-Bench judge answers (tests/data/judge_outputs/SOURCE.md).

The expected value of every row was written down from reading the judgment, not taken from
FastChat's parse: a number where the judge gave its verdict on the answer, ``None`` where it gave
none (the reason category beside the rows whose reason matters). Where the expectation differs from
FastChat's parse, the comment says why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polyalpaca.evaluate.judge.parsers import parse_rating

DATA = Path(__file__).parent / "data" / "judge_outputs" / "mt_bench_single_judgments.jsonl"
SCALE = tuple(range(1, 11))
ROWS = {row["row"]: row for row in map(json.loads, DATA.read_text(encoding="utf-8").splitlines())}

NO = None  # no verdict in the answer (no rating, a copied conversation, "Confidence: 90%", ...)
EXPECTED = {
    0: NO, 2: NO, 4: 10, 6: NO,
    8: 10,    # "I would rate it a 10" (FastChat finds no [[ ]]: -1)
    10: NO,   # "The user's rating of 5 indicates ...": the user's, not the judge's
    12: NO,
    14: 10,   # "The assistant's response rate is 10/10" (FastChat: -1)
    16: 9, 18: 9, 20: 9, 22: 9, 24: NO, 26: NO, 28: NO,
    30: 10,   # "I rate the response as a 10" (FastChat: -1)
    32: 10,   # "The assistant's answer is rated as a 10" (FastChat: -1)
    34: NO, 36: NO, 38: NO,
    40: NO,   # "the rating for Assistant C would be a 1, ... Assistants A and B ... a 7 and a 6"
    42: NO,
    44: 10,   # "10.00" alone on the first line, then "a perfect 10" (FastChat: -1)
    46: NO,   # "the final ratings for each assistant are 10 out of 10": several assistants
    48: NO,   # "Confidence: 9/10" is no rating
    50: 5,    # "[5]" alone between "[The Start of Rating]" and "[The End of Rating]"
    52: NO,
    54: NO,   # "I have corrected the assistant's answer ... is rated as 10": the judge's own version
    56: NO, 58: NO, 60: NO, 62: 9, 64: NO,
    66: 10,   # "the assistant's response is rated as a 10" (FastChat: -1)
    68: 10,   # "Rating: [[10]]", then the quoted "10" again
    70: NO,   # "The movie reviews provided are rated as 5, 1, and 3": the task's content
    72: 9,    # "[Rating: 9]" (FastChat reads only [[9]] and [9]: -1)
    74: NO,
    76: 9,    # "earning a rating of [[9]]" ... "could be further improved, earning a rating of [[10]]"
    78: NO, 80: NO,
    82: NO,   # a made-up conversation rated "9 out of 10" and "8 out of 10" several times
    84: NO, 86: NO, 88: NO, 90: NO, 92: 8, 94: 9, 96: NO,
    98: 5,    # the whole answer is "5.0" (FastChat: -1)
    100: NO,
    102: 5,   # the format quoted ('"Rating: [[5]]"'), then "the response is rated a 5"
    104: NO, 106: NO, 108: 9, 110: NO, 112: NO,
    114: NO,  # a copied conversation; "[3, 4, 5]" only inside code
    116: NO,
    118: 10,  # "I rate the response as a 10" (FastChat: -1)
    120: NO, 122: 5, 124: NO, 126: NO, 128: NO, 130: NO,
    132: 10,  # "The assistant's answer is rated as a 10" (FastChat: -1)
    134: NO,  # FastChat reads "array[0]" inside code as a rating of 0
    136: 10,  # "is rated as 10, the same as the reference answer" twice (FastChat: -1)
    138: NO, 140: NO, 142: NO, 144: 9, 146: 9, 148: 9, 150: NO, 152: NO, 154: NO, 156: NO, 158: NO,
}
# why there is no verdict, where the reason is the point of the row
REASONS = {10: "others", 40: "assistants", 46: "assistants", 54: "revision", 70: "several-numbers",
           82: "several", 134: "code", 140: "judge-error", 154: "judge-error", 156: "judge-error",
           158: "judge-error"}


def test_every_shipped_row_has_an_expectation():
    assert set(EXPECTED) == set(ROWS) and len(ROWS) == 80


@pytest.mark.parametrize("row", sorted(EXPECTED))
def test_real_judge_answer(row):
    parsed = parse_rating(ROWS[row]["judgment"], SCALE)
    if EXPECTED[row] is None:
        assert parsed.value is None and parsed.error, f"row {row}: a value where the judge gave no verdict"
        if row in REASONS:
            assert parsed.reason == REASONS[row], parsed.error
    else:
        assert parsed.ok, f"row {row}: {parsed.error}"
        assert parsed.value == EXPECTED[row]


def test_differences_from_fastchat_are_the_documented_ones():
    """FastChat's parse (-1: none) differs from the expectation only on the rows commented above."""
    differ = {row for row, r in ROWS.items()
              if (None if r["fastchat_score"] == -1 else r["fastchat_score"]) != EXPECTED[row]}
    assert differ == {8, 14, 30, 32, 44, 66, 72, 98, 118, 132, 134, 136}


@pytest.mark.parametrize("text, expected, reason", [
    # the cases (paraphrased): a hypothetical better rating, the judge rating its own revision
    ("Rating: [[8]]\n\nAdding sources would further enhance the response, resulting in a rating of [[9]] or [[10]].",
     8, None),
    ("The answer is correct but terse. Rating: [[9]]\n\nHere is an improved version of the answer:\n"
     "Paris is the capital of France, on the Seine.\n\nRating: [[10]]", 9, None),
    ("Revised answer:\nParis is the capital of France.\n\nRating: [[10]]", None, "revision"),
    ("I would rate it a 7 out of 10.", 7, None),
    ("I rate it highly because it lists 3 examples.", None, "none"),
    ("Rating: 8 out of 9", None, "other-scale"),
    ('The format is "Rating: [[5]]".', None, "quoted"),
    ("If the answer cited sources, it would be rated 9.", None, "hypothetical"),
    ("A score of [[0]] for style, `x[0]` in code. Rating: [[6]]", None, "several"),
    ("```python\nprint(values[3])\n```", None, "code"),
])
def test_precision_cases(text, expected, reason):
    parsed = parse_rating(text, SCALE)
    assert parsed.value == expected and parsed.reason == reason, parsed
