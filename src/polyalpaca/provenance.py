"""Code and environment provenance.

Snakemake tracks a rule's script but not the library modules the script imports. Rules pass
``code_version("polyalpaca.<stage>")`` as a param, so a change to a stage's library code changes the
param and marks that stage's outputs stale.
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=None)
def _module_files(module: str) -> tuple[Path, ...]:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"no module named {module!r}")
    origin = Path(spec.origin)
    if spec.submodule_search_locations:  # a package: every source and data file below it
        root = origin.parent
        return tuple(sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".py", ".yaml", ".json", ".jinja"}
                            and "__pycache__" not in p.parts))
    return (origin,)


def code_version(*modules: str) -> str:
    """A short hash of the source files of the given modules or packages (order-independent)."""
    digest = hashlib.sha256()
    for module in sorted(set(modules)):
        for path in _module_files(module):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
