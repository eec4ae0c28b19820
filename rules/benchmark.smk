# Zero-shot benchmarks through lm-evaluation-harness (polyalpaca.benchmark): one job per (model run, task),
# the run being a study's fine-tuned run ({trainset}/{tuning}; a LoRA adapter loaded as PEFT) or its base
# model (base); per study a table (Bactrian-X Table 3, Appendix D) and a figure (Figure 3). Task names and
# languages are checked against the installed harness when the config is validated.
from polyalpaca.resources import rule_resources


localrules:
    benchmark_report,
    only_benchmarks,


BENCHMARK_TASKS = sorted({job.task for job in benchmark_lib.benchmark_jobs(config)})


rule lm_eval_task:
    input:
        unpack(get_benchmark_inputs),
    output:
        result=benchmark_lib.BENCHMARK_RESULT,
    log:
        "logs/lm_eval/{model}/{variant}/{task}.log",
    benchmark:
        "results/benchmarks/lm_eval/{model}/{variant}/{task}.tsv"
    wildcard_constraints:
        variant="base|(?:"
        + _alternatives(config["trainsets"])
        + ")/(?:"
        + _alternatives(config["tunings"])
        + ")",
        task=_alternatives(BENCHMARK_TASKS),
    conda:
        "../envs/benchmark.yaml"
    threads: config["generate"]["threads"]
    resources:
        **rule_resources(config, "generate"),
    params:
        job=get_benchmark_params,
        seed=config["seed"],
        code=code_of("lm_eval_task"),
    script:
        "../workflow/scripts/lm_eval_task.py"


rule benchmark_report:
    input:
        results=get_study_benchmark_results,
    output:
        csv="results/tables/{study}_benchmarks.csv",
        html=report(
            "results/tables/{study}_benchmarks.html",
            caption="../workflow/report/benchmarks.rst",
            category="{study}",
            subcategory="Benchmarks",
            labels={"name": "{study} benchmarks", "format": "table"},
        ),
        pdf=report(
            "results/figures/{study}_benchmarks.pdf",
            caption="../workflow/report/benchmarks.rst",
            category="{study}",
            subcategory="Figures (PDF)",
            labels={"name": "{study}_benchmarks", "format": "PDF"},
        ),
        png=report(
            "results/figures/{study}_benchmarks.png",
            caption="../workflow/report/benchmarks.rst",
            category="{study}",
            subcategory="Figures",
            labels={"name": "{study}_benchmarks", "format": "PNG"},
        ),
    log:
        "logs/figures/benchmarks/{study}.log",
    conda:
        "../envs/figures.yaml"
    params:
        study=get_study_name,
        view=get_study_view,
        code=code_of("benchmark_report"),
    script:
        "../workflow/scripts/benchmark_report.py"


rule only_benchmarks:
    input:
        benchmark_lib.benchmark_targets(config),


FINAL_TARGETS.append(lambda: benchmark_lib.benchmark_targets(config))
