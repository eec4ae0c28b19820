"""Judge prompt templates: YAML records (data, not code), rendered with Jinja2 and StrictUndefined.

A template record has ``name``, ``version``, ``kind`` (the metric kind it serves), ``output_format``
(selects the parser), ``system`` (optional), ``prompt``, ``max_tokens`` and, for the local backend,
``local: {answer_prefix, labels}``; a criteria template adds ``criteria`` (the names its records use)
and optionally ``criteria_keys`` (name -> the JSON key the prompt asks for). The built-in ones live in
``templates/<name>.yaml`` (the papers' own prompts, verbatim); a metric's ``template`` names a built-in
one or points at a user file with the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2
import yaml

from ...errors import ConfigError
from .parsers import OUTPUT_FORMATS

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
# the default template of each kind (a metric without `template`)
BUILTIN = {
    "judge_single": "chen2024-single-v1",
    "judge_criteria": "zeroshot-criteria-v1",
    "judge_pairwise": "pairwise-v1",
    "relevance": "zeroshot-relevance-v1",
}
# the variables every kind's templates may use (a template may use fewer)
VARIABLES = {
    "judge_single": {"question", "answer", "language", "lang"},
    "judge_criteria": {"question", "answer", "language", "lang", "modifier"},
    "relevance": {"question", "answer", "language", "lang"},
    "judge_pairwise": {"question", "answer_a", "answer_b", "language", "lang"},
}
_KEYS = {"name", "version", "kind", "output_format", "system", "prompt", "max_tokens", "local", "criteria",
         "criteria_keys", "kept_in_wrong_language", "json_output", "description"}
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)


@dataclass(frozen=True)
class LocalSpec:
    """How the local backend reads an answer: next-token probabilities of ``labels`` after ``answer_prefix``."""

    answer_prefix: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class JudgeTemplate:
    name: str
    version: int
    kind: str
    output_format: str
    system: str
    prompt: str
    max_tokens: int
    path: str
    local: LocalSpec | None = None
    criteria: tuple[str, ...] = ()
    criteria_keys: tuple[tuple[str, str], ...] = ()  # (criterion, JSON key asked for) where they differ
    # criteria still scored for a response in the wrong language (the others are skipped)
    kept_in_wrong_language: tuple[str, ...] = ("language_correctness",)
    json_output: bool = False

    def criterion_key(self, criterion: str) -> str:
        """The JSON key the prompt asks the judge to rate ``criterion`` under."""
        return dict(self.criteria_keys).get(criterion, criterion)

    @property
    def label(self) -> str:
        """``name`` already carries the version by convention (``single-v1``); add it if not."""
        return self.name if self.name.endswith(f"-v{self.version}") else f"{self.name}-v{self.version}"

    def render(self, **variables: str) -> list[dict]:
        """Chat messages for one judgment; a variable the template uses but is not given raises."""
        unknown = set(variables) - VARIABLES[self.kind]
        if unknown:
            raise ValueError(f"unknown template variables {sorted(unknown)} for kind {self.kind}")
        try:
            user = _compiled(self.prompt).render(**variables)
            system = _compiled(self.system).render(**variables) if self.system else ""
        except jinja2.UndefinedError as err:
            raise ConfigError(f"{self.path}: template uses an undefined variable ({err.message}); "
                              f"available: {', '.join(sorted(VARIABLES[self.kind]))}") from None
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": user})
        return messages


@lru_cache(maxsize=64)
def _compiled(source: str) -> jinja2.Template:
    return _ENV.from_string(source)


def builtin_template_path(kind: str) -> Path:
    if kind not in BUILTIN:
        raise ConfigError(f"metric kind {kind!r} has no judge template (judge kinds: {', '.join(BUILTIN)})")
    return TEMPLATE_DIR / f"{BUILTIN[kind]}.yaml"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATE_DIR.glob("*.yaml"))


def template_reference(value: str) -> Path:
    """A metric's ``template``: the name of a built-in template (``chen2024-single-v1``) or a file path."""
    if "/" not in value and not value.endswith((".yaml", ".yml")):
        path = TEMPLATE_DIR / f"{value}.yaml"
        if not path.is_file():
            raise ConfigError(f"template {value!r} is not a built-in judge template "
                              f"({', '.join(builtin_names())}); give a file path for your own")
        return path
    return Path(value)


def read_template_file(path: Path, what: str, allowed: set[str], required: tuple[str, ...]) -> dict:
    """A prompt template's YAML mapping, checked: the keys (``allowed``, ``required``) and that ``system`` and
    ``prompt`` are Jinja strings; errors name the file and the key (judge and distillation templates)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} file not found") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a {what} is a mapping with keys {', '.join(sorted(allowed))}")
    unknown = set(raw) - allowed
    if unknown:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)} (allowed: {', '.join(sorted(allowed))})")
    for key in required:
        if key not in raw:
            raise ConfigError(f"{path}: missing key {key!r}")
    for key in ("system", "prompt"):
        if key in raw:
            if not isinstance(raw[key], str):
                raise ConfigError(f"{path}: {key!r} must be a string")
            try:
                _ENV.parse(raw[key])
            except jinja2.TemplateSyntaxError as err:
                raise ConfigError(f"{path}: {key}: Jinja syntax error on line {err.lineno}: {err.message}") from None
    return raw


def load_template(path: str | Path, kind: str) -> JudgeTemplate:
    """Read and check a template file for a metric of ``kind``; errors name the file and the key."""
    path = Path(path)
    raw = read_template_file(path, "judge template", _KEYS, ("name", "version", "kind", "output_format", "prompt"))
    if raw["kind"] != kind:
        raise ConfigError(f"{path}: template kind is {raw['kind']!r} but the metric's kind is {kind!r}")
    if raw["output_format"] not in OUTPUT_FORMATS[kind]:
        raise ConfigError(f"{path}: output_format {raw['output_format']!r} does not fit kind {kind!r} "
                          f"(expected one of {', '.join(OUTPUT_FORMATS[kind])})")
    max_tokens = raw.get("max_tokens", 512)
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise ConfigError(f"{path}: max_tokens must be a positive integer")
    local = None
    if "local" in raw:
        spec = raw["local"]
        if not isinstance(spec, dict) or "answer_prefix" not in spec or not spec.get("labels"):
            raise ConfigError(f"{path}: local must be a mapping with answer_prefix and labels")
        local = LocalSpec(str(spec["answer_prefix"]), tuple(str(label) for label in spec["labels"]))
    criteria = tuple(raw.get("criteria", ()))
    if kind == "judge_criteria" and not criteria:
        raise ConfigError(f"{path}: a judge_criteria template needs 'criteria' (the JSON keys to read)")
    keys = raw.get("criteria_keys") or {}
    if not isinstance(keys, dict) or set(keys) - set(criteria) or not all(isinstance(v, str) and v for v in keys.values()):
        raise ConfigError(f"{path}: criteria_keys must map names of 'criteria' to the JSON keys the prompt asks for")
    try:
        version = int(raw["version"])
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: version must be an integer") from None
    return JudgeTemplate(
        name=str(raw["name"]), version=version, kind=kind, output_format=raw["output_format"],
        system=raw.get("system") or "", prompt=raw["prompt"], max_tokens=max_tokens, path=str(path),
        local=local, criteria=criteria,
        criteria_keys=tuple((name, keys[name]) for name in criteria if name in keys),
        kept_in_wrong_language=tuple(raw.get("kept_in_wrong_language", ("language_correctness",))), json_output=bool(raw.get("json_output", False)),
    )
