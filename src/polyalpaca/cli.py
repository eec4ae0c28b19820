"""The ``polyalpaca`` command: ``polyalpaca plan --config config.yaml``, ``polyalpaca lid-audit FILE...``,
``polyalpaca judge-parse --format rating --scale 1-10 FILE`` / ``polyalpaca judge-parse --scores results/scores``."""

from __future__ import annotations

import argparse
import sys

from .errors import PolyalpacaError


def _plan(args: argparse.Namespace) -> int:
    from .config import load_config
    from .plan import format_plan, plan
    from .validate import validate_workflow_config

    config = validate_workflow_config(load_config(args.config))
    print(format_plan(config, plan(config)))
    if args.profile:
        from .submissions import format_submissions, slurm_submissions

        print()
        try:
            print(format_submissions(slurm_submissions(args.config, args.profile)))
        except PolyalpacaError as err:
            print(f"Slurm submissions not counted: {err}\nslurm_submissions=?")
    if args.gpu_mem_gb is None and not config["resources"]["use_gpus"]:
        return 0
    from .gpu_plan import format_sizing, sizing_rows, with_gpu_memory

    sized = with_gpu_memory(config, args.gpu_mem_gb)
    rows = sizing_rows(sized)
    print()
    print(format_sizing(sized, rows))
    return 1 if any(row.gpus is None for row in rows) else 0


