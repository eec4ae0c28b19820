"""Figure specifications: which runs, languages and metrics each figure of a study draws.

A figure is named in ``studies.<study>.figures`` and described in ``figures.plots.<name>``::

    figures:
      plots:
        fig3: {kind: size_curves, family: bloom, method: lora, languages: seen}

Everything a figure uses is derived from the config here, so the Snakemake rule of a figure asks
only for the score files of its own runs (``snakemake results/figures/fig3.pdf`` schedules the BLOOM
LoRA runs and nothing else), and the smoke config reuses the same figure kinds with tiny models.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import Run, study_runs, trainset_languages
from ..effects import drawn_view
from ..errors import ConfigError
from ..grid import OUTPUTS
from ..pairs import group_families, study_generation_runs, study_pairs

log = logging.getLogger(__name__)

# kind -> the metric kinds it draws when the spec names no `metric`/`metrics` (first match per kind)
KIND_METRIC_KINDS: dict[str, tuple[str, ...]] = {
    "size_curves": ("judge_single",),
    "lid_gap": ("judge_single",),
    "family_bars": ("judge_single",),
    "surface_metrics": ("lid", "spellcheck", "relevance"),
    "criteria": ("judge_criteria",),
    "per_language": ("judge_criteria",),
    "configurations": ("judge_criteria",),
    "judge_agreement": ("judge_criteria",),
    "task_helpfulness": ("judge_criteria",),
    "modifiers": ("judge_criteria",),
    "pairwise_outcomes": ("judge_pairwise",),
    "pairwise_groups": ("judge_pairwise",),
    "pairwise_categories": ("judge_pairwise",),
    "token_counts": (),
}
# kinds whose metrics must be of exactly these metric kinds (they read kind-specific sub-metrics)
REQUIRED_METRIC_KIND = {"lid_gap": "judge_single", "criteria": "judge_criteria", "configurations": "judge_criteria",
                        "judge_agreement": "judge_criteria", "task_helpfulness": "judge_criteria",
                        "modifiers": "judge_criteria",
                        "pairwise_outcomes": "judge_pairwise", "pairwise_groups": "judge_pairwise",
                        "pairwise_categories": "judge_pairwise"}
# kinds drawn from the pair score files of studies.<s>.pairs (polyalpaca.figures.pairs), not per-run scores
PAIR_KINDS = ("pairwise_outcomes", "pairwise_groups", "pairwise_categories")
LANGUAGE_SETS = ("all", "seen", "unseen")


@dataclass(frozen=True)
class PlotSpec:
    """One figure, resolved against the config (names checked, metrics and languages explicit)."""

    name: str
    study: str
    kind: str
    families: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    trainsets: tuple[str, ...] = ()
    params_b_min: float | None = None
    params_b_max: float | None = None
    languages: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    columns: int = 3
    title: str = ""
    criteria_scale: str = "1-3"
    human_annotations: str | None = None

    @property
    def where(self) -> str:
        return f"figures.plots.{self.name}"


@dataclass(frozen=True)
class ScoreInput:
    """One score file: a run's scores of one metric on one test language."""

    model: str
    trainset: str
    tuning: str
    testset: str
    lang: str
    metric: str
    kind: str
    path: str

    @property
    def run_id(self) -> str:
        return f"{self.model}/{self.trainset}/{self.tuning}"


def score_path(root: str | Path, metric: str, model: str, trainset: str, tuning: str, testset: str, lang: str) -> str:
    """The score file of the grid's path table (``OUTPUTS["score"]``), below ``root`` instead of results/."""
    path = Path(OUTPUTS["score"].format(metric=metric, model=model, trainset=trainset, tuning=tuning,
                                        testset=testset, lang=lang))
    return str(Path(root) / path.relative_to("results"))


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    return (value,) if isinstance(value, (str, int, float)) else tuple(value)


def figure_study(config: dict) -> dict[str, str]:
    """figure name -> the study listing it; a figure listed by two studies is an error."""
    owner: dict[str, str] = {}
    errors = []
    for study, body in config["studies"].items():
        for i, name in enumerate(body.get("figures", [])):
            if name in owner:
                errors.append(f"studies.{study}.figures[{i}]: {name!r} is already a figure of study {owner[name]!r}")
            owner.setdefault(name, study)
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
    return owner


def study_languages(config: dict, study: str) -> list[str]:
    """Languages the study's runs are tested in (in the test set's order)."""
    used = {lang for run in study_runs(config, study) for lang in run.languages}
    return [lang for lang in config["testsets"][config["studies"][study]["testset"]]["languages"] if lang in used]


