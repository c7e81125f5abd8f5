"""Figures of detection evaluation (plotly): AP vs training frequency, AP per bin, PR curves,
stolen ground truth. Built from :mod:`lt_core.detection` results; AP drawn x 100."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..bins import BinScheme, parse_bins
from .colors import bin_color, run_color, template

__all__ = ["ap_vs_frequency_chart", "ap_by_bin_chart", "pr_curve_chart", "pr_by_bin_chart", "stealing_chart",
           "tide_chart", "ci_chart"]


def _layout(fig: go.Figure, title: str, height: int = 400) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=60, r=20, t=60, b=50), **template(),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1))
    return fig


def ap_vs_frequency_chart(per_class: dict[str, pd.DataFrame], scheme: str | BinScheme = "lvis",
                          run_names: list[str] | None = None,
                          x_label: str = "training images per class (log)") -> go.Figure:
    """Per-class AP (x 100) against training images per class (log x).

    Parameters
    ----------
    per_class : {results name: DetectionEvaluation.per_class}
        One results file: points coloured by frequency bin. Several: one colour per file.
    scheme : bin scheme of the colours (from ``image_count``)
    run_names : order of all runs (stable colours); default the dict order
    x_label : x-axis title (say where the counts come from when they are not train counts)
    """
    sch = parse_bins(scheme)
    names = list(run_names or per_class)
    fig = go.Figure()
    single = len(per_class) == 1
    for run, pc in per_class.items():
        d = pc[pc["AP"] >= 0]
        x = d["image_count"].to_numpy(dtype=float)
        x = np.where(x > 0, x, np.nan)
        cd = np.stack([d["name"].astype(str), d["category_id"], d["image_count"], d.get("n_gt", d["AP"] * 0),
                       np.full(len(d), run, dtype=object)], axis=1)  # [4]: the results file (a click's target)
        hov = ("<b>%{customdata[0]}</b> (id %{customdata[1]})<br>train images %{customdata[2]:,}<br>"
               "AP %{y:.1f}<br>eval instances %{customdata[3]:,}<extra>" + run + "</extra>")
        if single:
            bins = sch.assign(d["image_count"].to_numpy())
            for b in sch.order(bins):
                m = bins == b
                fig.add_trace(go.Scatter(x=x[m], y=100 * d["AP"].to_numpy()[m], mode="markers", name=f"{b} ({m.sum():,})",
                                         marker=dict(color=bin_color(b, sch), size=6, opacity=0.75),
                                         customdata=cd[m], hovertemplate=hov))
        else:
            fig.add_trace(go.Scatter(x=x, y=100 * d["AP"], mode="markers", name=run,
                                     marker=dict(color=run_color(names, run), size=6, opacity=0.6),
                                     customdata=cd, hovertemplate=hov))
    if sch.thresholds:
        for t in sch.thresholds:
            fig.add_vline(x=t - 0.5, line=dict(color="#bbbbbb", dash="dot", width=1))
    fig.update_xaxes(title=x_label + " (head on the left)", type="log", autorange="reversed")
    fig.update_yaxes(title="AP (IoU 0.50:0.95) × 100", range=[-2, 102])
    return _layout(fig, "Per-class AP vs " + ("training frequency" if "train" in x_label else "class frequency"))


def ap_by_bin_chart(by_bin: dict[str, pd.DataFrame], scheme: str | BinScheme = "lvis", metric: str = "AP",
                    run_names: list[str] | None = None, ci: dict | None = None,
                    x_label: str = "frequency bin (by training images)") -> go.Figure:
    """AP (x 100) per frequency bin, head bin first; bars in bin colours (one run) or run colours.

    ``by_bin``: {results name: :func:`lt_core.detection.ap_by_bin` table}. ``ci``: optional
    {results name: {bin: (low, high)}} drawn as error bars (95 % bootstrap intervals).
    """
    sch = parse_bins(scheme)
    names = list(run_names or by_bin)
    fig = go.Figure()
    single = len(by_bin) == 1
    for run, t in by_bin.items():
        t = t[t[metric] >= 0]
        cols = [bin_color(b, sch) for b in t["bin"]] if single else run_color(names, run)
        err = None
        if ci and run in ci:
            lo = np.array([ci[run].get(b, (np.nan, np.nan))[0] for b in t["bin"]], float)
            hi = np.array([ci[run].get(b, (np.nan, np.nan))[1] for b in t["bin"]], float)
            v = t[metric].to_numpy(float)
            err = dict(type="data", symmetric=False, array=100 * (hi - v), arrayminus=100 * (v - lo), color="#444")
        fig.add_trace(go.Bar(x=t["bin"], y=100 * t[metric], name=run, marker_color=cols, error_y=err,
                             text=[f"{100 * v:.1f}" for v in t[metric]], textposition="outside",
                             customdata=np.stack([t["n_classes"], t["n_evaluated"], t["bin"].to_numpy(dtype=object),
                                                  np.full(len(t), run, dtype=object)], axis=1),
                             hovertemplate="%{x}: " + metric + " %{y:.1f}<br>%{customdata[1]:,} of %{customdata[0]:,} "
                                           "classes have ground truth<extra>" + run + "</extra>"))
    fig.update_layout(barmode="group", showlegend=not single)
    fig.update_yaxes(title=f"{metric} × 100", rangemode="tozero")
    fig.update_xaxes(title=x_label)
    return _layout(fig, f"{metric} by frequency bin" + (" (95 % CI)" if ci else ""), height=360)



def _pr_axes(fig: go.Figure, title: str, y_title: str) -> go.Figure:
    """Recall / precision axes on [0, 1] and the legend inside the plot (the PR charts' shared frame)."""
    fig.update_xaxes(title="recall", range=[0, 1.01])
    fig.update_yaxes(title=y_title, range=[0, 1.02])
    _layout(fig, title, height=380)
    fig.update_layout(legend=dict(orientation="v", yanchor="bottom", y=0.02, xanchor="left", x=0.02,
                                  bgcolor="rgba(255,255,255,0.7)"))
    return fig

def pr_curve_chart(curves: dict[str, pd.DataFrame], title: str = "Precision-recall",
                   run_names: list[str] | None = None, raw: dict[str, pd.DataFrame] | None = None) -> go.Figure:
    """Interpolated PR curves (101 recall points), one line per results file.

    ``raw``: optional step curves (:func:`lt_core.detection.raw_pr_curve`) drawn thin and dotted.
    """
    names = list(run_names or curves)
    fig = go.Figure()
    for run, c in curves.items():
        col = run_color(names, run)
        ap = 100 * float(np.mean(c["precision"])) if len(c) else float("nan")
        fig.add_trace(go.Scatter(x=c["recall"], y=c["precision"], mode="lines", line=dict(color=col, width=2),
                                 name=f"{run} (AP {ap:.1f})", line_shape="hv",
                                 customdata=np.stack([np.full(len(c), np.nan), np.full(len(c), run, dtype=object)],
                                                     axis=1),
                                 hovertemplate="recall %{x:.2f}<br>precision %{y:.3f}<extra>" + run + "</extra>"))
        if raw and run in raw and len(raw[run]):
            r = raw[run]
            fig.add_trace(go.Scatter(x=r["recall"], y=r["precision"], mode="lines", showlegend=False,
                                     line=dict(color=col, width=1, dash="dot"),
                                     customdata=np.stack([r["score"].to_numpy(dtype=object),
                                                          np.full(len(r), run, dtype=object)], axis=1),
                                     hovertemplate="score ≥ %{customdata[0]:.3f}<br>recall %{x:.3f}<br>precision "
                                                   "%{y:.3f}<extra>" + run + " raw</extra>"))
    return _pr_axes(fig, title, "precision")


def pr_by_bin_chart(df: pd.DataFrame, scheme: str | BinScheme = "lvis", title: str = "Mean PR curve per bin") -> go.Figure:
    """Mean interpolated PR curve per frequency bin (:func:`lt_core.detection.pr_curves_by_bin`)."""
    sch = parse_bins(scheme)
    fig = go.Figure()
    for b in sch.order(df["bin"].to_numpy()):
        d = df[df["bin"] == b]
        ap = 100 * float(d["precision"].mean())
        fig.add_trace(go.Scatter(x=d["recall"], y=d["precision"], mode="lines", line_shape="hv",
                                 line=dict(color=bin_color(b, sch), width=2),
                                 name=f"{b} ({int(d['n_classes'].iloc[0]):,} classes, AP {ap:.1f})",
                                 hovertemplate="recall %{x:.2f}<br>precision %{y:.3f}<extra>" + b + "</extra>"))
    return _pr_axes(fig, title, "mean precision")


def stealing_chart(per_class: pd.DataFrame, scheme: str | BinScheme = "lvis", top: int = 20,
                   min_gt: int = 3) -> go.Figure:
    """The classes whose ground truth is most often stolen (covered by another class's detection
    and missed by their own), as horizontal bars coloured by bin; hover names the stealers.

    ``per_class``: :attr:`lt_core.detection.StealingResult.per_class`; classes with fewer than
    ``min_gt`` boxes are left out (a share of 1 box says little).
    """
    sch = parse_bins(scheme)
    d = per_class[per_class["n_gt"] >= min_gt].sort_values(["stolen_share", "n_gt"], ascending=[False, False]).head(top)
    d = d.iloc[::-1]
    bins = sch.assign(d["image_count"].to_numpy())
    fig = go.Figure(go.Bar(
        y=d["name"].astype(str), x=100 * d["stolen_share"], orientation="h",
        marker_color=[bin_color(b, sch) for b in bins],
        customdata=np.stack([d["n_gt"], d["top_stealers"], bins, 100 * d["found_share"], d["category_id"]], axis=1),
        hovertemplate="<b>%{y}</b> (%{customdata[2]})<br>stolen %{x:.1f}% of %{customdata[0]:,} boxes<br>"
                      "found by its own class %{customdata[3]:.1f}%<br>stealers: %{customdata[1]}<extra></extra>"))
    fig.update_xaxes(title="ground truth stolen by another class (%)", rangemode="tozero")
    return _layout(fig, f"Most stolen classes (≥ {min_gt} boxes)", height=max(320, 22 * len(d) + 120))


_TIDE_LABELS = {"Cls": "Cls: wrong class", "Loc": "Loc: poor box", "Both": "Both", "Dupe": "Dupe: duplicate",
                "Bkg": "Bkg: background", "Miss": "Miss: missed"}


def tide_chart(per_bin: pd.DataFrame, scheme: str | BinScheme = "lvis", title: str = "Where the AP goes (TIDE)",
               overall: dict | None = None) -> go.Figure:
    """ΔAP (x 100) from fixing each TIDE error type, one bar group per error type, one bar per bin.

    ``per_bin``: :attr:`lt_core.detection.TideResult.per_bin` (columns ``bin``, ``dAP_<type>``,
    ``n_<type>``); ``overall``: optional :attr:`TideResult.main` drawn as a grey outline bar.
    """
    sch = parse_bins(scheme)
    types = [k for k in _TIDE_LABELS if f"dAP_{k}" in per_bin]
    fig = go.Figure()
    if overall:
        fig.add_trace(go.Bar(x=[_TIDE_LABELS[k] for k in types], y=[overall[k] for k in types], name="all classes",
                             marker=dict(color="rgba(0,0,0,0)", line=dict(color="#555", width=1.5)),
                             hovertemplate="%{x}: ΔAP %{y:.2f} (all classes)<extra></extra>"))
    for r in per_bin.itertuples(index=False):
        b = r.bin
        fig.add_trace(go.Bar(x=[_TIDE_LABELS[k] for k in types], y=[getattr(r, f"dAP_{k}") for k in types],
                             name=f"{b} ({r.n_classes:,} classes)", marker_color=bin_color(b, sch),
                             customdata=[[getattr(r, f"n_{k}"), b, k] for k in types],
                             hovertemplate="%{x}<br>ΔAP %{y:.2f}<br>%{customdata[0]:,} errors<extra>" + b + "</extra>"))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="ΔAP50 from fixing it (× 100)", rangemode="tozero")
    return _layout(fig, title, height=380)


