"""Translate one shard of a source into one language, resumable from a progress sidecar.

A shard is a contiguous slice of the source records (shard ``i`` of ``n`` holds records
``[i*N//n, (i+1)*N//n)``), so merging the shards in order gives the source order back. Every distinct
sentence of the shard is translated once. After each ``checkpoint_segments`` new sentences, their
translations are appended to the progress sidecar (JSON Lines, outside the rule's declared output so
Snakemake never deletes it); a rerun after a kill loads it and translates only what is missing. The
output is written atomically at the end, then the sidecar is removed.

A translated record is the source record with the configured fields translated, ``"id":
"{source_id}-{lang}"``, ``"lang"``, ``"source_id"``, ``"translator"`` and ``"qc"`` (the quality
measures the merge step turns into drop/flag decisions, then removes).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..errors import ConfigError, DataError
from ..io import dumps_record, read_jsonl, write_jsonl
from .engine import SentenceTranslator, Translation
from .segment import Piece, reassemble, segment
from .settings import TranslateSettings

log = logging.getLogger(__name__)

TRANSLATABLE_FIELDS = ("instruction", "input", "output", "prompt")


def nllb_code(languages: dict, lang: str) -> str:
    """The NLLB code of an ISO language of the config; an unknown code lists the supported ones."""
    if lang not in languages:
        raise ConfigError(f"unknown language {lang!r}: the config's languages block has "
                          f"{', '.join(sorted(languages))}; add it there with its nllb code (e.g. fra_Latn)")
    return languages[lang]["nllb"]


def translated_id(source_id: Any, lang: str) -> str:
    """The id of a record translated into ``lang``: ``{source_id}-{lang}`` (stable across reruns)."""
    return f"{source_id}-{lang}"


def shard_bounds(n_records: int, shard: int, shards: int) -> tuple[int, int]:
    """Record index range ``[start, end)`` of shard ``shard`` of ``shards`` (contiguous, sizes differ by <= 1)."""
    if not (isinstance(shards, int) and shards >= 1):
        raise ConfigError(f"shards must be an integer >= 1, not {shards!r}")
    if not (isinstance(shard, int) and 0 <= shard < shards):
        raise ConfigError(f"shard {shard!r} does not exist: shards are numbered 0..{shards - 1}")
    return shard * n_records // shards, (shard + 1) * n_records // shards


@dataclass(frozen=True)
class ShardJob:
    """What to translate: shard ``shard`` of ``shards`` of ``source``, fields ``fields``, into ``lang``."""

    source: str
    lang: str
    src_lang: str
    src_code: str
    tgt_code: str
    translator: str
    shard: int = 0
    shards: int = 1
    fields: tuple[str, ...] = ("instruction", "input", "output")
    on_bad_line: str = "fail"

    def __post_init__(self):
        object.__setattr__(self, "fields", tuple(self.fields))
        shard_bounds(0, self.shard, self.shards)
        if not self.fields:
            raise ConfigError(f"translations.{self.source}.fields: nothing to translate")
        bad = [f for f in self.fields if f not in TRANSLATABLE_FIELDS]
        if bad:
            raise ConfigError(f"translations.{self.source}.fields: {bad} cannot be translated "
                              f"(known: {', '.join(TRANSLATABLE_FIELDS)})")
        if self.lang == self.src_lang:
            raise ConfigError(f"{self.source}: target language {self.lang!r} is the source language")


def check_record(record: dict, job: ShardJob, path: str | os.PathLike) -> None:
    """A record has an id, the source language and string (or null) fields; errors name the record."""
    rid = record.get("id")
    if rid is None:
        raise DataError(f"{path}: a record has no 'id': {json.dumps(record, ensure_ascii=False)[:120]}")
    lang = record.get("lang", job.src_lang)
    if lang != job.src_lang:
        raise DataError(f"{path}: record {rid!r} has lang {lang!r}, but {job.source} is translated from {job.src_lang!r}")
    for name in job.fields:
        if name not in record:
            raise DataError(f"{path}: record {rid!r} has no field {name!r} (translations.{job.source}.fields lists it)")
        value = record[name]
        if value is not None and not isinstance(value, str):
            raise DataError(f"{path}: record {rid!r}: field {name!r} is a {type(value).__name__}, expected a string")


class ProgressSidecar:
    """Sentence translations done so far, as JSON Lines; the first line fingerprints model and settings."""

    def __init__(self, path: str | os.PathLike, fingerprint: str):
        self.path = Path(path)
        self.fingerprint = fingerprint

    def load(self) -> dict[str, Translation]:
        """Translations saved by an earlier, interrupted run (a torn last line is cut off)."""
        if not self.path.is_file():
            return {}
        done: dict[str, Translation] = {}
        good_end = 0
        with open(self.path, "rb") as handle:
            for lineno, raw in enumerate(handle, start=1):
                try:
                    if not raw.endswith(b"\n"):
                        raise ValueError("torn line")
                    entry = json.loads(raw)
                except ValueError:
                    break
                if lineno == 1:
                    if entry.get("fingerprint") != self.fingerprint:
                        log.warning("%s: progress of another model or settings, starting over", self.path)
                        self.path.unlink()
                        return {}
                else:
                    src_tokens, out_tokens, hit = entry["n"]
                    done[entry["s"]] = Translation(entry["t"], src_tokens, out_tokens, bool(hit))
                good_end += len(raw)
        if good_end == 0:
            self.path.unlink()
            return {}
        if good_end < self.path.stat().st_size:
            log.warning("%s: cutting a torn last line off", self.path)
            os.truncate(self.path, good_end)
        log.info("resuming from %s: %d sentences already translated", self.path, len(done))
        return done

    def append(self, done: dict[str, Translation]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not self.path.exists()
        with open(self.path, "a", encoding="utf-8") as handle:
            if new_file:
                handle.write(json.dumps({"fingerprint": self.fingerprint}) + "\n")
            for src, t in done.items():
                handle.write(dumps_record({"s": src, "t": t.text, "n": [t.src_tokens, t.out_tokens, int(t.hit_limit)]}))
            handle.flush()
            os.fsync(handle.fileno())

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def fingerprint(engine: SentenceTranslator, job: ShardJob, settings: TranslateSettings) -> str:
    decoding = {k: v for k, v in settings.as_dict().items()
                if k in ("compute_type", "beam_size", "max_input_tokens", "length_factor", "length_offset",
                         "repetition_penalty", "no_repeat_ngram_size")}
    model = getattr(engine, "model_dir", None)
    model_id = [str(model), (Path(model) / "model.bin").stat().st_size] if model else getattr(engine, "name", "")
    blob = json.dumps([model_id, job.src_code, job.tgt_code, decoding], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class ShardResult:
    records: int = 0
    sentences: int = 0  # translatable pieces, with repeats
    distinct: int = 0  # distinct sentences
    resumed: int = 0  # distinct sentences found in the progress sidecar
    translated: int = 0  # distinct sentences sent to the engine by this run
    notes: list[str] = field(default_factory=list)


def _translate_missing(pending: Sequence[str], engine: SentenceTranslator, job: ShardJob, settings: TranslateSettings,
                       done: dict[str, Translation], progress: ProgressSidecar | None) -> None:
    step = settings.checkpoint_segments
    for start in range(0, len(pending), step):
        chunk = list(pending[start:start + step])
        results = engine.translate(chunk, job.src_code, job.tgt_code)
        if len(results) != len(chunk):
            raise RuntimeError(f"the engine returned {len(results)} translations for {len(chunk)} sentences")
        new = dict(zip(chunk, results))
        done.update(new)
        if progress is not None:
            progress.append(new)
        log.info("%s/%s shard %d: %d/%d new sentences translated", job.source, job.lang, job.shard,
                 min(start + step, len(pending)), len(pending))


def translate_records(records: Sequence[dict], job: ShardJob, engine: SentenceTranslator, settings: TranslateSettings,
                      *, progress: ProgressSidecar | None = None, lid=None, path: str = "<records>",
                      result: ShardResult | None = None) -> list[dict]:
    """Translate the configured fields of ``records`` (checked first); returns translated records with ``qc``."""
    result = result if result is not None else ShardResult()
    for record in records:
        check_record(record, job, path)
    pieces: list[dict[str, list[Piece]]] = []
    order: dict[str, None] = {}
    for record in records:
        per_field = {}
        for name in job.fields:
            text = record[name]
            per_field[name] = segment(text, job.src_lang, settings.protect, sentence_split=settings.sentence_split,
                                      max_chars=settings.max_sentence_chars) if text else []
            for p in per_field[name]:
                if p.translate:
                    result.sentences += 1
                    order.setdefault(p.text)
        pieces.append(per_field)
    done = progress.load() if progress is not None else {}
    result.distinct = len(order)
    result.resumed = sum(1 for s in order if s in done)
    pending = [s for s in order if s not in done]
    result.translated = len(pending)
    _translate_missing(pending, engine, job, settings, done, progress)

    texts = {src: t.text for src, t in done.items()}
    out, lid_texts = [], []
    for record, per_field in zip(records, pieces):
        translated = dict(record)
        segments, sentences = [], []
        for name in job.fields:
            if record[name]:
                translated[name] = reassemble(per_field[name], texts)
                for p in per_field[name]:
                    if p.translate:
                        t = done[p.text]
                        segments.append([t.src_tokens, t.out_tokens, t.hit_limit])
                        sentences.append(t.text)
        translated.update(id=translated_id(record["id"], job.lang), lang=job.lang, source_id=record["id"],
                          translator=job.translator, qc={"segments": segments, "lid": None})
        lid_texts.append(" ".join(sentences))
        out.append(translated)
    if lid is not None:
        for record, text, pred in zip(out, lid_texts, lid.predict(lid_texts)):
            if text.strip():
                record["qc"]["lid"] = [pred.lang or pred.label, round(pred.prob, 4), len(text)]
    result.records += len(out)
    return out


def translate_shard(source_path: str | os.PathLike, out_path: str | os.PathLike, job: ShardJob,
                    engine: SentenceTranslator, settings: TranslateSettings, *,
                    progress_path: str | os.PathLike | None = None, lid=None) -> ShardResult:
    """Translate shard ``job.shard`` of ``source_path`` into ``out_path`` (atomically), resuming from ``progress_path``."""
    records = read_jsonl(source_path, on_bad_line=job.on_bad_line)
    if not records:
        raise DataError(f"{source_path}: no records to translate")
    start, end = shard_bounds(len(records), job.shard, job.shards)
    mine = records[start:end]
    log.info("%s -> %s shard %d/%d: records %d..%d of %d", source_path, job.lang, job.shard, job.shards, start,
             end, len(records))
    progress = ProgressSidecar(progress_path, fingerprint(engine, job, settings)) if progress_path else None
    result = ShardResult()
    out = translate_records(mine, job, engine, settings, progress=progress, lid=lid, path=str(source_path), result=result)
    write_jsonl(out_path, out)
    if progress is not None:
        progress.remove()
    log.info("%s: %d records, %d sentences (%d distinct: %d resumed, %d translated now)", out_path, result.records,
             result.sentences, result.distinct, result.resumed, result.translated)
    return result
