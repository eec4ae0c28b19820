"""One parser per judge output format. Precision first: a value only where the judge gave a verdict,
an explicit error (naming why) where it gave none, several, or only quoted, hypothetical or code ones.

Every parser takes the judge's raw text and returns a :class:`Parsed` (``value``, or ``error`` and its
category ``reason``). Each lists the places its format can hold a verdict; :mod:`.verdicts` decides
which of them is the judge's verdict (policy in ``docs/DESIGN.md``, "Parsing judge answers").
"""

from __future__ import annotations

import re
from typing import Callable

from .criteria_parser import parse_criteria_json
from .verdicts import Candidate, JudgeAnswer, Parsed, choose, failed

__all__ = ["Parsed", "parse_rating", "parse_rating_1_3", "parse_criteria_json", "parse_pair_verdict",
           "parse_pair_scores", "parse_vicuna_pair", "parse_binary_0_1", "parse_answer", "PARSERS", "OUTPUT_FORMATS"]

NUM = r"(-?\d+(?:[.,]\d+)?)"
_OPEN = r"[\[(\"'“*\s]*"  # how a number may be wrapped after its label: [[9]], **9**, "9", (9)
_CLOSE = re.compile(r"[\])\"'”*]*")
# strict, as asked: [[2]], [[2.0]], [[ **2** ]]
_STRICT = re.compile(r"\[\[\s*\**\s*" + NUM + r"\s*\**\s*\]\]")
# a rating word, up to six words, the number: "Rating: 2", "rated as a 10", "I would rate it an 8",
# "earning a rating of [[9]]", "[Rating: 9]", "response rate is 10/10"; the gap has no digits, no
# sentence end and none of the words that start another clause ("rate it highly because it lists 3")
_GAP_STOP = (r"because|since|and|but|which|when|while|where|though|although|has|have|had|contains?|includes?|"
             r"lists?|with|than|there|from|between|confidence|steps?|points?|items?|times?")
_RATING_WORD = (r"\b(?:rat(?:e|es|ed|ing|ings)|scor(?:e|es|ed|ing)|grade[ds]?"
                r"|(?:give|gives|giving) (?:it|this(?: response| answer)?|the (?:response|answer)))\b")
_LABELLED = re.compile(_RATING_WORD + r"(?:[^\w\n.!?;]+(?!(?:" + _GAP_STOP + r")\b)[A-Za-z][\w']*){0,6}?"
                       + r"[^\w\n.!?;]*?" + _OPEN + NUM, re.IGNORECASE)
