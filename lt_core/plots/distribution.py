"""Figures of the class distribution (plotly): the long tail, Lorenz curve, bins, effective number."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..distribution.stats import gini, lorenz_curve
from ..distribution.summary import DistributionSummary
from .colors import RUN_COLORS, bin_color, template

__all__ = ["long_tail_chart", "split_comparison_chart", "lorenz_chart", "bin_share_chart",
           "effective_number_chart"]

_SPLIT_COLORS = {"train": "#444444", "val": "#17becf", "test": "#9467bd"}


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=60, r=20, t=50, b=50),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
                      **template())
    return fig


def long_tail_chart(summary: DistributionSummary, split: str = "train", log: bool = True) -> go.Figure:
    """Classes sorted by train count (head on the left), one bar per class coloured by bin.

    Parameters
    ----------
    summary : DistributionSummary
    split : str
        Which split's counts to draw (the order is always by train count).
    log : bool
        Logarithmic count axis (the default: tails span orders of magnitude).
    """
    pc = summary.per_class
    col = f"{split}_count"
    fig = go.Figure()
    for name in summary.scheme.order(pc["bin"].to_numpy()):
        d = pc[pc["bin"] == name]
        y = d[col].to_numpy(dtype=float)
        if log:
            y = np.where(y > 0, y, np.nan)  # 0 cannot be drawn on a log axis; hover still says 0
        fig.add_trace(go.Bar(
            x=d["rank"], y=y, name=f"{name} ({len(d):,})", marker_color=bin_color(name, summary.scheme),
            marker_line_width=0,
            customdata=np.stack([d["name"], d["class_id"], d["train_count"], d[col]], axis=1),
            hovertemplate="<b>%{customdata[0]}</b> (id %{customdata[1]})<br>rank %{x}<br>"
                          f"{split}: " + "%{customdata[3]:,}<br>train: %{customdata[2]:,}<extra>" + name + "</extra>"))
    fig.update_xaxes(title="class rank by train count (head → tail)")
    fig.update_yaxes(title=f"{split} samples", type="log" if log else "linear", dtick=1 if log else None)
    fig.update_layout(bargap=0)
    return _layout(fig, f"The long tail: {split} samples per class")


def split_comparison_chart(summary: DistributionSummary, splits: list[str] | None = None) -> go.Figure:
    """Train and the other splits per class, in train-count order, on a log axis."""
    pc = summary.per_class
    splits = splits or [c[:-6] for c in pc.columns if c.endswith("_count")]
    fig = go.Figure()
    for s in splits:
        y = pc[f"{s}_count"].to_numpy(dtype=float)
        fig.add_trace(go.Scatter(
            x=pc["rank"], y=np.where(y > 0, y, np.nan), mode="lines" if len(pc) > 60 else "lines+markers",
            name=s, line=dict(color=_SPLIT_COLORS.get(s, RUN_COLORS[len(fig.data) % len(RUN_COLORS)]), width=2),
            customdata=np.stack([pc["name"], pc["bin"], pc[f"{s}_count"]], axis=1),
            hovertemplate="<b>%{customdata[0]}</b> (%{customdata[1]})<br>rank %{x}<br>" + s
                          + ": %{customdata[2]:,}<extra></extra>"))
    fig.update_xaxes(title="class rank by train count (head → tail)")
    fig.update_yaxes(title="samples per class", type="log", dtick=1)
    return _layout(fig, "Train vs " + " / ".join(s for s in splits if s != "train") + ": samples per class")


def lorenz_chart(counts: dict[str, np.ndarray]) -> go.Figure:
    """Cumulative share of samples vs share of classes (rarest first), one curve per split, Gini in the legend."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="balanced (Gini 0)",
                             line=dict(color="#bbbbbb", dash="dash"), hoverinfo="skip"))
    for s, c in counts.items():
        x, y = lorenz_curve(c)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=f"{s} (Gini {gini(c):.3f})",
                                 line=dict(color=_SPLIT_COLORS.get(s, "#1f77b4"), width=2),
                                 hovertemplate="rarest %{x:.1%} of classes hold %{y:.1%} of samples<extra>" + s
                                               + "</extra>"))
    fig.update_xaxes(title="share of classes (rarest first)", tickformat=".0%", range=[0, 1])
    fig.update_yaxes(title="share of samples", tickformat=".0%", range=[0, 1])
    return _layout(fig, "Lorenz curve", height=380)


def bin_share_chart(summary: DistributionSummary) -> go.Figure:
    """Per bin: share of classes and share of samples of each split (grouped bars, bin colours)."""
    b = summary.bins
    groups = ["share_classes"] + [c for c in b.columns if c.endswith("_share")]
    labels = {"share_classes": "classes"} | {c: f"{c[:-6]} samples" for c in groups[1:]}
    fig = go.Figure()
    for name, row in b.iterrows():
        fig.add_trace(go.Bar(
            x=[labels[g] for g in groups], y=[row[g] for g in groups], name=name,
            marker_color=bin_color(name, summary.scheme),
            customdata=[int(row["n_classes"])] + [int(row[g.replace("_share", "_samples")]) for g in groups[1:]],
            text=[f"{row[g]:.1%}" for g in groups], textposition="outside",
            hovertemplate=f"<b>{name}</b><br>" + "%{x}: %{y:.1%} (%{customdata:,})<extra></extra>"))
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_yaxes(title="share", tickformat=".0%", rangemode="tozero")
    return _layout(fig, "What each bin holds: classes vs samples")


def effective_number_chart(summary: DistributionSummary) -> go.Figure:
    """Train count and effective number of samples per class (Cui et al. 2019), log axis."""
    pc = summary.per_class
    fig = go.Figure()
    for name in summary.scheme.order(pc["bin"].to_numpy()):
        d = pc[pc["bin"] == name]
        fig.add_trace(go.Scatter(
            x=d["rank"], y=np.where(d["train_count"] > 0, d["train_count"], np.nan), mode="markers",
            name=f"{name}: n", marker=dict(color=bin_color(name, summary.scheme), size=5, opacity=0.5),
            customdata=np.stack([d["name"], d["train_count"], d["effective_number"]], axis=1),
            hovertemplate="<b>%{customdata[0]}</b><br>n = %{customdata[1]:,}<br>E_n = %{customdata[2]:,.1f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=pc["rank"], y=np.where(pc["effective_number"] > 0, pc["effective_number"], np.nan), mode="lines",
        name=f"effective number E_n (β = {summary.beta:g})", line=dict(color="#222222", width=2),
        customdata=np.stack([pc["name"], pc["effective_number"]], axis=1),
        hovertemplate="<b>%{customdata[0]}</b><br>E_n = %{customdata[1]:,.1f}<extra></extra>"))
    fig.update_xaxes(title="class rank by train count (head → tail)")
    fig.update_yaxes(title="samples (log)", type="log", dtick=1)
    return _layout(fig, "Effective number of samples (Cui et al. 2019)")
