# Figures stage: tidy study tables with bootstrap CIs, provenance tables, and each study's figures.
# Logic lives in polyalpaca.figures; which runs/languages/metrics a figure draws comes from
# `figures.plots` in the config, so a figure's rule asks only for its own runs' score files
# (`snakemake results/figures/fig3.pdf` schedules the BLOOM LoRA runs and their upstream only).
import functools
import re

import polyalpaca.figures as figures_lib

try:
    FIGURE_SPECS = figures_lib.plot_specs(config)
except ConfigError as err:
    raise WorkflowError(
        f"{workflow.configfiles[-1] if workflow.configfiles else 'config'}: {err}"
    )

FIGURES_REPORT_DIR = Path(workflow.current_basedir) / ".." / "workflow" / "report"

FINAL_TARGETS.append(functools.partial(figures_lib.final_targets, config))


localrules:
    study_table,
    study_provenance,
    only_figures,


rule study_table:
    input:
        scores=get_study_scores,
        # the LID metric on the test prompts themselves (rule lid_ceiling): the lid_ceiling column
        lid_ceilings=get_lid_ceilings,
        # lm-evaluation-harness results (rule lm_eval_task) of a study with benchmarks: kind benchmark
        benchmarks=get_study_benchmark_results,
    output:
        csv="results/tables/{study}.csv",
        html=report(
            "results/tables/{study}.html",
            caption="../workflow/report/study_table.rst",
            category="{study}",
            subcategory="Tables",
            labels={"name": "{study} scores", "format": "table"},
        ),
    log:
        "logs/figures/table/{study}.log",
    conda:
        "../envs/figures.yaml"
    params:
        study=get_study_name,
        view=get_study_view,
        code=code_of("study_table"),
    script:
        "../workflow/scripts/study_table.py"


rule study_provenance:
    output:
        csv="results/tables/{study}_provenance.csv",
        html=report(
            "results/tables/{study}_provenance.html",
            caption="../workflow/report/provenance.rst",
            category="{study}",
            subcategory="Provenance",
            labels={"name": "{study} provenance", "format": "table"},
        ),
    log:
        "logs/figures/provenance/{study}.log",
    conda:
        "../envs/figures.yaml"
    params:
        study=get_study_name,
        view=get_study_view,
        code=code_of("study_provenance"),
    script:
        "../workflow/scripts/study_provenance.py"


# One rule per figure (figure_<name>), so each has its own inputs and caption: the caption is
# workflow/report/<name>.rst when it exists, otherwise the caption of the figure's kind.
for _fig, _spec in FIGURE_SPECS.items():
    _caption_stem = (
        _fig if (FIGURES_REPORT_DIR / f"{_fig}.rst").is_file() else f"kind_{_spec.kind}"
    )
    _caption = f"../workflow/report/{_caption_stem}.rst"
    _rule_name = re.sub(r"\W", "_", _fig)
    _paths = figures_lib.figure_paths(_fig)

    rule:
        name:
            f"figure_{_rule_name}"
        input:
            scores=[inp.path for inp in figures_lib.figure_inputs(config, _spec)],
            tokens=(
                [figures_lib.tokens_table_path()]
                if _spec.kind == "token_counts"
                else []
            ),
            # human annotations (judge_agreement), test prompts with their tasks (task_helpfulness)
            extra=figures_lib.figure_extra_inputs(config, _spec),
        output:
            pdf=report(
                _paths["pdf"],
                caption=_caption,
                category=_spec.study,
                subcategory="Figures (PDF)",
                labels={"name": _fig, "format": "PDF"},
            ),
            png=report(
                _paths["png"],
                caption=_caption,
                category=_spec.study,
                subcategory="Figures",
                labels={"name": _fig, "format": "PNG"},
            ),
            data=report(
                _paths["data"],
                caption="../workflow/report/figure_data.rst",
                category=_spec.study,
                subcategory="Figure data",
                labels={"name": _fig, "format": "CSV"},
            ),
        log:
            f"logs/figures/{_fig}.log",
        localrule: True
        conda:
            "../envs/figures.yaml"
        params:
            figure=_fig,
            view=figures_lib.study_view(config, _spec.study),
            # for the caption (workflow/report/*.rst): the resolved spec and how many runs it draws
            spec=figures_lib.spec_params(_spec),
            runs=len(figures_lib.figure_runs(config, _spec)),
            code=code_of("figure"),
        script:
            "../workflow/scripts/figure.py"


rule only_figures:
    input:
        figures_lib.final_targets(config),
