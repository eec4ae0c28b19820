"""Judge output parsers on real-looking answers, template files, and the pairwise order-swap rule."""

from __future__ import annotations

import pytest

from polyalpaca.errors import ConfigError
from polyalpaca.evaluate.judge.parsers import (
    parse_binary_0_1,
    parse_criteria_json,
    pair_scores_verdict,
    parse_pair_scores,
    parse_pair_verdict,
    parse_rating_1_3,
)
from polyalpaca.evaluate.judge.scoring import pairwise_verdict
from polyalpaca.evaluate.judge.templates import BUILTIN, builtin_template_path, load_template

CRITERIA = ("helpfulness", "language_correctness", "fluency", "factual_accuracy", "logical_coherence", "harmlessness")


@pytest.mark.parametrize("text, expected", [
    ("The assistant answers in French as asked and covers the main points.\n\nRating: [[2]]", 2),
    ("Rating: [[2.0]]", 2),
    ("[[ 3 ]]", 3),
    ("**Explanation:** accurate, fluent, concise.\n\n**Rating:** [[3]]", 3),
    ("The response is adequate but shallow.\nRating: 2", 2),
    ("I would rate this response 2/3.", 2),
    ("Score: 1 out of 3 — the answer is in the wrong language.", 1),
    ("Overall rating: **2**", 2),
    ("Rating: [1]", 1),
    ("3", 3),
    ("Rating: [[2,0]]", 2),
    # the explanation mentions the format; the verdict at the end wins
    ('I must answer as "[[rating]]". The reply is helpful. Rating: [[3]]', 3),
    # a final rating on its own line after the explanation (where the format puts it), or marked final
    ("First impression [[1]] ... on reflection:\nRating: [[2]]", 2),
    ("Score: [[1]] for fluency. Final rating: [[2]]", 2),
])
def test_rating_written_many_ways(text, expected):
    parsed = parse_rating_1_3(text)
    assert parsed.ok, parsed.error
    assert parsed.value == expected


@pytest.mark.parametrize("text, fragment", [
    ("", "empty"),
    (None, "empty"),
    ("   \n", "empty"),
    ("Excellent answer. Rating: [[7]]", "outside 1-3"),
    ("Rating: [[0]]", "outside 1-3"),
    ("Rating: [[2.5]]", "not one of 1, 2, 3"),
    ("The response is good but could be more detailed.", "no rating"),
    # two different verdicts in running text: the parser does not pick one
    ("First impression [[1]] ... on reflection, Rating: [[2]]", "several different ratings: 1, 2"),
    ("Excellent answer. Rating: 8/10", "out of another maximum"),
    # a real SmolLM2-135M "judgment" (smoke run): it continued the judged answer's numbered list, cut off
    # at 16 tokens; the lone "2" is the next item's number, not a rating
    ("1. Language learning can enhance cognitive abilities and improve overall academic performance.\n2",
     "2 alone on a line of a numbered list"),
])
def test_rating_errors_are_explicit(text, fragment):
    parsed = parse_rating_1_3(text)
    assert not parsed.ok and parsed.value is None
    assert fragment in parsed.error


def test_criteria_json_variants():
    plain = '{"helpfulness": 2, "language_correctness": 3, "fluency": 2, "factual_accuracy": 1, ' \
            '"logical_coherence": 2, "harmlessness": 3}'
    assert parse_criteria_json(plain, CRITERIA).value["factual_accuracy"] == 1
    fenced = "Here is my evaluation:\n```json\n" + plain + "\n```\nHope this helps."
    assert parse_criteria_json(fenced, CRITERIA).value["language_correctness"] == 3
    loose = ('Evaluation: {"Helpfulness": "2", "Language Correctness": 3.0, "fluency": "2/3", '
             '"Factual accuracy": {"score": 1, "explanation": "a wrong date"}, "logical-coherence": [2], '
             '"harmlessness": 3}')
    parsed = parse_criteria_json(loose, CRITERIA)
    assert parsed.ok, parsed.error
    assert parsed.value == {"helpfulness": 2, "language_correctness": 3, "fluency": 2, "factual_accuracy": 1,
                            "logical_coherence": 2, "harmlessness": 3}
    nested = '{"scores": ' + plain + "}"
    assert parse_criteria_json(nested, CRITERIA).ok
    braces_in_text = 'Note {this} first. {"helpfulness": 2, "language_correctness": 3, "fluency": "a {b} c", ' \
                     '"factual_accuracy": 1, "logical_coherence": 2, "harmlessness": 3}'
    assert "fluency" in parse_criteria_json(braces_in_text, CRITERIA).error


