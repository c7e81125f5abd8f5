"""Plotly figures built from lt_core results (no Streamlit): the app and notebooks share them."""
from .colors import BIN_ROLE_COLORS, RUN_COLORS, bin_color, bin_color_map, run_color
from . import distribution, metrics  # noqa: E402,F401  (issue 7 figures)
from . import rebalance  # noqa: E402,F401  (issue 3 figures)
from . import detection  # noqa: E402,F401  (issue 6 figures)
from . import posthoc  # noqa: E402,F401  (issue 4 figures)
from . import heads  # noqa: E402,F401  (issue 5 figures)
from . import multilabel  # noqa: E402,F401  (issue 13 figures)

__all__ = ["BIN_ROLE_COLORS", "RUN_COLORS", "bin_color", "bin_color_map", "run_color"]
