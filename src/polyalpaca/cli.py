"""The ``polyalpaca`` command: ``polyalpaca plan --config config.yaml``."""

from __future__ import annotations

import argparse
import sys

from .errors import PolyalpacaError


def _plan(args: argparse.Namespace) -> int:
    from .config import load_config
    from .plan import format_plan, plan

    config = load_config(args.config)
    print(format_plan(config, plan(config)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="polyalpaca", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    plan_cmd = commands.add_parser(
        "plan", help="per study and stage: jobs, estimated GPU hours, judge requests and cost (reads only the config)")
    plan_cmd.add_argument("--config", default="config.yaml", help="config file (default: config.yaml)")
    plan_cmd.set_defaults(func=_plan)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except PolyalpacaError as err:
        print(f"polyalpaca {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
