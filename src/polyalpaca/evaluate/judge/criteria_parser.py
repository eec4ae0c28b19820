"""The parser of the six-criteria JSON answer (``criteria_json``): every criterion rated 1-3.

Keys may be spelled loosely ("Language correctness"), values may be ``"2"``, ``2.0``, ``"2/3"`` or
``{"score": 2}``. Precision first, as for every format: an object the judge gives as an example, in
a quoted conversation or in a code block other than JSON is not its verdict, and two complete objects
with different ratings are an error, not a choice.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .verdicts import Candidate, JudgeAnswer, Parsed, choose, failed

_NUM = r"(-?\d+(?:[.,]\d+)?)"
_FENCE = re.compile(r"```(?:json)?[^\n]*\n?(.*?)```", re.DOTALL | re.IGNORECASE)
_EXAMPLE = re.compile(r"\b(?:for example|for instance|e\.g\.|example|such as|like this)\b\W*$", re.IGNORECASE)


def _json_objects(text: str):
    """``(start, text)`` of candidate JSON objects: fenced blocks first, then every balanced ``{...}`` span."""
    for match in _FENCE.finditer(text):
        yield match.start(1), match.group(1).strip()
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
                yield start, text[start:i + 1]


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
        return float(match.group(1).replace(",", ".")) if match else None
    return None


def _scores(obj: dict, criteria: tuple[str, ...], keys: dict[str, str]) -> tuple[dict, list[str]]:
    """criterion -> 1|2|3 and the problems that keep ``obj`` from being a complete verdict; a criterion is
    read under its own name or the JSON key the prompt asked for (``keys``)."""
    if len(obj) == 1 and isinstance(next(iter(obj.values())), dict):  # {"scores": {...}}
        obj = next(iter(obj.values()))
    by_key = {_norm_key(k): v for k, v in obj.items()}
    scores, problems = {}, []
    for name in criteria:
        key = next((k for k in (name, _norm_key(keys.get(name, name))) if k in by_key), None)
        if key is None:
            problems.append(f"missing {keys.get(name, name)}")
            continue
        number = _criterion_value(by_key[key])
        if number is None:
            problems.append(f"{name}: {by_key[key]!r} is not a rating")
        elif number != int(number) or int(number) not in (1, 2, 3):
            problems.append(f"{name} {number:g} is outside 1-3" if number == int(number)
                            else f"{name} {number:g} is not one of 1, 2, 3")
        else:
            scores[name] = int(number)
    return scores, problems


def parse_criteria_json(text: str | None, criteria: tuple[str, ...], keys: dict[str, str] | None = None) -> Parsed:
    """``{"helpfulness": 2, ...}`` with every criterion rated 1-3 (``keys``: criterion -> the JSON key asked for,
    e.g. ``{"factual_accuracy": "Accuracy"}``)."""
    if not text or not text.strip():
        return failed("empty", "criteria rating")
    answer = JudgeAnswer(text, keep_code=("json", ""))  # a JSON fence is the format, other code is not
    candidates, last_error = [], "no JSON object found in the answer"
    seen = set()
    for start, candidate in _json_objects(answer.text):
        try:
            obj = json.loads(candidate)
        except json.JSONDecodeError as err:
            last_error = f"invalid JSON: {err.msg} at char {err.pos}"
            continue
        if not isinstance(obj, dict):
            last_error = "the JSON answer is not an object"
            continue
        scores, problems = _scores(obj, criteria, keys or {})
        if problems:
            last_error = "; ".join(problems)
            continue
        key = (start, tuple(sorted(scores.items())))
        if any(s == key[1] and abs(p - start) < 16 for p, s in seen):  # a fenced block found twice
            continue
        seen.add(key)
        cand = Candidate(scores, start, start + len(candidate))
        if _EXAMPLE.search(answer.text[answer.sentence_start(start):start]):
            cand.rejected = "quoted"
        candidates.append(cand)
    if candidates:
        return choose(answer, sorted(candidates, key=lambda c: c.start), "criteria rating",
                      show=lambda v: json.dumps(v))
    if last_error.startswith("no JSON object") and "{" in answer.text:  # an object that never closes (cut off?)
        try:
            json.loads(answer.text[answer.text.index("{"):])
        except json.JSONDecodeError as err:
            last_error = f"invalid JSON: {err.msg} at char {err.pos} (unterminated object)"
    reason = "none" if last_error.startswith("no JSON") else "invalid"
    return Parsed(error=last_error, reason=reason)
