"""Pure text handling: cut a field into pieces to translate and pieces to keep byte-identical.

NLLB translates one sentence at a time and its tokenizer turns newlines into spaces, so a field is
cut into lines and sentences; code and other untranslatable spans are kept as they are. The rule is
simple and checkable: ``"".join(piece.text for piece in segment(text)) == text`` always, and only
pieces with ``translate=True`` are ever replaced. Kept verbatim:

- ``fenced_code``: a fenced block from a line starting with ``` or ~~~ to its closing fence (or to the
  end of the field when unclosed), fences included;
- ``indented_code``: a line indented by a tab or 4+ spaces that is not a list item;
- ``inline_code`` (`` `x` ``), ``url`` (http, https, ftp, www.), ``email``, ``placeholder``
  (``{name}``, ``{{x}}``, ``%s``/``%(name)s``, ``<tag>``/``<noinput>``, ``${VAR}``/``$VAR``), and
  ``table_pipes`` (the ``|`` of Markdown table rows);
- each line's indentation, list marker, heading or quote prefix and trailing whitespace, the
  whitespace between sentences, and any piece without a letter (numbers, punctuation).

Text on both sides of a protected span is translated as separate pieces: a model cannot be trusted to
copy a placeholder token, and a byte-identical span is worth more than the sentence context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

PROTECTIONS = ("fenced_code", "indented_code", "inline_code", "url", "email", "placeholder", "table_pipes")

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_INDENTED = re.compile(r"^(?:\t| {4,})")
_LINE_PREFIX = re.compile(r"^[ \t]*(?:(?:[-*+\u2022]|\d{1,3}[.)]|[A-Za-z][.)]|#{1,6}|>)[ \t]+)*")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+\u2022]|\d{1,3}[.)]|[A-Za-z][.)])[ \t]+\S")
_LETTER = re.compile(r"[^\W\d_]")
_SPAN_PATTERNS = {
    "inline_code": r"``+[^`\n]+?``+|`[^`\n]+`",
    "url": r"(?:(?:https?|ftp)://|www\.)[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]}]",
    "email": r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+",
    "placeholder": r"\{\{[^{}\n]*\}\}|\{[^{}\s]*\}"  # {{ jinja }}, {name}, {0}, {}
                   r"|%(?:\([A-Za-z_]\w*\))?[sdifr](?![A-Za-z])"  # %s, %(name)s
                   r"|</?[A-Za-z][\w-]*(?:\s[^<>\n]{0,60})?/?>"  # <tag attr>, </b>, <noinput>
                   r"|\$\{\w+\}|\$[A-Z_][A-Z0-9_]+",  # ${VAR}, $VAR
    "table_pipes": r"\|",
}
_CLAUSE_BREAK = re.compile(r"(?<=[,;:\u060c\u3001\uff0c\uff1b])\s+")


@dataclass(frozen=True)
class Piece:
    """A run of the field's text: translated (a sentence, no surrounding whitespace) or kept as is."""

    text: str
    translate: bool


@lru_cache(maxsize=16)
def _span_regex(kinds: tuple[str, ...]) -> re.Pattern | None:
    parts = [_SPAN_PATTERNS[k] for k in kinds if k in _SPAN_PATTERNS and k != "table_pipes"]
    return re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None


@lru_cache(maxsize=32)
def _segmenter(lang: str):
    import pysbd
    from pysbd.languages import LANGUAGE_CODES

    return pysbd.Segmenter(language=lang if lang in LANGUAGE_CODES else "en", clean=False)


def _keep(out: list[Piece], text: str) -> None:
    if text:
        if out and not out[-1].translate:
            out[-1] = Piece(out[-1].text + text, False)
        else:
            out.append(Piece(text, False))


def _add_sentence(out: list[Piece], text: str, max_chars: int) -> None:
    """Add ``text`` (one sentence with its surrounding whitespace); long sentences split at clauses."""
    stripped = text.strip()
    if not stripped or not _LETTER.search(stripped):
        _keep(out, text)
        return
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()):]
    _keep(out, lead)
    for chunk in _split_long(stripped, max_chars):
        if chunk.strip() and _LETTER.search(chunk):
            out.append(Piece(chunk, True))
        else:
            _keep(out, chunk)
    _keep(out, trail)


_BREAKS = (_CLAUSE_BREAK, re.compile(r"\s+"))


