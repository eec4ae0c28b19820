"""Entry points for the Snakemake scripts: build one figure or one study's tables from the config."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from . import bactrianx, chen, human, modifiers, pairwise, zeroshot
from ..errors import DataError
from .plotting import FigureResult, Settings, finish, save, theme, unit_frame
from .scores import load_prompt_scores, not_judged, require_scores
from .specs import PAIR_KINDS, PlotSpec, figure_extra_inputs, figure_inputs, plot_specs, tokens_table_path

log = logging.getLogger(__name__)

FIGURE_KINDS: dict[str, Callable[..., FigureResult]] = {
    "size_curves": chen.size_curves,
    "lid_gap": chen.lid_gap,
    "family_bars": chen.family_bars,
    "surface_metrics": zeroshot.surface_metrics,
    "criteria": zeroshot.criteria,
    "per_language": zeroshot.per_language,
    "configurations": zeroshot.configurations,
    "token_counts": bactrianx.token_counts,
}


def _check_given(expected: list[str], given: list[str] | None, name: str) -> None:
    """The rule's inputs must be exactly the files the library reads (a mismatch is a bug, not a user error)."""
    if given is None:
        return
    exp, got = {str(Path(p)) for p in expected}, {str(Path(p)) for p in given}
    if exp != got:
        raise RuntimeError(f"figure {name}: rule inputs differ from the figure's score files: "
                           f"missing {sorted(exp - got)[:5]}, extra {sorted(got - exp)[:5]}")


def make_figure(config: dict, name: str, root: str | Path = "results", given_inputs: list[str] | None = None,
                tokens_csv: str | None = None) -> FigureResult:
    """Draw figure ``name`` of the config from the score files under ``root`` (not saved)."""
    specs = plot_specs(config)
    if name not in specs:
        raise KeyError(f"figure {name!r} is not named by any study (figures: {', '.join(specs)})")
    spec: PlotSpec = specs[name]
    settings = Settings.from_config(config)
    theme()
    if spec.kind == "token_counts":
        path = tokens_csv or tokens_table_path(root)
        result = bactrianx.token_counts(config, spec, bactrianx.read_token_table(path), settings, source=str(path))
    elif spec.kind in PAIR_KINDS:
        inputs = figure_inputs(config, spec, root)
        _check_given([i.path for i in inputs], given_inputs, name)
        records = pairwise.read_pair_scores(inputs, config["on_bad_line"])
        if not records["value"].notna().any():
            raise DataError(f"figure {name}: no verdict in any of its {len(inputs)} pair score files "
                            f"({int(records['error'].sum())} records are errors)")
        if spec.kind == "pairwise_outcomes":
            result = pairwise.pairwise_outcomes(config, spec, records, settings)
        elif spec.kind == "pairwise_groups":
            result = pairwise.pairwise_groups(config, spec, records, settings)
        else:
            categories = pairwise.read_categories(figure_extra_inputs(config, spec, root))
            result = pairwise.pairwise_categories(config, spec, records, categories, settings)
    elif spec.kind == "modifiers":
        inputs = figure_inputs(config, spec, root)
        _check_given([i.path for i in inputs], given_inputs, name)
        result = modifiers.modifier_table(config, spec, inputs, settings)
    elif spec.kind in ("judge_agreement", "task_helpfulness"):
        inputs = figure_inputs(config, spec, root)
        _check_given([i.path for i in inputs], given_inputs, name)
        skipped = not_judged(inputs)
        judge = human.judge_ratings([i for i in inputs if i.path not in skipped])
        extra = figure_extra_inputs(config, spec, root)
        if spec.kind == "judge_agreement":
            result = human.judge_agreement(config, spec, human.read_human_annotations(
                extra[0], config, spec.study, config["on_bad_line"]), judge, settings)
        else:
            result = human.task_helpfulness(config, spec, judge, human.task_of(extra), settings)
    else:
        inputs = figure_inputs(config, spec, root)
        _check_given([i.path for i in inputs], given_inputs, name)
        skipped = not_judged(inputs)
        if skipped:
            log.info("figure %s: %d score files of runs the LR selection left unjudged are not drawn", name, len(skipped))
            inputs = [i for i in inputs if i.path not in skipped]
        prompts = load_prompt_scores(inputs, config["on_bad_line"])
        require_scores(prompts, inputs, f"figure {name}")
        units = unit_frame(config, prompts, inputs)
        result = FIGURE_KINDS[spec.kind](config, spec, units, settings)
    for line in result.missing:
        log.warning("figure %s: missing %s", name, line)
    if result.incomplete:
        log.warning("figure %s: %d score files have prompts without a value", name, len(result.incomplete))
    return finish(result, spec.title)


def build_figure(config: dict, name: str, *, pdf: str, png: str, data_csv: str, root: str | Path = "results",
                 given_inputs: list[str] | None = None, tokens_csv: str | None = None) -> FigureResult:
    """Draw figure ``name`` and write its PDF, PNG and plotted-data CSV."""
    result = make_figure(config, name, root, given_inputs, tokens_csv)
    save(result, pdf, png, data_csv, Settings.from_config(config).dpi)
    log.info("figure %s: %d plotted values, %d runs with a metric missing -> %s", name, len(result.data),
             len(result.missing), pdf)
    return result


__all__ = ["FIGURE_KINDS", "make_figure", "build_figure"]