def seen_languages(config: dict, study: str) -> list[str]:
    """Test languages of the study that some training set of the study contains."""
    trained = {lang for run in study_runs(config, study) for lang in trainset_languages(config, run.trainset)}
    return [lang for lang in study_languages(config, study) if lang in trained]


def _resolve_languages(config: dict, study: str, raw, where: str, errors: list[str]) -> tuple[str, ...]:
    test_langs = study_languages(config, study)
    if raw is None or raw == "all":
        return tuple(test_langs)
    if raw == "seen":
        return tuple(seen_languages(config, study))
    if raw == "unseen":
        seen = set(seen_languages(config, study))
        return tuple(lang for lang in test_langs if lang not in seen)
    if isinstance(raw, str):
        errors.append(f"{where}.languages: {raw!r} is not one of {', '.join(LANGUAGE_SETS)} or a list of languages")
        return ()
    for i, lang in enumerate(raw):
        if lang not in test_langs:
            errors.append(f"{where}.languages[{i}]: study {study!r} tests no run in {lang!r} "
                          f"(tested: {', '.join(test_langs)})")
    return tuple(raw)


def _resolve_metrics(config: dict, study: str, kind: str, raw: dict, where: str, errors: list[str]) -> tuple[str, ...]:
    study_metrics = config["studies"][study]["metrics"]
    metric_kind = {m: config["metrics"][m]["kind"] for m in study_metrics if m in config["metrics"]}
    names = _as_tuple(raw.get("metrics")) or _as_tuple(raw.get("metric"))
    if names:
        for name in names:
            if name not in metric_kind:
                errors.append(f"{where}.metric: {name!r} is not a metric of study {study!r} "
                              f"({', '.join(study_metrics) or 'none'})")
            elif kind in REQUIRED_METRIC_KIND and metric_kind[name] != REQUIRED_METRIC_KIND[kind]:
                errors.append(f"{where}.metric: kind {kind!r} needs a {REQUIRED_METRIC_KIND[kind]} metric, "
                              f"{name!r} is {metric_kind[name]}")
        return names
    wanted = KIND_METRIC_KINDS[kind]
    found = []
    for mkind in wanted:
        match = [m for m in study_metrics if metric_kind.get(m) == mkind]
        if match:
            found.append(match[0])
    if wanted and not found:
        errors.append(f"{where}: kind {kind!r} needs a metric of kind {' or '.join(wanted)} in "
                      f"studies.{study}.metrics ({', '.join(study_metrics) or 'none'})")
    return tuple(found)


def _resolve(config: dict, name: str, study: str, raw: dict, errors: list[str]) -> PlotSpec:
    where = f"figures.plots.{name}"
    kind = raw["kind"]
    families = _as_tuple(raw.get("family"))
    for fam in families:
        if fam not in config["families"]:
            errors.append(f"{where}.family: {fam!r} is not defined in families ({', '.join(config['families'])})")
    models = _as_tuple(raw.get("models"))
    for i, model in enumerate(models):
        if model not in config["models"]:
            errors.append(f"{where}.models[{i}]: {model!r} is not defined in models")
    trainsets = _as_tuple(raw.get("trainsets"))
    for i, ts in enumerate(trainsets):
        if ts not in config["trainsets"]:
            errors.append(f"{where}.trainsets[{i}]: {ts!r} is not defined in trainsets")
    if kind == "judge_agreement" and not raw.get("human_annotations"):
        errors.append(f"{where}.human_annotations: kind 'judge_agreement' needs the human annotation file "
                      "(JSON Lines, format in polyalpaca.figures.human)")
    if kind == "pairwise_groups" and not group_families(config, study):
        errors.append(f"{where}: kind 'pairwise_groups' groups languages by families.<f>.pretraining_languages, "
                      f"which no family of the models in studies.{study}.pairs has")
    size = raw.get("params_b") or {}
    return PlotSpec(
        name=name, study=study, kind=kind, families=families, methods=_as_tuple(raw.get("method")),
        models=models, trainsets=trainsets, params_b_min=size.get("min"), params_b_max=size.get("max"),
        languages=_resolve_languages(config, study, raw.get("languages"), where, errors),
        metrics=_resolve_metrics(config, study, kind, raw, where, errors),
        columns=raw.get("columns", 3), title=raw.get("title", ""), criteria_scale=raw.get("criteria_scale", "1-3"),
        human_annotations=raw.get("human_annotations"),
    )


