"""Test prompt sets: ``results/testsets/{testset}/{lang}.jsonl``.

A test set's prompts in one language are either native (the source's records of that language, e.g.
the OASST-derived prompts written per language) or machine-translated from ``translate_from``
(Vicuna-80, AlpacaFarm). Translated prompts take the id of their original (``source_id``), so a
prompt has the same id in every language; ``limit`` keeps the first N prompts of the origin
language (and of each native language).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterator

from ..errors import DataError
from ..io import iter_jsonl, write_jsonl
from .modifiers import modified_prompts
from .settings import TestsetSpec

log = logging.getLogger(__name__)

EXTRA_FIELDS = ("task", "category", "modifier", "modifier_text", "reply_lang")


def _check_prompt(record: dict) -> None:
    for name in ("id", "prompt", "lang"):
        if not isinstance(record.get(name), str):
            raise ValueError(f"field {name!r} is missing or not a string (a test set needs prompt records)")
    if not record["prompt"].strip():
        raise ValueError(f"record {record['id']!r} has an empty prompt")


def _prompts_in(path: Path, lang: str, limit: int | None, on_bad_line: str) -> list[dict]:
    out: list[dict] = []
    seen: set[str] = set()
    for record in iter_jsonl(path, on_bad_line=on_bad_line, check=_check_prompt):
        if record["lang"] != lang:
            continue
        if record["id"] in seen:
            raise DataError(f"{path}: id {record['id']!r} occurs twice in language {lang!r}")
        seen.add(record["id"])
        out.append(record)
        if limit is not None and len(out) >= limit:
            break
    return out


def _test_record(record: dict, *, rid: str, lang: str, testset: str, source_id: str | None,
                 fallback: dict | None = None) -> dict:
    out = {"id": rid, "prompt": record["prompt"], "lang": lang, "testset": testset}
    if source_id is not None:
        out["source_id"] = source_id
    for name in EXTRA_FIELDS:
        value = record.get(name, (fallback or {}).get(name))
        if value is not None:
            out[name] = value
    if "translator" in record:
        out["translator"] = record["translator"]
    return out


def build_testset(
    spec: TestsetSpec,
    lang: str,
    source: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    translation: str | os.PathLike | None = None,
    on_bad_line: str = "fail",
) -> int:
    """Write the prompts of ``spec`` in ``lang``; return how many. No prompt at all is an error."""
    key = spec.key(lang)
    source = Path(source)
    if not source.exists():
        raise DataError(f"{key}: source file {source} of test set {spec.name!r} does not exist")
    records: Iterator[dict]
    if not spec.is_translated(lang):
        prompts = _prompts_in(source, lang, spec.limit, on_bad_line)
        sid = (lambda r: r["id"]) if spec.translate_from else (lambda r: None)
        records = (_test_record(r, rid=r["id"], lang=lang, testset=spec.name, source_id=sid(r)) for r in prompts)
        where = f"{source} (records with lang {lang!r})"
    else:
        origin = _prompts_in(source, spec.translate_from, spec.limit, on_bad_line)
        if not origin:
            raise DataError(f"testsets.{spec.name}.translate_from: no {spec.translate_from!r} prompts in {source}")
        if translation is None or not Path(translation).exists():
            raise DataError(f"{key}: the translation of test set {spec.name!r} into {lang!r} is missing"
                            f"{f': {translation} does not exist' if translation else ''} (built by the translate stage)")
        translated = _translated_by_source_id(Path(translation), lang, {r["id"] for r in origin}, key, on_bad_line)
        missing = [r["id"] for r in origin if r["id"] not in translated]
        if missing:
            log.warning("%s: %d of %d %s prompts have no %s translation (e.g. %r; dropped by the translation filter)",
                        key, len(missing), len(origin), spec.translate_from, lang, missing[0])
        prompts = [r for r in origin if r["id"] in translated]
        records = (_test_record(translated[r["id"]], rid=r["id"], lang=lang, testset=spec.name, source_id=r["id"],
                                fallback=r) for r in prompts)
        where = (f"{translation}: all {len(origin)} prompts were dropped by the translation filter, see "
                 f"{Path(translation).with_suffix('.report.json')}") if not prompts else str(translation)
    if not prompts:
        raise DataError(f"{key}: test set {spec.name!r} has no prompts in language {lang!r} ({where})")
    if spec.modifiers:
        records = modified_prompts(list(records), spec.modifiers, lang, f"testsets.{spec.name}")
    n = write_jsonl(out_path, records)
    log.info("test set %s, %s: %d prompts", spec.name, lang, n)
    return n


def _translated_by_source_id(path: Path, lang: str, wanted: set[str], key: str, on_bad_line: str) -> dict[str, dict]:
    def check(record: dict) -> None:
        _check_prompt(record)
        if not isinstance(record.get("source_id"), str):
            raise ValueError("field 'source_id' (the id of the original prompt) is missing")
        if record["lang"] != lang:
            raise ValueError(f"record {record['id']!r} has lang {record['lang']!r}, expected {lang!r}")

    out: dict[str, dict] = {}
    try:
        for record in iter_jsonl(path, on_bad_line=on_bad_line, check=check):
            if record["source_id"] in out:
                raise DataError(f"{path}: source_id {record['source_id']!r} is translated twice")
            if record["source_id"] in wanted:
                out[record["source_id"]] = record
    except DataError as err:
        raise DataError(f"{key}: {err}") from None
    return out
