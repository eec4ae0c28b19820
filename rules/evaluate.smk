# rules of the evaluate stage


# ============================================================================ surface metrics
# Owned by the generate/surface-metrics stage (polyalpaca.evaluate.lid_score, .spellcheck, polyalpaca.lid):
# language ID of each response against the prompt's language, and the fraction of words a Hunspell
# dictionary accepts. The metric wildcard only matches metrics of kind lid / spellcheck.
import polyalpaca.evaluate as surface_metrics
from polyalpaca.generate.inputs import GENERATIONS
from polyalpaca.resources import rule_resources


localrules:
    only_surface_metrics,


rule score_lid:
    input:
        generations=GENERATIONS,
    output:
        scores=surface_metrics.SCORES,
    wildcard_constraints:
        metric=_alternatives(surface_metrics.metric_names(config, "lid")),
    params:
        lid=lambda wc: surface_metrics.lid_params(config, wc.metric, wc.testset),
        languages=lambda wc: surface_metrics.lid_languages(config, wc.metric),
        on_bad_line=config["on_bad_line"],
        code=code_version("polyalpaca.evaluate.lid_score", "polyalpaca.lid", "polyalpaca.lid_audit"),
    log:
        "logs/evaluate/{metric}/{model}/{trainset}/{tuning}/{testset}/{lang}.log",
    threads: 1
    resources:
        **rule_resources(config, "evaluate"),
    conda:
        "../envs/evaluate.yaml"
    script:
        "../workflow/scripts/score_lid.py"


# The LID metric on the test prompts themselves (their language is known): the per-language LID
# ceiling that the study tables print beside the LID scores, warning below evaluate.lid_ceiling_floor.
rule lid_ceiling:
    input:
        prompts="results/testsets/{testset}/{lang}.jsonl",
    output:
        scores=surface_metrics.lid_ceiling_path("{metric}", "{testset}", "{lang}"),
    wildcard_constraints:
        metric=_alternatives(surface_metrics.metric_names(config, "lid")),
    params:
        lid=lambda wc: surface_metrics.lid_params(config, wc.metric, wc.testset),
        languages=lambda wc: surface_metrics.lid_languages(config, wc.metric),
        on_bad_line=config["on_bad_line"],
        code=code_version("polyalpaca.evaluate.lid_score", "polyalpaca.lid", "polyalpaca.lid_audit"),
    log:
        "logs/evaluate/lid_ceiling/{metric}/{testset}/{lang}.log",
    threads: 1
    resources:
        **rule_resources(config, "evaluate"),
    conda:
        "../envs/evaluate.yaml"
    script:
        "../workflow/scripts/score_lid.py"


rule score_spellcheck:
    input:
        generations=GENERATIONS,
    output:
        scores=surface_metrics.SCORES,
    wildcard_constraints:
        metric=_alternatives(surface_metrics.metric_names(config, "spellcheck")),
    params:
        settings=surface_metrics.spell_settings(config),
        languages=lambda wc: surface_metrics.spell_languages(config, wc.lang),
        on_bad_line=config["on_bad_line"],
        code=code_version("polyalpaca.evaluate.spellcheck"),
    log:
        "logs/evaluate/{metric}/{model}/{trainset}/{tuning}/{testset}/{lang}.log",
    benchmark:
        "results/benchmarks/evaluate/{metric}/{model}/{trainset}/{tuning}/{testset}/{lang}.tsv"
    threads: 1
    resources:
        **rule_resources(config, "evaluate"),
    conda:
        "../envs/evaluate.yaml"
    script:
        "../workflow/scripts/score_spellcheck.py"


rule only_surface_metrics:
    input:
        surface_metrics.surface_score_targets(config),
        surface_metrics.lid_ceiling_targets(config),


FINAL_TARGETS.append(lambda: surface_metrics.surface_score_targets(config))
# ============================================================================ end of surface metrics


# ============================================================================ LLM judges
# Owned by the judge stage (polyalpaca.evaluate.judge): single 1-3 rating x LID, six criteria,
# pairwise against the study's reference in both orders, relevance; the cost table. One rule
# serves the four kinds (the metric wildcard only matches judge metrics); the answers cache lives in
# evaluate.judge.cache_dir, outside the declared outputs, so a rerun never pays twice.
from dataclasses import asdict

from polyalpaca.evaluate.judge.targets import (
    judge_inputs,
    judge_job,
    judge_metric_names,
    judge_prices,
    judge_resources,
    judge_result_params,
    judge_score_targets,
    judge_threads,
    wildcards_dict,
)


localrules:
    judge_cost,


rule judge:
    input:
        unpack(lambda wc: judge_inputs(config, **wildcards_dict(wc))),
    output:
        "results/scores/{metric}/{model}/{trainset}/{tuning}/{testset}/{lang}.jsonl",
    wildcard_constraints:
        metric=_alternatives(judge_metric_names(config)),
    params:
        job=lambda wc: asdict(judge_job(config, **wildcards_dict(wc))),
        # only what changes the answers: concurrency, limits, prices and budget are read at run time
        answers=lambda wc: judge_result_params(config, wc.metric),
        code=code_version("polyalpaca.evaluate.judge"),
    log:
        "logs/evaluate/judge/{metric}/{model}/{trainset}/{tuning}/{testset}/{lang}.log",
    benchmark:
        "results/benchmarks/evaluate/judge/{metric}/{model}/{trainset}/{tuning}/{testset}/{lang}.tsv"
    threads: lambda wc: judge_threads(config, wc.metric)
    resources:
        **judge_resources(config),
    conda:
        "../envs/evaluate.yaml"
    script:
        "../workflow/scripts/judge_score.py"


rule judge_cost:
    input:
        judge_score_targets(config),
    output:
        "results/tables/judge_cost.csv",
    params:
        prices=judge_prices(config),
        code=code_version("polyalpaca.evaluate.judge"),
    log:
        "logs/evaluate/judge_cost.log",
    conda:
        "../envs/evaluate.yaml"
    script:
        "../workflow/scripts/judge_cost.py"


FINAL_TARGETS.append(lambda: ["results/tables/judge_cost.csv"] if judge_score_targets(config) else [])
# ============================================================================ end of LLM judges
