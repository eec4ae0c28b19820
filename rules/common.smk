# Config validation, the grid, wildcard constraints and the input functions of every stage
# (get_<thing>(wildcards): what a rule's input or params are for one job, from the polyalpaca library).
import re
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(
    0, str(Path(workflow.basedir) / "src")
)  # use the checkout's library even if not installed

from polyalpaca.config import all_runs, validate_config
from polyalpaca.effects import result_view
from polyalpaca.pairs import PUBLISHED
from polyalpaca.errors import ConfigError
from polyalpaca.provenance import script_code_version
import polyalpaca.evaluate as surface_metrics
import polyalpaca.evaluate.lr_selection as lr_selection
from polyalpaca.evaluate.judge.targets import (
    judge_inputs,
    judge_job,
    judge_result_params,
    judge_threads,
    wildcards_dict,
)
import polyalpaca.figures as figures_lib
import polyalpaca.generate.inputs as generate_inputs
from polyalpaca.generate.settings import studies_by_run
import polyalpaca.distill.inputs as distill_lib
import polyalpaca.recipes.inputs as recipes_inputs
from polyalpaca.config import trainset_languages
from polyalpaca.recipes import aligned_languages
from polyalpaca.recipes.tokenizers import stats_tokenizers, table_tokenizers
from polyalpaca.train import resolve_tuning
import polyalpaca.translate.plan as translate_plan
import polyalpaca.benchmark.plan as benchmark_lib
import polyalpaca.roundtrip.plan as roundtrip_lib
from polyalpaca.validate import validate_workflow_config

try:
    validate_workflow_config(config)
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
    # a baseline is the run {model}/published/{baseline} (polyalpaca.pairs)
    trainset=_alternatives([*config["trainsets"], PUBLISHED]),
    tuning=_alternatives([*config["tunings"], *config["baselines"]]),
    model_b=_alternatives(config["models"]),
    trainset_b=_alternatives([*config["trainsets"], PUBLISHED]),
    tuning_b=_alternatives([*config["tunings"], *config["baselines"]]),
    baseline=_alternatives(config["baselines"]),
    testset=_alternatives(config["testsets"]),
    metric=_alternatives(config.get("metrics", {})),
    study=_alternatives(config["studies"]),
    shard=r"\d+",


RUNS = all_runs(config)
TRANSLATORS = config["translators"]
# Which studies evaluate each run on each test set (for its decoding preset): built once, not per job.
DECODING_INDEX = studies_by_run(config)
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


def get_source_spec(wildcards):
    """A source's settings (fetched by the data stage or derived by the recipes stage)."""
    return result_view(config, "sources", wildcards.source)


# ---------------------------------------------------------------- data input functions
def get_model_spec(wildcards):
    return result_view(config, "models", wildcards.model)


def get_adapter_base(wildcards):
    """The base model a baseline's published adapter is checked against (and, tiny, built on)."""
    return f"resources/models/{config['baselines'][wildcards.baseline]['model']}"


def get_adapter_spec(wildcards):
    """The baseline's entry, and the LoRA target modules of its base model's family (a tiny adapter's)."""
    name = wildcards.baseline
    model = config["baselines"][name]["model"]
    family = config["models"][model]["family"]
    return {
        "baseline": {
            "model": model,
            "adapter": result_view(config, "baselines", name, "adapter"),
        },
        "family_modules": list(config["families"][family]["lora_target_modules"]),
    }


def get_tokenizer_spec(wildcards):
    return result_view(config, "tokenizers", wildcards.tokenizer)


def get_tiny_tokenizer_texts(wildcards):
    """Sources whose text trains a tiny tokenizer (hub and folder tokenizers have none)."""
    if "tiny" not in config["tokenizers"][wildcards.tokenizer]:
        return []
    names = config["data"]["tiny_texts_from"] or FETCHED_SOURCES
    return [f"resources/sources/{name}.jsonl" for name in names]