def plot_specs(config: dict) -> dict[str, PlotSpec]:
    """Every figure named by a study, resolved and checked; errors name the config key to fix."""
    owner = figure_study(config)
    plots = config["figures"]["plots"]
    if not plots:
        if owner:
            log.warning("figures.plots is empty: no figure is built (the studies name %s); "
                        "add a figures.plots entry per figure", ", ".join(owner))
        return {}
    errors: list[str] = []
    specs = {}
    for study, body in config["studies"].items():
        for i, name in enumerate(body.get("figures", [])):
            if name not in plots:
                errors.append(f"studies.{study}.figures[{i}]: {name!r} has no entry in figures.plots "
                              f"(defined: {', '.join(sorted(plots)) or 'none'})")
    for name, study in owner.items():
        if name in plots:
            specs[name] = _resolve(config, name, study, plots[name], errors)
    for spec in specs.values():
        if spec.kind != "token_counts" and not errors and not figure_runs(config, spec):
            errors.append(f"{spec.where}: selects no run of study {spec.study!r} "
                          f"(family {list(spec.families) or 'any'}, method {list(spec.methods) or 'any'}, "
                          f"models {list(spec.models) or 'any'}, languages {list(spec.languages)})")
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(dict.fromkeys(errors)))
    return specs


def figure_runs(config: dict, spec: PlotSpec) -> list[Run]:
    """The study's runs the figure draws, each narrowed to the figure's languages (runs left with none dropped)."""
    out = []
    for run in study_runs(config, spec.study):
        model = config["models"][run.model]
        if spec.families and model["family"] not in spec.families:
            continue
        if spec.methods and config["tunings"][run.tuning]["method"] not in spec.methods:
            continue
        if spec.models and run.model not in spec.models:
            continue
        if spec.trainsets and run.trainset not in spec.trainsets:
            continue
        if spec.params_b_min is not None and model["params_b"] < spec.params_b_min:
            continue
        if spec.params_b_max is not None and model["params_b"] > spec.params_b_max:
            continue
        langs = tuple(lang for lang in run.languages if lang in spec.languages)
        if langs:
            out.append(Run(run.model, run.trainset, run.tuning, langs))
    return out


def score_inputs(config: dict, study: str, runs: list[Run] | None = None, metrics: tuple[str, ...] | None = None,
                 root: str | Path = "results") -> list[ScoreInput]:
    """Score files of ``runs`` (default: all of the study's, its baselines included) for ``metrics``
    (default: the study's). A judge_pairwise metric is scored per pair, not per run (:func:`pair_inputs`)."""
    body = config["studies"][study]
    runs = study_generation_runs(config, study) if runs is None else runs
    metrics = tuple(body["metrics"]) if metrics is None else metrics
    out = []
    for run in runs:
        for metric in metrics:
            kind = config["metrics"][metric]["kind"]
            if kind == "judge_pairwise":
                continue
            for lang in run.languages:
                out.append(ScoreInput(run.model, run.trainset, run.tuning, body["testset"], lang, metric, kind,
                                      score_path(root, metric, run.model, run.trainset, run.tuning,
                                                 body["testset"], lang)))
    return out


@dataclass(frozen=True)
class PairInput:
    """One pair score file: run ``a`` judged against run ``b`` (both orders) with one metric in one language."""

    a: str
    b: str
    testset: str
    lang: str
    metric: str
    path: str


def pair_inputs(config: dict, study: str, metrics: tuple[str, ...] | None = None,
                languages: tuple[str, ...] | None = None, root: str | Path = "results") -> list[PairInput]:
    """Pair score files of the study's pairs (``OUTPUTS["judge_pair"]`` below ``root``) for its judge_pairwise
    ``metrics`` (default: all of them), in ``languages`` (default: every language of each pair)."""
    body = config["studies"][study]
    metrics = tuple(m for m in (body["metrics"] if metrics is None else metrics)
                    if config["metrics"][m]["kind"] == "judge_pairwise")
    out = []
    for metric in metrics:
        for pair in study_pairs(config, study):
            for lang in pair.languages:
                if languages is not None and lang not in languages:
                    continue
                path = Path(OUTPUTS["judge_pair"].format(
                    metric=metric, model=pair.a.model, trainset=pair.a.trainset, tuning=pair.a.tuning,
                    model_b=pair.b.model, trainset_b=pair.b.trainset, tuning_b=pair.b.tuning,
                    testset=body["testset"], lang=lang))
                out.append(PairInput(pair.a.id, pair.b.id, body["testset"], lang, metric,
                                     str(Path(root) / path.relative_to("results"))))
    return out


