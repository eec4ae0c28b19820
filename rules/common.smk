# Config validation, the grid, wildcard constraints and input functions shared by every stage.
import re
import sys
from pathlib import Path

sys.path.insert(
    0, str(Path(workflow.basedir) / "src")
)  # use the checkout's library even if not installed

from polyalpaca.config import (
    all_runs,
    study_runs,
    translation_pairs,
    used_models,
    used_trainsets,
    validate_config,
)
from polyalpaca.effects import drawn_view, result_view
from polyalpaca.errors import ConfigError
from polyalpaca.provenance import script_code_version

try:
    validate_config(config)
except ConfigError as err:
    raise WorkflowError(
        f"{workflow.configfiles[-1] if workflow.configfiles else 'config'}: {err}"
    )


def _alternatives(names):
    names = sorted(set(names))
    return "|".join(re.escape(n) for n in names) if names else "(?!x)x"


wildcard_constraints:
    source=_alternatives(config["sources"]),
    lang=_alternatives(config["languages"]),
    model=_alternatives(config["models"]),
    trainset=_alternatives(config["trainsets"]),
    tuning=_alternatives(config["tunings"]),
    testset=_alternatives(config["testsets"]),
    metric=_alternatives(config.get("metrics", {})),
    study=_alternatives(config["studies"]),
    shard=r"\d+",


RUNS = all_runs(config)
# Sources built by the data stage from a hub/URL/file, and those derived from other sources (recipes stage).
DERIVED_SOURCES = sorted(
    name for name, spec in config["sources"].items() if "derive" in spec
)
FETCHED_SOURCES = sorted(
    name for name in config["sources"] if name not in DERIVED_SOURCES
)


# beside rules/ (a test's own Snakefile elsewhere includes these rule files)
SCRIPTS_DIR = Path(workflow.current_basedir).parent / "workflow" / "scripts"


def code_of(script):
    """The hash of the library code a script imports; a param, so a change there reruns its jobs."""
    return script_code_version(SCRIPTS_DIR / f"{script}.py")


def get_final_output():
    """Every study's tables and figures (what `rule all` asks for)."""
    targets = []
    for target_fn in FINAL_TARGETS:
        targets.extend(target_fn())
    return targets


# Each stage appends a function returning its final targets (figures, tables); a stage that does not
# exist yet adds nothing, so `all` never asks for placeholder outputs.
FINAL_TARGETS = []


def get_tiny_texts(wildcards):
    """Sources whose text trains a tiny model's tokenizer (only tiny models have inputs)."""
    if "tiny" not in config["models"][wildcards.model]:
        return []
    names = config["data"]["tiny_texts_from"] or FETCHED_SOURCES
    return [f"resources/sources/{name}.jsonl" for name in names]