# ---------------------------------------------------------------- translate input functions
def get_tiny_translator_texts(wildcards):
    """Sources whose text trains a tiny translator's tokenizer (hub and folder translators have none)."""
    if "tiny" not in TRANSLATORS[wildcards.translator]:
        return []
    names = translate_plan.tiny_sources(config, wildcards.translator)
    return [f"resources/sources/{s}.jsonl" for s in names]


def get_translator_spec(wildcards):
    return result_view(config, "translators", wildcards.translator)


def get_tiny_nllb_codes(wildcards):
    """The NLLB codes a tiny translator's vocabulary needs (none for a real checkpoint)."""
    if "tiny" not in TRANSLATORS[wildcards.translator]:
        return []
    return [entry["nllb"] for entry in config["languages"].values()]


def get_translator_snapshot(wildcards):
    return translate_plan.snapshot_dir(config, wildcards.translator)


def get_ct2_model(wildcards):
    """The CTranslate2 conversion of the translator of this source's translation."""
    translator = translate_plan.translation(config, wildcards.source)["translator"]
    return translate_plan.ct2_dir(config, translator)


def get_translate_job(wildcards):
    return translate_plan.job_params(config, wildcards.source, wildcards.lang)


def get_shard_index(wildcards):
    return int(wildcards.shard)


def get_shard_progress(wildcards):
    return translate_plan.progress_path(
        wildcards.source, wildcards.lang, wildcards.shard
    )


def get_translated_shards(wildcards):
    shards = translate_plan.shard_names(config, wildcards.source)
    return [
        translate_plan.shard_path(wildcards.source, wildcards.lang, s) for s in shards
    ]


def get_translated_fields(wildcards):
    return translate_plan.translation(config, wildcards.source)["fields"]


# ---------------------------------------------------------------- distill input functions
def get_distill_inputs(wildcards):
    return distill_lib.distill_inputs(config, wildcards.source, wildcards.lang)


def get_distill_params(wildcards):
    return distill_lib.distill_params(config, wildcards.source, wildcards.lang)


def get_distill_threads(wildcards):
    return distill_lib.distill_threads(config, wildcards.source)


def get_distill_reports(wildcards):
    return distill_lib.report_inputs(config)


# ---------------------------------------------------------------- recipes input functions
def get_derive_parents(wildcards):
    return recipes_inputs.derive_parents(config, wildcards)


def get_derive_keyword_lists(wildcards):
    return recipes_inputs.derive_keyword_lists(config, wildcards)


def get_align_inputs(wildcards):
    return recipes_inputs.align_inputs(config, wildcards)


def get_aligned_languages(wildcards):
    return list(aligned_languages(config, wildcards.source))


def get_aligned_users(wildcards):
    return aligned_languages(config, wildcards.source)


def get_trainset_inputs(wildcards):
    return recipes_inputs.trainset_inputs(config, wildcards)


def get_trainset_spec(wildcards):
    return result_view(config, "trainsets", wildcards.trainset)


def get_translated_languages(wildcards):
    return recipes_inputs.translated_languages(config, wildcards.trainset)


def get_testset_inputs(wildcards):
    return recipes_inputs.testset_inputs(config, wildcards)


def get_testset_spec(wildcards):
    return result_view(config, "testsets", wildcards.testset)


def get_stats_tokenizer_dirs(wildcards):
    return recipes_inputs.stats_tokenizer_dirs(config, wildcards)


def get_stats_tokenizers(wildcards):
    return stats_tokenizers(config, wildcards.trainset)


def get_token_stats_input(wildcards):
    return recipes_inputs.token_stats_input(config, wildcards)


def get_token_table_tokenizers(wildcards):
    return table_tokenizers(config, wildcards.study)


def get_trainset_languages(wildcards):
    return trainset_languages(config, wildcards.trainset)


def get_trainset_info(wildcards):
    return recipes_inputs.trainset_info(config, wildcards)


# ---------------------------------------------------------------- train input functions
def get_resolved_tuning(wildcards):
    """The resolved preset (family max length, LoRA modules from families:, train.caps applied)."""
    return resolve_tuning(config, wildcards.model, wildcards.tuning).to_dict()


