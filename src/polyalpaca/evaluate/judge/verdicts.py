"""Which of the verdict-like strings in a judge's answer is its verdict — and why the others are not.

A parser lists *candidates*: every place its format could hold a verdict (``[[2]]``, ``Rating: 2``,
``I rate it a 9 out of 10``, a number alone on a line, ``[[A]]``, a JSON object). Real judges write
many numbers that look like ratings but are not the judge's verdict on the answer (160 MT-Bench
judge answers, ``tests/data/judge_outputs/``), so a candidate is *rejected*, with a reason, when it
is

* inside code (``array[0]``) — the code is blanked before candidates are searched;
* quoted: inside a conversation the judge copies (``<|The Start of ... Conversation|>``) or inside
  double quotes (the format restated, ``"Rating: [[5]]"``);
* given by someone else: the user's rating, the reference answer's, or ratings of several assistants;
* hypothetical: what an improved answer *could* get (``could be improved, earning [[10]]``);
* on the judge's own revision: after the judge says it rewrote or corrected the answer;
* one of several numbers: a list, a range or alternatives (``rated 5, 1 and 3``, ``1 to 10``,
  ``[[9]] or [[10]]``), or a rating out of another maximum than the scale's.

Of the accepted candidates, one value is the verdict. Several different values are an error unless
one is marked ``final`` or stands alone on the answer's last verdict line (where the format puts it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Parsed:
    """A parser's result: ``value``, or ``error`` (a sentence naming why) and ``reason`` (its category)."""

    value: Any = None
    error: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# reason category -> message; {what} is the verdict's name in the format ("rating", "verdict", ...)
REASONS = {
    "empty": "empty answer",
    "judge-error": "the answer is an error marker ($ERROR$), not a judgment",
    "none": "no {what} found in the answer",
    "code": "no {what} outside code (a bracketed number inside code is not a {what})",
    "quoted": "only quoted {what}s (a copied conversation or the format restated), no verdict of the judge",
    "others": "only {what}s given by the user or to the reference answer, no verdict of the judge",
    "assistants": "{what}s of several assistants, not one verdict on the answer",
    "hypothetical": "only hypothetical {what}s (what an improved answer could get), no verdict",
    "revision": "only a {what} of the judge's own revised answer, not of the answer judged",
    "several-numbers": "a list, range or alternatives, not one {what}",
    "other-scale": "a {what} out of another maximum than the scale's",
    "several": "several different {what}s",
    "out-of-scale": "{what} outside the scale",
    "invalid": "not a valid {what}",
}
# the order in which a rejection reason is reported when the answer has candidates of several kinds
_REPORT_ORDER = ("others", "assistants", "revision", "hypothetical", "several-numbers", "other-scale", "quoted")


def failed(reason: str, what: str, detail: str = "") -> Parsed:
    message = REASONS[reason].format(what=what)
    return Parsed(error=f"{message}: {detail}" if detail else message, reason=reason)


@dataclass
class Candidate:
    """One place a verdict may be written: ``token`` spans ``start:end`` of the answer."""

    token: Any
    start: int
    end: int
    label_start: int | None = None  # where its label ("Rating", "rated", "verdict") begins
    rejected: str | None = None
    detail: str = ""


