# Generate stage: greedy responses of one fine-tuned run to one test set in one language
# (batched transformers decoding, or vLLM where installed). Logic lives in polyalpaca.generate;
# the decoding preset is the one of the study that evaluates this run on this test set.
import polyalpaca.generate.inputs as generate_inputs
from polyalpaca.resources import rule_resources

# vLLM pins its own torch/transformers: it runs in an environment of its own (envs/generate-vllm.yaml)
GENERATE_ENV = (
    "../envs/generate-vllm.yaml"
    if config["generate"]["backend"] == "vllm"
    else "../envs/generate.yaml"
)


localrules:
    only_generate,


rule generate_responses:
    input:
        unpack(get_generation_inputs),
    output:
        generations=generate_inputs.GENERATIONS,
    log:
        "logs/generate/{model}/{trainset}/{tuning}/{testset}/{lang}.log",
    benchmark:
        "results/benchmarks/generate/{model}/{trainset}/{tuning}/{testset}/{lang}.tsv"
    conda:
        GENERATE_ENV
    threads: config["generate"]["threads"]
    resources:
        **rule_resources(config, "generate"),
    params:
        run=get_run_params,
        decoding=get_decoding_params,
        settings=result_view(config, "generate"),
        on_bad_line=config["on_bad_line"],
        code=code_of("generate_responses"),
    script:
        "../workflow/scripts/generate_responses.py"


rule only_generate:
    input:
        generate_inputs.generation_targets(config),


FINAL_TARGETS.append(lambda: generate_inputs.generation_targets(config))
