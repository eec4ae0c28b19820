"""Prompt templates, one module for training and generation so the two can never drift apart.

Templates are data (``templates.yaml``); a tuning names one by key (``prompt_template``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import ConfigError

TEMPLATE_FILE = Path(__file__).with_name("templates.yaml")


@dataclass(frozen=True)
class Template:
    name: str
    prompt: str
    prompt_no_input: str
    response_prefix: str
    stop: tuple[str, ...]
    version: int


@lru_cache(maxsize=None)
def _load_all() -> dict[str, Template]:
    raw = yaml.safe_load(TEMPLATE_FILE.read_text(encoding="utf-8"))
    return {
        name: Template(name, t["prompt"], t["prompt_no_input"], t.get("response_prefix", ""),
                       tuple(t.get("stop", ())), int(t.get("version", 1)))
        for name, t in raw.items()
    }


def get_template(name: str) -> Template:
    templates = _load_all()
    if name not in templates:
        raise ConfigError(f"unknown prompt template {name!r} (known: {', '.join(sorted(templates))})")
    return templates[name]


def render_prompt(name: str, instruction: str, input: str = "") -> str:  # noqa: A002 - record field name
    """The prompt up to and including the response prefix; the model's answer follows it directly."""
    t = get_template(name)
    text = t.prompt.format(instruction=instruction, input=input) if input and input.strip() \
        else t.prompt_no_input.format(instruction=instruction)
    return text + t.response_prefix


def stop_strings(name: str) -> list[str]:
    """Strings that end a generation in addition to EOS (the template's next header)."""
    return list(get_template(name).stop)
