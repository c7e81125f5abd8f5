"""Where ``--examples N`` writes, next to ``--out`` (shared by ``eval-cls`` and ``eval-det``)."""
from __future__ import annotations

from pathlib import Path

__all__ = ["examples_paths", "EXAMPLES_HELP"]

EXAMPLES_HELP = ("also write the N worst examples of every class next to --out (OUT_examples.json, "
                 "OUT_examples.csv)")


def examples_paths(out: str) -> tuple[str, str]:
    """The files ``--examples`` writes next to ``--out``: ``<stem>_examples.json`` / ``.csv``
    (``report.json`` -> ``report_examples.json``, ``report_examples.csv``)."""
    p = Path(out)
    stem = p.name[:-len(".json")] if p.name.lower().endswith(".json") else p.name
    return str(p.with_name(f"{stem}_examples.json")), str(p.with_name(f"{stem}_examples.csv"))
