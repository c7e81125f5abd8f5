"""Figures of re-weighting and re-sampling (plotly): weights, effective number, expected vs drawn
class distributions, repeat factors, SMOTE counts and the PCA view of synthetic samples.

Classes are always sorted by train count, head on the left; count axes are logarithmic; bins have
their fixed colours (:mod:`lt_core.plots.colors`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..bins import BinScheme, parse_bins
from ..rebalance.weights import effective_number
from .colors import RUN_COLORS, bin_color, template

__all__ = ["weights_chart", "effective_number_curves", "weighted_share_chart", "resampling_chart",
           "repeat_factor_chart", "image_factor_histogram", "smote_counts_chart", "smote_pca_chart"]

_GREY = "#9e9e9e"


def _layout(fig: go.Figure, title: str, height: int = 380, legend_below: bool = False) -> go.Figure:
    legend = (dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0) if legend_below else
              dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1))
    fig.update_layout(title=title, height=height + (60 if legend_below else 0), **template(),
                      margin=dict(l=60, r=20, t=60, b=50 + (60 if legend_below else 0)), legend=legend)
    return fig


def _by_bin(bins, scheme: str | BinScheme):
    sch = parse_bins(scheme)
    b = np.asarray(bins, dtype=object)
    for name in sch.order(b):
        yield name, b == name, bin_color(name, sch)


def weights_chart(counts, weights, bins, scheme: str | BinScheme, names=None, *, title: str | None = None
                  ) -> go.Figure:
    """Weight per class against its train count (log-log), one colour per bin.

    Parameters
    ----------
    counts, weights : array (C,)
    bins : array (C,) of bin names (from train counts)
    """
    n = np.asarray(counts, dtype=float)
    w = np.asarray(weights, dtype=float)
    names = np.asarray([str(i) for i in range(len(n))] if names is None else names, dtype=object)
    fig = go.Figure()
    for name, m, col in _by_bin(bins, scheme):
        m = m & (n > 0)
        if not m.any():
            continue
        fig.add_trace(go.Scatter(x=n[m], y=w[m], mode="markers", name=name, marker=dict(color=col, size=8),
                                 text=names[m], hovertemplate="%{text}<br>n=%{x:,}<br>weight=%{y:.4g}<extra></extra>"))
    fig.add_hline(y=1.0, line=dict(color=_GREY, dash="dot"), annotation_text="uniform (1)",
                  annotation_position="bottom left")
    fig.update_xaxes(type="log", title="train samples per class (log; head on the left)", autorange="reversed")
    fig.update_yaxes(type="log", title="class weight (log; weights sum to C)")
    return _layout(fig, title or "Weight per class vs train count")


def effective_number_curves(counts, betas, current_beta: float | None = None, bins=None,
                            scheme: str | BinScheme | None = None) -> go.Figure:
    """E_n = (1 - beta^n) / (1 - beta) against n for several beta (log-log), classes marked on the current curve."""
    n = np.asarray(counts, dtype=float)
    hi = max(float(n.max()), 10.0)
    grid = np.unique(np.round(np.logspace(0, np.log10(hi), 200)))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=grid, y=grid, mode="lines", name="E = n (beta → 1)",
                             line=dict(color=_GREY, dash="dot")))
    for i, b in enumerate(betas):
        fig.add_trace(go.Scatter(x=grid, y=effective_number(grid, b), mode="lines", name=f"β = {b:g}",
                                 line=dict(color=RUN_COLORS[i % len(RUN_COLORS)],
                                           width=3 if current_beta is not None and b == current_beta else 1.5)))
    if current_beta is not None and bins is not None and scheme is not None:
        e = effective_number(n, current_beta)
        for name, m, col in _by_bin(bins, scheme):
            m = m & (n > 0)
            if m.any():
                fig.add_trace(go.Scatter(x=n[m], y=e[m], mode="markers", name=f"{name} classes",
                                         marker=dict(color=col, size=7, line=dict(color="white", width=0.5)),
                                         hovertemplate="n=%{x:,}<br>E=%{y:.4g}<extra></extra>"))
    fig.update_xaxes(type="log", title="train samples n (log)")
    fig.update_yaxes(type="log", title="effective number E_n (log)")
    return _layout(fig, "Effective number of samples (Cui et al. 2019)", legend_below=True)


def weighted_share_chart(share: pd.DataFrame, scheme: str | BinScheme) -> go.Figure:
    """Share of samples vs share of the weighted loss per bin (from :func:`bin_weight_share`)."""
    sch = parse_bins(scheme)
    cols = [bin_color(b, sch) for b in share["bin"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=share["bin"], y=100 * share["sample_share"], name="share of samples (unweighted)",
                         marker=dict(color=cols, opacity=0.35), texttemplate="%{y:.1f}%", textposition="outside"))
    fig.add_trace(go.Bar(x=share["bin"], y=100 * share["weighted_share"], name="share of the weighted loss",
                         marker=dict(color=cols), texttemplate="%{y:.1f}%", textposition="outside"))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="% of the loss mass", rangemode="tozero")
    return _layout(fig, "Weighted share of each bin", height=320, legend_below=True)


def resampling_chart(counts, expected, drawn, bins, scheme: str | BinScheme, names=None,
                     title: str | None = None, sort_by=None) -> go.Figure:
    """Per class (sorted by train count, head left): original count, exact expectation after
    re-sampling, and the counts of one epoch actually drawn (log axis).

    ``sort_by`` (C,) orders the classes when the bars are not the train counts themselves
    (e.g. detection: images in the file, ordered by the category table's train image count).
    """
    n = np.asarray(counts, dtype=float)
    e = np.asarray(expected, dtype=float)
    d = None if drawn is None else np.asarray(drawn, dtype=float)
    names = np.asarray([str(i) for i in range(len(n))] if names is None else names, dtype=object)
    order = np.argsort(-(n if sort_by is None else np.asarray(sort_by, dtype=float)), kind="stable")
    x = np.arange(len(n))
    b = np.asarray(bins, dtype=object)[order]
    fig = go.Figure()
    for name, m, col in _by_bin(b, scheme):
        fig.add_trace(go.Bar(x=x[m], y=n[order][m], name=f"{name}: original", marker=dict(color=col, opacity=0.35),
                             customdata=names[order][m], hovertemplate="%{customdata}<br>original %{y:,}<extra></extra>"))
    many = len(n) > 60
    fig.add_trace(go.Scatter(x=x, y=e[order], mode="markers" if many else "lines", name="expected after (exact)",
                             line=dict(color="#222222", width=2), marker=dict(color="#222222", size=4),
                             customdata=names[order], hovertemplate="%{customdata}<br>expected %{y:,.1f}<extra></extra>"))
    if d is not None:
        fig.add_trace(go.Scatter(x=x, y=d[order], mode="markers", name="one seeded epoch (drawn)",
                                 marker=dict(color="#6a3d9a", symbol="x", size=3 if many else 6,
                                             opacity=0.45 if many else 1.0),
                                 customdata=names[order], hovertemplate="%{customdata}<br>drawn %{y:,}<extra></extra>"))
    fig.update_layout(barmode="overlay", bargap=0.1)
    ticks = dict(tickmode="array", tickvals=x, ticktext=names[order]) if len(n) <= 40 else dict(showticklabels=False)
    fig.update_xaxes(title="classes, sorted by train count (head left)", **ticks)
    fig.update_yaxes(type="log", title="samples per epoch (log)")
    return _layout(fig, title or "Class distribution after re-sampling", height=420)


def repeat_factor_chart(image_fraction, category_factors, threshold: float, bins, scheme: str | BinScheme,
                        names=None) -> go.Figure:
    """Category repeat factor r(c) against the image fraction f(c) (log x), with the threshold t."""
    f = np.asarray(image_fraction, dtype=float)
    r = np.asarray(category_factors, dtype=float)
    names = np.asarray([str(i) for i in range(len(f))] if names is None else names, dtype=object)
    fig = go.Figure()
    for name, m, col in _by_bin(bins, scheme):
        m = m & (f > 0)
        if m.any():
            fig.add_trace(go.Scatter(x=f[m], y=r[m], mode="markers", name=name, marker=dict(color=col, size=6),
                                     text=names[m], hovertemplate="%{text}<br>f=%{x:.3g}<br>r=%{y:.3f}<extra></extra>"))
    fig.add_vline(x=threshold, line=dict(color=_GREY, dash="dot"), annotation_text=f"t = {threshold:g}")
    fig.update_xaxes(type="log", title="f(c): fraction of training images with the category (log)",
                     exponentformat="power")
    fig.update_yaxes(title="r(c) = max(1, √(t / f(c)))")
    return _layout(fig, "Category repeat factors (Gupta et al. 2019)")


def image_factor_histogram(image_factors) -> go.Figure:
    """How many images get each repeat factor (log count axis)."""
    r = np.asarray(image_factors, dtype=float)
    fig = go.Figure(go.Histogram(x=r, nbinsx=40, marker=dict(color=RUN_COLORS[0]), name="images"))
    fig.update_xaxes(title="image repeat factor")
    fig.update_yaxes(type="log", title="images (log)")
    return _layout(fig, "Image repeat factors", height=320)


def smote_counts_chart(before, after, bins, scheme: str | BinScheme, names=None) -> go.Figure:
    """Samples per class before and after over-sampling (sorted by train count, log axis)."""
    n0 = np.asarray(before, dtype=float)
    n1 = np.asarray(after, dtype=float)
    names = np.asarray([str(i) for i in range(len(n0))] if names is None else names, dtype=object)
    order = np.argsort(-n0, kind="stable")
    b = np.asarray(bins, dtype=object)[order]
    fig = go.Figure()
    for name, m, col in _by_bin(b, scheme):
        fig.add_trace(go.Bar(x=names[order][m], y=n1[order][m], name=f"{name}: after", marker=dict(color=col, opacity=0.35),
                             hovertemplate="%{x}<br>after %{y:,}<extra></extra>"))
        fig.add_trace(go.Bar(x=names[order][m], y=n0[order][m], name=f"{name}: real", marker=dict(color=col),
                             hovertemplate="%{x}<br>real %{y:,}<extra></extra>"))
    fig.update_layout(barmode="overlay", bargap=0.1)
    fig.update_xaxes(title="classes, sorted by train count (head left)", categoryorder="array",
                     categoryarray=names[order].tolist())
    fig.update_yaxes(type="log", title="samples (log)")
    return _layout(fig, "Samples per class: real (solid) and after over-sampling (light)", height=400)


def smote_pca_chart(view: pd.DataFrame, class_name: str) -> go.Figure:
    """Real vs synthetic samples of one class on the real samples' first two principal axes."""
    fig = go.Figure()
    # synthetic first, real on top (there are usually far fewer real points)
    for kind, col, sym, size, op in (("synthetic", RUN_COLORS[1], "x", 5, 0.45), ("real", RUN_COLORS[0], "circle", 9, 1.0)):
        d = view[view["kind"] == kind]
        if len(d):
            fig.add_trace(go.Scatter(x=d["pc1"], y=d["pc2"], mode="markers", name=f"{kind} ({len(d):,})",
                                     marker=dict(color=col, symbol=sym, size=size, opacity=op,
                                                 line=dict(color="#222222", width=1) if kind == "real" else None)))
    fig.update_xaxes(title="PC 1 (of the real samples)")
    fig.update_yaxes(title="PC 2")
    return _layout(fig, f"'{class_name}': real vs synthetic samples (2-D PCA)", height=420)
