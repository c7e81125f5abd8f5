"""Fixed colours: one per bin role and one per run, the same in the app and notebooks."""
from __future__ import annotations

from ..bins import NO_DATA, BinScheme, parse_bins

__all__ = ["BIN_ROLE_COLORS", "bin_color", "bin_color_map", "run_color", "RUN_COLORS", "TEMPLATE", "template"]

#: The plotly template lt_core's figures carry (notebooks, exports). The app sets it to None at start:
#: Streamlit draws every chart in its own theme, so a template there is only bytes to build and send
#: (about 14 ms per figure).
TEMPLATE: str | None = "plotly_white"


def template() -> dict:
    """``{"template": TEMPLATE}`` for ``fig.update_layout(**template())``, or ``{}`` when it is None."""
    return {"template": TEMPLATE} if TEMPLATE else {}

# head / many / frequent, medium / common, tail / few / rare, and "no training data"
BIN_ROLE_COLORS = {
    "head": "#1f77b4",    # blue
    "medium": "#ff9f1c",  # amber
    "tail": "#d62728",    # red
    "none": "#9e9e9e",    # grey: no training data
}
_MIDS = ["#ff9f1c", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]

RUN_COLORS = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#eeca3b",
              "#9d755d", "#bab0ac", "#ff9da6"]


def bin_color(name: str, scheme: str | BinScheme) -> str:
    """Colour of a bin name under a scheme (head blue, medium amber, tail red, none grey)."""
    sch = parse_bins(scheme)
    if name == NO_DATA:
        return BIN_ROLE_COLORS["none"]
    role = sch.role(name)
    if role in BIN_ROLE_COLORS:
        return BIN_ROLE_COLORS[role]
    return _MIDS[(int(role[3:]) - 1) % len(_MIDS)]


def bin_color_map(scheme: str | BinScheme) -> dict[str, str]:
    """{bin name: colour} for every bin of the scheme, ``NO_DATA`` included."""
    sch = parse_bins(scheme)
    return {n: bin_color(n, sch) for n in sch.order()}


def run_color(run_names: list[str], name: str) -> str:
    """Stable colour of a run: by its position among the runs in the order they were added."""
    return RUN_COLORS[list(run_names).index(name) % len(RUN_COLORS)]
