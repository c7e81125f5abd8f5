"""Metrics: how does each bin do, and is the difference real?"""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from lt_core.errors import InputError
from lt_core.metrics import (ConfusionState, MIN_SUPPORT, class_deltas, error_destinations, ordered_confusion,
                             paired_bootstrap, report_from_state, runs_bin_table, runs_overall_table,
                             top_confusions, update)
from lt_core.examples import decision_changes
from lt_core.plots import metrics as mplots
from ui import examples as ex
from ui import state
from ui.dask_run import confusion_state_on_dask, dask_option

st.title("Metrics")
st.caption("How does each bin do, and is the difference real?")

ds = state.classification()
scheme = state.bin_scheme()
if ds is None or not ds.runs:
    st.info("No model outputs yet: load a run (scores or predicted labels) on the **Data** page, or go back to "
            "the demo there.", icon=":material/info:")
    st.stop()

# ---------------------------------------------------------------- controls (page parameters)
run_names = list(ds.runs)
splits = [s for s in ("test", "val") if s in ds.labels and any(s in r.preds for r in ds.runs.values())]
splits += [s for s in ds.labels if s not in splits and any(s in r.preds for r in ds.runs.values())]
if not splits:
    st.warning("None of the runs has predictions for a split with labels (val or test). Load matching labels on "
               "the Data page.", icon=":material/warning:")
    st.stop()

c = st.columns([1, 2, 2, 1, 1])
split = c[0].radio("Split", splits, index=0, horizontal=True, key="m_split",
                   help="Which labelled split the numbers come from. Report test; tune on val.")
avail = [r for r in run_names if split in ds.runs[r].preds]
if st.session_state.get("m_avail") != avail:
    # runs were added (e.g. "keep as run" on another page) or removed: show them all, newest in focus
    st.session_state["m_avail"] = avail
    st.session_state["m_runs"] = list(avail)
    if st.session_state.get("m_ref") not in avail:
        st.session_state["m_ref"] = avail[0]
    newest = [r for r in avail if r != st.session_state["m_ref"]]
    if newest:
        st.session_state["m_focus"] = newest[-1]
reference = c[1].selectbox("Reference run", avail, key="m_ref",
                           help="Deltas and paired bootstrap CIs are computed against this run (default: the first).")
shown = c[2].multiselect("Runs shown", avail, key="m_runs",
                         help="Every run of the dataset; each keeps its colour on every page.")
n_boot = c[3].number_input("Bootstrap resamples", min_value=0, max_value=10000, value=1000, step=100, key="m_boot",
                           help="Percentile bootstrap resampling test samples within each class (Efron & "
                                "Tibshirani 1993); paired for differences. 0 = no intervals.")
seed = c[4].number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="m_seed",
                         help="Seed of the bootstrap resampling: same seed, same intervals.")
shown = [r for r in shown if r in avail]
if reference not in shown:
    shown = [reference] + shown
focus_opts = [r for r in shown if r != reference]
c2 = st.columns([3, 2])
if focus_opts and st.session_state.get("m_focus") not in focus_opts:
    st.session_state["m_focus"] = focus_opts[-1]
focus = c2[0].selectbox("Run to compare with the reference", focus_opts, key="m_focus",
                        help="The run whose numbers (and deltas against the reference) head the page.") \
    if focus_opts else reference
if not focus_opts:
    c2[0].caption("One run: keep another on the Thresholds or Retrain page, or load one on the Data page, to compare "
                  "them here with paired intervals.")
if ds.multi_label:  # the multi-label view: mAP and F1s per bin (lt_core.metrics.multilabel)
    from ui.multilabel_views import metrics_view

    metrics_view(ds, scheme, split, run_names, reference, shown, focus, int(n_boot), int(seed))
    st.stop()
n_test = len(ds.labels[split])
f1ci = c2[1].toggle("Intervals for macro-F1 too", value=n_test * int(n_boot) <= 5_000_000, key="m_f1ci",
                    help="Bootstrap macro-F1 and G-mean as well (every test sample is resampled within its class): "
                         "a second or more per run for 50,000 test samples and 1,000 resamples. Accuracy intervals are "
                         "always computed (per-class binomials, fast).")
dask_spec = dask_option("m_dask")  # 'Run on Dask': the counts computed by lt_core.distributed (same numbers)
y = ds.labels[split].y
PCT_COLS = ("accuracy", "ci_low", "ci_high", "macro_f1", "ece", "balanced_accuracy", "gmean", "top1", "top5",
            "precision", "recall", "f1", "a", "b", "delta", "share", "head_share")


