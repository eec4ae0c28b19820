"""Merge the shards of one (source, language) in source order, apply the quality filter, write the report.

The merge checks that the shards hold exactly the source records, in order (by ``source_id``), so a
missing, stale or reordered shard is an error rather than a silently smaller data set. Each record's
``qc`` measures become reasons (:mod:`.filters`); a reason whose action is ``drop`` removes the record,
one whose action is ``flag`` lists it in the record's ``flags``. Every dropped record is counted in the
report: ``records_in == records_out + dropped_records``.
"""

from __future__ import annotations

import logging
import os
from typing import Sequence

from ..errors import DataError
from ..io import read_jsonl, write_json, write_jsonl
from .filters import record_reasons
from .settings import REASONS, FilterSettings

log = logging.getLogger(__name__)


def merge_translations(source_path: str | os.PathLike, shard_paths: Sequence[str | os.PathLike],
                       out_path: str | os.PathLike, report_path: str | os.PathLike, *, source: str, lang: str,
                       fields: Sequence[str], filters: FilterSettings, on_bad_line: str = "fail") -> dict:
    """Write the merged, filtered translation and its report; returns the report."""
    sources = read_jsonl(source_path, on_bad_line=on_bad_line)
    expected = [r.get("id") for r in sources]
    by_id = {r.get("id"): r for r in sources}
    merged: list[dict] = []
    for path in shard_paths:
        shard = read_jsonl(path)
        at = len(merged)
        got = [r.get("source_id") for r in shard]
        want = expected[at:at + len(got)]
        if got != want:
            first = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), len(want))
            raise DataError(f"{path}: record {first + 1} has source_id {got[first] if first < len(got) else None!r}, "
                            f"expected {want[first] if first < len(want) else 'no more records'!r} (source order of "
                            f"{source_path}); the shard is stale or out of order: delete it and rerun")
        merged.extend(shard)
    if len(merged) != len(expected):
        raise DataError(f"the {len(shard_paths)} shard(s) hold {len(merged)} records but {source_path} has "
                        f"{len(expected)}: a shard is missing or stale (shards: {', '.join(map(str, shard_paths))})")

    reasons_count = dict.fromkeys(REASONS, 0)
    dropped_count = dict.fromkeys(REASONS, 0)
    flagged_count = dict.fromkeys(REASONS, 0)
    kept: list[dict] = []
    dropped_records = flagged_records = 0
    translators: set[str] = set()
    for record in merged:
        qc = record.pop("qc", None)
        if qc is None:
            raise DataError(f"a shard record {record.get('id')!r} has no 'qc' field: it was not written by translate_shard")
        translators.add(record.get("translator"))
        reasons = record_reasons(by_id[record["source_id"]], record, qc, fields, lang, filters)
        for r in reasons:
            reasons_count[r] += 1
        drop = [r for r in reasons if filters.action(r) == "drop"]
        if drop:
            dropped_records += 1
            for r in drop:
                dropped_count[r] += 1
            continue
        record["flags"] = [r for r in reasons if filters.action(r) == "flag"]
        if record["flags"]:
            flagged_records += 1
            for r in record["flags"]:
                flagged_count[r] += 1
        kept.append(record)

    write_jsonl(out_path, kept)
    report = {
        "source": source,
        "lang": lang,
        "translator": sorted(t for t in translators if t) if len(translators) > 1 else next(iter(translators), None),
        "shards": len(shard_paths),
        "records_in": len(merged),
        "records_out": len(kept),
        "dropped_records": dropped_records,
        "flagged_records": flagged_records,
        "reasons": reasons_count,
        "dropped": dropped_count,
        "flagged": flagged_count,
        "actions": {r: filters.action(r) for r in REASONS},
        "filters": filters.as_dict(),
    }
    write_json(report_path, report)
    log.info("%s: %d of %d records kept (%d dropped, %d flagged; reasons %s)", out_path, len(kept), len(merged),
             dropped_records, flagged_records, reasons_count)
    if merged and not kept:
        log.warning("%s: every record was dropped by the quality filter (see %s)", out_path, report_path)
    return report
