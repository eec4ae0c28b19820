"""Code provenance: which library files a rule's output depends on.

Snakemake tracks a rule's script but not the library modules the script imports. Each rule passes
``script_code_version(<its script>)`` as a param: a hash of every ``polyalpaca`` module the script
imports, directly or through other modules (found by reading their ``import`` statements, including
imports inside functions), and of the data files (YAML/JSON/Jinja templates) beside them. A change to
any of them marks the rule's outputs stale; a change elsewhere in the library does not.
"""

from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE = "polyalpaca"
PACKAGE_DIR = Path(__file__).resolve().parent
DATA_SUFFIXES = {".yaml", ".json", ".jinja"}


def _module_file(module: str) -> Path | None:
    """The source file of ``polyalpaca.x.y`` in this checkout (a package's ``__init__.py``), or None."""
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        return None
    base = PACKAGE_DIR.joinpath(*module.split(".")[1:])
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return base.with_suffix(".py") if base.with_suffix(".py").is_file() else None


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def _imports(path: Path) -> frozenset[str]:
    return _parsed_imports(path, _stamp(path))


@lru_cache(maxsize=None)  # every rule's closure reads the same modules: parse each (version) once
def _parsed_imports(path: Path, stamp: tuple[int, int]) -> frozenset[str]:
    """Modules named by the import statements of ``path`` (relative ones resolved; ``from m import x``
    also yields ``m.x``, in case ``x`` is a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    in_package = PACKAGE_DIR in path.parents
    package = _module_name(path) if in_package and path.name == "__init__.py" else (
        _module_name(path).rpartition(".")[0] if in_package else "")
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    # importing a.b.c runs a/__init__ and a/b/__init__ too
    return frozenset(".".join(name.split(".")[:i]) for name in found for i in range(1, name.count(".") + 2))


def _file_bytes(path: Path) -> bytes:
    return _read_bytes(path, _stamp(path))


@lru_cache(maxsize=None)
def _read_bytes(path: Path, stamp: tuple[int, int]) -> bytes:
    return path.read_bytes()


def import_closure(script: Path) -> tuple[Path, ...]:
    """The files of every ``polyalpaca`` module ``script`` imports transitively, and the data files of
    their folders (a data-only subfolder, such as judge templates, counts as its parent's)."""
    seen: set[Path] = set()
    todo = [Path(script).resolve()]
    while todo:
        path = todo.pop()
        for module in _imports(path):
            file = _module_file(module)
            if file is not None and file not in seen:
                seen.add(file)
                todo.append(file)
    data: set[Path] = set()
    for folder in {f.parent for f in seen}:
        for path in folder.rglob("*"):
            inner = path.relative_to(folder).parts[:-1]
            owned = not any((folder.joinpath(*inner[: i + 1]) / "__init__.py").is_file() for i in range(len(inner)))
            if path.suffix in DATA_SUFFIXES and owned and "__pycache__" not in path.parts:
                data.add(path)
    return tuple(sorted(seen | data))


def script_code_version(script: str | Path) -> str:
    """A short hash of the library code and data a rule script imports (see :func:`import_closure`);
    a helper module beside the script (``from _common import ...``) counts as part of the script."""
    script = Path(script).resolve()
    files = set(import_closure(script))
    for module in _imports(script):
        sibling = script.parent / f"{module}.py"
        if sibling.is_file() and sibling != script:
            files.update(import_closure(sibling) + (sibling,))
    digest = hashlib.sha256()
    for path in sorted(files):
        # names relative to the library, so a checkout moved elsewhere hashes the same
        name = path.relative_to(PACKAGE_DIR.parent) if PACKAGE_DIR in path.parents else path.name
        digest.update(str(name).encode())
        digest.update(_file_bytes(path))
    return digest.hexdigest()[:16]
