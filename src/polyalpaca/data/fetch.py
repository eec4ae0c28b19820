"""Fetch one configured source (hub data set, URL or local file) and normalize it."""

from __future__ import annotations

import random

import logging
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

from ..errors import DataError, PolyalpacaError
from ..io import write_json, write_jsonl
from .normalize import NORMALIZERS
from .readers import BadRecord, iter_raw

log = logging.getLogger(__name__)


def _hub_records(name: str, spec: dict) -> Iterator[tuple[str, dict]]:
    import datasets

    try:
        ds = datasets.load_dataset(spec["hf"], spec.get("config"), split=spec.get("split", "train"))
    except Exception as err:  # the hub raises many types (offline, gated, missing)
        hint = spec.get("gated") or (f"download it where the hub is reachable and set sources.{name}.path "
                                     f"to the local file (JSON, JSONL, CSV or Parquet)")
        raise PolyalpacaError(f"sources.{name}: could not load {spec['hf']!r} from the hub "
                              f"({type(err).__name__}: {str(err)[:300]}). {hint}") from None
    for i, record in enumerate(ds, start=1):
        yield f"hf:{spec['hf']}[{spec.get('split', 'train')}] row {i}", dict(record)


def _download(name: str, url: str, download_dir: Path) -> Path:
    target = download_dir / url.rsplit("/", 1)[-1]
    if target.exists():
        return target
    download_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as handle:
            shutil.copyfileobj(response, handle)
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        tmp.unlink(missing_ok=True)
        raise PolyalpacaError(f"sources.{name}: could not download {url} ({err}); download it yourself and set "
                              f"sources.{name}.path to the file (use {{lang}} for per-language files)") from None
    tmp.replace(target)
    return target


def _raw_records(name: str, spec: dict, download_dir: Path) -> Iterator[tuple[str, str, dict] | BadRecord]:
    """Yield ``(lang, where, record)`` or a BadRecord, over every file/language of the source."""
    langs = spec.get("languages") or ["en"]
    if "hf" in spec and "path" not in spec:
        for where, record in _hub_records(name, spec):
            yield langs[0], where, record
        return
    for lang in langs:
        if "path" in spec:
            path = Path(spec["path"].format(lang=lang))
            if not path.exists():
                raise DataError(f"sources.{name}.path: {path} does not exist")
        else:
            path = _download(name, spec["url"].format(lang=lang), download_dir / name)
        for item in iter_raw(path):
            yield item if isinstance(item, BadRecord) else (lang, *item)


def balanced_sample(records: list[dict], name: str, size: int, by: str, seed: int) -> tuple[list[dict], dict]:
    """``size`` records per language, balanced over the values of field ``by``: each group gets an equal
    share (the remainder one more each, to the groups in sorted order), a group with fewer records than its
    share gives the rest to the others; within a group the records are drawn with ``random.Random(seed)``.
    The kept records stay in source order. Returns them and, per language, the count per group."""
    kept_ids: set[tuple[str, str]] = set()
    counts: dict[str, dict[str, int]] = {}
    for lang in dict.fromkeys(r["lang"] for r in records):
        groups: dict[str, list[dict]] = {}
        for record in (r for r in records if r["lang"] == lang):
            if record.get(by) is None:
                raise DataError(f"sources.{name}.sample.by: record {record['id']!r} has no field {by!r}")
            groups.setdefault(str(record[by]), []).append(record)
        if sum(map(len, groups.values())) < size:
            raise DataError(f"sources.{name}.sample.size: {size} but the source has "
                            f"{sum(map(len, groups.values()))} records in {lang!r}")
        share = dict.fromkeys(sorted(groups), 0)
        left = size
        while left:  # round robin over the groups that still have records
            open_groups = [g for g in share if share[g] < len(groups[g])]
            for group in open_groups[:left]:
                share[group] += 1
            left -= min(left, len(open_groups))
        rng = random.Random(f"{seed}:{name}:{lang}")
        for group in sorted(groups):
            for record in rng.sample(groups[group], share[group]):
                kept_ids.add((record["id"], lang))
        counts[lang] = share
    return [r for r in records if (r["id"], r["lang"]) in kept_ids], {"size": size, "by": by, "seed": seed,
                                                                      "per_group": counts}


def fetch_source(name: str, spec: dict, out_path: str | Path, report_path: str | Path, *,
                 on_bad_line: str = "fail", download_dir: str | Path = "resources/downloads") -> dict:
    """Normalize source ``name`` into ``out_path`` (JSONL) and write a report; returns the report.

    A bad record stops with ``where: reason`` unless ``on_bad_line == "skip"``, in which case it is
    counted in the report and logged. Ids must be unique.
    """
    normalize = NORMALIZERS.get(spec["format"])
    if normalize is None:
        raise DataError(f"sources.{name}.format: no normalizer for {spec['format']!r} (known: {', '.join(NORMALIZERS)})")
    records: list[dict] = []
    skipped: list[str] = []
    seen: dict[str, str] = {}
    per_lang: dict[str, int] = {}
    limit = spec.get("limit")
    tasks = spec.get("tasks")

    def bad(where: str, reason: str) -> None:
        message = f"{where}: {reason}"
        if on_bad_line == "fail":
            raise DataError(message + "  (set on_bad_line: skip in the config to count and skip such lines)")
        log.warning("skipping %s", message)
        skipped.append(message)

    index_per_lang: dict[str, int] = {}
    for item in _raw_records(name, spec, Path(download_dir)):
        if isinstance(item, BadRecord):
            bad(item.where, item.reason)
            continue
        lang, where, raw = item
        if limit and per_lang.get(lang, 0) >= limit:
            continue
        index_per_lang[lang] = index_per_lang.get(lang, 0) + 1
        try:
            record = normalize(raw, name, index_per_lang[lang], lang)
        except ValueError as err:
            bad(where, str(err))
            continue
        if tasks is not None:
            if "task" not in record:
                bad(where, f"missing field 'task' (sources.{name}.tasks lists the tasks of this set)")
                continue
            if record["task"] not in tasks:
                bad(where, f"unknown task {record['task']!r} (sources.{name}.tasks: {', '.join(tasks)})")
                continue
        key = f"{record['id']}\t{lang}"
        if key in seen:
            bad(where, f"duplicate id {record['id']!r} (first at {seen[key]})")
            continue
        seen[key] = where
        records.append(record)
        per_lang[lang] = per_lang.get(lang, 0) + 1
    if not records:
        raise DataError(f"sources.{name}: no usable records" + (f" ({len(skipped)} bad lines skipped)" if skipped else ""))
    sampled = None
    if spec.get("sample"):
        records, sampled = balanced_sample(records, name, **spec["sample"])
        per_lang = {lang: sum(r["lang"] == lang for r in records) for lang in per_lang}
    report = {"source": name, "format": spec["format"], "records": len(records), "per_lang": per_lang,
              "skipped": len(skipped), "skipped_lines": skipped}
    if sampled is not None:
        report["sample"] = sampled
    write_jsonl(out_path, records)
    write_json(report_path, report)
    log.info("source %s: %d records %s, %d bad lines skipped", name, len(records), per_lang, len(skipped))
    return report
