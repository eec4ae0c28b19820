"""Sample one translated (source, language) and translate the sample back with the translate stage's code.

The sample is ``sample`` records drawn with ``random.Random(seed)`` from the merged translation's records
that have a non-empty scored field, in the order of their ``source_id``; each is translated back into the
source language by :func:`polyalpaca.translate.translate_records` (the same segmentation, protection and
CTranslate2 engine as the forward translation) and paired with its original. One output line per
(record, field): ``{"id", "source_id", "lang", "field", "original", "translated", "back"}``.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path

from ..errors import DataError
from ..io import read_jsonl, write_jsonl
from ..translate.engine import SentenceTranslator
from ..translate.settings import TranslateSettings
from ..translate.shard import ShardJob, translate_records

log = logging.getLogger(__name__)


def sample_records(records: list[dict], fields: list[str], size: int, seed: int) -> list[dict]:
    """``size`` records (all when fewer) with some non-empty field of ``fields``, seeded, in source-id order."""
    eligible = sorted((r for r in records if any(r.get(f) for f in fields)), key=lambda r: str(r["source_id"]))
    if len(eligible) <= size:
        return eligible
    picked = sorted(random.Random(seed).sample(range(len(eligible)), size))
    return [eligible[i] for i in picked]


def _originals(source_path: str | Path, ids: set, on_bad_line: str) -> dict:
    found = {r["id"]: r for r in read_jsonl(source_path, on_bad_line=on_bad_line) if r.get("id") in ids}
    missing = sorted(map(str, ids - set(found)))
    if missing:
        raise DataError(f"{source_path}: no record with id {', '.join(missing[:5])} (source_id of translated records)")
    return found


def back_translate(translated_path: str | Path, source_path: str | Path, out_path: str | Path, job: dict,
                   params: dict, engine: SentenceTranslator, settings: TranslateSettings) -> list[dict]:
    """Write the round-trip segments of one (source, language) to ``out_path``; returns them."""
    fields = list(params["fields"])
    records = read_jsonl(translated_path, on_bad_line=job["on_bad_line"])
    for i, record in enumerate(records, start=1):
        if "source_id" not in record:
            raise DataError(f"{translated_path}:{i}: no 'source_id' (not a merged translation)")
    sample = sample_records(records, fields, params["sample"], params["seed"])
    if not sample:
        raise DataError(f"{translated_path}: no record with a non-empty {' or '.join(fields)} to round-trip")
    originals = _originals(source_path, {r["source_id"] for r in sample}, job["on_bad_line"])
    back_job = ShardJob(source=job["source"], lang=job["src_lang"], src_lang=job["lang"], src_code=job["tgt_code"],
                        tgt_code=job["src_code"], translator=job["translator"], fields=tuple(fields),
                        on_bad_line=job["on_bad_line"])
    prepared = [{**r, **{f: r.get(f) or None for f in fields}} for r in sample]
    back = translate_records(prepared, back_job, engine, settings, path=str(translated_path))
    segments = []
    for record, returned in zip(sample, back):
        original = originals[record["source_id"]]
        for name in fields:
            if record.get(name) and original.get(name):
                segments.append({"id": record["id"], "source_id": record["source_id"], "lang": job["lang"],
                                 "field": name, "original": original[name], "translated": record[name],
                                 "back": returned[name]})
    write_jsonl(out_path, segments)
    log.info("%s: %d records, %d segments translated %s -> %s -> %s", out_path, len(sample), len(segments),
             job["src_lang"], job["lang"], job["src_lang"])
    return segments