_BARE_LINE = re.compile(r"^[^\w\n]*" + NUM + r"[^\w\n]*$", re.MULTILINE)
# a numbered list ("1. Language learning ...\n2"): a number alone on a line of it is the next item's
# number, not a rating (measured: SmolLM2-135M continues the judged answer's list instead of judging)
_LIST_LINE = re.compile(r"^\s*\d+[.)]\s+\S", re.MULTILINE)
_RATING_LABEL = re.compile(r"(?:(?:final|overall)\s+)?(?:rating|score|grade)", re.IGNORECASE)
# what may follow or precede a number that makes it one of several, not a rating
_DENOMINATOR = re.compile(r"\s*(?:/|out of)\s*(\d+)\b", re.IGNORECASE)
_MORE_NUMBERS = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\s(?:or|and|to)\s+|[-–]\s*)(?:an?\s+)?[\[(\"'*]*\d",
                           re.IGNORECASE)
_NUMBER_BEFORE = re.compile(r"\d[\])\"'*]*\s*(?:,|\bor\b|\band\b|\bto\b|[-–])\s*(?:an?\s+)?[\[(\"'*]*$",
                            re.IGNORECASE)
_SCALE_BEFORE = re.compile(r"(?:\bscale\s+(?:of|from)|\brange\s+(?:of|from)|\bbetween|\bfrom)\W*$", re.IGNORECASE)
_PERCENT = re.compile(r"\s*(?:%|percent)", re.IGNORECASE)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _check_scale(number: float, allowed: tuple[int, ...], what: str) -> Parsed:
    if number != int(number):
        return failed("out-of-scale", what, f"{what} {number:g} is not one of {', '.join(map(str, allowed))}")
    if int(number) not in allowed:
        return failed("out-of-scale", what, f"{what} {int(number)} is outside {allowed[0]}-{allowed[-1]}")
    return Parsed(int(number))


def _number_candidates(answer: JudgeAnswer, patterns, top: int | None) -> list[Candidate]:
    """Numbers at verdict places, one candidate per number; labelled ones first (they know their label)."""
    text, found = answer.text, {}
    for pattern, labelled in patterns:
        for match in pattern.finditer(text):
            start, end = match.span(1)
            if start in found:
                continue
            cand = Candidate(_number(match.group(1)), start, end, match.start() if labelled else None)
            end += len(_CLOSE.match(text, end).group(0))
            denominator = _DENOMINATOR.match(text, end)
            if denominator:
                end = denominator.end()
                if top is not None and int(denominator.group(1)) != top:
                    cand.rejected, cand.detail = "other-scale", f"{match.group(1)} out of {denominator.group(1)}"
            before = (max(0, cand.start - 20), cand.start)
            if cand.rejected is None and (
                    _PERCENT.match(text, cand.end) or _MORE_NUMBERS.match(text, end)
                    or _SCALE_BEFORE.search(text, *before) or _NUMBER_BEFORE.search(text, *before)):
                cand.rejected = "several-numbers"
                cand.detail = " ".join(text[cand.label_start or cand.start:end + 12].split())
            if cand.rejected is None and pattern is _BARE_LINE and _LIST_LINE.search(text):
                cand.rejected, cand.detail = "several-numbers", f"{match.group(1)} alone on a line of a numbered list"
            cand.end = end
            found[start] = cand
    return sorted(found.values(), key=lambda c: c.start)


# ---------------------------------------------------------------- single rating
def parse_rating(text: str | None, scale: tuple[int, ...] = (1, 2, 3)) -> Parsed:
    """A rating written as ``[[2]]`` (asked), ``Rating: 2``, ``I rate it a 2 out of 3``, a number alone
    on a line; an error when the answer holds none, several different ones, or only rejected ones."""
    if not text or not text.strip():
        return failed("empty", "rating")
    answer = JudgeAnswer(text)
    patterns = ((_LABELLED, True), (_STRICT, False), (_BARE_LINE, False))
    candidates = _number_candidates(answer, patterns, top=scale[-1])
    parsed = choose(answer, candidates, "rating", label=_RATING_LABEL, show=lambda v: f"{v:g}")
    return _check_scale(parsed.value, scale, "rating") if parsed.ok else parsed


def parse_rating_1_3(text: str | None) -> Parsed:
    return parse_rating(text, (1, 2, 3))


# ---------------------------------------------------------------- pairwise verdict
_VERDICT_STRICT = re.compile(r"\[\[\s*\**\s*(A|B|C|[Tt]ie|TIE)\s*\**\s*\]\]")
_VERDICT_LABELLED = re.compile(r"(?i:\b(?:final\s+)?verdict\b)\W{0,6}(?i:(?:is\s+)?(?:that\s+)?(?:a\s+)?(?:assistant\s+)?)"
                               r"[\[*\"']*(A|B|C|[Tt]ie)\b")
_VERDICT_SINGLE = re.compile(r"\[\s*(A|B|C)\s*\](?!\()")  # [A], not a markdown link [A](url)
_VERDICT_BARE = re.compile(r"^\W*(A|B|C)\W*$")
_VERDICT_LABEL = re.compile(r"(?:final\s+)?verdict", re.IGNORECASE)
# '"[[A]]" if assistant A is better': the format restated; "[[A]] or [[B]]": alternatives
_VERDICT_IF = re.compile(r"[\]\"'*]*\s*(?:if|when|for|means|=)\b", re.IGNORECASE)
_VERDICT_MORE = re.compile(r"[\]\"'*]*\s*(?:,|/|\bor\b|\band\b)\s*[\[\"'*]*(?:A|B|C)\b")
_VERDICT_MORE_BEFORE = re.compile(r"\b(?:A|B|C)[\]\"'*]*\s*(?:,|/|\bor\b|\band\b)\s*[\[\"'*]*$")
_TIE_WORDS = re.compile(r"\b(?:(?:it'?s|it is|is) a tie|both (?:are|responses are) (?:equally|equal))\b", re.IGNORECASE)


def _verdict(token: str) -> str:
    token = token.upper()
    return "tie" if token in ("C", "TIE") else token


def parse_pair_verdict(text: str | None) -> Parsed:
    """``[[A]]``/``[[B]]``/``[[C]]`` (tie) as asked, or ``[A]``, ``Verdict: B``, a bare ``A`` on the last
    line; value A|B|tie. "[[A]] if A is better" (the format restated) and "[[A]] or [[B]]" are not verdicts."""
    if not text or not text.strip():
        return failed("empty", "verdict")
    answer = JudgeAnswer(text)
    found: dict[int, Candidate] = {}
    for pattern, labelled in ((_VERDICT_LABELLED, True), (_VERDICT_STRICT, False), (_VERDICT_SINGLE, False)):
        for match in pattern.finditer(answer.text):
            if match.start(1) not in found:
                found[match.start(1)] = Candidate(_verdict(match.group(1)), *match.span(1),
                                                  match.start() if labelled else None)
    lines = answer.text.strip().splitlines()
    bare = _VERDICT_BARE.match(lines[-1]) if lines else None
    if bare:
        start = answer.text.rstrip().rfind(lines[-1]) + bare.start(1)
        found.setdefault(start, Candidate(_verdict(bare.group(1)), start, start + 1))
    candidates = sorted(found.values(), key=lambda c: c.start)
    for cand in candidates:
        if _VERDICT_IF.match(answer.text, cand.end):
            cand.rejected = "hypothetical"
        elif _VERDICT_MORE.match(answer.text, cand.end) or _VERDICT_MORE_BEFORE.search(
                answer.text, max(0, cand.start - 12), cand.start):
            cand.rejected = "several-numbers"
    if not candidates and _TIE_WORDS.search(answer.text):
        return Parsed("tie")
    return choose(answer, candidates, "verdict", label=_VERDICT_LABEL)


# ---------------------------------------------------------------- pairwise scores 0-10
_PAIR_STRICT = re.compile(r"\[\[\s*" + NUM + r"\s*,\s*" + NUM + r"\s*\]\]")
_PAIR_SINGLE = re.compile(r"\[\s*" + NUM + r"\s*,\s*" + NUM + r"\s*\]")
PAIR_SCORE_RANGE = (0.0, 10.0)
TIE_DELTA = 0.1  # FastChat: scores closer than this are a tie


def parse_pair_scores(text: str | None) -> Parsed:
    """``[[8, 6]]`` (FastChat's two-score format: assistant A's and B's scores, 0-10) or ``[8, 6]``;
    value (score A, score B)."""
    if not text or not text.strip():
        return failed("empty", "score pair")
    answer = JudgeAnswer(text)
    found: dict[int, Candidate] = {}
    for pattern in (_PAIR_STRICT, _PAIR_SINGLE):
        for match in pattern.finditer(answer.text):
            start = match.start(1)
            if start not in found and not any(c.start <= start < c.end for c in found.values()):
                found[start] = Candidate((_number(match.group(1)), _number(match.group(2))), start, match.end(2))
    parsed = choose(answer, sorted(found.values(), key=lambda c: c.start), "score pair",
                    label=_RATING_LABEL, show=lambda v: f"[[{v[0]:g}, {v[1]:g}]]")
    if not parsed.ok:
        return parsed
    lo, hi = PAIR_SCORE_RANGE
    if not all(lo <= v <= hi for v in parsed.value):
        return failed("out-of-scale", "score pair", f"{parsed.value} outside {lo:g}-{hi:g}")
    return parsed


def pair_scores_verdict(scores: tuple[float, float]) -> str:
    """A, B or tie from the two scores (FastChat's rule)."""
    a, b = scores
    return "A" if a > b + TIE_DELTA else "B" if b > a + TIE_DELTA else "tie"


# ---------------------------------------------------------------- Vicuna review: "8 6" on the first line
_SCORE_LINE = re.compile(r"^[^\w\n-]*(?:scores?\s*:?\s*)?" + NUM + r"\s*(?:,|/|\s)\s*" + NUM + r"[^\w\n]*$",
                         re.IGNORECASE)


def parse_vicuna_pair(text: str | None) -> Parsed:
    """The Vicuna review format (Chiang et al., 2023; FastChat's ``parse_score``): the first line holds only
    the two assistants' scores, "8 6" (or "8, 6"), the explanation follows; value (score 1, score 2). An
    answer that puts the pair elsewhere is read as ``[[8, 6]]`` would be, never from the explanation's
    free-standing numbers."""
    if not text or not text.strip():
        return failed("empty", "score pair")
    first = next(line for line in text.strip().splitlines() if line.strip()).strip()
    match = _SCORE_LINE.match(first)
    if not match:
        return parse_pair_scores(text)
    value = (_number(match.group(1)), _number(match.group(2)))
    lo, hi = PAIR_SCORE_RANGE
    if not all(lo <= v <= hi for v in value):
        return failed("out-of-scale", "score pair", f"{value} outside {lo:g}-{hi:g}")
    return Parsed(value)


# ---------------------------------------------------------------- relevance 0/1
_ANSWER_LABELLED = re.compile(r"\banswer\b\W{0,6}" + NUM, re.IGNORECASE)
_ANSWER_LABEL = re.compile(r"answer", re.IGNORECASE)
_SINGLE_LINE = re.compile(r"^\W*\[\s*" + NUM + r"\s*\]\W*$", re.MULTILINE)
_YES = re.compile(r"^\W*(yes|relevant)\b", re.IGNORECASE)
_NO = re.compile(r"^\W*(no|not relevant|irrelevant)\b", re.IGNORECASE)


def parse_binary_0_1(text: str | None) -> Parsed:
    """``1``/``0`` as asked, or ``Answer: 1``, ``[[0]]``, a line ``[1]``, ``Yes``/``No`` at the start."""
    if not text or not text.strip():
        return failed("empty", "0/1 answer")
    answer = JudgeAnswer(text)
    patterns = ((_ANSWER_LABELLED, True), (_STRICT, False), (_BARE_LINE, False), (_SINGLE_LINE, False))
    candidates = _number_candidates(answer, patterns, top=1)
    if not candidates:
        if _NO.match(answer.text):
            return Parsed(0)
        if _YES.match(answer.text):
            return Parsed(1)
    parsed = choose(answer, candidates, "0/1 answer", label=_ANSWER_LABEL, show=lambda v: f"{v:g}")
    return _check_scale(parsed.value, (0, 1), "answer") if parsed.ok else parsed


# kind -> output formats it can use; format -> parser(text, template)
OUTPUT_FORMATS: dict[str, tuple[str, ...]] = {
    "judge_single": ("rating_1_3",),
    "judge_criteria": ("criteria_json",),
    "judge_pairwise": ("pair_verdict", "pair_scores", "vicuna_pair"),
    "relevance": ("binary_0_1",),
}
PARSERS: dict[str, Callable[..., Parsed]] = {
    "rating_1_3": lambda text, template=None: parse_rating_1_3(text),
    "criteria_json": lambda text, template=None: parse_criteria_json(text, template.criteria),
    "pair_verdict": lambda text, template=None: parse_pair_verdict(text),
    "pair_scores": lambda text, template=None: parse_pair_scores(text),
    "vicuna_pair": lambda text, template=None: parse_vicuna_pair(text),
    "binary_0_1": lambda text, template=None: parse_binary_0_1(text),
}


def parse_answer(text: str | None, template) -> Parsed:
    """Parse ``text`` with the parser of ``template.output_format``."""
    return PARSERS[template.output_format](text, template)
