"""Figures stage: tidy study tables with bootstrap CIs, the studies' figures, provenance tables.

Library entry points (the Snakemake scripts call these):

- :func:`write_study_table` — ``results/tables/{study}.csv`` (+ ``.html`` for the report);
- :func:`write_provenance` — ``results/tables/{study}_provenance.csv`` (+ ``.html``);
- :func:`build_figure` — ``results/figures/{name}.pdf`` (+ ``.png``, and the plotted data as ``.csv``).

Which runs, languages and metrics a figure draws comes from ``figures.plots`` in the config
(:mod:`.specs`); the rule of a figure therefore depends only on its own runs' score files.
Plotting modules (matplotlib, seaborn) are imported on first use, so the Snakefile can import
:mod:`.specs` at parse time cheaply.
"""

from importlib import import_module

from .specs import (PairInput, PlotSpec, ScoreInput, figure_extra_inputs, figure_inputs, figure_paths, figure_runs,
                    final_targets, pair_inputs, plot_specs, study_view, score_inputs, spec_params, table_paths,
                    tokens_table_path)

_LAZY = {
    "Estimate": "bootstrap", "bootstrap_ci": "bootstrap", "bootstrap_strata": "bootstrap",
    "AGGREGATION_BY_KIND": "scores", "CRITERIA": "scores", "load_prompt_scores": "scores", "submetrics": "scores",
    "study_table": "tables", "write_provenance": "tables",
    "write_study_table": "tables",
    "FIGURE_KINDS": "build", "build_figure": "build", "make_figure": "build",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["PairInput", "PlotSpec", "ScoreInput", "pair_inputs", "figure_extra_inputs", "figure_inputs", "figure_paths", "figure_runs", "final_targets", "plot_specs",
           "study_view", "score_inputs", "spec_params", "table_paths", "tokens_table_path", *_LAZY]
