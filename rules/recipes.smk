# Recipes stage: derived sources (keyword filter before translation), aligned pools, trainsets,
# test prompt sets and token statistics. Logic and input functions live in polyalpaca.recipes.
import polyalpaca.recipes.inputs as recipes_inputs


localrules:
    derive_source,
    align_source,
    build_trainset,
    build_testset,
    tokens_table,
    token_stats_report,
    only_recipes,


rule derive_source:
    input:
        parents=get_derive_parents,
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
        spec=get_source_spec,
        keyword_lists=get_derive_keyword_lists,
        settings=result_view(config, "recipes"),
        on_bad_line=config["on_bad_line"],
        code=code_of("derive_source"),
    script:
        "../workflow/scripts/derive_source.py"


rule align_source:
    input:
        unpack(get_align_inputs),
    output:
        pool="results/recipes/{source}/aligned.json",
    log:
        "logs/recipes/align_source/{source}.log",
    conda:
        "../envs/recipes.yaml"
    params:
        languages=get_aligned_languages,
        users=get_aligned_users,
        policy=config["recipes"]["short_translations"],
        on_bad_line=config["on_bad_line"],
        code=code_of("align_source"),
    script:
        "../workflow/scripts/align_source.py"


rule build_trainset:
    input:
        unpack(get_trainset_inputs),
    output:
        train="results/trainsets/{trainset}/train.jsonl",
        val="results/trainsets/{trainset}/val.jsonl",
    log:
        "logs/recipes/build_trainset/{trainset}.log",
    conda:
        "../envs/recipes.yaml"
    params:
        trainset=get_trainset_spec,
        translated=get_translated_languages,
        seed=config["seed"],
        on_bad_line=config["on_bad_line"],
        code=code_of("build_trainset"),
    script:
        "../workflow/scripts/build_trainset.py"


rule build_testset:
    input:
        unpack(get_testset_inputs),
    output:
        prompts="results/testsets/{testset}/{lang}.jsonl",
    log:
        "logs/recipes/build_testset/{testset}/{lang}.log",
    conda:
        "../envs/recipes.yaml"
    params:
        testset=get_testset_spec,
        on_bad_line=config["on_bad_line"],
        code=code_of("build_testset"),
    script:
        "../workflow/scripts/build_testset.py"


rule trainset_stats:
    input:
        train="results/trainsets/{trainset}/train.jsonl",
        val="results/trainsets/{trainset}/val.jsonl",
        tokenizers=get_stats_tokenizer_dirs,
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
        tokenizers=get_stats_tokenizers,
        languages=get_trainset_languages,
        info=get_trainset_info,
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


# Bactrian-X Table 1: average tokens per example of each field, by tokenizer and seen / unseen languages.
rule token_stats_report:
    input:
        stats=get_token_stats_input,
    output:
        csv="results/tables/{study}_tokens.csv",
        html=report(
            "results/tables/{study}_tokens.html",
            caption="../workflow/report/token_stats.rst",
            category="{study}",
            subcategory="Tables",
            labels={"name": "{study} token statistics", "format": "table"},
        ),
    log:
        "logs/recipes/token_stats_report/{study}.log",
    conda:
        "../envs/figures.yaml"
    params:
        study=get_study_name,
        tokenizers=get_token_table_tokenizers,
        code=code_of("token_stats_report"),
    script:
        "../workflow/scripts/token_stats_report.py"


rule only_recipes:
    input:
        recipes_inputs.recipes_targets(config),


FINAL_TARGETS.append(
    lambda: [recipes_inputs.TOKENS_TABLE, *recipes_inputs.token_stats_targets(config)]
)  # a target list, not an input function
