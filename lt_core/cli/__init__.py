"""Command line: ``python -m lt_core SUBCOMMAND ...``.

Each subcommand lives in its own module of this package with ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. Bad input exits 2 with a one-line message
on stderr (never a traceback); argparse usage errors also exit 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import InputError

__all__ = ["main", "SUBCOMMAND_MODULES"]

# order shown in --help; a module that is not there yet is simply not listed
SUBCOMMAND_MODULES = ["info", "eval_cls", "eval_det", "rebalance", "adjust", "retrain"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lt_core",
        description="Tailscope: see and fix the tail of long-tailed (class-imbalanced) data.",
    )
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")
    for mod_name in SUBCOMMAND_MODULES:
        try:
            mod = importlib.import_module(f"{__name__}.{mod_name}")
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{mod_name}":
                continue
            raise
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
        print(f"error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
