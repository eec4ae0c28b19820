"""Scores of a round trip against the originals: sacrebleu corpus BLEU and chrF++, COMET where configured.

The settings are sacrebleu's defaults as Bactrian-X reports them (§3.2, footnotes 4-5): BLEU
``nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp``, chrF++ ``nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no``;
the signatures are written beside the scores. COMET (``comet_model``, e.g. Unbabel/wmt22-comet-da) needs
the unbabel-comet package, which is not part of this project's environment (it pins older
torch/transformers); asking for it without the package stops with that message.
"""

from __future__ import annotations

import importlib.metadata
import logging
from pathlib import Path

from ..errors import ConfigError, DataError
from ..io import read_jsonl, write_json

log = logging.getLogger(__name__)


def bleu_chrf(hypotheses: list[str], references: list[str]) -> dict:
    """Corpus BLEU and chrF++ of ``hypotheses`` against one reference each, with sacrebleu's signatures."""
    from sacrebleu.metrics import BLEU, CHRF

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    bleu, chrf = BLEU(), CHRF(word_order=2)
    return {"bleu": bleu.corpus_score(hypotheses, [references]).score,
            "chrf": chrf.corpus_score(hypotheses, [references]).score,
            "bleu_signature": str(bleu.get_signature()), "chrf_signature": str(chrf.get_signature())}


def comet_score(model_name: str, sources: list[str], hypotheses: list[str], references: list[str]) -> float:
    """System-level COMET (src = the translation, mt = its back-translation, ref = the original)."""
    try:
        from comet import download_model, load_from_checkpoint
    except ImportError:
        raise ConfigError(f"roundtrip.comet_model is {model_name!r}, but the unbabel-comet package is not installed "
                          "(it does not resolve with this project's pins); remove comet_model") from None
    path = Path(model_name)
    checkpoint = path if path.is_file() else Path(download_model(model_name)) / "checkpoints" / "model.ckpt"
    model = load_from_checkpoint(str(checkpoint))
    data = [{"src": s, "mt": h, "ref": r} for s, h, r in zip(sources, hypotheses, references)]
    return float(model.predict(data, batch_size=16, gpus=0).system_score)


def score_roundtrip(segments_path: str | Path, out_path: str | Path, *, source: str, lang: str,
                    comet_model: str | None = None) -> dict:
    segments = read_jsonl(segments_path)
    if not segments:
        raise DataError(f"{segments_path}: no round-trip segments to score")
    originals = [s["original"] for s in segments]
    backs = [s["back"] for s in segments]
    result = {"source": source, "lang": lang, "n_records": len({s["id"] for s in segments}),
              "n_segments": len(segments), "fields": sorted({s["field"] for s in segments}),
              **bleu_chrf(backs, originals), "comet": None, "comet_model": comet_model,
              "sacrebleu_version": importlib.metadata.version("sacrebleu")}
    if comet_model:
        result["comet"] = comet_score(comet_model, [s["translated"] for s in segments], backs, originals)
    write_json(out_path, result)
    log.info("%s/%s: BLEU %.2f, chrF++ %.2f over %d segments", source, lang, result["bleu"], result["chrf"],
             len(segments))
    return result
