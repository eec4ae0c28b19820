# Recipes stage: derived sources (keyword filter before translation), aligned pools, trainsets,
# test prompt sets and token statistics. Logic lives in polyalpaca.recipes.
from polyalpaca.recipes import aligned_languages, trainset_models
from polyalpaca.config import trainset_languages


localrules:
    derive_source,
    align_source,
    build_trainset,
    build_testset,
    tokens_table,
    only_recipes,


RECIPES_CODE = code_version("polyalpaca.recipes")


def translation_path(source, lang):
    return f"results/translate/{source}/{lang}.jsonl"


def get_derive_parents(wildcards):
    derive = config["sources"][wildcards.source]["derive"]
    return [f"resources/sources/{parent}.jsonl" for parent in derive["from"]]


rule derive_source:
    input:
        parents=get_derive_parents,
    output:
        records="resources/sources/{source}.jsonl",
        report="resources/sources/{source}.filter.json",
    wildcard_constraints:
        source=_alternatives(DERIVED_SOURCES),
    params:
        spec=lambda wc: config["sources"][wc.source],
        keyword_lists=lambda wc: {
            name: words
            for name, words in config["keyword_lists"].items()
            if name == config["sources"][wc.source]["derive"].get("exclude_keywords")
        },
        settings=config["recipes"],
        on_bad_line=config["on_bad_line"],
        code=RECIPES_CODE,
    log:
        "logs/recipes/derive_source/{source}.log",
    conda:
        "../envs/recipes.yaml"
    script:
        "../workflow/scripts/derive_source.py"


def get_align_translations(wildcards):
    return [translation_path(wildcards.source, lang) for lang in aligned_languages(config, wildcards.source)]


rule align_source:
    input:
        english="resources/sources/{source}.jsonl",
        translations=get_align_translations,
    output:
        pool="results/recipes/{source}/aligned.json",
    params:
        languages=lambda wc: list(aligned_languages(config, wc.source)),
        users=lambda wc: aligned_languages(config, wc.source),
        policy=config["recipes"]["short_translations"],
        on_bad_line=config["on_bad_line"],
        code=RECIPES_CODE,
    log:
        "logs/recipes/align_source/{source}.log",
    conda:
        "../envs/recipes.yaml"
    script:
        "../workflow/scripts/align_source.py"


def _translated(trainset):
    return [lang for lang in trainset_languages(config, trainset) if lang != "en"]


def get_trainset_inputs(wildcards):
    block = config["trainsets"][wildcards.trainset]
    source = block["source"]
    inputs = {
        "english": f"resources/sources/{source}.jsonl",
        "pool": f"results/recipes/{source}/aligned.json",
        "translations": [translation_path(source, lang) for lang in _translated(wildcards.trainset)],
    }
    if "budget_of" in block:
        inputs["budget_train"] = f"results/trainsets/{block['budget_of']}/train.jsonl"
        inputs["budget_val"] = f"results/trainsets/{block['budget_of']}/val.jsonl"
    return inputs


rule build_trainset:
    input:
        unpack(get_trainset_inputs),
    output:
        train="results/trainsets/{trainset}/train.jsonl",
        val="results/trainsets/{trainset}/val.jsonl",
    params:
        trainset=lambda wc: config["trainsets"][wc.trainset],
        translated=lambda wc: _translated(wc.trainset),
        seed=config["seed"],
        on_bad_line=config["on_bad_line"],
        code=RECIPES_CODE,
    log:
        "logs/recipes/build_trainset/{trainset}.log",
    conda:
        "../envs/recipes.yaml"
    script:
        "../workflow/scripts/build_trainset.py"


def get_testset_inputs(wildcards):
    tset = config["testsets"][wildcards.testset]
    if wildcards.lang not in tset["languages"]:
        raise WorkflowError(
            f"testsets.{wildcards.testset}.languages: {wildcards.lang!r} is not a language of this test set "
            f"({', '.join(tset['languages'])})"
        )
    inputs = {"source": f"resources/sources/{tset['source']}.jsonl"}
    if "translate_from" in tset and wildcards.lang != tset["translate_from"]:
        inputs["translation"] = translation_path(tset["source"], wildcards.lang)
    return inputs


rule build_testset:
    input:
        unpack(get_testset_inputs),
    output:
        prompts="results/testsets/{testset}/{lang}.jsonl",
    params:
        testset=lambda wc: config["testsets"][wc.testset],
        on_bad_line=config["on_bad_line"],
        code=RECIPES_CODE,
    log:
        "logs/recipes/build_testset/{testset}/{lang}.log",
    conda:
        "../envs/recipes.yaml"
    script:
        "../workflow/scripts/build_testset.py"


rule trainset_stats:
    input:
        train="results/trainsets/{trainset}/train.jsonl",
        val="results/trainsets/{trainset}/val.jsonl",
        models=lambda wc: [f"resources/models/{m}" for m in trainset_models(config, wc.trainset)],
    output:
        stats="results/trainsets/{trainset}/stats.json",
    params:
        models=lambda wc: trainset_models(config, wc.trainset),
        languages=lambda wc: trainset_languages(config, wc.trainset),
        info=lambda wc: {
            key: config["trainsets"][wc.trainset][key]
            for key in ("recipe", "label", "source")
            if key in config["trainsets"][wc.trainset]
        },
        code=RECIPES_CODE,
    log:
        "logs/recipes/trainset_stats/{trainset}.log",
    benchmark:
        "results/benchmarks/recipes/trainset_stats/{trainset}.tsv"
    threads: 2
    resources:
        mem_mb=8000,
    conda:
        "../envs/recipes.yaml"
    script:
        "../workflow/scripts/trainset_stats.py"


def get_recipes_targets():
    """Every trainset the studies use (with its statistics), every test set language, the token table."""
    targets = ["results/tables/tokens.csv"]
    for name in used_trainsets(config):
        targets += [f"results/trainsets/{name}/{split}.jsonl" for split in ("train", "val")]
    for study in config["studies"].values():
        tset = config["testsets"][study["testset"]]
        targets += [f"results/testsets/{study['testset']}/{lang}.jsonl" for lang in tset["languages"]]
    return list(dict.fromkeys(targets))


rule tokens_table:
    input:
        stats=[f"results/trainsets/{name}/stats.json" for name in used_trainsets(config)],
    output:
        table="results/tables/tokens.csv",
    params:
        code=RECIPES_CODE,
    log:
        "logs/recipes/tokens_table.log",
    conda:
        "../envs/recipes.yaml"
    script:
        "../workflow/scripts/tokens_table.py"


rule only_recipes:
    input:
        get_recipes_targets(),


FINAL_TARGETS.append(lambda: ["results/tables/tokens.csv"])
