# Response distillation (polyalpaca.distill, Bactrian-X §3.1): a chat model answers each translated
# instruction of a source; trainsets with `responses: distilled` take those answers as responses. Requests
# go through the judge client (its answer cache outside the declared outputs: a rerun pays nothing).
# Flagged answers (empty, cut at the token limit, wrong language) are counted in a report and table.
from polyalpaca.evaluate.judge.targets import judge_prices


localrules:
    distill_table,


rule distill_responses:
    input:
        unpack(get_distill_inputs),
    output:
        records="results/distill/{source}/{lang}.jsonl",
        flagged="results/distill/{source}/{lang}.flagged.jsonl",
        report="results/distill/{source}/{lang}.report.json",
    log:
        "logs/distill/{source}/{lang}.log",
    benchmark:
        "results/benchmarks/distill/{source}/{lang}.tsv"
    wildcard_constraints:
        source=_alternatives(config["distillations"]),
    conda:
        "../envs/evaluate.yaml"
    threads: get_distill_threads
    resources:
        **distill_lib.distill_resources(config),
    params:
        answers=get_distill_params,
        on_bad_line=config["on_bad_line"],
        code=code_of("distill_responses"),
    script:
        "../workflow/scripts/distill_responses.py"


rule distill_table:
    input:
        reports=get_distill_reports,
    output:
        distill_lib.TABLE,
    log:
        "logs/distill/distill_table.log",
    conda:
        "../envs/evaluate.yaml"
    params:
        prices=judge_prices(config),
        code=code_of("distill_table"),
    script:
        "../workflow/scripts/distill_table.py"


FINAL_TARGETS.append(
    lambda: [distill_lib.TABLE] if distill_lib.distill_pairs(config) else []
)
