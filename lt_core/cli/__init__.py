"""Command line: ``python -m lt_core SUBCOMMAND ...`` (also ``tailscope SUBCOMMAND ...``).

Each subcommand lives in its own module of this package with ``NAME``, ``HELP``,
``add_arguments(parser)``, ``run(args) -> int`` and ``io_paths(args) -> lt_core.io.IOPaths``
(every path it reads and writes, by option). Only the module of the subcommand being run is
imported, so a subcommand starts without the others' dependencies (torch, pycocotools...).

:func:`main` is the error boundary: the output guard (:func:`lt_core.io.guard_outputs`) runs
before any work; bad input exits 2 with one line naming the file, field and what was expected;
a usage error exits 2 with one line (numeric options are range-checked when parsed, with the
argparse types of :mod:`lt_core.cli.argtypes`); an unexpected exception prints one line and a
request to report it (exit 1) — never a traceback, unless ``TAILSCOPE_DEBUG=1``.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn

from ..errors import InputError

__all__ = ["main", "main_entry", "SUBCOMMAND_MODULES", "SUBCOMMANDS"]

#: subcommand name -> (module in this package, one-line help); the order shown in --help
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "info": ("info", "load files and print a summary (kind, classes, samples, imbalance ratio, bins)"),
    "eval-cls": ("eval_cls", "per-class, per-bin (many/medium/few) and overall classification metrics, with "
                             "bootstrap CIs"),
    "eval-det": ("eval_det", "evaluate COCO / LVIS detections: AP, AP50, AP75, APs/m/l, APr/c/f and per-class AP"),
    "rebalance": ("rebalance", "class weights, repeat factors, re-sampled index lists and SMOTE features for "
                               "training"),
    "adjust": ("adjust", "logit adjustment / probability rescaling of saved scores; tau given or tuned on a "
                         "validation split"),
    "adjust-ml": ("adjust_ml", "multi-label (sigmoid) decisions: per-class thresholds or prior correction tuned on "
                               "val, applied to test"),
    "retrain": ("retrain", "retrain a classifier head on frozen features (joint, cRT, LWS, tau-norm, NCM) with "
                           "long-tail losses"),
    "augment": ("augment", "tail-aware copy-paste (and photometric augmentation) of a COCO / LVIS dataset, written as "
                           "a new dataset"),
    "convert": ("convert", "stream scores, labels, COCO / LVIS ground truth or results into partitioned Parquet for --dask"),
    "workspace": ("workspace", "list workspaces, show what one holds, evaluate a run kept in one"),
    "app": ("app", "start the Tailscope app in the browser (Streamlit), optionally on a workspace folder"),
}
SUBCOMMAND_MODULES = [m for m, _ in SUBCOMMANDS.values()]
REPORT_URL = "the Tailscope issue tracker"


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (no page of usage), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def _command_of(argv: list[str]) -> str | None:
    for a in argv:
        if not a.startswith("-"):
            return a
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s module is imported (all modules when ``command`` is None)."""
    prog = os.environ.get("TAILSCOPE_PROG", "python -m lt_core")
    parser = _Parser(prog=prog, description="Tailscope: see and fix the tail of long-tailed (class-imbalanced) data.")
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", parser_class=_Parser)
    for name, (mod_name, help_line) in SUBCOMMANDS.items():
        if command is not None and name != command:
            sub.add_parser(name, help=help_line, add_help=False)
            continue
        mod = importlib.import_module(f"{__name__}.{mod_name}")
        p = sub.add_parser(name, help=help_line, description=getattr(mod, "DESCRIPTION", mod.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run, _io=getattr(mod, "io_paths", None),
                       _extra=bool(getattr(mod, "ACCEPTS_EXTRA", False)))
    return parser


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())[:500]


def _os_error(e: OSError) -> str:
    """One line for an OSError, naming the file a user gave (never a temporary sibling of it)."""
    from ..io import user_path

    what = user_path(e.filename) if e.filename else ""
    text = e.strerror or _one_line(e)
    return f"{what}{': ' if what else ''}{text}"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("TAILSCOPE_DEBUG") == "1"
    try:
        command = _command_of(argv)
        parser = build_parser(command if command in SUBCOMMANDS else None)
        try:
            args, extra = parser.parse_known_args(argv)
            if extra:
                if not getattr(args, "_extra", False):
                    parser.parse_args(argv)  # the one-line usage error for the unknown options
                args.extra = extra  # e.g. `app --server.port 8502`: options for streamlit
        except SystemExit as e:  # --help (0) or a one-line usage error (2): a return code, in-process too
            return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        if args._io is not None:
            from ..io import guard_outputs

            guard_outputs(args._io(args))
        from ..memory import no_hugepage_madvise

        no_hugepage_madvise()  # large fresh arrays without page compaction stalls (lt_core.memory)
        return int(args._run(args) or 0)
    except InputError as e:
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return 2
    except OSError as e:  # a file that vanished, a folder that became read-only, a full disk...
        print(f"error: {_os_error(e)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: out of memory (the input is larger than this machine can hold; shard it or use a "
              "machine with more memory)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # the boundary: one line, never a traceback
        if debug:
            raise
        print(f"error: unexpected {type(e).__name__}: {_one_line(e)} — this is a Tailscope bug; please report it "
              f"to {REPORT_URL} with the command line (TAILSCOPE_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


def main_entry() -> int:
    """The installed ``tailscope`` command: :func:`main` under that name."""
    os.environ.setdefault("TAILSCOPE_PROG", "tailscope")
    return main()
