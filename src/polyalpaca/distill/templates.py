"""Distillation prompt templates: YAML records (``name``, ``version``, optional ``system``, ``prompt``) rendered
with Jinja2 (StrictUndefined) from ``instruction``, ``input``, ``lang`` and ``language``. Built-in ones live in
``templates/<name>.yaml``; ``distillations.<source>.template`` names one or points at a user file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from ..errors import ConfigError
from ..evaluate.judge.templates import read_template_file

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_KEYS = {"name", "version", "system", "prompt", "description"}
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)


@dataclass(frozen=True)
class DistillTemplate:
    name: str
    version: int
    system: str
    prompt: str
    path: str

    def messages(self, **variables) -> list[dict]:
        """The chat messages for one record."""
        try:
            user = _ENV.from_string(self.prompt).render(**variables)
            system = _ENV.from_string(self.system).render(**variables) if self.system else ""
        except jinja2.UndefinedError as err:
            raise ConfigError(f"{self.path}: {err.message} (variables: instruction, input, lang, language)") from None
        return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]


def template_path(value: str) -> Path:
    """A built-in template's file by name, or the user's file path as given."""
    if "/" not in value and not value.endswith((".yaml", ".yml")):
        path = TEMPLATE_DIR / f"{value}.yaml"
        if not path.is_file():
            names = ", ".join(sorted(p.stem for p in TEMPLATE_DIR.glob("*.yaml")))
            raise ConfigError(f"template {value!r} is not a built-in distillation template ({names}); "
                              "give a file path for your own")
        return path
    return Path(value)


def load_distill_template(path: str | Path) -> DistillTemplate:
    path = Path(path)
    raw = read_template_file(path, "distillation template", _KEYS, ("name", "prompt"))
    try:
        version = int(raw.get("version", 1))
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: version must be an integer") from None
    return DistillTemplate(str(raw["name"]), version, raw.get("system") or "", raw["prompt"], str(path))
