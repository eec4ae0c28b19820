# Surface metrics (polyalpaca.evaluate.lid_score, .spellcheck, polyalpaca.lid): language ID of each
# response against the prompt's language, and the fraction of words a Hunspell dictionary accepts. The metric wildcard only matches metrics of kind lid / spellcheck.
import polyalpaca.evaluate as surface_metrics
from polyalpaca.generate.inputs import GENERATIONS
from polyalpaca.resources import rule_resources


localrules:
    only_surface_metrics,
    select_lr,


rule score_lid:
    input:
        generations=GENERATIONS,
        lid_model=get_lid_model_file,
    output:
        scores=surface_metrics.SCORES,
    log:
        "logs/evaluate/{metric}/{model}/{trainset}/{tuning}/{testset}/{lang}.log",
    wildcard_constraints:
        metric=_alternatives(surface_metrics.metric_names(config, "lid")),
    conda:
        "../envs/evaluate.yaml"
    threads: 1
    resources:
        **rule_resources(config, "evaluate"),
    params:
        lid=get_lid_params,
        languages=get_lid_languages,
        on_bad_line=config["on_bad_line"],
        code=code_of("score_lid"),
    script:
        "../workflow/scripts/score_lid.py"


# The LID metric on the test prompts themselves (their language is known): the per-language LID
# ceiling that the study tables print beside the LID scores, warning below evaluate.lid_ceiling_floor.
rule lid_ceiling:
    input:
        prompts="results/testsets/{testset}/{lang}.jsonl",
        lid_model=get_lid_model_file,
    output:
        scores=surface_metrics.lid_ceiling_path("{metric}", "{testset}", "{lang}"),
    log:
        "logs/evaluate/lid_ceiling/{metric}/{testset}/{lang}.log",
    wildcard_constraints:
        metric=_alternatives(surface_metrics.metric_names(config, "lid")),
    conda:
        "../envs/evaluate.yaml"
    threads: 1
    resources:
        **rule_resources(config, "evaluate"),
    params:
        lid=get_lid_params,
        languages=get_lid_languages,
        on_bad_line=config["on_bad_line"],
        code=code_of("lid_ceiling"),
    script:
        "../workflow/scripts/lid_ceiling.py"


rule score_spellcheck:
    input:
        generations=GENERATIONS,
    output:
        scores=surface_metrics.SCORES,
    log:
        "logs/evaluate/{metric}/{model}/{trainset}/{tuning}/{testset}/{lang}.log",
    benchmark:
        "results/benchmarks/evaluate/{metric}/{model}/{trainset}/{tuning}/{testset}/{lang}.tsv"
    wildcard_constraints:
        metric=_alternatives(surface_metrics.metric_names(config, "spellcheck")),
    conda:
        "../envs/evaluate.yaml"
    threads: 1
    resources:
        **rule_resources(config, "evaluate"),
    params:
        settings=surface_metrics.spell_settings(config),
        languages=get_spell_languages,
        on_bad_line=config["on_bad_line"],
        code=code_of("score_spellcheck"),
    script:
        "../workflow/scripts/score_spellcheck.py"


rule only_surface_metrics:
    input:
        surface_metrics.surface_score_targets(config),
        surface_metrics.lid_ceiling_targets(config),


FINAL_TARGETS.append(lambda: surface_metrics.surface_score_targets(config))


# Learning-rate selection by surface metrics (studies.<study>.lr_selection): one row per run, the chosen
# learning rate per configuration. The judge jobs of the `judged` metrics read it and judge chosen runs only.
rule select_lr:
    input:
        scores=get_lr_selection_scores,
    output:
        "results/tables/{study}_lr_selection.csv",
    log:
        "logs/evaluate/select_lr/{study}.log",
    conda:
        "../envs/evaluate.yaml"
    params:
        study=get_study_name,
        view=get_lr_selection_view,
        code=code_of("select_lr"),
    script:
        "../workflow/scripts/select_lr.py"


FINAL_TARGETS.append(lambda: lr_selection.selection_targets(config))