def show_table(df: pd.DataFrame, file_name: str, key: str) -> None:
    """A table with shares shown as percentages (one decimal), and its CSV download (raw values)."""
    view = df.copy()
    cols = [c for c in view.columns if c in PCT_COLS or str(c).startswith(("to ", "recall ", "delta "))
            or str(c).endswith(("_ci_low", "_ci_high"))]
    for col in cols:
        if pd.api.types.is_numeric_dtype(view[col]) and not pd.api.types.is_bool_dtype(view[col]):
            view[col] = 100 * view[col]
    st.dataframe(view, hide_index=True,
                 column_config={c: st.column_config.NumberColumn(c, format="%.1f%%") for c in cols})
    state.download_csv(df, file_name, key=key)


MEMO_MAX = 64  # cached states / reports per session (a 1,000-class state is ~8 MB)


def _cached(key: tuple, owners: tuple, make):
    """Memoise ``make()`` while the same prediction objects are in the dataset (ui.state.memo)."""
    return state.memo("m_memo", key, owners, make, MEMO_MAX)


def _state(run: str) -> ConfusionState:
    """The mergeable counts of one run on the split (one pass over its scores)."""
    p = ds.runs[run].preds[split]

    def make():
        if dask_spec:  # the same counts, computed on the Dask cluster
            return confusion_state_on_dask(dask_spec, y, p, ds.classes, min(5, ds.classes.n_classes))
        st_ = ConfusionState.empty(ds.classes.n_classes, with_scores=p.scores is not None,
                                   max_k=min(5, ds.classes.n_classes))
        return update(st_, y, p.labels, scores=p.scores, kind=p.kind if p.kind != "labels" else "auto")
    return _cached(("state", run, split, dask_spec), (ds.labels[split], p), make)


def _report(run: str):
    p = ds.runs[run].preds[split]
    return _cached(("report", run, split, scheme, int(n_boot), int(seed), bool(f1ci)),
                   (ds.labels[split], p, ds.classes),
                   lambda: report_from_state(_state(run), ds.classes, scheme, bootstrap=int(n_boot), seed=int(seed),
                                             bootstrap_f1=bool(f1ci)))


try:
    with st.spinner("Computing metrics and bootstrap intervals…"):
        reports = {r: _report(r) for r in shown}
    paired = {}
    if n_boot:
        ref_pred = ds.runs[reference].preds[split].labels
        for r in shown:
            if r == reference:
                continue
            pr = ds.runs[r].preds[split]
            paired[r] = _cached(("paired", reference, r, split, scheme, int(n_boot), int(seed)),
                                (ds.labels[split], ds.runs[reference].preds[split], pr, ds.classes),
                                lambda: paired_bootstrap(y, ref_pred, pr.labels, ds.classes, scheme,
                                                         n_resamples=int(n_boot), seed=int(seed)))
except InputError as e:
    state.show_error(e, "metrics")
    st.stop()

