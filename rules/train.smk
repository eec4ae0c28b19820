# Train stage: one job fine-tunes one run {model}/{trainset}/{tuning} into results/models/ (a PEFT
# adapter or full weights, the tokenizer and train_log.json). Logic lives in polyalpaca.train.
# A multi-GPU job is ONE task: the script launches torchrun with one worker per GPU itself.
from polyalpaca.resources import rule_resources


localrules:
    only_train,


rule train_run:
    input:
        train="results/trainsets/{trainset}/train.jsonl",
        val="results/trainsets/{trainset}/val.jsonl",
        base="resources/models/{model}",
    output:
        model=directory("results/models/{model}/{trainset}/{tuning}"),
    log:
        "logs/train/{model}/{trainset}/{tuning}.log",
    benchmark:
        "results/benchmarks/train/{model}/{trainset}/{tuning}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 4
    resources:
        **rule_resources(config, "train"),
    params:
        tuning=get_resolved_tuning,
        family=get_model_family,
        # the train: settings that change the trained model (x-effect in the schema); the script reads
        # the operational ones (checkpoint folder, logging, workers) so changing them reruns nothing
        settings=result_view(config, "train"),
        seed=config["seed"],
        on_bad_line=config["on_bad_line"],
        code=code_of("train_run"),
    script:
        "../workflow/scripts/train_run.py"


rule only_train:
    input:
        [f"results/models/{run.model}/{run.trainset}/{run.tuning}" for run in RUNS],
