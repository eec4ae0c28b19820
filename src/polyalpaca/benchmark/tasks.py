"""The task names lm-evaluation-harness can run: its own task YAMLs plus the configured ``task_dirs``.

Checking a task name at DAG time must not pay for ``lm_eval.tasks.TaskManager`` (it parses ~15k YAML
files, ~6 s), so names are first read from the YAML files' ``task:``/``group:`` lines (~0.3 s, no
harness import); a name not found that way is looked up in the real TaskManager before it is called
unknown, so the fast path can only be slower, never wrong.

A task YAML of ``task_dirs`` may write ``${task_dir}`` for its own folder (a data file beside it):
:func:`resolved_task_dir` copies such a folder with the placeholder filled in, since the harness reads
``dataset_kwargs.data_files`` relative to the working directory.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

SHIPPED_TASK_DIR = Path(__file__).resolve().parent / "tasks"
TASK_DIR_PLACEHOLDER = "${task_dir}"
_NAME_LINE = re.compile(r"""^(?:task|group|tag):[ \t]*["']?([^\s"'#\[]+)""", re.M)


def harness_task_dir() -> Path | None:
    """The installed harness's ``lm_eval/tasks`` folder, found without importing lm_eval."""
    spec = importlib.util.find_spec("lm_eval")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "tasks"


def _yaml_files(root: Path):
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith((".yaml", ".yml", "_yaml")):
                yield Path(folder) / name


@functools.lru_cache(maxsize=8)
def _names_in(root: str) -> frozenset[str]:
    names: set[str] = set()
    for path in _yaml_files(Path(root)):
        names.update(_NAME_LINE.findall(path.read_text(encoding="utf-8", errors="replace")))
    return frozenset(names)


def task_dirs(extra: list[str] | tuple[str, ...] = ()) -> list[Path]:
    """The shipped task folder and the configured ones (relative paths: from the working directory)."""
    return [SHIPPED_TASK_DIR, *(Path(d) for d in extra)]


def quick_task_names(extra: list[str] | tuple[str, ...] = ()) -> frozenset[str]:
    """Task and group names of the installed harness and the task folders, read from the YAML files."""
    roots = [d for d in [harness_task_dir(), *task_dirs(extra)] if d is not None and d.is_dir()]
    return frozenset().union(*(_names_in(str(r.resolve())) for r in roots))


@functools.lru_cache(maxsize=8)
def _manager_names(extra: tuple[str, ...]) -> frozenset[str]:
    from lm_eval.tasks import TaskManager

    with resolved_task_dirs(list(extra)) as dirs:
        return frozenset(TaskManager(include_path=[str(d) for d in dirs]).all_tasks)


def unknown_tasks(names: list[str], extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The names neither the YAML scan nor the harness's TaskManager knows (empty: all exist)."""
    quick = quick_task_names(extra)
    missing = [n for n in names if n not in quick]
    if not missing:
        return []
    if harness_task_dir() is None:
        return missing
    known = _manager_names(tuple(str(d) for d in extra))
    return [n for n in missing if n not in known]


def _needs_resolving(folder: Path) -> bool:
    return any(TASK_DIR_PLACEHOLDER in p.read_text(encoding="utf-8", errors="replace") for p in _yaml_files(folder))


class resolved_task_dirs:
    """Context manager: the task folders with ``${task_dir}`` filled in (copies in a temporary folder)."""

    def __init__(self, extra: list[str] | tuple[str, ...] = ()):
        self.extra = list(extra)
        self._tmp: str | None = None

    def __enter__(self) -> list[Path]:
        import tempfile

        out = []
        for folder in task_dirs(self.extra):
            folder = folder.resolve()
            if not folder.is_dir():
                from ..errors import ConfigError

                raise ConfigError(f"benchmarks.task_dirs: {folder} is not a folder")
            if not _needs_resolving(folder):
                out.append(folder)
                continue
            self._tmp = self._tmp or tempfile.mkdtemp(prefix="polyalpaca-tasks-")
            copy = Path(self._tmp) / f"{len(out)}-{folder.name}"
            shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("*.jsonl", "*.json", "*.csv", "*.parquet"))
            for path in _yaml_files(copy):
                text = path.read_text(encoding="utf-8")
                path.write_text(text.replace(TASK_DIR_PLACEHOLDER, str(folder)), encoding="utf-8")
            out.append(copy)
        return out

    def __exit__(self, *exc) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