_FENCE = re.compile(r"```([\w+-]*)[^\n]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
# a conversation or answer the judge copies into its own answer
_QUOTED_BLOCK = re.compile(r"(?:<\|The Start of [^|>]*\|>|\[The Start of [^\]]*(?:Answer|Conversation|Question)\])"
                           r".*?(?:<\|The End of [^|>]*\|>|\[The End of [^\]]*\]|\Z)", re.DOTALL | re.IGNORECASE)
# the judge writes its own version of the answer: what it rates after this is not the answer judged
_REVISION = re.compile(
    r"\bI(?:'ve| have)? (?:corrected|revised|rewritten|rewrote|improved|edited|fixed)\b"
    r"|\bhere(?:'s| is) (?:a|an|my|the) (?:revised|improved|corrected|rewritten|better|updated) "
    r"(?:version|answer|response)\b"
    r"|^\W*(?:revised|improved|corrected|rewritten|updated) (?:version|answer|response)\b",
    re.IGNORECASE | re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n")
_HYPOTHETICAL = re.compile(r"\b(?:could|might|if|should|would (?:be|further|have|also|then)|resulting in)\b",
                           re.IGNORECASE)
_SEVERAL_ASSISTANTS = re.compile(r"\bassistants\b|\beach assistant\b|\bboth assistants\b", re.IGNORECASE)
_OTHERS_RATING = re.compile(r"\b(?:user|human|reference(?: answer)?)(?:'s)?\s*$", re.IGNORECASE)
_BY_OTHERS = re.compile(r"\b(?:by|from) the (?:user|human|reference)\b", re.IGNORECASE)
_FINAL = re.compile(r"\bfinal\b", re.IGNORECASE)
_QUOTES = re.compile(r"[\"“”]")
_CODE_VERDICT = re.compile(r"\[\[?\s*(?:-?\d|[ABC]\b)")  # what FastChat's parse reads inside code


class JudgeAnswer:
    """The judge's text with code blanked (offsets kept) and the regions a verdict cannot be in."""

    def __init__(self, raw: str, *, keep_code: tuple[str, ...] = ()):
        self.raw = raw
        self.code: list[str] = []
        chars = list(raw)

        def blank(start: int, end: int) -> None:
            for i in range(start, end):
                if chars[i] != "\n":
                    chars[i] = " "

        for match in _FENCE.finditer(raw):
            if match.group(1).lower() not in keep_code:
                self.code.append(match.group(0))
                blank(match.start(), match.end())
        for match in _INLINE_CODE.finditer("".join(chars)):
            self.code.append(match.group(0))
            blank(match.start(), match.end())
        self.text = "".join(chars)
        self.quoted = [m.span() for m in _QUOTED_BLOCK.finditer(self.text)]
        revision = _REVISION.search(self.text)
        self.revision_at = revision.start() if revision else None

    def sentence_start(self, pos: int) -> int:
        starts = [m.end() for m in _SENTENCE_END.finditer(self.text, 0, pos)]
        return starts[-1] if starts else 0

    def line(self, pos: int) -> tuple[int, int]:
        start = self.text.rfind("\n", 0, pos) + 1
        end = self.text.find("\n", pos)
        return start, len(self.text) if end < 0 else end

    def sentence(self, pos: int) -> str:
        start = self.sentence_start(pos)
        end = _SENTENCE_END.search(self.text, pos)
        return self.text[start:end.start() if end else len(self.text)]

    def in_double_quotes(self, pos: int) -> bool:
        start, _ = self.line(pos)
        return len(_QUOTES.findall(self.text, start, pos)) % 2 == 1

    def check(self, cand: Candidate) -> None:
        """Set ``cand.rejected`` when the candidate is not a verdict of the judge on the answer."""
        begin = cand.start if cand.label_start is None else cand.label_start
        prefix = self.text[self.sentence_start(begin):cand.start]
        if any(a <= cand.start < b for a, b in self.quoted) or self.in_double_quotes(cand.start):
            cand.rejected = "quoted"
        elif _OTHERS_RATING.search(self.text[max(0, begin - 30):begin]) or _BY_OTHERS.search(
                self.text[begin:cand.start]):
            cand.rejected = "others"
        elif _SEVERAL_ASSISTANTS.search(self.sentence(cand.start)):
            cand.rejected = "assistants"
        elif self.revision_at is not None and cand.start > self.revision_at:
            cand.rejected = "revision"
        elif _HYPOTHETICAL.search(prefix):
            cand.rejected = "hypothetical"

    def own_line(self, cand: Candidate, label: re.Pattern) -> bool:
        """The candidate alone on its line, with at most a label: the place the format asks for."""
        start, end = self.line(cand.start)
        rest = self.text[start:cand.start] + " " + self.text[cand.end:end]
        return re.fullmatch(r"\W*(?:" + label.pattern + r")?\W*", rest, label.flags) is not None


def choose(answer: JudgeAnswer, candidates: list[Candidate], what: str, *, same=lambda a, b: a == b,
           label: re.Pattern | None = None, show=str) -> Parsed:
    """The verdict among ``candidates`` (checked here), or an error naming why there is none."""
    for cand in candidates:
        if cand.rejected is None:
            answer.check(cand)
    accepted = [c for c in candidates if c.rejected is None]
    if not accepted:
        if answer.raw.strip() == "$ERROR$":
            return failed("judge-error", what)
        rejected = {c.rejected for c in candidates}
        for reason in _REPORT_ORDER:
            if reason in rejected:
                details = [c.detail for c in candidates if c.rejected == reason and c.detail]
                return failed(reason, what, "; ".join(dict.fromkeys(details)))
        if any(_CODE_VERDICT.search(code) for code in answer.code):
            return failed("code", what)
        return failed("none", what)
    values: list[Candidate] = []
    for cand in accepted:
        if not any(same(cand.token, v.token) for v in values):
            values.append(cand)
    if len(values) == 1:
        return Parsed(values[0].token)
    final = [c for c in accepted if _FINAL.search(answer.text[answer.sentence_start(c.label_start or c.start):c.start])]
    if final and all(same(c.token, final[0].token) for c in final):
        return Parsed(final[0].token)
    last = accepted[-1]
    if label is not None and answer.own_line(last, label) and answer.text[:answer.line(last.start)[0]].strip():
        return Parsed(last.token)
    return failed("several", what, ", ".join(show(v.token) for v in values))