def _greedy_split(text: str, splitter: re.Pattern, max_chars: int) -> list[str]:
    """Alternating chunk, separator, chunk ...: cut at the last break before a chunk gets too long."""
    out, start, cut = [], 0, None
    for m in splitter.finditer(text):
        if m.start() - start > max_chars and cut is not None:
            out += [text[start:cut[0]], text[cut[0]:cut[1]]]
            start = cut[1]
        cut = (m.start(), m.end())
    if len(text) - start > max_chars and cut is not None and cut[0] > start:
        out += [text[start:cut[0]], text[cut[0]:cut[1]]]
        start = cut[1]
    out.append(text[start:])
    return out


def _split_long(sentence: str, max_chars: int, level: int = 0) -> list[str]:
    """Cut a sentence longer than ``max_chars`` at clause punctuation, then at spaces, then anywhere."""
    if len(sentence) <= max_chars:
        return [sentence]
    if level == len(_BREAKS):
        return [sentence[i:i + max_chars] for i in range(0, len(sentence), max_chars)]
    out: list[str] = []
    for i, part in enumerate(_greedy_split(sentence, _BREAKS[level], max_chars)):
        out.extend(_split_long(part, max_chars, level + 1) if i % 2 == 0 else [part])
    return out


def _add_text(out: list[Piece], text: str, lang: str, sentence_split: bool, max_chars: int) -> None:
    """Split a run of plain text (no protected span, no newline) into sentences."""
    if not text.strip() or not _LETTER.search(text):
        _keep(out, text)
        return
    if not sentence_split:
        _add_sentence(out, text, max_chars)
        return
    pos = 0
    for sentence in _segmenter(lang).segment(text):
        core = sentence.strip()
        if not core:
            continue
        at = text.find(core, pos)
        if at < 0:  # the splitter changed the text: fall back to the rest as one sentence
            break
        _add_sentence(out, text[pos:at + len(core)], max_chars)
        pos = at + len(core)
    _add_sentence(out, text[pos:], max_chars) if text[pos:].strip() else _keep(out, text[pos:])


def _add_line(out: list[Piece], line: str, lang: str, kinds: tuple[str, ...], sentence_split: bool,
              max_chars: int) -> None:
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    if "indented_code" in kinds and _INDENTED.match(body) and not _LIST_ITEM.match(body):
        _keep(out, line)
        return
    prefix = _LINE_PREFIX.match(body).group(0)
    _keep(out, prefix)
    content = body[len(prefix):]
    spans = _span_regex(kinds)
    pipes = "table_pipes" in kinds and body.lstrip().startswith("|")
    pos = 0
    matches = []
    if spans is not None:
        matches.extend((m.start(), m.end()) for m in spans.finditer(content))
    if pipes:
        matches.extend((m.start(), m.end()) for m in re.finditer(r"\|", content))
    for start, end in sorted(matches):
        if start < pos:
            continue
        _add_text(out, content[pos:start], lang, sentence_split, max_chars)
        _keep(out, content[start:end])
        pos = end
    _add_text(out, content[pos:], lang, sentence_split, max_chars)
    _keep(out, ending)


def segment(text: str, lang: str = "en", protect: Iterable[str] = PROTECTIONS, *, sentence_split: bool = True,
            max_chars: int = 600) -> list[Piece]:
    """Cut ``text`` into pieces; joining their texts gives ``text`` back exactly."""
    kinds = tuple(protect)
    unknown = set(kinds) - set(PROTECTIONS)
    if unknown:
        raise ValueError(f"unknown protection(s) {sorted(unknown)} (known: {', '.join(PROTECTIONS)})")
    out: list[Piece] = []
    fence: str | None = None
    for line in text.splitlines(keepends=True):
        if fence is not None:  # inside a fenced block: keep until the closing fence
            _keep(out, line)
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                fence = None
            continue
        opening = _FENCE.match(line) if "fenced_code" in kinds else None
        if opening:
            _keep(out, line)
            marker = opening.group(1)
            rest = line.strip()[len(marker):]
            if marker not in rest:  # ``` on a line of its own (with a language tag) opens a block
                fence = marker
            continue
        _add_line(out, line, lang, kinds, sentence_split, max_chars)
    return out


def translatable(pieces: Iterable[Piece]) -> list[str]:
    """The texts to translate, in order (with repeats)."""
    return [p.text for p in pieces if p.translate]


def reassemble(pieces: Iterable[Piece], translations: Mapping[str, str]) -> str:
    """The field with every translated piece replaced by ``translations[piece.text]``."""
    return "".join(translations[p.text] if p.translate else p.text for p in pieces)
