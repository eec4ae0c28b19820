"""Derived sources: parents combined, minus the records that match a keyword list (Bactrian-X's
code filter, applied *before* translation so no translation is paid for removed records).

Matching rules (documented in the config schema):

- a keyword matches as a whole word: a side of the keyword that is a letter or digit must not touch
  another letter or digit (``java`` does not match ``javanese``; ``c++`` matches ``C++ code``;
  ``def `` with its space matches ``def f():``);
- a trailing ``*`` matches any word continuation (``program*``: program, programs, programming);
- case: a keyword written in lower case matches any case (``python`` matches ``Python``); a keyword
  with an upper-case letter matches exactly (``API`` does not match ``api``) — "smart case";
- the fields searched are ``recipes.keyword_fields`` (default instruction and input; outputs are not
  searched, as an answer may mention code without the task being a coding one).
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from typing import Iterable, Mapping

from ..errors import DataError
from ..io import iter_jsonl, write_json, write_jsonl
from .settings import DeriveSpec

log = logging.getLogger(__name__)

EXAMPLES_SHOWN = 10


def keyword_pattern(keyword: str) -> re.Pattern:
    """The compiled pattern of one keyword (see the module docstring for the rules)."""
    prefix_only = keyword.endswith("*")
    word = keyword.rstrip("*")
    body = re.escape(word)
    if re.match(r"\w", word):
        body = r"(?<!\w)" + body
    if prefix_only:
        body += r"\w*"
    elif re.search(r"\w$", word):
        body += r"(?!\w)"
    flags = 0 if any(ch.isupper() for ch in word) else re.IGNORECASE
    return re.compile(body, flags)


class KeywordFilter:
    """Which keywords of a list a record's fields match."""

    def __init__(self, keywords: Iterable[str], fields: Iterable[str] = ("instruction", "input")):
        self.keywords = tuple(dict.fromkeys(keywords))
        self.fields = tuple(fields)
        self._patterns = [(kw, keyword_pattern(kw)) for kw in self.keywords]
        # one combined pass first: most records match nothing
        self._any = re.compile("|".join(f"(?i:{p.pattern})" if p.flags & re.IGNORECASE else f"(?:{p.pattern})"
                                        for _, p in self._patterns)) if self._patterns else None

    def matches(self, record: Mapping) -> list[str]:
        """The keywords that occur in the record's searched fields (empty: keep the record)."""
        if self._any is None:
            return []
        text = "\n".join(str(record.get(name) or "") for name in self.fields)
        if not self._any.search(text):
            return []
        return [kw for kw, pattern in self._patterns if pattern.search(text)]


def derive_source(
    spec: DeriveSpec,
    parents: Mapping[str, str | os.PathLike],
    out_records: str | os.PathLike,
    out_report: str | os.PathLike,
    *,
    on_bad_line: str = "fail",
) -> dict:
    """Combine the parents' records (in ``spec.parents`` order), drop keyword matches, write records and report.

    Record ids are kept when they are unique across the parents, else every id becomes ``{parent}:{id}``.
    Each kept record's ``source`` becomes the derived source's name; ``parent_source`` says where it came from.
    """
    keyword_filter = KeywordFilter(spec.keywords, spec.fields)
    loaded: list[tuple[str, dict]] = []
    counts_in: dict[str, int] = {}
    for parent in spec.parents:
        if parent not in parents:
            raise DataError(f"sources.{spec.name}.derive.from: no file given for parent source {parent!r}")
        n = 0
        for record in iter_jsonl(parents[parent], on_bad_line=on_bad_line, check=_check_parent_record):
            loaded.append((parent, record))
            n += 1
        counts_in[parent] = n
        if n == 0:
            raise DataError(f"{parents[parent]}: parent source {parent!r} of sources.{spec.name} has no records")
    id_counts = Counter(record["id"] for _, record in loaded)
    prefix_ids = any(c > 1 for c in id_counts.values())
    if prefix_ids:
        dup = next(i for i, c in id_counts.items() if c > 1)
        log.info("ids repeat across parents (e.g. %r): ids become '{parent}:{id}'", dup)

    removed_by_keyword: Counter[str] = Counter()
    removed_by_parent: Counter[str] = Counter()
    removed_examples: list[dict] = []
    kept: list[dict] = []
    for parent, record in loaded:
        hits = keyword_filter.matches(record)
        if hits:
            removed_by_keyword.update(hits)
            removed_by_parent[parent] += 1
            if len(removed_examples) < EXAMPLES_SHOWN:
                removed_examples.append({"id": record["id"], "parent": parent, "keywords": hits,
                                         "instruction": record["instruction"][:200]})
            continue
        out = dict(record)
        if prefix_ids:
            out["id"] = f"{parent}:{record['id']}"
        out["source"] = spec.name
        out["parent_source"] = parent
        kept.append(out)
    if spec.limit is not None:
        kept = kept[: spec.limit]
    if not kept:
        raise DataError(f"sources.{spec.name}: the keyword filter {spec.keyword_list!r} removed every record")
    write_jsonl(out_records, kept)
    total_in = sum(counts_in.values())
    report = {
        "source": spec.name,
        "from": counts_in,
        "keyword_list": spec.keyword_list,
        "fields": list(spec.fields),
        "records_in": total_in,
        "removed": sum(removed_by_parent.values()),
        "kept": len(kept),
        "limit": spec.limit,
        "removed_by_parent": {p: removed_by_parent[p] for p in spec.parents},
        # a record matching several keywords counts under each of them
        "removed_by_keyword": {kw: removed_by_keyword[kw] for kw in keyword_filter.keywords},
        "removed_examples": removed_examples,
        "ids_prefixed_with_parent": prefix_ids,
    }
    write_json(out_report, report)
    log.info("%s: kept %d of %d records from %s (removed %d by keyword list %r)", spec.name, len(kept), total_in,
             ", ".join(spec.parents), report["removed"], spec.keyword_list)
    return report


def _check_parent_record(record: dict) -> None:
    for name in ("id", "instruction", "output"):
        if not isinstance(record.get(name), str):
            raise ValueError(f"field {name!r} is missing or not a string (a derived source needs instruction records)")
    if record.get("lang", "en") != "en":
        raise ValueError(f"record {record['id']!r} has lang {record.get('lang')!r}; a derived source combines "
                         f"English records (it is translated afterwards)")