# ---------------------------------------------------------------- the answer, first screen
ref = reports[reference]
cur = reports[focus]
bins = [b for b in cur.bins.index if b != "no training data"]
pick = bins if len(bins) <= 3 else [bins[0], bins[len(bins) // 2], bins[-1]]


def _delta(metric_now, metric_ref):
    if focus == reference or metric_now != metric_now or metric_ref != metric_ref:
        return None
    return f"{100 * (metric_now - metric_ref):+.1f} pp"


def _ci_text(table, row):
    if table is None or row not in table.index:
        return ""
    t = table.loc[row]
    verdict = "real" if t["significant"] else "noise"
    return f" Paired 95% CI of the change: {100 * t['ci_low']:+.1f} … {100 * t['ci_high']:+.1f} pp ({verdict})."


pt = paired[focus].table if focus in paired else None
m = st.columns(len(pick) + 2)
ba_ci = (f" 95% CI {state.fmt_pct(cur.overall['balanced_accuracy_ci_low'])} – "
         f"{state.fmt_pct(cur.overall['balanced_accuracy_ci_high'])}." if "balanced_accuracy_ci_low" in cur.overall else "")
m[0].metric("Balanced accuracy", state.fmt_pct(cur.overall["balanced_accuracy"]),
            _delta(cur.overall["balanced_accuracy"], ref.overall["balanced_accuracy"]),
            help="Mean per-class recall (sklearn balanced_accuracy_score); on a balanced test set this is the "
                 "accuracy the long-tail papers report." + ba_ci + _ci_text(pt, "balanced_accuracy"))
for i, b in enumerate(pick, 1):
    row = cur.bins.loc[b]
    ci = f" 95% CI {state.fmt_pct(row['ci_low'])} – {state.fmt_pct(row['ci_high'])}." if row["ci_low"] == row["ci_low"] else ""
    m[i].metric(f"{b} ({int(row['n_classes']):,} classes)", state.fmt_pct(row["accuracy"]),
                _delta(row["accuracy"], ref.bins["accuracy"].get(b, np.nan)),
                help=f"Mean per-class recall over the {b} classes (Kang et al. 2020), {int(row['n_samples']):,} "
                     f"{split} samples.{ci}" + _ci_text(pt, b))
f1_ci = (f" 95% CI {state.fmt_pct(cur.overall['macro_f1_ci_low'])} – {state.fmt_pct(cur.overall['macro_f1_ci_high'])}."
         if "macro_f1_ci_low" in cur.overall else "")
m[-1].metric("Macro-F1", state.fmt_pct(cur.overall["macro_f1"]),
             _delta(cur.overall["macro_f1"], ref.overall["macro_f1"]),
             help="Unweighted mean of per-class F1 (sklearn f1_score, average='macro')." + f1_ci)
who = f"run **{focus}**" + (f" vs reference **{reference}**" if focus != reference else "")
boot = (f"bootstrap {int(n_boot):,} resamples within each class, seed {int(seed)}" if n_boot
        else "no bootstrap (set resamples > 0 for intervals)")
st.caption(f"{who} · split **{split}** ({len(y):,} samples) · bins **{scheme}** by TRAIN count (change in the "
           f"sidebar) · {boot}." + (" Generated data." if ds.generated else ""))
if split == "val":
    st.caption("Numbers on **val**: use them for choosing settings; report the test split.")

# ---------------------------------------------------------------- the chart that explains it
long = runs_bin_table(reports)
bin_metric = st.radio("Per-bin metric", ["accuracy", "macro_f1", "ece"], horizontal=True, key="m_binmetric",
                      format_func={"accuracy": "accuracy (mean per-class recall)", "macro_f1": "macro-F1",
                                   "ece": "ECE (calibration)"}.get,
                      help="Accuracy = mean per-class recall of the bin (Kang et al. 2020); macro-F1 over the bin's "
                           "classes; ECE with 15 confidence bins (Guo et al. 2017), needs scores.")
examples_at = dict(ds=ds, split=split, scheme=scheme, default_run=focus)  # the samples behind each chart
ex.chart_with_examples(
    mplots.bin_accuracy_chart(long, run_names, metric=bin_metric, scheme=scheme), "m_bins", "m_ex_bin",
    lambda pt: ex.bin_target(pt, focus, st.session_state.get("m_ex_bin_pick_err", True)), **examples_at,
    hint="Click a bar to see the bin's samples (most confident mistakes first).",
    pickers=lambda: ex.bin_picker("m_ex_bin", list(cur.bins.index)))
if paired:
    st.plotly_chart(mplots.paired_delta_chart({r: p.table for r, p in paired.items()}, reference, run_names, scheme),
                    key="m_paired")
    noisy = [f"{r}: {', '.join(n.replace('_', ' ') for n in p.table.index[~p.table['significant']])}"
             for r, p in paired.items() if (~p.table["significant"]).any()]
    if noisy:
        st.caption("Differences whose 95% interval includes 0 (could be noise): " + " · ".join(noisy))
elif len(shown) > 1:
    st.caption("Set bootstrap resamples > 0 to see whether the differences between runs are real.")
ex.chart_with_examples(
    mplots.recall_vs_count_chart(reports, run_names), "m_scatter", "m_ex_class",
    lambda pt: ex.class_target(pt, focus, st.session_state.get("m_ex_class_role", "true")), **examples_at,
    hint="Click a class to see its samples (most confident mistakes first).",
    pickers=lambda: ex.class_picker("m_ex_class", ds.classes, scheme))

# ---------------------------------------------------------------- where the tail goes
st.subheader(f"Where the tail goes · {focus}")
dest = error_destinations(cur.state, ds.classes, scheme)
ex.chart_with_examples(
    mplots.error_destination_chart(dest, scheme), "m_dest", "m_ex_flow", lambda pt: ex.flow_target(pt, focus),
    **examples_at, hint="Click a bar segment to see that bin's mistakes that land in the other bin.",
    below_chart=lambda: show_table(dest.reset_index(), f"error_destinations_{focus}_{split}.csv", "dl_dest"))
counts, order = ordered_confusion(cur.state, ds.classes, normalize=False)
ex.chart_with_examples(
    mplots.confusion_cells_chart(counts, order, ds.classes, scheme, selected=(
        lambda t: (t["true"], t["pred"]) if t and t.get("what") == "cell" else None)(ex.target("m_ex_cell"))),
    "m_conf", "m_ex_cell",
    lambda pt: ex.cell_target(pt, focus), **examples_at,
    hint="Click a cell to see its samples: the true class (row) predicted as the column's class.",
    pickers=lambda: ex.cell_picker("m_ex_cell", ds.classes))
tc = top_confusions(cur.state, ds.classes, scheme, k=3)
st.markdown(f"**Top confusions of each {tc['bin'].iloc[0] if len(tc) else 'tail'} class** (rarest first)")
show_table(tc, f"top_confusions_{focus}_{split}.csv", "dl_tc")

# ---------------------------------------------------------------- tables behind it
st.subheader("Tables")
t1, t2, t3, t4 = st.tabs(["Per bin (all runs)", "Overall (all runs)", "Per class", "Per-class change vs reference"])
with t1:
    show_table(long, f"bins_{split}.csv", "dl_bins")
with t2:
    ov = runs_overall_table(reports)
    show_table(ov, f"overall_{split}.csv", "dl_overall")
    if paired:
        pt_all = pd.concat([p.table.reset_index().assign(run=r, reference=reference) for r, p in paired.items()],
                           ignore_index=True)
        st.markdown("**Paired differences (run − reference) with bootstrap CIs**")
        show_table(pt_all, f"paired_{reference}_{split}.csv", "dl_paired")
with t3:
    run_pc = st.selectbox("Run", shown, index=shown.index(focus), key="m_pc_run")
    pc = reports[run_pc].per_class.copy()
    pc["low_support"] = pc["support"] < MIN_SUPPORT
    st.caption(f"{len(pc):,} classes, class-table order. low_support: fewer than {MIN_SUPPORT} {split} samples "
               "(recall says little).")
    show_table(pc, f"per_class_{run_pc}_{split}.csv", "dl_pc")
with t4:
    if len(reports) > 1:
        deltas = class_deltas(reports, reference)
        if focus != reference:
            delta_event = ex.chart_event(mplots.class_delta_chart(deltas, focus, scheme), "m_delta")
        st.caption("Tail-most bin first; within a bin the largest gains and losses first. low_support classes "
                   "(faded in the chart) have too few test samples to judge.")
        show_table(deltas, f"class_deltas_vs_{reference}_{split}.csv", "dl_deltas")
        if focus != reference:  # the samples behind the deltas: what the run fixed and broke
            ref_p, foc_p = ds.runs[reference].preds[split], ds.runs[focus].preds[split]

            def _kind(p):
                return "probs" if p.kind == "probs" else "logits"

            def run_changes(which: str, class_id):
                return decision_changes(ds.labels[split], ds.classes, scheme, ref_p.labels, foc_p.labels,
                                        before_scores=ref_p.scores, after_scores=foc_p.scores,
                                        kind=(_kind(ref_p), _kind(foc_p)), which=which, cap=None,
                                        names=(reference, focus), true_ids=class_id)

            y_split = ds.labels[split].y
            n_fix = int(((ref_p.labels != y_split) & (foc_p.labels == y_split)).sum())
            n_brk = int(((ref_p.labels == y_split) & (foc_p.labels != y_split)).sum())
            st.markdown(f"**What {ex._md_escape(focus)} fixed and broke vs {ex._md_escape(reference)}** ({split}: "
                        f"{n_fix:,} fixed, {n_brk:,} broken)")
            st.caption("Click a class in the chart above (or pick one) for its samples only.")
            ex.take_click(delta_event, "m_ex_runs", ex.class_of_point)
            ex.class_picker("m_ex_runs", ds.classes, scheme, label="only the samples of a class", role_choice=False)
            ex.changes_panel(ds, split, "m_ex_runs", run_changes, names=(reference, focus), scheme=scheme,
                             csv_prefix=f"changes_{reference}_to_{focus}")
    else:
        st.info("Only one run: add another (Thresholds or Retrain pages, or load one on the Data page) to compare.",
                icon=":material/info:")