def _lid_audit(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .config import load_config
    from .errors import ConfigError
    from .lid_audit import run_audit, total_line

    if not Path(args.config).is_file():
        raise ConfigError(f"{args.config}: config file not found (its languages: block is the label table; "
                          "pass --config)")
    config = load_config(args.config)
    spec = {"lid_model": "lid176", "candidates": "all", "equivalents": {}, "min_prob": None, "uncertain": "match"}
    if args.metric is not None:
        metric = config["metrics"].get(args.metric)
        if metric is None or metric["kind"] != "lid":
            lids = sorted(name for name, m in config["metrics"].items() if m["kind"] == "lid")
            raise ConfigError(f"--metric {args.metric!r}: not a metric of kind lid in {args.config} "
                              f"(those: {', '.join(lids) or 'none'})")
        spec = {key: metric[key] for key in spec}
    model = args.model or spec["lid_model"]
    candidates = args.candidates or spec["candidates"]
    if isinstance(candidates, list):
        candidates = ",".join(candidates)
    min_prob = args.min_prob if args.min_prob is not None else spec["min_prob"]
    audits, _ = run_audit(args.files, config["languages"], model=model, candidates=candidates,
                          equivalents=spec["equivalents"], min_prob=min_prob, uncertain=spec["uncertain"],
                          openlid_path=args.openlid_path or config["evaluate"]["openlid_path"],
                          on_bad_line=args.on_bad_line)
    print(f"# model={model} candidates={candidates}"
          + (f" equivalents={spec['equivalents']}" if spec["equivalents"] else "")
          + (f" min_prob={min_prob}" if min_prob is not None else ""))
    for audit in audits.values():
        print(audit.line())
    print(total_line(audits))
    return 0


def _judge_parse(args: argparse.Namespace) -> int:
    import json

    from .errors import ConfigError
    from .evaluate.judge.parse_audit import audit_scores, format_counts, parse_lines, parse_scale, parser_for

    scale = parse_scale(args.scale) if args.scale else None
    if args.scores:
        if args.files:
            raise ConfigError("give either FILE (answers with a 'judgment' field) or --scores, not both")
        print(format_counts(audit_scores(args.scores, scale=scale or (1, 2, 3), on_bad_line=args.on_bad_line)))
        return 0
    if not args.files or not args.format:
        raise ConfigError("give --format and FILE (JSON Lines with a 'judgment' field), or --scores DIR")
    criteria = tuple(args.criteria.split(",")) if args.criteria else None
    parse = parser_for(args.format, scale or (1, 2, 3), **({"criteria": criteria} if criteria else {}))
    for path in args.files:
        for result in parse_lines(path, parse, on_bad_line=args.on_bad_line):
            print(json.dumps(result, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="polyalpaca", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    plan_cmd = commands.add_parser(
        "plan", help="per study and stage: jobs, estimated GPU hours, judge requests and cost (reads only the config)")
    plan_cmd.add_argument("--config", default="config.yaml", help="config file (default: config.yaml)")
    plan_cmd.add_argument("--profile", default="profiles/slurm",
                          help="count the Slurm jobs this Snakemake profile submits for the whole grid, from a "
                               "dry run of ./Snakefile (default: profiles/slurm; '' skips the ~10 s dry run)")
    plan_cmd.add_argument("--gpu-mem-gb", type=float, default=None, metavar="GB",
                          help="size jobs for GPUs of this memory (default: resources.gpu.mem_gb); exits 1 "
                               "naming every run that no GPU count fits")
    plan_cmd.set_defaults(func=_plan)
    audit = commands.add_parser(
        "lid-audit", help="language-ID accuracy per language on files whose language is known "
                          "(a record's 'lang' field or the file name's _{lang} suffix)")
    audit.add_argument("files", nargs="+", metavar="FILE",
                       help="JSON Lines/JSON/CSV/Parquet files of the project's formats (prompts, generations, "
                            "source records, Alpaca, Dolly, LIMA, Vicuna, AlpacaFarm)")
    audit.add_argument("--model", choices=("lid176", "lingua", "openlid"),
                       help="LID model (default: the --metric's, else lid176)")
    audit.add_argument("--candidates", help="all, study (the audited files' languages) or comma-separated codes "
                                            "(default: the --metric's, else all)")
    audit.add_argument("--metric", help="take model, candidates, equivalents and min_prob from this lid metric "
                                        "of the config (flags override)")
    audit.add_argument("--min-prob", type=float, help="below this probability a prediction is uncertain")
    audit.add_argument("--openlid-path", help="OpenLID model file (default: evaluate.openlid_path of the config)")
    audit.add_argument("--on-bad-line", choices=("fail", "skip"), default="fail",
                       help="stop at a malformed record (fail, default) or log and skip it")
    audit.add_argument("--config", default="config.yaml", help="config whose languages: block is the label table "
                                                               "(default: config.yaml)")
    audit.set_defaults(func=_lid_audit)
    judge_parse = commands.add_parser(
        "judge-parse", help="what the judge parsers read: per answer of a JSON Lines file with a 'judgment' field, "
                            "or per judge and template over a run's score files (--scores)")
    judge_parse.add_argument("files", nargs="*", metavar="FILE", help="JSON Lines with a 'judgment' field "
                                                                      "(other fields are ignored)")
    judge_parse.add_argument("--format", choices=("rating", "criteria", "pair", "pair-scores", "vicuna-pair", "binary",
                                                  "last-digit"),
                             help="the answer format: rating ([[2]]), criteria (six-criteria JSON), pair ([[A]]), "
                                  "pair-scores ([[8, 6]]), vicuna-pair (\"8 6\" on the first line), binary (0/1), "
                                  "last-digit (the last 0/1 digit)")
    judge_parse.add_argument("--scale", help="rating scale LOW-HIGH (default 1-3, the built-in templates')")
    judge_parse.add_argument("--criteria", help="comma-separated JSON keys of --format criteria "
                                                "(default: the six criteria of zeroshot-criteria-v1)")
    judge_parse.add_argument("--scores", nargs="+", metavar="PATH",
                             help="score files or directories (e.g. results/scores): count parsed and unparsed "
                                  "answers per judge and template, and why")
    judge_parse.add_argument("--on-bad-line", choices=("fail", "skip"), default="fail",
                             help="stop at a malformed line (fail, default) or log and skip it")
    judge_parse.set_defaults(func=_judge_parse)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except PolyalpacaError as err:
        print(f"polyalpaca {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
