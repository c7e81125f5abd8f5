"""Tailscope engine: see and fix the tail of long-tailed data. Never imports Streamlit.

Subpackages: ``data`` (schema, loaders, demos), ``bins``, ``plots``, and one per capability
(``distribution``, ``metrics``, ``detection``, ``rebalance``, ``posthoc``, ``heads``).
"""
from .bins import NO_DATA, BinScheme, assign_bins, parse_bins
from .errors import InputError
from . import posthoc  # noqa: E402,F401
from . import rebalance  # noqa: E402,F401
from . import distribution, metrics  # noqa: E402,F401
from . import detection  # noqa: E402,F401

__version__ = "0.1.0"
__all__ = ["NO_DATA", "BinScheme", "assign_bins", "parse_bins", "InputError", "__version__"]
