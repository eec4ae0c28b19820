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


TRANSLATORS = config["translators"]


rule fetch_nllb:
    input:
        texts=lambda wc: (
            [
                f"resources/sources/{s}.jsonl"
                for s in translate_plan.tiny_sources(config, wc.translator)
            ]
            if "tiny" in TRANSLATORS[wc.translator]
            else []
        ),
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
        spec=lambda wc: result_view(config, "translators", wc.translator),
        nllb_codes=lambda wc: (
            [entry["nllb"] for entry in config["languages"].values()]
            if "tiny" in TRANSLATORS[wc.translator]
            else []
        ),
        code=code_of("fetch_nllb"),
    script:
        "../workflow/scripts/fetch_nllb.py"


rule convert_nllb:
    input:
        snapshot=lambda wc: translate_plan.snapshot_dir(config, wc.translator),
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
        model=lambda wc: translate_plan.ct2_dir(
            config, translate_plan.translation(config, wc.source)["translator"]
        ),
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
        job=lambda wc: translate_plan.job_params(config, wc.source, wc.lang),
        shard=lambda wc: int(wc.shard),
        settings=translate_plan.translate_settings(config),
        progress=lambda wc: translate_plan.progress_path(wc.source, wc.lang, wc.shard),
        code=code_of("translate_shard"),
    script:
        "../workflow/scripts/translate_shard.py"


rule merge_translations:
    input:
        source="resources/sources/{source}.jsonl",
        shards=lambda wc: [
            translate_plan.shard_path(wc.source, wc.lang, shard)
            for shard in translate_plan.shard_names(config, wc.source)
        ],
    output:
        records="results/translate/{source}/{lang}.jsonl",
        report="results/translate/{source}/{lang}.report.json",
    log:
        "logs/translate/merge_translations/{source}/{lang}.log",
    conda:
        "../envs/translate.yaml"
    params:
        fields=lambda wc: translate_plan.translation(config, wc.source)["fields"],
        filters=translate_plan.filter_settings(config),
        on_bad_line=config["on_bad_line"],
        code=code_of("merge_translations"),
    script:
        "../workflow/scripts/merge_translations.py"


rule only_translate:
    input:
        translate_plan.translation_targets(config),
