"""What each config setting affects, declared once in the schemas (``x-effect``), and the views of the
config derived from that declaration.

Every property schema may say ``x-effect: operational`` (how a job runs: threads, workers, paths of
caches, concurrency, job sizing — never what it writes) or ``x-effect: cosmetic`` (what a figure or a
table shows: labels, titles, dpi); a property without the annotation changes results. An annotation
holds for everything below it. Rule params are built from :func:`result_view` (a cosmetic or
operational edit then reruns nothing upstream of the figures), figure and table params from
:func:`drawn_view` (a cosmetic edit reruns them and nothing else), and operational values reach a
job's script only through :func:`operational_view`. The training checkpoint fingerprint uses the same
result view, so no second list can drift from this one.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterator, Sequence

from referencing._core import Resolver

from .config import SCHEMA_DIR, _registry

ANNOTATION = "x-effect"
Path_ = Sequence["str | int"]


@lru_cache(maxsize=1)
def _root() -> tuple[dict, Resolver]:
    registry = _registry(SCHEMA_DIR)
    return registry.contents("config.schema.yaml"), registry.resolver(base_uri="config.schema.yaml")


def _resolve(node: dict, resolver: Resolver) -> tuple[dict, Resolver]:
    while isinstance(node, dict) and "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        extra = {k: v for k, v in node.items() if k != "$ref"}  # siblings of $ref (default, x-effect)
        node, resolver = {**resolved.contents, **extra}, resolved.resolver
    return node, resolver


def _branches(node: dict, resolver: Resolver) -> Iterator[tuple[dict, Resolver]]:
    """The node and every sub-schema that can add properties to it (allOf/oneOf/anyOf/then/else)."""
    node, resolver = _resolve(node, resolver)
    yield node, resolver
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in node.get(key, []):
            yield from _branches(sub, resolver)
    for key in ("then", "else"):
        if key in node:
            yield from _branches(node[key], resolver)


def _child(node: dict, resolver: Resolver, key: str | int) -> tuple[dict, Resolver] | None:
    """The schema of ``key`` below ``node`` (a property, an additional property or a list item)."""
    fallback = None
    for branch, res in _branches(node, resolver):
        if isinstance(key, int):
            if isinstance(branch.get("items"), dict):
                return _resolve(branch["items"], res)
            continue
        if key in branch.get("properties", {}):
            return _resolve(branch["properties"][key], res)
        if isinstance(branch.get("additionalProperties"), dict) and fallback is None:
            fallback = _resolve(branch["additionalProperties"], res)
    return fallback


@lru_cache(maxsize=None)
def _node(path: tuple) -> tuple[dict, Resolver] | None:
    if not path:
        return _resolve(*_root())
    parent = _node(path[:-1])
    return None if parent is None else _child(*parent, path[-1])


def node_at(path: Path_) -> tuple[dict, Resolver] | None:
    """The (resolved) schema of the config value at ``path`` (e.g. ``("models", "pythia-70m", "hf")``)."""
    return _node(tuple(0 if isinstance(key, int) else key for key in path))


@lru_cache(maxsize=None)
def _effect(path: tuple) -> str:
    node = _node(path)
    inherited = _effect(path[:-1]) if path else "result"
    return inherited if node is None else node[0].get(ANNOTATION, inherited)


def effect_of(path: Path_) -> str:
    """The declared effect of the setting at ``path``: the nearest annotation on it or above it."""
    return _effect(tuple(0 if isinstance(key, int) else key for key in path))


def _strip(value: Any, path: tuple, drop: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {key: _strip(item, (*path, key), drop) for key, item in value.items()
                if _effect((*path, key)) not in drop}
    if isinstance(value, list):
        return [_strip(item, (*path, 0), drop) for item in value]
    return value


def _view(config: dict, path: Path_, drop: frozenset[str]) -> Any:
    value = config
    for key in path:
        value = value[key]
    key = tuple(0 if isinstance(k, int) else k for k in path)
    return None if _effect(key) in drop else _strip(value, key, drop)


def result_view(config: dict, *path: str | int) -> Any:
    """The value at ``path`` without its operational and cosmetic settings: what a job's output depends on."""
    return _view(config, path, frozenset({"operational", "cosmetic"}))


def drawn_view(config: dict, *path: str | int) -> Any:
    """The value at ``path`` without its operational settings: what a figure or table depends on."""
    return _view(config, path, frozenset({"operational"}))


def operational_view(config: dict, *path: str | int) -> dict:
    """The settings of the block at ``path`` that do not change a job's output (its top-level keys declared
    operational or cosmetic): what a job may read besides its params, e.g. threads or a judge's prices."""
    block = config
    for key in path:
        block = block[key]
    return {key: value for key, value in block.items() if effect_of((*path, key)) != "result"}


def leaves(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Every leaf setting of a config value with its key path (lists count as one leaf)."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    else:
        yield path, value


def schema_defaults(*path: str):
    """Class decorator (put it under ``@dataclass``): each field without a value in the class body gets
    the ``default`` of the schema property ``path.<field>`` (``"*"`` for a named entry, e.g. a preset).

    The schema is the one home of defaults: a field that spells its own default where the schema has
    one is an error at import, so the two cannot drift apart again. Lists become tuples (frozen settings).
    """
    key = tuple("<name>" if part == "*" else part for part in path)

    def apply(cls):
        for name in cls.__dict__.get("__annotations__", {}):
            found = node_at((*key, name))
            if found is None or "default" not in found[0] or isinstance(found[0]["default"], dict):
                continue  # no default, or a nested block whose own settings class holds its defaults
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__}.{name}: the default lives in the schema "
                                f"({'.'.join(path)}.{name}: default {found[0]['default']!r}); remove it here")
            default = found[0]["default"]
            setattr(cls, name, tuple(default) if isinstance(default, list) else default)
        return cls

    return apply
