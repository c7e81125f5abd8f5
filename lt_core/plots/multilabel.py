"""Figures of multi-label results (plotly): per-bin mAP / F1 with CIs, AP vs train positives, fixes
before / after, the prior-correction sweep, label counts, tail-head co-occurrence, expected labels
under re-sampling. Bin and run colours from :mod:`lt_core.plots.colors`; head on the left of every
frequency axis (ux.md)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..bins import NO_DATA, BinScheme, parse_bins
from ..data.schema import ClassTable
from .colors import bin_color, run_color

__all__ = ["ML_METRIC_LABELS", "ml_bin_chart", "ap_vs_positives_chart", "before_after_bins_chart",
           "class_change_chart", "prior_sweep_chart", "label_count_chart", "cooccurrence_heatmap",
           "expected_labels_chart", "ml_paired_chart", "ml_training_curves_chart"]

ML_METRIC_LABELS = {"mAP": "mAP (mean AP)", "macro_f1": "macro-F1", "micro_f1": "micro-F1",
                    "samples_f1": "samples-F1", "roc_auc": "ROC-AUC", "ap": "AP", "f1": "F1"}


def _layout(fig: go.Figure, title: str, height: int = 400) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=60, r=20, t=60, b=50), template="plotly_white",
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1))
    return fig


def _x_counts(v) -> np.ndarray:
    x = np.asarray(v, dtype=float)
    return np.where(x > 0, x, 0.8)  # zero-train classes at the tail end of the log axis


def _bin_ticks(fig: go.Figure, names, sch: BinScheme) -> None:
    fig.update_xaxes(tickvals=list(names), ticktext=[f"<span style='color:{bin_color(n, sch)}'><b>{n}</b></span>"
                                                     for n in names])


def ml_bin_chart(bins_long: pd.DataFrame, run_names: list[str], metric: str = "mAP",
                 scheme: str | BinScheme | None = None) -> go.Figure:
    """Per-bin bars of a multi-label metric, one colour per run (bin colours for one run), with the
    bootstrap CI whiskers (``ci_low`` / ``ci_high`` for mAP, ``<metric>_ci_low`` / ``_ci_high``
    otherwise). ``bins_long`` is :func:`lt_core.metrics.runs_ml_bin_table`."""
    lo_col, hi_col = ("ci_low", "ci_high") if metric == "mAP" else (f"{metric}_ci_low", f"{metric}_ci_high")
    label = ML_METRIC_LABELS.get(metric, metric)
    sch = parse_bins(scheme) if scheme is not None else None
    present = [r for r in run_names if r in set(bins_long["run"])]
    fig = go.Figure()
    any_ci = False
    for run in present:
        d = bins_long[bins_long["run"] == run]
        lo = d[lo_col] if lo_col in d else pd.Series(np.nan, index=d.index)
        hi = d[hi_col] if hi_col in d else pd.Series(np.nan, index=d.index)
        has_ci = bool(lo.notna().any())
        any_ci |= has_ci
        err = dict(type="data", symmetric=False, array=(hi - d[metric]).to_numpy(),
                   arrayminus=(d[metric] - lo).to_numpy(), thickness=1.5, width=6) if has_ci else None
        color = ([bin_color(b, sch) for b in d["bin"]] if len(present) == 1 and sch is not None
                 else run_color(run_names, run))
        fig.add_trace(go.Bar(
            x=d["bin"], y=d[metric], name=run, marker_color=color, error_y=err, showlegend=len(present) > 1,
            text=[f"{v:.1%}" if v == v else "–" for v in d[metric]], textposition="inside", insidetextanchor="middle",
            customdata=np.stack([d["n_classes"], d["n_positives"], lo, hi], axis=1),
            hovertemplate="<b>%{x}</b> · " + run + "<br>" + label + " %{y:.1%}"
                          + ("<br>95% CI %{customdata[2]:.1%} – %{customdata[3]:.1%}" if has_ci else "")
                          + "<br>%{customdata[0]:,} classes with positives, %{customdata[1]:,} positives"
                          + "<extra></extra>"))
    fig.update_layout(barmode="group", bargap=0.2)
    fig.update_yaxes(title=label, tickformat=".0%", rangemode="tozero")
    if sch is not None:
        _bin_ticks(fig, list(dict.fromkeys(bins_long["bin"])), sch)
    return _layout(fig, f"Per-bin {label}" + (" with bootstrap 95% CIs (resampling samples)" if any_ci else ""))


def ap_vs_positives_chart(reports: dict, run_names: list[str] | None = None, metric: str = "ap",
                          min_support: int = 5) -> go.Figure:
    """Per-class AP (or F1, ROC-AUC) vs TRAIN positives (log x, head on the left), one colour per run;
    classes with fewer than ``min_support`` positives on the split are faded."""
    run_names = run_names or list(reports)
    fig = go.Figure()
    sch = None
    for run, rep in reports.items():
        sch = rep.scheme
        pc = rep.per_class
        low = pc["support"].to_numpy() < min_support
        fig.add_trace(go.Scattergl(
            x=_x_counts(pc["train_count"]), y=pc[metric], mode="markers", name=run,
            marker=dict(color=run_color(run_names, run), size=8 if len(pc) < 200 else 5,
                        opacity=np.where(low, 0.25, 0.85 if len(pc) < 200 else 0.55)),
            customdata=np.stack([pc["name"], pc["bin"], pc["train_count"], pc["support"], pc["class_id"],
                                 np.full(len(pc), run, dtype=object)], axis=1),
            hovertemplate="<b>%{customdata[0]}</b> (%{customdata[1]})<br>train positives %{customdata[2]:,} · "
                          "split positives %{customdata[3]:,}<br>" + ML_METRIC_LABELS.get(metric, metric)
                          + " %{y:.1%}<extra>" + run + "</extra>"))
    if sch is not None and sch.thresholds:
        for t in sch.thresholds:
            fig.add_vline(x=float(t) - 0.5, line=dict(color="#888888", dash="dash", width=1))
    fig.update_xaxes(title="train positives of the class (log; head on the left)", type="log", dtick=1,
                     autorange="reversed")
    lab = ML_METRIC_LABELS.get(metric, metric)
    fig.update_yaxes(title=f"per-class {lab}", tickformat=".0%", range=[-0.03, 1.03])
    return _layout(fig, f"Per-class {lab} vs train positives (faded: fewer than {min_support} positives)", 420)


def before_after_bins_chart(table: pd.DataFrame, scheme: str | BinScheme, split: str = "test",
                            label: str = "macro-F1", before: str = "before", after: str = "after") -> go.Figure:
    """Per-bin metric before (grey) and after (bin colour) a fix, with bootstrap CIs; ``table`` is
    :func:`lt_core.posthoc.compare_decisions` (columns ``f1_before``, ``f1_after`` and their CIs)."""
    sch = parse_bins(scheme)
    d = table[table["bin"] != "all"]
    fig = go.Figure()
    for key, name, color in (("before", before, ["#9e9e9e"] * len(d)),
                             ("after", after, [bin_color(b, sch) for b in d["bin"]])):
        v = d[f"f1_{key}"]
        lo, hi = d[f"f1_{key}_ci_low"], d[f"f1_{key}_ci_high"]
        has = bool(lo.notna().any())
        fig.add_trace(go.Bar(x=d["bin"], y=v, name=name, marker_color=color,
                             error_y=dict(type="data", symmetric=False, array=(hi - v).to_numpy(),
                                          arrayminus=(v - lo).to_numpy(), width=6) if has else None,
                             customdata=np.stack([lo, hi], 1),
                             hovertemplate="<b>%{x}</b> " + name + ": %{y:.1%}<br>95% CI %{customdata[0]:.1%} – "
                                           "%{customdata[1]:.1%}<extra></extra>"))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=f"{label} on {split}", tickformat=".0%", rangemode="tozero")
    _bin_ticks(fig, list(d["bin"]), sch)
    fig = _layout(fig, f"{label} per bin, before → after ({split})", 400)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.15, xanchor="left", x=0),
                      margin=dict(b=80))
    return fig


def class_change_chart(train_counts, names, bins, scheme: str | BinScheme, before: np.ndarray, after: np.ndarray,
                       support: np.ndarray, split: str = "test", metric: str = "F1", min_support: int = 5,
                       title: str | None = None, class_ids: np.ndarray | None = None) -> go.Figure:
    """Per-class ``metric`` before (hollow grey) and after (filled, bin colour) vs train positives.

    With ``class_ids``, each marker's last ``customdata`` column is its class id (a click's target)."""
    sch = parse_bins(scheme)
    x = _x_counts(train_counts)
    names = np.asarray(names, dtype=object)
    bins = np.asarray(bins, dtype=object)
    sup = np.asarray(support)
    low = sup < min_support
    cid = np.asarray(class_ids, dtype=object) if class_ids is not None else np.arange(len(x)).astype(object)
    fig = go.Figure()
    xs, ys = [], []
    for i in range(len(x)):
        xs += [x[i], x[i], None]
        ys += [before[i], after[i], None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="#bbbbbb", width=1), showlegend=False,
                             hoverinfo="skip"))
    fig.add_trace(go.Scattergl(x=x, y=before, mode="markers", name="before",
                               marker=dict(symbol="circle-open", color="#777777", size=8),
                               customdata=np.stack([names, bins, cid], 1),
                               hovertemplate="<b>%{customdata[0]}</b> (%{customdata[1]})<br>" + metric +
                                             " before %{y:.1%}<extra></extra>"))
    for b in sch.order(bins):
        m = bins == b
        fig.add_trace(go.Scattergl(x=x[m], y=after[m], mode="markers", name=f"after: {b}",
                                   marker=dict(color=bin_color(b, sch), size=9, opacity=np.where(low[m], 0.3, 0.9)),
                                   customdata=np.stack([names[m], sup[m], cid[m]], 1),
                                   hovertemplate="<b>%{customdata[0]}</b> (" + b + ")<br>" + split +
                                                 " positives %{customdata[1]:,}<br>" + metric +
                                                 " after %{y:.1%}<extra></extra>"))
    fig.update_xaxes(title="train positives of the class (log; head on the left)", type="log", dtick=1,
                     autorange="reversed")
    fig.update_yaxes(title=f"per-class {metric} on {split}", tickformat=".0%", range=[-0.03, 1.03])
    return _layout(fig, title or f"Per-class {metric} before and after ({split})", 420)


def prior_sweep_chart(table: pd.DataFrame, scheme: str | BinScheme, tuned_tau: float | None = None,
                      current_tau: float | None = None, split: str = "val", objective: str = "") -> go.Figure:
    """Macro-F1 of each bin (bin colours) and overall (grey dashed) against tau of the sigmoid prior
    correction; ``table`` is :attr:`lt_core.posthoc.PriorTuneResult.table`."""
    sch = parse_bins(scheme)
    fig = go.Figure()
    bins = [c[3:] for c in table.columns if c.startswith("f1 ")]
    for b in bins:
        fig.add_trace(go.Scatter(x=table["tau"], y=table[f"f1 {b}"], mode="lines", name=b,
                                 line=dict(color=bin_color(b, sch), width=2.5),
                                 hovertemplate=f"<b>{b}</b><br>τ %{{x:.2f}}<br>macro-F1 %{{y:.1%}}<extra>{split}</extra>"))
    fig.add_trace(go.Scatter(x=table["tau"], y=table["macro_f1"], mode="lines", name="macro-F1 (all classes)",
                             line=dict(color="#555555", dash="dash", width=1.5)))
    fig.add_trace(go.Scatter(x=table["tau"], y=table["micro_f1"], mode="lines", name="micro-F1",
                             line=dict(color="#999999", dash="dot", width=1.5)))
    if tuned_tau is not None:
        row = table.iloc[int(np.argmin(np.abs(table["tau"].to_numpy() - tuned_tau)))]
        fig.add_trace(go.Scatter(x=[row["tau"]] * len(bins), y=[row[f"f1 {b}"] for b in bins], mode="markers",
                                 name=f"tuned τ = {row['tau']:.2f}" + (f" ({objective})" if objective else ""),
                                 marker=dict(symbol="star", size=15, color=[bin_color(b, sch) for b in bins],
                                             line=dict(color="black", width=1))))
    if current_tau is not None:
        fig.add_vline(x=float(current_tau), line=dict(color="#333333", dash="dot", width=1.5),
                      annotation_text=f"slider τ = {current_tau:.2f}", annotation_position="top")
    fig.update_xaxes(title="τ of z − τ·log(p / (1 − p))  (0 = unadjusted)")
    fig.update_yaxes(title=f"macro-F1 per bin on {split}", tickformat=".0%", rangemode="tozero")
    return _layout(fig, f"Sigmoid prior correction: macro-F1 per bin against τ ({split})", 430)


def label_count_chart(label_hist: np.ndarray, split: str = "train") -> go.Figure:
    """Samples by their number of labels (0, 1, 2, ...)."""
    h = np.asarray(label_hist)
    last = int(np.flatnonzero(h)[-1]) + 1 if h.any() else 1
    k = np.arange(last)
    fig = go.Figure(go.Bar(x=k, y=h[:last], marker_color=["#9e9e9e" if i == 0 else "#4c78a8" if i == 1 else "#f58518"
                                                        for i in k],
                           text=[f"{v:,}" for v in h[:last]], textposition="outside",
                           hovertemplate="%{x} labels: %{y:,} samples<extra></extra>"))
    fig.update_xaxes(title="labels per sample", dtick=1)
    fig.update_yaxes(title=f"{split} samples", type="log")
    return _layout(fig, f"How many labels a {split} sample carries (orange: several)", 320)


def cooccurrence_heatmap(state, classes: ClassTable, scheme: str | BinScheme, split: str = "train",
                         max_classes: int = 60) -> go.Figure:
    """P(column class | row class) with classes in train-frequency order (head top-left), the
    diagonal left out; above ``max_classes`` the rarest and the most frequent classes are kept."""
    sch = parse_bins(scheme)
    order = np.lexsort((np.arange(classes.n_classes), -classes.train_count))
    if len(order) > max_classes:
        order = np.r_[order[: max_classes // 2], order[-(max_classes - max_classes // 2):]]
    P = state.conditional()[np.ix_(order, order)].copy()
    np.fill_diagonal(P, np.nan)
    bins = classes.bins(sch)[order]
    labels = [f"{classes.names[i]} ({b})" for i, b in zip(order, bins)]
    z = np.where(P > 0, P, np.nan)
    fig = go.Figure(go.Heatmap(z=z, x=labels, y=labels, colorscale="Viridis", zmin=0,
                               colorbar=dict(title="P(col | row)", tickformat=".0%"),
                               hovertemplate="%{y} → %{x}: %{z:.1%} of the row class's samples<extra></extra>"))
    edges = np.flatnonzero(bins[1:] != bins[:-1]) + 1
    for e in edges:
        fig.add_shape(type="line", x0=e - 0.5, x1=e - 0.5, y0=-0.5, y1=len(order) - 0.5, line=dict(color="white"))
        fig.add_shape(type="line", y0=e - 0.5, y1=e - 0.5, x0=-0.5, x1=len(order) - 0.5, line=dict(color="white"))
    fig.update_xaxes(title="co-occurring class (head → tail)", showticklabels=len(order) <= 60)
    fig.update_yaxes(title="class (head → tail)", autorange="reversed", showticklabels=len(order) <= 60)
    return _layout(fig, f"Which labels ride along: P(column | row) on {split} (head top-left, diagonal left out)", 620)


def expected_labels_chart(counts: np.ndarray, expected: dict[str, np.ndarray], classes: ClassTable,
                          scheme: str | BinScheme) -> go.Figure:
    """Expected positives per class in one epoch under each multi-label sampler (log y), classes by
    train positives (head on the left)."""
    sch = parse_bins(scheme)
    order = np.lexsort((np.arange(classes.n_classes), -np.asarray(counts)))
    x = np.arange(len(order))
    names = classes.names[order]
    bins = classes.bins(sch)[order]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=np.asarray(counts)[order], name="train positives",
                         marker_color=[bin_color(b, sch) for b in bins], opacity=0.45,
                         customdata=names, hovertemplate="<b>%{customdata}</b><br>train positives %{y:,}<extra></extra>"))
    colors = ["#333333", "#e45756", "#54a24b", "#b279a2"]
    for k, (name, v) in enumerate(expected.items()):
        fig.add_trace(go.Scatter(x=x, y=np.asarray(v)[order], mode="lines+markers", name=name,
                                 line=dict(color=colors[k % len(colors)], width=2), customdata=names,
                                 hovertemplate="<b>%{customdata}</b><br>" + name + ": %{y:,.0f}<extra></extra>"))
    fig.update_xaxes(title="classes by train positives (head on the left)", tickvals=x,
                     ticktext=names if len(x) <= 40 else None, showticklabels=len(x) <= 40)
    fig.update_yaxes(title="positives in one epoch", type="log")
    return _layout(fig, "Expected positives per class in one epoch (sampling a tail class brings its head labels along)",
                   420)


def ml_paired_chart(table: pd.DataFrame, reference: str, run: str, run_names: list[str]) -> go.Figure:
    """Change of each metric (run − reference) with paired bootstrap CIs; ``table`` is
    :func:`lt_core.metrics.paired_bootstrap_multilabel`. Hollow: the interval includes 0."""
    fig = go.Figure()
    fig.add_vline(x=0, line=dict(color="#444444", width=1))
    sig = table["significant"].to_numpy()
    color = run_color(run_names, run) if run in run_names else "#4c78a8"
    labels = [n.replace("_", "-") for n in table.index]
    fig.add_trace(go.Scatter(
        x=table["delta"], y=labels, mode="markers", name=run,
        marker=dict(color=color, size=11, symbol=np.where(sig, "circle", "circle-open"), line=dict(width=2, color=color)),
        error_x=dict(type="data", symmetric=False, array=(table["ci_high"] - table["delta"]).to_numpy(),
                     arrayminus=(table["delta"] - table["ci_low"]).to_numpy(), thickness=2, width=5),
        customdata=np.stack([table["a"], table["b"], table["ci_low"], table["ci_high"]], axis=1),
        hovertemplate="<b>%{y}</b><br>" + run + " − " + reference + ": %{x:+.1%}<br>95% CI %{customdata[2]:+.1%} … "
                      "%{customdata[3]:+.1%}<br>" + reference + " %{customdata[0]:.1%} → " + run
                      + " %{customdata[1]:.1%}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=f"difference to '{reference}' (percentage points)", tickformat="+.0%", zeroline=True)
    return _layout(fig, f"Is the difference real? Paired bootstrap vs '{reference}' (hollow: CI includes 0)",
                   height=160 + 32 * len(table))


def ml_training_curves_chart(history: pd.DataFrame, scheme: str | BinScheme, title: str = "Training curves",
                             split: str = "val"):
    """:func:`lt_core.plots.heads.training_curves_chart` with mAP per bin on the right (multi-label heads)."""
    from .heads import training_curves_chart

    fig = training_curves_chart(history, scheme, title, split)
    fig.update_yaxes(title="mAP (mean AP)", row=1, col=2)
    fig.layout.annotations[1].text = f"mAP per bin on {split}"
    for tr in fig.data:
        if tr.name and tr.name.startswith("all"):
            tr.name = "all (mAP over every class)"
    return fig
