# Judge stage (polyalpaca.evaluate.judge): LLM judges — single 1-3 rating x LID, six criteria,
# relevance (rule judge, per run), pairwise on the study's pairs in both orders (rule judge_pair); the cost table. One rule
# serves the four kinds (the metric wildcard only matches judge metrics); the answers cache lives in
# evaluate.judge.cache_dir, outside the declared outputs, so a rerun never pays twice.
from polyalpaca.evaluate.judge.targets import (
    judge_metric_names,
    judge_prices,
    judge_resources,
    judge_score_targets,
)


localrules:
    judge_cost,
    only_judge,


# API judges (no GPU) and local judge models (sized like inference of the model: a GPU job on a
# cluster, profiles/slurm puts judge_local on the GPU partition): the same job, two rules.
rule judge:
    input:
        unpack(get_judge_inputs),
    output:
        surface_metrics.SCORES,
    log:
        "logs/evaluate/judge/{metric}/{model}/{trainset}/{tuning}/{testset}/{lang}.log",
    benchmark:
        "results/benchmarks/evaluate/judge/{metric}/{model}/{trainset}/{tuning}/{testset}/{lang}.tsv"
    wildcard_constraints:
        metric=_alternatives(judge_metric_names(config, local=False, pairwise=False)),
    conda:
        "../envs/evaluate.yaml"
    threads: get_judge_threads
    resources:
        **judge_resources(config),
    params:
        job=get_judge_job,
        answers=get_judge_answer_params,
        code=code_of("judge"),
    script:
        "../workflow/scripts/judge.py"


use rule judge as judge_local with:
    wildcard_constraints:
        metric=_alternatives(judge_metric_names(config, local=True, pairwise=False)),


# A judge_pairwise metric on one pair of a study (studies.<s>.pairs): run a against run b in both orders.
rule judge_pair:
    input:
        unpack(get_judge_inputs),
    output:
        "results/pairwise/{metric}/{model}/{trainset}/{tuning}/vs/{model_b}/{trainset_b}/{tuning_b}/{testset}/{lang}.jsonl",
    log:
        "logs/evaluate/judge_pair/{metric}/{model}/{trainset}/{tuning}/vs/{model_b}/{trainset_b}/{tuning_b}/{testset}/{lang}.log",
    benchmark:
        "results/benchmarks/evaluate/judge_pair/{metric}/{model}/{trainset}/{tuning}/vs/{model_b}/{trainset_b}/{tuning_b}/{testset}/{lang}.tsv"
    wildcard_constraints:
        metric=_alternatives(judge_metric_names(config, local=False, pairwise=True)),
    conda:
        "../envs/evaluate.yaml"
    threads: get_judge_threads
    resources:
        **judge_resources(config),
    params:
        job=get_judge_job,
        answers=get_judge_answer_params,
        code=code_of("judge"),
    script:
        "../workflow/scripts/judge.py"


use rule judge_pair as judge_pair_local with:
    wildcard_constraints:
        metric=_alternatives(judge_metric_names(config, local=True, pairwise=True)),


rule judge_cost:
    input:
        judge_score_targets(config),
    output:
        "results/tables/judge_cost.csv",
    log:
        "logs/evaluate/judge_cost.log",
    conda:
        "../envs/evaluate.yaml"
    params:
        prices=judge_prices(config),
        code=code_of("judge_cost"),
    script:
        "../workflow/scripts/judge_cost.py"


FINAL_TARGETS.append(
    lambda: ["results/tables/judge_cost.csv"] if judge_score_targets(config) else []
)


rule only_judge:
    input:
        judge_score_targets(config),
