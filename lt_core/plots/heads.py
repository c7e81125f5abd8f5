"""Figures of head retraining (plotly): training curves and the τ-norm search.

Bin colours from :mod:`lt_core.plots.colors`; the per-bin comparison of runs is
:func:`lt_core.plots.metrics.bin_accuracy_chart`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..bins import BinScheme, parse_bins
from .colors import bin_color, template

__all__ = ["training_curves_chart", "tau_search_chart"]


def _layout(fig: go.Figure, title: str, height: int = 400) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=60, r=20, t=60, b=40), **template(),
                      legend=dict(orientation="h", yanchor="top", y=-0.15, xanchor="left", x=0))
    return fig


def training_curves_chart(history: pd.DataFrame, scheme: str | BinScheme, title: str = "Training curves",
                          split: str = "val") -> go.Figure:
    """Left: training loss per epoch. Right: accuracy per bin on ``split`` per epoch (bin colours),
    and ``all`` (mean per-class recall over every class) as a grey dashed line.

    ``history`` is :meth:`lt_core.heads.RetrainResult.history_frame` (columns ``epoch``, ``loss``,
    ``val_<bin>``, ``val_all``). A run without training (epoch 0 only) shows single points.
    """
    sch = parse_bins(scheme)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("training loss", f"accuracy per bin on {split}"),
                        horizontal_spacing=0.1)
    h = history if len(history) else pd.DataFrame({"epoch": [], "loss": []})
    mode = "lines+markers" if len(h) > 1 else "markers"
    if "loss" in h and h["loss"].notna().any():
        fig.add_trace(go.Scatter(x=h["epoch"], y=h["loss"], mode=mode, name="loss", line=dict(color="#333333"),
                                 hovertemplate="epoch %{x}<br>loss %{y:.4f}<extra></extra>"), row=1, col=1)
    else:
        fig.add_annotation(text="no training (closed form)", xref="x domain", yref="y domain", x=0.5, y=0.5,
                           showarrow=False, row=1, col=1)
    for b in sch.order():
        col = f"val_{b}"
        if col in h and h[col].notna().any():
            fig.add_trace(go.Scatter(x=h["epoch"], y=h[col], mode=mode, name=b, line=dict(color=bin_color(b, sch),
                                                                                        width=2.5),
                                     hovertemplate=f"<b>{b}</b><br>epoch %{{x}}<br>%{{y:.1%}}<extra>{split}</extra>"),
                          row=1, col=2)
    if "val_all" in h and h["val_all"].notna().any():
        fig.add_trace(go.Scatter(x=h["epoch"], y=h["val_all"], mode=mode, name="all (mean per-class recall)",
                                 line=dict(color="#777777", dash="dash"),
                                 hovertemplate="all %{y:.1%}<br>epoch %{x}<extra></extra>"), row=1, col=2)
    fig.update_xaxes(title="epoch", dtick=1 if len(h) <= 20 else None)
    fig.update_yaxes(title="loss", row=1, col=1, rangemode="tozero")
    fig.update_yaxes(title="accuracy (mean per-class recall)", tickformat=".0%", row=1, col=2, rangemode="tozero")
    return _layout(fig, title, 380)


def tau_search_chart(search: list[dict], tau: float, metric: str = "balanced-accuracy") -> go.Figure:
    """The validation metric of τ-norm against τ, with the chosen τ marked."""
    df = pd.DataFrame(search)
    fig = go.Figure(go.Scatter(x=df["tau"], y=df[metric], mode="lines+markers", name=metric,
                               line=dict(color="#555555"), hovertemplate="τ %{x:.1f}<br>%{y:.1%}<extra>val</extra>"))
    i = int(np.argmin(np.abs(df["tau"].to_numpy() - tau)))
    fig.add_trace(go.Scatter(x=[df["tau"][i]], y=[df[metric][i]], mode="markers", name=f"chosen τ = {tau:g}",
                             marker=dict(symbol="star", size=14, color="#d62728")))
    fig.update_xaxes(title="τ (0 = the joint classifier without bias, 1 = unit-norm rows)")
    fig.update_yaxes(title=f"{metric} on val", tickformat=".0%")
    fig = _layout(fig, "τ-norm: τ chosen on the validation split", 340)
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1))
    return fig
