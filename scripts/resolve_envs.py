"""Check that every envs/*.yaml pip list resolves against the package registry (pip install --dry-run).

Run by hand (needs the registry; a few minutes): python scripts/resolve_envs.py [env ...]
Prints one line per environment and exits 1 when one does not resolve.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ENVS = Path(__file__).resolve().parents[1] / "envs"


def pip_pins(path: Path) -> list[str]:
    env = yaml.safe_load(path.read_text(encoding="utf-8"))
    return next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)


def resolves(path: Path) -> tuple[bool, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as reqs:
        reqs.write("\n".join(pip_pins(path)) + "\n")
        reqs.flush()
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "-r", reqs.name],
                              capture_output=True, text=True)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR")]
    return proc.returncode == 0, "; ".join(errors)[:300]


def main(names: list[str]) -> int:
    paths = [ENVS / f"{n}.yaml" for n in names] if names else sorted(ENVS.glob("*.yaml"))
    failed = 0
    for path in paths:
        ok, why = resolves(path)
        failed += not ok
        print(f"{path.name}: {'resolves' if ok else 'DOES NOT RESOLVE: ' + why}", flush=True)
    print(f"envs={len(paths)} failed={failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