def figure_inputs(config: dict, spec: PlotSpec, root: str | Path = "results") -> list[ScoreInput] | list[PairInput]:
    """Score files one figure reads (token_counts reads the token table instead; pair kinds the pair files)."""
    if spec.kind == "token_counts":
        return []
    if spec.kind in PAIR_KINDS:
        return pair_inputs(config, spec.study, spec.metrics, spec.languages, root)
    return score_inputs(config, spec.study, figure_runs(config, spec), spec.metrics, root)


def figure_extra_inputs(config: dict, spec: PlotSpec, root: str | Path = "results") -> list[str]:
    """Files a figure reads besides score files: the human annotations (judge_agreement), the test
    prompts with their tasks (task_helpfulness) or categories (pairwise_categories)."""
    if spec.kind == "judge_agreement":
        return [spec.human_annotations]
    if spec.kind in ("task_helpfulness", "pairwise_categories"):
        testset = config["studies"][spec.study]["testset"]
        if spec.kind == "pairwise_categories":
            langs = sorted({inp.lang for inp in pair_inputs(config, spec.study, spec.metrics, spec.languages)})
        else:
            langs = sorted({lang for run in figure_runs(config, spec) for lang in run.languages})
        return [str(Path(root) / "testsets" / testset / f"{lang}.jsonl") for lang in langs]
    return []


def tokens_table_path(root: str | Path = "results") -> str:
    return str(Path(root) / "tables" / "tokens.csv")


def figure_paths(name: str, root: str | Path = "results") -> dict[str, str]:
    """The outputs of one figure: vector PDF, PNG for the report, and the plotted data as CSV."""
    base = Path(root) / "figures" / name
    return {"pdf": f"{base}.pdf", "png": f"{base}.png", "data": f"{base}.csv"}


def table_paths(study: str, root: str | Path = "results") -> dict[str, str]:
    base = Path(root) / "tables" / study
    return {"csv": f"{base}.csv", "html": f"{base}.html",
            "provenance_csv": f"{base}_provenance.csv", "provenance_html": f"{base}_provenance.html"}


def final_targets(config: dict, root: str | Path = "results") -> list[str]:
    """Every study's table, provenance table and figures."""
    targets = []
    for study in config["studies"]:
        targets.extend(table_paths(study, root).values())
    for name in plot_specs(config):
        targets.extend(figure_paths(name, root).values())
    return targets


def study_view(config: dict, study: str, figures: bool = True) -> dict:
    """The part of the config that a study's tables and figures read, as a config of its own: the study,
    its runs' models, trainsets and tunings, its baselines, its test set, decoding, metrics and judges, the language
    table and the figures block — without operational settings (``effects.drawn_view``).

    Rules pass it as the figure and table jobs' param and the scripts draw from it alone, so a cosmetic
    edit (a label, a title, the dpi) reruns exactly the figures and tables, and nothing upstream. The
    tables' view (``figures=False``) leaves out how figures are drawn (plots, dpi)."""
    body = config["studies"][study]
    runs = study_runs(config, study)
    judges = {config["metrics"][m]["judge"] for m in body["metrics"] if "judge" in config["metrics"][m]}
    drawing = drawn_view(config, "figures")
    drawing["plots"] = {name: plot for name, plot in drawing["plots"].items() if name in body["figures"]}
    if not figures:
        drawing = {key: drawing[key] for key in ("bootstrap_samples", "confidence")}
    return {
        "seed": config["seed"],
        "on_bad_line": config["on_bad_line"],
        "languages": drawn_view(config, "languages"),
        "families": drawn_view(config, "families"),
        "models": {m: drawn_view(config, "models", m)
                   for m in sorted({r.model for r in runs} | {config["baselines"][b]["model"] for b in body["baselines"]})},
        "baselines": {b: drawn_view(config, "baselines", b) for b in body["baselines"]},
        "trainsets": {t: drawn_view(config, "trainsets", t) for t in config["trainsets"]
                      if t in {r.trainset for r in runs}},
        "tunings": {t: drawn_view(config, "tunings", t) for t in sorted({r.tuning for r in runs})},
        "testsets": {body["testset"]: drawn_view(config, "testsets", body["testset"])},
        "decodings": {body["decoding"]: drawn_view(config, "decodings", body["decoding"])},
        "metrics": {m: drawn_view(config, "metrics", m) for m in body["metrics"]},
        "judges": {j: drawn_view(config, "judges", j) for j in sorted(judges)},
        "studies": {study: drawn_view(config, "studies", study)},
        "figures": drawing,
        "evaluate": {"lid_ceiling_floor": config["evaluate"]["lid_ceiling_floor"]},
    }


def spec_params(spec: PlotSpec) -> dict:
    """The resolved spec as plain data (a rule param: a change reruns the figure)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(spec).items()}