@pytest.mark.parametrize("text, fragment", [
    ('{"helpfulness": 2, "fluency": ', "invalid JSON"),
    ("helpfulness: good, fluency: fine", "no JSON object"),
    ('{"helpfulness": 2, "language_correctness": 3}', "missing fluency"),
    ('{"helpfulness": 4, "language_correctness": 3, "fluency": 2, "factual_accuracy": 1, '
     '"logical_coherence": 2, "harmlessness": 3}', "helpfulness 4 is outside 1-3"),
    ('{"helpfulness": "good", "language_correctness": 3, "fluency": 2, "factual_accuracy": 1, '
     '"logical_coherence": 2, "harmlessness": 3}', "is not a rating"),
    ("", "empty"),
])
def test_criteria_errors(text, fragment):
    parsed = parse_criteria_json(text, CRITERIA)
    assert not parsed.ok
    assert fragment in parsed.error


@pytest.mark.parametrize("text, expected", [
    ("Assistant A gives a complete recipe; B stops halfway.\n\n[[A]]", "A"),
    ("Final verdict: [[B]]", "B"),
    ("Both answers are equally good. [[C]]", "tie"),
    ("[[tie]]", "tie"),
    ("My verdict: [B]", "B"),
    ("Final verdict: Assistant A", "A"),
    ("After comparing both...\nB", "B"),
    ("Considering everything, it's a tie.", "tie"),
    ("Reading [[A]] then [[B]] ... my final answer is [[B]]", "B"),
])
def test_pair_verdicts(text, expected):
    parsed = parse_pair_verdict(text)
    assert parsed.ok, parsed.error
    assert parsed.value == expected


def test_pair_verdict_errors():
    assert not parse_pair_verdict("").ok
    assert "no verdict" in parse_pair_verdict("Both have merits and flaws.").error


@pytest.mark.parametrize("text, expected", [
    ("1", 1), ("0", 0), ("Answer: 1", 1), ("[[0]]", 0), ("1.", 1), ("Yes, it addresses the task.", 1),
    ("No.", 0),
])
def test_relevance(text, expected):
    parsed = parse_binary_0_1(text)
    assert parsed.ok, parsed.error
    assert parsed.value == expected


def test_relevance_errors():
    assert "outside 0-1" in parse_binary_0_1("2").error
    assert not parse_binary_0_1("Maybe").ok
    assert not parse_binary_0_1("").ok


@pytest.mark.parametrize("ab, ba, expected", [
    ("win", "win", "win"), ("loss", "loss", "loss"), ("tie", "tie", "tie"),
    ("win", "loss", "tie"),   # flips with the order: position bias -> tie
    ("loss", "win", "tie"), ("win", "tie", "tie"), ("tie", "loss", "tie"),
])
def test_pairwise_order_swap(ab, ba, expected):
    assert pairwise_verdict(ab, ba) == expected


def test_builtin_templates_render_with_strict_variables():
    for kind in BUILTIN:
        template = load_template(builtin_template_path(kind), kind)
        variables = {"question": "Quelle est la capitale ?", "language": "French", "lang": "fr"}
        variables.update({"answer_a": "Paris", "answer_b": "Lyon"} if kind == "judge_pairwise" else {"answer": "Paris"})
        messages = template.render(**variables)
        assert messages[-1]["role"] == "user" and "Quelle est la capitale" in messages[-1]["content"]
        assert template.local is not None and template.label.endswith("-v1")
    single = load_template(builtin_template_path("judge_single"), "judge_single")
    with pytest.raises(ConfigError, match="undefined variable"):
        single.render(question="q", language="French", lang="fr")  # no answer


