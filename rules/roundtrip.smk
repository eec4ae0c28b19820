# Round-trip translation quality (polyalpaca.roundtrip): a seeded sample of each translated source of a
# study, translated back with the same engine (the translate stage's code) and scored against the
# original with sacrebleu; per study a table (Bactrian-X Table 2) and a figure, low chrF++ flagged.
from polyalpaca.resources import rule_resources


localrules:
    roundtrip_report,
    only_roundtrip,


rule roundtrip_translate:
    input:
        translated="results/translate/{source}/{lang}.jsonl",
        source="resources/sources/{source}.jsonl",
        model=get_ct2_model,
    output:
        segments=roundtrip_lib.ROUNDTRIP,
    log:
        "logs/roundtrip/translate/{source}/{lang}.log",
    benchmark:
        "results/benchmarks/roundtrip/translate/{source}/{lang}.tsv"
    conda:
        "../envs/translate.yaml"
    threads: config["translate"]["threads"]
    resources:
        **rule_resources(config, "translate"),
    params:
        job=get_translate_job,
        roundtrip=get_roundtrip_params,
        settings=translate_plan.translate_settings(config),
        code=code_of("roundtrip_translate"),
    script:
        "../workflow/scripts/roundtrip_translate.py"


rule roundtrip_score:
    input:
        segments=roundtrip_lib.ROUNDTRIP,
    output:
        scores=roundtrip_lib.ROUNDTRIP_SCORES,
    log:
        "logs/roundtrip/score/{source}/{lang}.log",
    benchmark:
        "results/benchmarks/roundtrip/score/{source}/{lang}.tsv"
    conda:
        "../envs/translate.yaml"
    threads: 1
    resources:
        **rule_resources(config, "evaluate"),
    params:
        comet_model=get_comet_model,
        code=code_of("roundtrip_score"),
    script:
        "../workflow/scripts/roundtrip_score.py"


rule roundtrip_report:
    input:
        scores=get_study_roundtrip_scores,
    output:
        csv="results/tables/{study}_roundtrip.csv",
        html=report(
            "results/tables/{study}_roundtrip.html",
            caption="../workflow/report/roundtrip.rst",
            category="{study}",
            subcategory="Translation quality",
            labels={"name": "{study} round trip", "format": "table"},
        ),
        pdf=report(
            "results/figures/{study}_roundtrip.pdf",
            caption="../workflow/report/roundtrip.rst",
            category="{study}",
            subcategory="Figures (PDF)",
            labels={"name": "{study}_roundtrip", "format": "PDF"},
        ),
        png=report(
            "results/figures/{study}_roundtrip.png",
            caption="../workflow/report/roundtrip.rst",
            category="{study}",
            subcategory="Figures",
            labels={"name": "{study}_roundtrip", "format": "PNG"},
        ),
    log:
        "logs/figures/roundtrip/{study}.log",
    conda:
        "../envs/figures.yaml"
    params:
        study=get_study_name,
        pairs=get_roundtrip_report_pairs,
        floor=get_roundtrip_floor,
        code=code_of("roundtrip_report"),
    script:
        "../workflow/scripts/roundtrip_report.py"


rule only_roundtrip:
    input:
        roundtrip_lib.roundtrip_targets(config),


FINAL_TARGETS.append(lambda: roundtrip_lib.roundtrip_targets(config))
