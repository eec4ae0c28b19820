"""How many Slurm jobs a profile submits for the whole grid: ``slurm_submissions=N`` in ``polyalpaca plan``.

Counted from Snakemake's own dry run (``--forceall``, the profile's ``groups`` and ``group-components``),
so it is what the executor would submit: one per group job, one per ungrouped job of a rule that is
not local. Which rules are local is asked of the workflow itself: a probe Snakefile includes the real
one and prints what ``workflow.is_local`` decides for every rule (``localrules:`` blocks,
``localrule: True`` rules, rules without a run step such as ``all``; a grouped rule is never local).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

MARKER = "POLYALPACA_LOCAL_RULES="
PROBE = """include: {snakefile!r}


# workflow.is_local without its `local_exec` short cut, which a dry run sets for every rule
print({marker!r} + __import__("json").dumps(sorted(
    r.name for r in workflow.rules
    if r.group is None and (r.name in workflow._localrules or r.norun or r.is_template_engine))))
"""
GROUP_JOB = re.compile(r"^\[[^\]]*\] Group job (\S+) \(")
RULE_JOB = re.compile(r"^rule (\S+):$")


@dataclass(frozen=True)
class Submissions:
    total: int
    by_unit: dict[str, int]  # "group <name>" or "rule <name>" -> submissions

    def line(self) -> str:
        return f"slurm_submissions={self.total}"


def count_submissions(dry_run: str, local_rules: set[str]) -> Submissions:
    """Submissions in a dry run's job listing: group jobs, and top-level jobs of non-local rules
    (jobs inside a group are indented under their group's header)."""
    units: Counter[str] = Counter()
    for line in dry_run.splitlines():
        group = GROUP_JOB.match(line)
        if group:
            units[f"group {group.group(1)}"] += 1
            continue
        rule = RULE_JOB.match(line)
        if rule and rule.group(1) not in local_rules:
            units[f"rule {rule.group(1)}"] += 1
    return Submissions(sum(units.values()), dict(units))


def slurm_submissions(config_path: str | Path, profile: str | Path = "profiles/slurm",
                      workdir: str | Path = ".", target: str = "all") -> Submissions:
    """Dry-run ``target`` of the workflow in ``workdir`` with ``profile`` and count what it would submit."""
    workdir = Path(workdir).resolve()
    snakefile = workdir / "Snakefile"
    if not snakefile.is_file():
        raise ConfigError(f"{snakefile}: no Snakefile (run polyalpaca plan from the project directory)")
    if not (Path(profile) / "config.yaml").is_file():
        raise ConfigError(f"{profile}/config.yaml: no such Snakemake profile (--profile)")
    with tempfile.TemporaryDirectory(prefix="polyalpaca-probe-") as tmp:
        probe = Path(tmp) / "Snakefile"
        probe.write_text(PROBE.format(snakefile=str(snakefile), marker=MARKER), encoding="utf-8")
        cmd = [sys.executable, "-m", "snakemake", "-s", str(probe), "--directory", str(workdir),
               "--profile", str(Path(profile).resolve()), "--configfile", str(Path(config_path).resolve()),
               "--dry-run", "--forceall", "--nolock", target]
        # the profile's executor is not contacted in a dry run; keep the user's environment (profile vars)
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=dict(os.environ))
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise ConfigError(f"the dry run for counting Slurm submissions failed ({' '.join(cmd[2:])}):\n{out[-3000:]}")
    marked = [line for line in out.splitlines() if line.startswith(MARKER)]
    if not marked:
        raise ConfigError("the probe Snakefile did not report the local rules")
    return count_submissions(out, set(json.loads(marked[0][len(MARKER):])))


def format_submissions(subs: Submissions) -> str:
    parts = ", ".join(f"{unit} {n:,}" for unit, n in sorted(subs.by_unit.items(), key=lambda kv: -kv[1]))
    return f"Slurm submissions with the profile's groups: {parts}\n{subs.line()}"
