# Translate stage: NLLB checkpoints (hub, local folder or tiny random) converted to CTranslate2 once;
# each (source, lang) translated in shards, each its own resumable job; shards merged in source order
# through the quality filter. Logic, paths and params live in polyalpaca.translate (plan: the config side).
import polyalpaca.translate.plan as translate_plan
from polyalpaca.resources import rule_resources
from polyalpaca.translate.models import QUANTIZATIONS


localrules:
    fetch_nllb,  # downloads: on the submit host, like fetch_model
    merge_translations,
    only_translate,


rule fetch_nllb:
    input:
        texts=get_tiny_translator_texts,
    output:
        directory("resources/nllb/{translator}"),
    log:
        "logs/translate/fetch_nllb/{translator}.log",
    wildcard_constraints:
        translator=_alternatives(n for n, t in TRANSLATORS.items() if "path" not in t),
    conda:
        "../envs/translate.yaml"
    threads: 1
    resources:
        mem_mb=8000,
    params:
        spec=get_translator_spec,
        nllb_codes=get_tiny_nllb_codes,
        code=code_of("fetch_nllb"),
    script:
        "../workflow/scripts/fetch_nllb.py"


rule convert_nllb:
    input:
        snapshot=get_translator_snapshot,
    output:
        directory("resources/nllb/{translator}-ct2-{quant}"),
    log:
        "logs/translate/convert_nllb/{translator}-{quant}.log",
    benchmark:
        "results/benchmarks/translate/convert_nllb/{translator}-{quant}.tsv"
    wildcard_constraints:
        translator=_alternatives(TRANSLATORS),
        quant=_alternatives(QUANTIZATIONS),
    conda:
        "../envs/translate.yaml"
    threads: 1
    resources:
        mem_mb=32000,
    params:
        code=code_of("convert_nllb"),
    script:
        "../workflow/scripts/convert_nllb.py"


rule translate_shard:
    input:
        source="resources/sources/{source}.jsonl",
        model=get_ct2_model,
    output:
        "results/translate/{source}/{lang}/{shard}.jsonl",
    log:
        "logs/translate/translate_shard/{source}/{lang}/{shard}.log",
    benchmark:
        "results/benchmarks/translate/translate_shard/{source}/{lang}/{shard}.tsv"
    wildcard_constraints:
        shard="0|[1-9][0-9]*",
    conda:
        "../envs/translate.yaml"
    threads: config["translate"]["threads"]
    resources:
        **rule_resources(config, "translate"),
    params:
        job=get_translate_job,
        shard=get_shard_index,
        settings=translate_plan.translate_settings(config),
        progress=get_shard_progress,
        code=code_of("translate_shard"),
    script:
        "../workflow/scripts/translate_shard.py"


rule merge_translations:
    input:
        source="resources/sources/{source}.jsonl",
        shards=get_translated_shards,
    output:
        records="results/translate/{source}/{lang}.jsonl",
        report="results/translate/{source}/{lang}.report.json",
    log:
        "logs/translate/merge_translations/{source}/{lang}.log",
    conda:
        "../envs/translate.yaml"
    params:
        fields=get_translated_fields,
        filters=translate_plan.filter_settings(config),
        on_bad_line=config["on_bad_line"],
        code=code_of("merge_translations"),
    script:
        "../workflow/scripts/merge_translations.py"


rule only_translate:
    input:
        translate_plan.translation_targets(config),
