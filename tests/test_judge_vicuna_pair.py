"""Bactrian-X's scored pairwise judging (§6): the Vicuna reviewer prompt, 0-10 scores for both answers on
the answer's first line, both orders, per-model averages. The parser is held against real-looking GPT-4
reviews in the format of Chiang et al. (2023)."""

from __future__ import annotations

import pytest

from polyalpaca.evaluate.judge.parsers import parse_vicuna_pair
from polyalpaca.evaluate.judge.scoring import pair_score_means
from polyalpaca.evaluate.judge.templates import TEMPLATE_DIR, load_template

BACTRIAN_S6 = ("Bactrian-X §6: we provide two answers from different models in a single prompt, and ask GPT-4 to rate "
               "the answers over a scale of 0 to 10 from various aspects including helpfulness, relevance, accuracy, "
               "and the level of detail")


@pytest.mark.parametrize(("text", "expected"), [
    ("8 6\nAssistant 1 provided a detailed and accurate answer, while Assistant 2 missed the second part.", (8, 6)),
    ("9 9\n\nBoth assistants answered correctly and in the language of the question.", (9, 9)),  # a tie
    ("7, 8\nAssistant 2 gave more detail.", (7, 8)),
    ("8.5 6.5\nAssistant 1 is more precise.", (8.5, 6.5)),
    ("[[8, 6]]\nAssistant 1 followed the instruction.", (8, 6)),
    ("\n  10 2  \nAssistant 2's answer is in the wrong language.", (10, 2)),
    ("0 7\nAssistant 1 did not answer.", (0, 7)),  # the paper's scale starts at 0
    ("Here is my review.\nScores: [[6, 9]]\nAssistant 2 is better.", (6, 9)),  # the pair elsewhere, bracketed
])
def test_scores_on_the_first_line(text, expected):
    parsed = parse_vicuna_pair(text)
    assert parsed.ok, parsed.error
    assert parsed.value == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("11 7\nAssistant 1 is excellent.", "out-of-scale"),   # outside 0-10
    ("The scores are 8 and 6.\nAssistant 1 is better.", None),  # no score line: not read from prose
    ("Assistant 1: 9\nAssistant 2: 7", None),  # one score per line: FastChat's parse_score rejects it too
    ("8\nAssistant 1 is better.", None),  # a missing score
])
def test_answers_without_a_usable_pair_are_unparsed(text, reason):
    parsed = parse_vicuna_pair(text)
    assert not parsed.ok and parsed.value is None
    if reason:
        assert parsed.reason == reason


def test_per_model_means_follow_the_order_swap():
    """Order ab: the run is assistant 1; order ba: the run is assistant 2. Both orders scored, or one."""
    assert pair_score_means((8, 6), (5, 9)) == {"run_score": 8.5, "reference_score": 5.5}
    assert pair_score_means((8, 6), None) == {"run_score": 8.0, "reference_score": 6.0}
    assert pair_score_means(None, None) == {"run_score": None, "reference_score": None}


def test_the_template_asks_for_the_format_the_parser_reads():
    tmpl = load_template(TEMPLATE_DIR / "pairwise-vicuna-v1.yaml", "judge_pairwise")
    assert tmpl.output_format == "vicuna_pair"
    rendered = tmpl.render(question="Q?", answer_a="first", answer_b="second", language="English", lang="en")
    text = "\n".join(m["content"] for m in rendered) if isinstance(rendered, list) else str(rendered)
    for aspect in ("helpfulness", "relevance", "accuracy", "level of details"):
        assert aspect in text, BACTRIAN_S6
    assert "first output a single line containing only two values" in text
    assert text.index("first") < text.index("second")  # answer_a is Assistant 1
