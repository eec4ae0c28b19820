"""One parser per judge output format: a strict pattern first, fallbacks for the ways judges write
answers other than asked, and an explicit error otherwise — never a made-up score.

Every parser takes the judge's raw text and returns a :class:`Parsed` (``value`` or ``error``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Parsed:
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


_NUM = r"(-?\d+(?:[.,]\d+)?)"
# strict: [[2]], [[2.0]], [[ 2 ]] (the last one wins: the verdict comes after the explanation)
_DOUBLE_BRACKETS = re.compile(r"\[\[\s*\**\s*" + _NUM + r"\s*\**\s*\]\]")
# "Rating: 2", "**Rating:** 3", "rating of 2", "Score - 2/3", "Overall rating: **2**"
_LABELLED = re.compile(r"\b(?:rating|score|grade)\b[^\d\n\[]{0,12}?\[?" + _NUM + r"\]?(?:\s*(?:/|out of)\s*3\b)?",
                       re.IGNORECASE)
# "2/3", "2 out of 3"
_OUT_OF = re.compile(_NUM + r"\s*(?:/|out of)\s*3\b", re.IGNORECASE)
_SINGLE_BRACKETS = re.compile(r"\[\s*" + _NUM + r"\s*\]")
_BARE = re.compile(r"^\W*" + _NUM + r"\W*$")


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _check_scale(number: float, allowed: tuple[int, ...], what: str) -> Parsed:
    if number != int(number):
        return Parsed(error=f"{what} {number:g} is not one of {', '.join(map(str, allowed))}")
    if int(number) not in allowed:
        return Parsed(error=f"{what} {int(number)} is outside {allowed[0]}-{allowed[-1]}")
    return Parsed(int(number))


def _find_number(text: str, patterns: tuple[re.Pattern, ...]) -> float | None:
    for pattern in patterns:
        matches = pattern.findall(text)
        if matches:
            return _number(matches[-1])
    return None


def parse_rating(text: str | None, scale: tuple[int, ...] = (1, 2, 3)) -> Parsed:
    """A rating written as ``[[2]]`` (asked), or ``Rating: 2``, ``2/3``, ``[2]``, a bare ``2``."""
    if not text or not text.strip():
        return Parsed(error="empty answer")
    number = _find_number(text, (_DOUBLE_BRACKETS, _LABELLED, _OUT_OF, _SINGLE_BRACKETS, _BARE))
    if number is None:
        return Parsed(error="no rating found in the answer")
    return _check_scale(number, scale, "rating")


def parse_rating_1_3(text: str | None) -> Parsed:
    return parse_rating(text, (1, 2, 3))


# ---------------------------------------------------------------- six criteria as JSON
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def _json_objects(text: str):
    """Candidate JSON objects in ``text``: fenced blocks first, then every balanced ``{...}`` span."""
    for block in _FENCE.findall(text):
        yield block.strip()
    depth, start = 0, None
    in_string = escaped = False
    for i, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"' and depth:
            in_string = True
        elif char == "{":
            if depth == 0:
                start = i
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                yield text[start:i + 1]


def _norm_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", key.strip().lower()).strip("_")


def _criterion_value(value: Any) -> float | None:
    if isinstance(value, dict):  # {"score": 2, "explanation": ...}
        for key in ("score", "rating", "value"):
            if key in value:
                return _criterion_value(value[key])
        return None
    if isinstance(value, list) and len(value) == 1:  # [2]
        return _criterion_value(value[0])
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = re.match(r"^\s*\[*\s*" + _NUM + r"\s*\]*\s*(?:(?:/|out of)\s*3)?\s*$", value, re.IGNORECASE)
        return _number(match.group(1)) if match else None
    return None


def parse_criteria_json(text: str | None, criteria: tuple[str, ...]) -> Parsed:
    """``{"helpfulness": 2, ...}`` with every criterion rated 1-3; keys may be spelled loosely
    ("Language correctness"), values may be ``"2"``, ``2.0``, ``"2/3"`` or ``{"score": 2}``."""
    if not text or not text.strip():
        return Parsed(error="empty answer")
    last_error = "no JSON object found in the answer"
    for candidate in _json_objects(text):
        try:
            obj = json.loads(candidate)
        except json.JSONDecodeError as err:
            last_error = f"invalid JSON: {err.msg} at char {err.pos}"
            continue
        if not isinstance(obj, dict):
            last_error = "the JSON answer is not an object"
            continue
        if len(obj) == 1 and isinstance(next(iter(obj.values())), dict):  # {"scores": {...}}
            obj = next(iter(obj.values()))
        by_key = {_norm_key(k): v for k, v in obj.items()}
        scores, problems = {}, []
        for name in criteria:
            if name not in by_key:
                problems.append(f"missing {name}")
                continue
            number = _criterion_value(by_key[name])
            if number is None:
                problems.append(f"{name}: {by_key[name]!r} is not a rating")
                continue
            checked = _check_scale(number, (1, 2, 3), name)
            if not checked.ok:
                problems.append(checked.error)
                continue
            scores[name] = checked.value
        if not problems:
            return Parsed(scores)
        last_error = "; ".join(problems)
    if last_error.startswith("no JSON object") and "{" in text:  # an object that never closes (cut off?)
        try:
            json.loads(text[text.index("{"):])
        except json.JSONDecodeError as err:
            last_error = f"invalid JSON: {err.msg} at char {err.pos} (unterminated object)"
    return Parsed(error=last_error)


# ---------------------------------------------------------------- pairwise verdict
_VERDICT_STRICT = re.compile(r"\[\[\s*\**\s*(A|B|C|tie)\s*\**\s*\]\]", re.IGNORECASE)
_VERDICT_SINGLE = re.compile(r"\[\s*(A|B|C)\s*\](?!\()")
_VERDICT_LABELLED = re.compile(r"\b(?:final\s+)?verdict\b\W{0,6}(?:assistant\s+)?(A|B|C|tie)\b", re.IGNORECASE)
_VERDICT_BARE = re.compile(r"^\W*(A|B|C)\W*$")
_VERDICT_TIE_WORDS = re.compile(r"\b(?:it'?s a tie|both (?:are|responses are) (?:equally|equal))\b", re.IGNORECASE)


def parse_pair_verdict(text: str | None) -> Parsed:
    """``[[A]]``/``[[B]]``/``[[C]]`` (tie) as asked, or ``[A]``, ``Verdict: B``, a bare ``A``; value A|B|tie."""
    if not text or not text.strip():
        return Parsed(error="empty answer")
    for pattern in (_VERDICT_STRICT, _VERDICT_LABELLED, _VERDICT_SINGLE):
        matches = pattern.findall(text)
        if matches:
            return Parsed(_verdict(matches[-1]))
    last_line = text.strip().splitlines()[-1]
    match = _VERDICT_BARE.match(last_line)
    if match:
        return Parsed(_verdict(match.group(1)))
    if _VERDICT_TIE_WORDS.search(text):
        return Parsed("tie")
    return Parsed(error="no verdict [[A]], [[B]] or [[C]] found in the answer")


def _verdict(token: str) -> str:
    token = token.upper()
    return "tie" if token in ("C", "TIE") else token


# ---------------------------------------------------------------- relevance 0/1
_YES = re.compile(r"^\W*(yes|relevant)\b", re.IGNORECASE)
_NO = re.compile(r"^\W*(no|not relevant|irrelevant)\b", re.IGNORECASE)


def parse_binary_0_1(text: str | None) -> Parsed:
    """``1``/``0`` as asked, or ``Answer: 1``, ``[[0]]``, ``Yes``/``No``."""
    if not text or not text.strip():
        return Parsed(error="empty answer")
    number = _find_number(text, (_BARE, _DOUBLE_BRACKETS, re.compile(r"\banswer\b\W{0,6}" + _NUM, re.IGNORECASE),
                                 _SINGLE_BRACKETS))
    if number is not None:
        return _check_scale(number, (0, 1), "answer")
    if _NO.match(text):
        return Parsed(0)
    if _YES.match(text):
        return Parsed(1)
    return Parsed(error="no 0/1 answer found")


# kind -> output formats it can use; format -> parser(text, template)
OUTPUT_FORMATS: dict[str, tuple[str, ...]] = {
    "judge_single": ("rating_1_3",),
    "judge_criteria": ("criteria_json",),
    "judge_pairwise": ("pair_verdict",),
    "relevance": ("binary_0_1",),
}
PARSERS: dict[str, Callable[..., Parsed]] = {
    "rating_1_3": lambda text, template=None: parse_rating_1_3(text),
    "criteria_json": lambda text, template=None: parse_criteria_json(text, template.criteria),
    "pair_verdict": lambda text, template=None: parse_pair_verdict(text),
    "binary_0_1": lambda text, template=None: parse_binary_0_1(text),
}


def parse_answer(text: str | None, template) -> Parsed:
    """Parse ``text`` with the parser of ``template.output_format``."""
    return PARSERS[template.output_format](text, template)