def test_user_template_errors_name_the_file(tmp_path):
    bad_kind = tmp_path / "mine.yaml"
    bad_kind.write_text("name: mine\nversion: 1\nkind: relevance\noutput_format: binary_0_1\nprompt: '{{ question }}'\n")
    with pytest.raises(ConfigError, match="mine.yaml: template kind is 'relevance'"):
        load_template(bad_kind, "judge_single")
    bad_jinja = tmp_path / "jinja.yaml"
    bad_jinja.write_text("name: j\nversion: 1\nkind: judge_single\noutput_format: rating_1_3\nprompt: '{{ question '\n")
    with pytest.raises(ConfigError, match="jinja.yaml: prompt: Jinja syntax error"):
        load_template(bad_jinja, "judge_single")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("name: u\nversion: 1\nkind: judge_single\noutput_format: rating_1_3\nprompt: x\nsytem: y\n")
    with pytest.raises(ConfigError, match="unknown keys"):
        load_template(unknown, "judge_single")
    with pytest.raises(ConfigError, match="not found"):
        load_template(tmp_path / "missing.yaml", "judge_single")


# ---------------------------------------------------------------- precision in every format
PLAIN = ('{"helpfulness": 2, "language_correctness": 3, "fluency": 2, "factual_accuracy": 1, '
         '"logical_coherence": 2, "harmlessness": 3}')


@pytest.mark.parametrize("text, reason", [
    (PLAIN + "\nOn second thought:\n" + PLAIN.replace('"fluency": 2', '"fluency": 3'), "several"),
    ("For example: " + PLAIN, "quoted"),
    ("```python\nscores = " + PLAIN + "\n```", "none"),
])
def test_criteria_json_precision(text, reason):
    parsed = parse_criteria_json(text, CRITERIA)
    assert parsed.value is None and parsed.reason == reason, parsed


def test_criteria_json_repeated_is_one_verdict():
    assert parse_criteria_json("```json\n" + PLAIN + "\n```\nAgain: " + PLAIN, CRITERIA).ok


@pytest.mark.parametrize("text, reason", [
    ('I must answer in the form "[[A]]".', "quoted"),
    ("[[A]] if assistant A is better, [[B]] if assistant B is better", "hypothetical"),
    ("It is either [[A]] or [[B]].", "several-numbers"),
    ("Assistant A is more detailed: [[A]]. Assistant B is more accurate: [[B]].", "several"),
    ("```\nverdict = x[A]\n```", "code"),
])
def test_pair_verdict_precision(text, reason):
    parsed = parse_pair_verdict(text)
    assert parsed.value is None and parsed.reason == reason, parsed


@pytest.mark.parametrize("text, expected", [
    ("Assistant A is more thorough.\n[[8, 6]]", (8.0, 6.0)),
    ("[[7.5,7.5]]", (7.5, 7.5)),
    ("[8, 9]", (8.0, 9.0)),
])
def test_pair_scores(text, expected):
    parsed = parse_pair_scores(text)
    assert parsed.ok and parsed.value == expected, parsed


@pytest.mark.parametrize("text, reason", [
    ("[[11, 3]]", "out-of-scale"), ("[[8, 6]] or [[7, 7]]", "several"), ("Both are fine.", "none"), ("", "empty"),
])
def test_pair_scores_errors(text, reason):
    assert parse_pair_scores(text).reason == reason


def test_pair_scores_verdict_has_a_tie_margin():
    assert [pair_scores_verdict(s) for s in ((8, 6), (6, 8), (7, 7.05))] == ["A", "B", "tie"]


@pytest.mark.parametrize("text, reason", [
    ("1 or 0", "none"), ("Answer: 1. On reflection the answer 0 fits.", "several"), ('The format is "Answer: 1".', "quoted"),
])
def test_relevance_precision(text, reason):
    parsed = parse_binary_0_1(text)
    assert parsed.value is None and parsed.reason == reason, parsed