def get_model_family(wildcards):
    return config["models"][wildcards.model]["family"]


# ---------------------------------------------------------------- generate input functions
def get_generation_inputs(wildcards):
    return generate_inputs.generation_inputs(config, wildcards)


def get_run_params(wildcards):
    return generate_inputs.run_params(config, wildcards)


def get_decoding_params(wildcards):
    return generate_inputs.decoding_params(config, wildcards, DECODING_INDEX)


# ---------------------------------------------------------------- surface metrics input functions
def get_lid_params(wildcards):
    return surface_metrics.lid_params(config, wildcards.metric, wildcards.testset)


def get_lid_languages(wildcards):
    return surface_metrics.lid_languages(config, wildcards.metric)


def get_lid_model_file(wildcards):
    """The OpenLID model file for a metric that uses it (lid176 and lingua ship in their packages)."""
    if config["metrics"][wildcards.metric]["lid_model"] != "openlid":
        return []
    return [config["evaluate"]["openlid_path"]]


def get_spell_languages(wildcards):
    return surface_metrics.spell_languages(config, wildcards.lang)


# ---------------------------------------------------------------- judge input functions
def get_judge_inputs(wildcards):
    return judge_inputs(config, **wildcards_dict(wildcards))


def get_judge_threads(wildcards):
    return judge_threads(config, wildcards.metric)


def get_judge_job(wildcards):
    return asdict(judge_job(config, **wildcards_dict(wildcards)))


def get_judge_answer_params(wildcards):
    """Only what changes the answers (x-effect): concurrency, limits, prices and budget are read at run time."""
    return judge_result_params(config, wildcards.metric)


def get_lr_selection_scores(wildcards):
    return lr_selection.selection_inputs(config, wildcards.study)


def get_lr_selection_view(wildcards):
    return lr_selection.selection_view(config, wildcards.study)


# ---------------------------------------------------------------- figures input functions
def get_study_scores(wildcards):
    """Per-run score files and the pair score files (judge_pairwise metrics) of the study."""
    return [inp.path for inp in figures_lib.score_inputs(config, wildcards.study)] + [
        inp.path for inp in figures_lib.pair_inputs(config, wildcards.study)
    ]


def get_lid_ceilings(wildcards):
    return surface_metrics.lid_ceiling_targets(config, wildcards.study)


def get_study_name(wildcards):
    return wildcards.study


def get_study_view(wildcards):
    """What a study's tables show: its runs, metrics and labels (figures are their own rules)."""
    return figures_lib.study_view(config, wildcards.study, figures=False)


# ---------------------------------------------------------------- round-trip input functions
def get_roundtrip_params(wildcards):
    return roundtrip_lib.roundtrip_params(config, wildcards.source, wildcards.lang)


def get_comet_model(wildcards):
    return roundtrip_lib.roundtrip_params(config, wildcards.source, wildcards.lang)[
        "comet_model"
    ]


def get_study_roundtrip_scores(wildcards):
    return roundtrip_lib.study_roundtrip_scores(config, wildcards.study)


def get_roundtrip_report_pairs(wildcards):
    """[source, lang, translator] of the study's round trips (what its table and figure show)."""
    return roundtrip_lib.report_pairs(config, wildcards.study)


def get_roundtrip_floor(wildcards):
    return config["studies"][wildcards.study]["roundtrip"]["chrf_floor"]


# ---------------------------------------------------------------- benchmark input functions
def get_benchmark_inputs(wildcards):
    """The base model, and the run folder (adapter or full weights) unless the job is the base model's."""
    inputs = {"base": f"resources/models/{wildcards.model}"}
    if wildcards.variant != "base":
        inputs["run"] = f"results/models/{wildcards.model}/{wildcards.variant}"
    return inputs


def get_benchmark_params(wildcards):
    return benchmark_lib.benchmark_params(
        config, wildcards.model, wildcards.variant, wildcards.task
    )


def get_study_benchmark_results(wildcards):
    return benchmark_lib.study_benchmark_results(config, wildcards.study)
