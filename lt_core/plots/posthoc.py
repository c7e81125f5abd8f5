"""Figures of post-hoc fixes (plotly): the tau sweep (head-tail trade-off), per-class recall
before / after, and per-class thresholds. Bin colours from :mod:`lt_core.plots.colors`."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..bins import BinScheme, parse_bins
from .colors import bin_color, template

__all__ = ["tau_sweep_chart", "tradeoff_chart", "class_recall_change_chart", "thresholds_chart"]


def _layout(fig: go.Figure, title: str, height: int = 400) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=60, r=20, t=50, b=40), **template(),
                      legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0))
    return fig


def _bins_of(table: pd.DataFrame) -> list[str]:
    return [c[4:] for c in table.columns if c.startswith("acc ") and table[c].notna().any()]


def tau_sweep_chart(table: pd.DataFrame, scheme: str | BinScheme, chosen_tau: float | None = None,
                    current_tau: float | None = None, split: str = "val", objective: str | None = None,
                    method: str = "logit adjustment") -> go.Figure:
    """Per-bin accuracy (mean per-class recall) against tau, one line per bin in its colour.

    ``table`` is :func:`lt_core.posthoc.sweep_table`. The chosen tau gets a star on every bin
    line, the slider's tau a dotted vertical line. Balanced accuracy is the grey dashed line.
    """
    sch = parse_bins(scheme)
    fig = go.Figure()
    for b in _bins_of(table):
        fig.add_trace(go.Scatter(x=table["tau"], y=table[f"acc {b}"], mode="lines", name=b,
                                 line=dict(color=bin_color(b, sch), width=2.5),
                                 hovertemplate=f"<b>{b}</b><br>τ %{{x:.2f}}<br>accuracy %{{y:.1%}}<extra>{split}</extra>"))
    fig.add_trace(go.Scatter(x=table["tau"], y=table["balanced_accuracy"], mode="lines", name="balanced accuracy",
                             line=dict(color="#555555", dash="dash", width=1.5),
                             hovertemplate="balanced accuracy %{y:.1%}<br>tau %{x:.2f}<extra></extra>"))
    if chosen_tau is not None:
        row = table.iloc[int(np.argmin(np.abs(table["tau"].to_numpy() - chosen_tau)))]
        bins = _bins_of(table)
        fig.add_trace(go.Scatter(
            x=[row["tau"]] * len(bins), y=[row[f"acc {b}"] for b in bins], mode="markers",
            name=f"chosen τ = {row['tau']:.2f}" + (f" ({objective})" if objective else ""),
            marker=dict(symbol="star", size=15, color=[bin_color(b, sch) for b in bins],
                        line=dict(color="black", width=1)),
            hovertemplate="chosen tau %{x:.2f}<br>%{y:.1%}<extra></extra>"))
    if current_tau is not None:
        fig.add_vline(x=float(current_tau), line=dict(color="#333333", dash="dot", width=1.5),
                      annotation_text=f"slider τ = {current_tau:.2f}", annotation_position="top")
    fig.update_xaxes(title=f"τ ({method}; 0 = unadjusted)")
    fig.update_yaxes(title=f"accuracy per bin on {split} (mean per-class recall)", tickformat=".0%",
                     rangemode="tozero")
    return _layout(fig, f"Head-tail trade-off: accuracy per bin against τ ({split} split)", 430)


def tradeoff_chart(table: pd.DataFrame, head_bin: str, tail_bin: str, scheme: str | BinScheme,
                   chosen_tau: float | None = None, split: str = "val") -> go.Figure:
    """Tail-bin accuracy against head-bin accuracy as tau grows (each point a tau)."""
    sch = parse_bins(scheme)
    fig = go.Figure(go.Scatter(
        x=table[f"acc {head_bin}"], y=table[f"acc {tail_bin}"], mode="lines+markers", name="τ sweep",
        marker=dict(color=table["tau"], colorscale="Viridis", size=7, colorbar=dict(title="τ", thickness=12)),
        line=dict(color="#bbbbbb"), customdata=table["tau"],
        hovertemplate="tau %{customdata:.2f}<br>" + head_bin + " %{x:.1%}<br>" + tail_bin + " %{y:.1%}<extra></extra>"))
    if chosen_tau is not None:
        row = table.iloc[int(np.argmin(np.abs(table["tau"].to_numpy() - chosen_tau)))]
        fig.add_trace(go.Scatter(x=[row[f"acc {head_bin}"]], y=[row[f"acc {tail_bin}"]], mode="markers",
                                 name=f"chosen τ = {row['tau']:.2f}",
                                 marker=dict(symbol="star", size=16, color="black")))
    fig.update_xaxes(title=f"{head_bin} accuracy ({split})", tickformat=".0%", color=bin_color(head_bin, sch))
    fig.update_yaxes(title=f"{tail_bin} accuracy ({split})", tickformat=".0%", color=bin_color(tail_bin, sch))
    return _layout(fig, f"Tail vs head accuracy as τ grows ({split})", 430)


def class_recall_change_chart(train_counts: np.ndarray, names, bins: np.ndarray, scheme: str | BinScheme,
                              recall_before: np.ndarray, recall_after: np.ndarray, support: np.ndarray | None = None,
                              split: str = "test", tau: float | None = None, min_support: int = 5,
                              class_ids: np.ndarray | None = None) -> go.Figure:
    """Per-class recall before (hollow grey) and after (filled, bin colour) against train count (log x).

    A thin line joins the two points of a class; classes with fewer than ``min_support`` samples
    on the split are faded. With ``class_ids``, each marker's last ``customdata`` column is its
    class id (what a click on it selects).
    """
    sch = parse_bins(scheme)
    x = np.asarray(train_counts, dtype=float)
    x = np.where(x > 0, x, 0.8)
    names = np.asarray(names, dtype=object)
    bins = np.asarray(bins, dtype=object)
    sup = np.zeros(len(x), int) if support is None else np.asarray(support)
    low = sup < min_support if support is not None else np.zeros(len(x), bool)
    cid = np.asarray(class_ids, dtype=object) if class_ids is not None else np.arange(len(x)).astype(object)
    fig = go.Figure()
    xs, ys = [], []
    for i in range(len(x)):
        if recall_before[i] == recall_before[i]:
            xs += [x[i], x[i], None]
            ys += [recall_before[i], recall_after[i], None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="#bbbbbb", width=1), showlegend=False,
                               hoverinfo="skip"))
    fig.add_trace(go.Scattergl(x=x, y=recall_before, mode="markers", name="before (τ = 0)",
                               marker=dict(symbol="circle-open", color="#777777", size=7),
                               customdata=np.stack([names, bins, sup, cid], 1),
                               hovertemplate="<b>%{customdata[0]}</b> (%{customdata[1]})<br>train %{x:,}"
                                             "<br>recall before %{y:.1%}<extra></extra>"))
    order = [b for b in sch.order(bins)]
    for b in order:
        m = bins == b
        fig.add_trace(go.Scattergl(
            x=x[m], y=recall_after[m], mode="markers", name=f"after: {b}",
            marker=dict(color=bin_color(b, sch), size=8, opacity=np.where(low[m], 0.3, 0.9)),
            customdata=np.stack([names[m], sup[m], cid[m]], 1),
            hovertemplate="<b>%{customdata[0]}</b> (" + b + ")<br>train %{x:,} · " + split +
                          " %{customdata[1]:,}<br>recall after %{y:.1%}<extra></extra>"))
    fig.update_xaxes(title="train samples of the class (log; head on the left)", type="log", dtick=1,
                     autorange="reversed")
    fig.update_yaxes(title=f"per-class recall on {split}", tickformat=".0%", range=[-0.03, 1.03])
    t = f" at τ = {tau:.2f}" if tau is not None else ""
    return _layout(fig, f"Per-class recall before and after{t} ({split})", 420)


def thresholds_chart(table: pd.DataFrame, scheme: str | BinScheme, split: str = "test",
                     metric: str = "recall") -> go.Figure:
    """Per-class ``metric`` at the chosen thresholds against train count (log x), bin colours.

    ``table`` needs columns ``name``, ``train_count``, ``bin`` and ``metric`` (and ``target`` to
    draw each class's target as a dash).
    """
    sch = parse_bins(scheme)
    fig = go.Figure()
    x = np.where(table["train_count"].to_numpy(float) > 0, table["train_count"].to_numpy(float), 0.8)
    for b in sch.order(table["bin"].to_numpy()):
        m = (table["bin"] == b).to_numpy()
        fig.add_trace(go.Scattergl(x=x[m], y=table.loc[m, metric], mode="markers", name=b,
                                   marker=dict(color=bin_color(b, sch), size=8),
                                   customdata=table.loc[m, ["name"]].to_numpy(),
                                   hovertemplate="<b>%{customdata[0]}</b><br>train %{x:,}<br>" + metric +
                                                 " %{y:.1%}<extra>" + b + "</extra>"))
    if "target" in table and table["target"].notna().any():
        fig.add_trace(go.Scattergl(x=x, y=table["target"], mode="markers", name="target",
                                   marker=dict(symbol="line-ew-open", size=12, color="#333333")))
    fig.update_xaxes(title="train samples of the class (log; head on the left)", type="log", dtick=1,
                     autorange="reversed")
    fig.update_yaxes(title=f"{metric} on {split}", tickformat=".0%", range=[-0.03, 1.03])
    return _layout(fig, f"Per-class {metric} at the tuned thresholds ({split})", 400)
