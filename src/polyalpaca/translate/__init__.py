"""Translate stage: NLLB through CTranslate2, sharded and resumable, with code and formatting preserved.

- :mod:`.segment` — pure text handling (lines, sentences, protected spans), no model;
- :mod:`.engine` — the CTranslate2 translator and its NLLB tokenizer (loaded lazily);
- :mod:`.shard` — one shard: dedup, batching through the engine, progress sidecar, ``qc`` measures;
- :mod:`.merge` / :mod:`.filters` — shards in source order, quality filter, per-language report;
- :mod:`.models` — hub download, tiny build and CTranslate2 conversion of NLLB checkpoints;
- :mod:`.plan` — paths and params the rules take from the config.
"""

from .engine import Ct2Translator, Translation
from .merge import merge_translations
from .models import build_tiny_snapshot, convert_nllb, download_snapshot
from .segment import Piece, reassemble, segment
from .settings import FilterSettings, TranslateSettings
from .shard import ShardJob, nllb_code, shard_bounds, translate_records, translate_shard, translated_id

__all__ = [
    "Ct2Translator", "FilterSettings", "Piece", "ShardJob", "TranslateSettings", "Translation", "build_tiny_snapshot",
    "convert_nllb", "download_snapshot", "merge_translations", "nllb_code", "reassemble", "segment", "shard_bounds",
    "translate_records", "translate_shard", "translated_id",
]
