# Recipes stage: derived sources (keyword filter before translation), aligned pools, trainsets,
# test prompt sets and token statistics. Logic and input functions live in polyalpaca.recipes.
import polyalpaca.recipes.inputs as recipes_inputs
from polyalpaca.config import trainset_languages
from polyalpaca.recipes import aligned_languages, trainset_models


localrules:
    derive_source,
    align_source,
    build_trainset,
    build_testset,
    tokens_table,
    only_recipes,


rule derive_source:
    input:
        parents=lambda wc: recipes_inputs.derive_parents(config, wc),
    output:
        records="resources/sources/{source}.jsonl",
        report="resources/sources/{source}.filter.json",
    log:
        "logs/recipes/derive_source/{source}.log",
    wildcard_constraints:
        source=_alternatives(DERIVED_SOURCES),
    conda:
        "../envs/recipes.yaml"
    params:
        spec=lambda wc: result_view(config, "sources", wc.source),
        keyword_lists=lambda wc: recipes_inputs.derive_keyword_lists(config, wc),
        settings=result_view(config, "recipes"),
        on_bad_line=config["on_bad_line"],
        code=code_of("derive_source"),
    script:
        "../workflow/scripts/derive_source.py"


rule align_source:
    input:
        unpack(lambda wc: recipes_inputs.align_inputs(config, wc)),
    output:
        pool="results/recipes/{source}/aligned.json",
    log:
        "logs/recipes/align_source/{source}.log",
    conda:
        "../envs/recipes.yaml"
    params:
        languages=lambda wc: list(aligned_languages(config, wc.source)),
        users=lambda wc: aligned_languages(config, wc.source),
        policy=config["recipes"]["short_translations"],
        on_bad_line=config["on_bad_line"],
        code=code_of("align_source"),
    script:
        "../workflow/scripts/align_source.py"


rule build_trainset:
    input:
        unpack(lambda wc: recipes_inputs.trainset_inputs(config, wc)),
    output:
        train="results/trainsets/{trainset}/train.jsonl",
        val="results/trainsets/{trainset}/val.jsonl",
    log:
        "logs/recipes/build_trainset/{trainset}.log",
    conda:
        "../envs/recipes.yaml"
    params:
        trainset=lambda wc: result_view(config, "trainsets", wc.trainset),
        translated=lambda wc: recipes_inputs.translated_languages(config, wc.trainset),
        seed=config["seed"],
        on_bad_line=config["on_bad_line"],
        code=code_of("build_trainset"),
    script:
        "../workflow/scripts/build_trainset.py"


rule build_testset:
    input:
        unpack(lambda wc: recipes_inputs.testset_inputs(config, wc)),
    output:
        prompts="results/testsets/{testset}/{lang}.jsonl",
    log:
        "logs/recipes/build_testset/{testset}/{lang}.log",
    conda:
        "../envs/recipes.yaml"
    params:
        testset=lambda wc: result_view(config, "testsets", wc.testset),
        on_bad_line=config["on_bad_line"],
        code=code_of("build_testset"),
    script:
        "../workflow/scripts/build_testset.py"


rule trainset_stats:
    input:
        train="results/trainsets/{trainset}/train.jsonl",
        val="results/trainsets/{trainset}/val.jsonl",
        models=lambda wc: recipes_inputs.stats_model_dirs(config, wc),
    output:
        stats="results/trainsets/{trainset}/stats.json",
    log:
        "logs/recipes/trainset_stats/{trainset}.log",
    benchmark:
        "results/benchmarks/recipes/trainset_stats/{trainset}.tsv"
    conda:
        "../envs/recipes.yaml"
    threads: 1
    resources:
        mem_mb=8000,
    params:
        models=lambda wc: trainset_models(config, wc.trainset),
        languages=lambda wc: trainset_languages(config, wc.trainset),
        info=lambda wc: recipes_inputs.trainset_info(config, wc),
        code=code_of("trainset_stats"),
    script:
        "../workflow/scripts/trainset_stats.py"


rule tokens_table:
    input:
        stats=recipes_inputs.tokens_table_inputs(config),
    output:
        table=recipes_inputs.TOKENS_TABLE,
    log:
        "logs/recipes/tokens_table.log",
    conda:
        "../envs/recipes.yaml"
    params:
        code=code_of("tokens_table"),
    script:
        "../workflow/scripts/tokens_table.py"


rule only_recipes:
    input:
        recipes_inputs.recipes_targets(config),


FINAL_TARGETS.append(lambda: [recipes_inputs.TOKENS_TABLE])