def ci_chart(rows: pd.DataFrame, title: str = "95 % confidence intervals") -> go.Figure:
    """Point estimates with their intervals, one row per metric (x 100).

    ``rows``: columns ``metric``, ``estimate``, ``low``, ``high`` (fractions) and optionally
    ``results`` (one colour per results file). A difference table (paired comparison) draws the
    zero line.
    """
    fig = go.Figure()
    runs = list(dict.fromkeys(rows["results"])) if "results" in rows else [None]
    for run in runs:
        d = rows if run is None else rows[rows["results"] == run]
        fig.add_trace(go.Scatter(
            x=100 * d["estimate"], y=d["metric"], mode="markers", name=run or "estimate",
            marker=dict(size=9, color=run_color(runs, run) if run else "#1f77b4"),
            error_x=dict(type="data", symmetric=False, array=100 * (d["high"] - d["estimate"]),
                         arrayminus=100 * (d["estimate"] - d["low"])),
            hovertemplate="%{y}: %{x:.1f}<extra>" + (run or "") + "</extra>"))
    if (rows["low"] < 0).any():
        fig.add_vline(x=0, line=dict(color="#999", dash="dot"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="× 100")
    return _layout(fig, title, height=max(260, 34 * len(rows) // max(len(runs), 1) + 120))
