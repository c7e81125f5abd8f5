"""Figures of classification metrics (plotly): bins with CIs, recall vs train count, confusions."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..bins import BinScheme, parse_bins
from ..data.schema import ClassTable
from ..metrics.classification import ClassificationReport
from ..metrics.compare import MIN_SUPPORT
from .colors import bin_color, run_color, template

__all__ = ["bin_accuracy_chart", "recall_vs_count_chart", "paired_delta_chart", "confusion_heatmap",
           "confusion_cells_chart", "confusion_groups", "error_destination_chart", "class_delta_chart"]


def _layout(fig: go.Figure, title: str, height: int = 400) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=60, r=20, t=60, b=50), **template(),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1))
    return fig


def bin_accuracy_chart(bins_long: pd.DataFrame, run_names: list[str], metric: str = "accuracy",
                       scheme: str | BinScheme | None = None) -> go.Figure:
    """Per-bin bars, one colour per run, with bootstrap CI whiskers (from :func:`runs_bin_table`).

    ``metric`` is a column of the bins table (``accuracy``, ``macro_f1``, ``ece``); its interval
    columns are ``ci_low`` / ``ci_high`` for accuracy and ``<metric>_ci_low`` / ``_ci_high`` otherwise.
    Bin names on the x axis are coloured by bin (head blue, medium amber, tail red).
    """
    lo_col, hi_col = ("ci_low", "ci_high") if metric == "accuracy" else (f"{metric}_ci_low", f"{metric}_ci_high")
    label = {"accuracy": "accuracy (mean per-class recall)", "macro_f1": "macro-F1", "ece": "ECE"}.get(metric, metric)
    fig = go.Figure()
    any_ci = False
    present = [r for r in run_names if r in set(bins_long["run"])]
    sch = parse_bins(scheme) if scheme is not None else None
    for run in present:
        d = bins_long[bins_long["run"] == run]
        lo = d[lo_col] if lo_col in d else pd.Series(np.nan, index=d.index)
        hi = d[hi_col] if hi_col in d else pd.Series(np.nan, index=d.index)
        has_ci = bool(lo.notna().any())
        any_ci |= has_ci
        err = dict(type="data", symmetric=False, array=(hi - d[metric]).to_numpy(),
                   arrayminus=(d[metric] - lo).to_numpy(), thickness=1.5, width=6) if has_ci else None
        # one run: bars in the fixed bin colours; several: one colour per run
        color = ([bin_color(b, sch) for b in d["bin"]] if len(present) == 1 and sch is not None
                 else run_color(run_names, run))
        fig.add_trace(go.Bar(
            x=d["bin"], y=d[metric], name=run, marker_color=color, error_y=err, showlegend=len(present) > 1,
            text=[f"{v:.1%}" if v == v else "–" for v in d[metric]], textposition="inside",
            insidetextanchor="middle",
            customdata=np.stack([d["n_classes"], d["n_samples"], lo, hi, np.full(len(d), run, dtype=object),
                                 d["bin"].to_numpy(dtype=object)], axis=1),
            hovertemplate="<b>%{x}</b> · " + run + "<br>" + label + " %{y:.1%}"
                          + ("<br>95% CI %{customdata[2]:.1%} – %{customdata[3]:.1%}" if has_ci else "")
                          + "<br>%{customdata[0]:,} classes, %{customdata[1]:,} test samples<extra></extra>"))
    fig.update_layout(barmode="group", bargap=0.2)
    fig.update_yaxes(title=label, tickformat=".0%", rangemode="tozero")
    if scheme is not None:
        sch = parse_bins(scheme)
        names = list(dict.fromkeys(bins_long["bin"]))
        fig.update_xaxes(tickvals=names, ticktext=[f"<span style='color:{bin_color(n, sch)}'><b>{n}</b></span>"
                                                   for n in names])
    return _layout(fig, f"Per-bin {label}" + (" with bootstrap 95% CIs" if any_ci else ""))


def recall_vs_count_chart(reports: dict[str, ClassificationReport], run_names: list[str] | None = None,
                          metric: str = "recall", min_support: int = MIN_SUPPORT) -> go.Figure:
    """Per-class ``metric`` vs train count (log x, head on the left), one colour per run; low-support classes faded.

    Dashed vertical lines mark the bin thresholds of count-based schemes.
    """
    run_names = run_names or list(reports)
    fig = go.Figure()
    sch = None
    for run, rep in reports.items():
        sch = rep.scheme
        pc = rep.per_class
        x = pc["train_count"].to_numpy(dtype=float)
        x = np.where(x > 0, x, 0.8)  # zero-train classes sit just past 1, at the tail end of the log axis
        low = pc["support"].to_numpy() < min_support
        fig.add_trace(go.Scattergl(
            x=x, y=pc[metric], mode="markers", name=run,
            marker=dict(color=run_color(run_names, run), size=7 if len(pc) < 200 else 5,
                        opacity=np.where(low, 0.25, 0.8 if len(pc) < 200 else 0.55)),
            customdata=np.stack([pc["name"], pc["bin"], pc["train_count"], pc["support"], pc["class_id"],
                                 np.full(len(pc), run, dtype=object)], axis=1),
            hovertemplate="<b>%{customdata[0]}</b> (id %{customdata[4]}, %{customdata[1]})<br>train %{customdata[2]:,}"
                          " · test %{customdata[3]:,}<br>" + metric + " %{y:.1%}<extra>" + run + "</extra>"))
    if sch is not None and sch.thresholds:
        for t in sch.thresholds:
            fig.add_vline(x=float(t) - 0.5, line=dict(color="#888888", dash="dash", width=1))
    fig.update_xaxes(title="train samples of the class (log; head on the left)", type="log", dtick=1,
                     autorange="reversed")  # ux.md: head on the left, as the other count axes
    fig.update_yaxes(title=f"per-class {metric}", tickformat=".0%", range=[-0.03, 1.03])
    return _layout(fig, f"Per-class {metric} vs train count (faded: fewer than {min_support} test samples)", 420)


def paired_delta_chart(tables: dict[str, pd.DataFrame], reference: str, run_names: list[str],
                       scheme: str | BinScheme | None = None) -> go.Figure:
    """Difference to the reference run with paired bootstrap CIs, per bin and overall.

    ``tables`` maps run name -> :attr:`PairedBootstrap.table`. An interval that crosses 0 is noise.
    """
    fig = go.Figure()
    fig.add_vline(x=0, line=dict(color="#444444", width=1))
    for run, t in tables.items():
        labels = [n.replace("_", " ") for n in t.index]
        sig = t["significant"].to_numpy()
        fig.add_trace(go.Scatter(
            x=t["delta"], y=labels, mode="markers", name=run,
            marker=dict(color=run_color(run_names, run), size=11, symbol=np.where(sig, "circle", "circle-open"),
                        line=dict(width=2, color=run_color(run_names, run))),
            error_x=dict(type="data", symmetric=False, array=(t["ci_high"] - t["delta"]).to_numpy(),
                         arrayminus=(t["delta"] - t["ci_low"]).to_numpy(), thickness=2, width=5),
            customdata=np.stack([t["a"], t["b"], t["ci_low"], t["ci_high"],
                                 np.where(sig, "real (CI excludes 0)", "noise (CI includes 0)")], axis=1),
            hovertemplate="<b>%{y}</b><br>" + run + " − " + reference + ": %{x:+.1%}<br>95% CI %{customdata[2]:+.1%} … "
                          "%{customdata[3]:+.1%}<br>%{customdata[4]}<br>" + reference + " %{customdata[0]:.1%} → "
                          + run + " %{customdata[1]:.1%}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=f"difference to '{reference}' (percentage points of accuracy)", tickformat="+.0%",
                     zeroline=True)
    return _layout(fig, f"Is the difference real? Paired bootstrap vs '{reference}' (hollow: CI includes 0)",
                   height=160 + 45 * max((len(t) for t in tables.values()), default=3))


def confusion_heatmap(matrix: np.ndarray, order: np.ndarray, classes: ClassTable, scheme: str | BinScheme,
                      max_cells: int = 150, errors_only: bool = True) -> go.Figure:
    """Row-normalised confusion matrix with classes in train-frequency order (head top-left).

    With ``errors_only`` the diagonal (correct predictions) is left out so that the colour scale
    shows where the mistakes go (a tail row leaning to the left columns = predicted as head).

    Above ``max_cells`` classes, consecutive classes (by frequency rank) are pooled into
    ``max_cells`` groups (the share of a group's samples predicted into another group).
    """
    sch = parse_bins(scheme)
    c = len(order)
    bins = classes.bins(sch)[order]
    names = classes.names[order]
    if errors_only:
        matrix = matrix.copy()
        np.fill_diagonal(matrix, 0.0)
    if c > max_cells:
        groups = np.array_split(np.arange(c), max_cells)
        g = np.zeros(c, int)
        for i, ix in enumerate(groups):
            g[ix] = i
        support = np.ones(c)  # rows are shares; pool rows by averaging, columns by summing
        m = np.zeros((max_cells, max_cells))
        np.add.at(m, (g[:, None].repeat(c, 1), g[None, :].repeat(c, 0)), matrix * support[:, None])
        m /= np.bincount(g, minlength=max_cells)[:, None]
        labels = [f"ranks {ix[0] + 1}–{ix[-1] + 1}: {names[ix[0]]} … ({bins[ix[0]]})" for ix in groups]
        title = (f"Confusion by train frequency ({c:,} classes pooled into {max_cells} groups of adjacent rank"
                 + ("; errors only" if errors_only else "") + ")")
    else:
        m = matrix
        labels = [f"{i + 1}. {n} ({b})" for i, (n, b) in enumerate(zip(names, bins))]
        title = ("Confusion by train frequency (head top-left; share of each true class's samples"
                 + ("; errors only, diagonal left out" if errors_only else "") + ")")
    z = np.where(m > 0, m, np.nan)
    fig = go.Figure(go.Heatmap(z=z, x=labels, y=labels, colorscale="Viridis", zmin=0, zmax=float(np.nanmax(z)) if
                               np.isfinite(z).any() else 1, colorbar=dict(title="share", tickformat=".0%"),
                               hovertemplate="true: %{y}<br>predicted: %{x}<br>share of true: %{z:.1%}<extra></extra>"))
    # bin boundaries
    edges = np.flatnonzero(bins[1:] != bins[:-1]) + 1
    scale = max_cells / c if c > max_cells else 1.0
    for e in edges:
        p = e * scale - 0.5
        fig.add_shape(type="line", x0=p, x1=p, y0=-0.5, y1=len(labels) - 0.5, line=dict(color="white", width=1))
        fig.add_shape(type="line", y0=p, y1=p, x0=-0.5, x1=len(labels) - 0.5, line=dict(color="white", width=1))
    fig.update_xaxes(showticklabels=len(labels) <= 40, title="predicted class (head → tail)")
    fig.update_yaxes(showticklabels=len(labels) <= 40, title="true class (head → tail)", autorange="reversed")
    return _layout(fig, title, height=620)


def confusion_groups(n_classes: int, max_groups: int) -> list[np.ndarray]:
    """Positions (in frequency order) pooled into each row / column of a large confusion view:
    ``max_groups`` runs of adjacent rank (all classes separately when there are few)."""
    if n_classes <= max_groups:
        return [np.array([i]) for i in range(n_classes)]
    return [g for g in np.array_split(np.arange(n_classes), max_groups) if len(g)]


def confusion_cells_chart(counts: np.ndarray, order: np.ndarray, classes: ClassTable, scheme: str | BinScheme,
                          max_groups: int = 60, errors_only: bool = True, height: int = 500,
                          selected: tuple | None = None) -> go.Figure:
    """The confusion matrix as clickable square markers (true class rows, predicted class columns).

    A scatter, not a heatmap, so that a click on a cell is a plotly selection event (Streamlit
    reports no selection for ``go.Heatmap``). Rows and columns in train-frequency order (head
    top-left); a cell's colour is the share of the true class's samples predicted as the column's
    class, its size fills the grid. Above ``max_groups`` classes, adjacent ranks are pooled into
    ``max_groups`` groups and a cell is the share of the true group's samples predicted into the
    column group. With ``errors_only`` the diagonal (correct predictions) is left out.

    Parameters
    ----------
    counts : ndarray (C, C)
        Confusion COUNTS in the order ``order`` (:func:`lt_core.metrics.ordered_confusion` with
        ``normalize=False``).
    order : ndarray (C,)
        The class index of each row / column.

    selected : (true class ids, predicted class ids), optional
        The cell whose examples are open: outlined (a shape, not a trace, so clicks are unchanged).

    Each marker's ``customdata``: true label, predicted label, samples, share, the true class ids
    and the predicted class ids (comma-joined), true bin, predicted bin.
    """
    sch = parse_bins(scheme)
    c = len(order)
    counts = np.asarray(counts, dtype=np.float64)
    bins = classes.bins(sch)[order]
    names = classes.names[order]
    ids = classes.ids[order]
    groups = confusion_groups(c, max_groups)
    g = len(groups)
    gid = np.empty(c, np.int64)
    for i, ix in enumerate(groups):
        gid[ix] = i
    pooled = np.zeros((g, g))
    np.add.at(pooled, (gid[:, None].repeat(c, 1), gid[None, :].repeat(c, 0)), counts)
    row_tot = pooled.sum(axis=1, keepdims=True)
    share = np.divide(pooled, row_tot, out=np.zeros_like(pooled), where=row_tot > 0)
    if c > max_groups:
        labels = [f"ranks {ix[0] + 1}–{ix[-1] + 1} ({names[ix[0]]} …, {bins[ix[0]]})" for ix in groups]
    else:
        labels = [f"{i + 1}. {n} ({b})" for i, (n, b) in enumerate(zip(names, bins))]
    # short row labels (the bin lines and the hover say the rest): more room for the cells
    short = [f"{i + 1}. {str(names[ix[0]])[:13]}" + ("…" if len(ix) > 1 else "") for i, ix in enumerate(groups)]
    id_text = [",".join(str(int(v)) for v in ids[ix]) for ix in groups]
    gbin = [str(bins[ix[0]]) for ix in groups]
    r, k = np.nonzero(pooled > 0)
    if errors_only:
        keep = r != k
        r, k = r[keep], k[keep]
    z = share[r, k]
    plot_px = max(100, min(height - 120, 380))  # the square plot area, limited by the chart's width beside a panel
    size = max(3.0, 0.92 * plot_px / max(g, 1))
    cd = np.empty((len(r), 8), dtype=object)
    cd[:, 0] = [labels[i] for i in r]
    cd[:, 1] = [labels[i] for i in k]
    cd[:, 2] = pooled[r, k].astype(np.int64)
    cd[:, 3] = z
    cd[:, 4] = [id_text[i] for i in r]
    cd[:, 5] = [id_text[i] for i in k]
    cd[:, 6] = [gbin[i] for i in r]
    cd[:, 7] = [gbin[i] for i in k]
    zmax = float(z.max()) if len(z) else 1.0
    fig = go.Figure(go.Scatter(
        x=k, y=r, mode="markers", customdata=cd, showlegend=False,
        marker=dict(symbol="square", size=size, color=z, colorscale="Viridis", cmin=0, cmax=zmax, line=dict(width=0),
                    colorbar=dict(title="share", tickformat=".0%", thickness=12, len=0.7)),
        hovertemplate="true: %{customdata[0]}<br>predicted: %{customdata[1]}<br>%{customdata[2]:,} samples, "
                      "%{customdata[3]:.1%} of the true class<br><i>click for the samples</i><extra></extra>"))
    edges = np.flatnonzero(np.array(gbin[1:]) != np.array(gbin[:-1])) + 1
    for e in edges:
        p = e - 0.5
        fig.add_shape(type="line", x0=p, x1=p, y0=-0.5, y1=g - 0.5, line=dict(color="#bbbbbb", width=1))
        fig.add_shape(type="line", y0=p, y1=p, x0=-0.5, x1=g - 0.5, line=dict(color="#bbbbbb", width=1))
    if selected is not None:  # outline the open cell (the groups holding its classes)
        pos = {int(v): gid[i] for i, v in enumerate(ids)}
        rows_ = sorted({pos[int(v)] for v in np.atleast_1d(selected[0]) if int(v) in pos})
        cols_ = sorted({pos[int(v)] for v in np.atleast_1d(selected[1]) if int(v) in pos})
        if rows_ and cols_:
            fig.add_shape(type="rect", x0=cols_[0] - 0.6, x1=cols_[-1] + 0.6, y0=rows_[0] - 0.6, y1=rows_[-1] + 0.6,
                          line=dict(color="#d62728", width=2), fillcolor="rgba(0,0,0,0)")
    show = g <= 40
    # rows carry the names, columns only the rank (the hover says the rest): more room for the cells
    ytick = dict(tickvals=list(range(g)), ticktext=short, tickfont=dict(size=10)) if show else \
        dict(showticklabels=False)
    xtick = dict(tickvals=list(range(g)), ticktext=[str(i + 1) for i in range(g)], tickangle=0,
                 tickfont=dict(size=9)) if show else dict(showticklabels=False)
    # constrain="domain": the square shrinks its axes' domain rather than padding a range with empty
    # rows, so the column ranks sit right under the cells
    fig.update_xaxes(range=[-0.5, g - 0.5], title="predicted class (rank by train count, head → tail)",
                     showgrid=False, zeroline=False, constrain="domain", **xtick)
    fig.update_yaxes(range=[g - 0.5, -0.5], title="true class (head → tail)", showgrid=False, zeroline=False,
                     scaleanchor="x", scaleratio=1, constrain="domain", **ytick)
    what = f"{c:,} classes in {g} groups of adjacent rank" if c > max_groups else "share of each true class"
    title = f"Confusions by train frequency ({what}" + ("; errors only" if errors_only else "") + ")"
    return _layout(fig, title, height=height)


def error_destination_chart(dest: pd.DataFrame, scheme: str | BinScheme) -> go.Figure:
    """Stacked bars: for each true bin, the share of its errors predicted into each bin."""
    sch = parse_bins(scheme)
    fig = go.Figure()
    cols = [c for c in dest.columns if c.startswith("to ")]
    for c in cols:
        name = c[3:]
        fig.add_trace(go.Bar(y=dest.index, x=dest[c], name=f"predicted {name}", orientation="h",
                             marker_color=bin_color(name, sch), text=[f"{v:.0%}" if v == v and v >= 0.04 else ""
                                                                      for v in dest[c]],
                             textposition="inside",
                             customdata=np.stack([dest["errors"].to_numpy(dtype=object),
                                                  dest.index.to_numpy(dtype=object),
                                                  np.full(len(dest), name, dtype=object)], axis=1),
                             hovertemplate="true %{y}: %{x:.1%} of %{customdata[0]:,} errors go to " + name
                                           + "<extra></extra>"))
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    fig.update_yaxes(autorange="reversed", title="true bin")
    fig.update_xaxes(title="share of the bin's errors", tickformat=".0%", range=[0, 1])
    _layout(fig, "Where the errors go: predicted bin of each bin's mistakes", 300)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.3, xanchor="left", x=0),
                      margin=dict(b=90))
    return fig


def class_delta_chart(deltas: pd.DataFrame, run: str, scheme: str | BinScheme, metric: str = "recall") -> go.Figure:
    """Per-class change (run − reference) vs train count (log x, head on the left), coloured by bin.

    Each marker's last ``customdata`` field is its class id (a click opens the class's changed samples)."""
    sch = parse_bins(scheme)
    fig = go.Figure()
    fig.add_hline(y=0, line=dict(color="#444444", width=1))
    col = f"delta {run}"
    for name in sch.order(deltas["bin"].to_numpy()):
        d = deltas[deltas["bin"] == name]
        x = np.where(d["train_count"] > 0, d["train_count"], 0.8)
        fig.add_trace(go.Scattergl(
            x=x, y=d[col], mode="markers", name=name,
            marker=dict(color=bin_color(name, sch), size=7 if len(deltas) < 200 else 5,
                        opacity=np.where(d["low_support"], 0.25, 0.8)),
            customdata=np.stack([d["name"], d["train_count"], d["support"], d["class_id"]], axis=1),
            hovertemplate="<b>%{customdata[0]}</b><br>train %{customdata[1]:,} · test %{customdata[2]:,}<br>"
                          + metric + " change %{y:+.1%}<extra>" + name + "</extra>"))
    fig.update_xaxes(title="train samples of the class (log; head on the left)", type="log", dtick=1,
                     autorange="reversed")
    fig.update_yaxes(title=f"{metric}: {run} − reference", tickformat="+.0%")
    return _layout(fig, f"Per-class {metric} change of '{run}' vs train count", 380)
