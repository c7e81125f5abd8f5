"""Figures of copy-paste augmentation (plotly): instances per bin and per class, before and after.

Bins have their fixed colours (:mod:`lt_core.plots.colors`); classes are sorted by train count, head
on the left; count axes are logarithmic.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..bins import BinScheme, parse_bins
from .colors import bin_color

__all__ = ["bin_counts_chart", "class_counts_chart"]


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(title=title, height=height, template="plotly_white", barmode="group",
                      margin=dict(l=60, r=20, t=60, b=50),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1))
    return fig


def _fade(hex_color: str, a: float = 0.35) -> str:
    c = hex_color.lstrip("#")
    r, g, b = int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
    return f"rgba({r},{g},{b},{a})"


def bin_counts_chart(per_bin: pd.DataFrame, scheme: str | BinScheme, *, after_col: str = "instances_after",
                     after_name: str = "after copy-paste", title: str | None = None) -> go.Figure:
    """Instances per bin before (faded) and after (solid), in the bin colours, log count axis.

    Parameters
    ----------
    per_bin : DataFrame with columns ``bin``, ``instances_before`` and ``after_col`` (one row per bin,
        head first), as :func:`lt_core.augment.pipeline.distribution_tables` or
        :func:`lt_core.augment.planned_distribution` give.
    """
    sch = parse_bins(scheme)
    df = per_bin.copy()
    df = df.set_index("bin").reindex(sch.order(df["bin"].to_numpy())).reset_index()
    cols = [bin_color(b, sch) for b in df["bin"]]
    before, after = df["instances_before"].to_numpy(float), df[after_col].to_numpy(float)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=df["bin"], y=before, name="before", marker=dict(color=[_fade(c) for c in cols],
                         line=dict(color=cols, width=1.5)), text=[f"{int(v):,}" for v in before],
                         textposition="outside", hovertemplate="%{x}: %{y:,} instances before<extra></extra>"))
    change = [f"{int(a):,} ({'+' if a >= b else ''}{(a - b) / b * 100 if b else 0:,.0f}%)"
              for a, b in zip(after, before)]
    fig.add_trace(go.Bar(x=df["bin"], y=after, name=after_name, marker=dict(color=cols), text=change,
                         textposition="outside", hovertemplate="%{x}: %{y:,} instances after<extra></extra>"))
    fig.update_yaxes(type="log", title="instances (log)")
    fig.update_xaxes(title="bin (by train images per class; head on the left)")
    return _layout(fig, title or "Instances per bin, before and after")


def class_counts_chart(dist: pd.DataFrame, scheme: str | BinScheme, *, after_col: str = "instances_after",
                       title: str | None = None, max_classes: int = 400) -> go.Figure:
    """Per class: instances before (grey markers) and after (bars in bin colours), head on the left, log axis.

    ``dist``: columns ``name``, ``bin``, ``train_images``, ``instances_before``, ``after_col``. Beyond
    ``max_classes`` classes, an even sample of the ranks is shown (the title says so).
    """
    sch = parse_bins(scheme)
    df = dist.sort_values(["train_images", "instances_before"], ascending=False, kind="stable").reset_index(drop=True)
    df = df[(df["instances_before"] > 0) | (df[after_col] > 0)]
    note = ""
    if len(df) > max_classes:
        keep = np.unique(np.linspace(0, len(df) - 1, max_classes).round().astype(int))
        df = df.iloc[keep]
        note = f" (every {len(dist) // max_classes}th class of {len(dist):,})"
    x = np.arange(len(df))
    fig = go.Figure()
    for b in sch.order(df["bin"].to_numpy()):
        m = (df["bin"] == b).to_numpy()
        fig.add_trace(go.Bar(x=x[m], y=df[after_col].to_numpy()[m], name=b, marker=dict(color=bin_color(b, sch)),
                             customdata=np.stack([df["name"].to_numpy()[m], df["instances_before"].to_numpy()[m]], 1),
                             hovertemplate="%{customdata[0]}<br>before %{customdata[1]:,}<br>after %{y:,}"
                                           "<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=df["instances_before"], mode="markers", name="before",
                             marker=dict(color="#444444", symbol="line-ew-open", size=10, line=dict(width=2)),
                             hoverinfo="skip"))
    fig.update_layout(bargap=0.1, barmode="overlay")
    fig.update_yaxes(type="log", title="instances (log)")
    fig.update_xaxes(title="classes by train images (head on the left)", showticklabels=len(df) <= 40,
                     tickvals=x if len(df) <= 40 else None, ticktext=df["name"] if len(df) <= 40 else None)
    out = _layout(fig, (title or "Instances per class, before and after") + note)
    out.update_layout(barmode="overlay")
    return out
