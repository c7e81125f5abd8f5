"""Tailscope engine: see and fix the tail of long-tailed data. Never imports Streamlit.

Subpackages: ``data`` (schema, loaders, demos), ``bins``, ``plots``, and one per capability
(``distribution``, ``metrics``, ``detection``, ``rebalance``, ``posthoc``, ``heads``). They are
imported on first use (``lt_core.metrics``), so the command line starts fast and torch is only
loaded by the code that needs it.
"""
from __future__ import annotations

import importlib
from typing import Any

from .bins import NO_DATA, BinScheme, assign_bins, parse_bins
from .errors import InputError

__version__ = "0.1.0"
SUBPACKAGES = ("data", "distribution", "metrics", "detection", "rebalance", "posthoc", "heads", "plots", "io",
               "workspace")
__all__ = ["NO_DATA", "BinScheme", "assign_bins", "parse_bins", "InputError", "__version__", *SUBPACKAGES]


def __getattr__(name: str) -> Any:
    if name in SUBPACKAGES:
        mod = importlib.import_module(f".{name}", __name__)
        globals()[name] = mod
        return mod
    raise AttributeError(f"module 'lt_core' has no attribute {name!r}")
