"""The multi-label views of the Metrics, Thresholds and Retrain pages.

A page whose active dataset is multi-label calls one of these instead of its single-label body
(which stays as it is). Each view is a short script of named sections — the answer in metrics at
the top, the chart that explains it, the tables behind it — calling lt_core and drawing lt_core's
figures; the caching goes through :func:`ui.state.memo`.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from lt_core.bins import NO_DATA, parse_bins
from lt_core.data import ClassificationDataset, Predictions, Run
from lt_core.errors import InputError
from lt_core.metrics import (MIN_SUPPORT, RankState, decisions, ml_class_deltas, ml_tail_confusions,
                             multilabel_report, paired_bootstrap_multilabel, runs_ml_bin_table, runs_ml_overall_table)
from lt_core.plots import multilabel as mlplots
from lt_core.posthoc import (DEFAULT_TAUS, ML_OBJECTIVES, as_logits, compare_decisions, prior_correction_spec,
                             prior_corrected, sigmoid_log_prior, threshold_decisions, thresholds_spec,
                             tune_prior_tau, tune_thresholds)
from lt_core.posthoc.export import LOAD
from lt_core.posthoc.multilabel import ML_USAGE
from ui import state

PCT = ("mAP", "ci_low", "ci_high", "macro_f1", "micro_f1", "samples_f1", "weighted_f1", "roc_auc", "ap",
       "precision", "recall", "f1", "a", "b", "delta", "share", "hamming_loss", "macro_precision", "macro_recall",
       "micro_precision", "micro_recall", "ap_macro_sklearn", "label_density", "missed_with_head", "fp_with_head",
       "with_head_share", "delta_ci_low", "delta_ci_high")
ML_HELP = ("Multi-label: a sample carries a set of classes; every class is a one-vs-rest (sigmoid) decision. AP and "
           "ROC-AUC match scikit-learn's average_precision_score / roc_auc_score exactly; F1s match f1_score.")


def _memo(key: tuple, owners: tuple, make):
    return state.memo("ml_memo", key, owners, make, 64)


def show_table(df: pd.DataFrame, file_name: str, key: str) -> None:
    """A table with shares as percentages (one decimal) and its CSV download (raw values)."""
    view = df.copy()
    cols = [c for c in view.columns if (c in PCT or str(c).startswith(("mAP ", "macro_f1 ", "f1 ", "ap ", "delta ",
                                                                         "f1_")) or str(c).endswith(("_ci_low",
                                                                                                      "_ci_high")))
            and pd.api.types.is_numeric_dtype(view[c]) and not pd.api.types.is_bool_dtype(view[c])]
    for c in cols:
        view[c] = 100 * view[c]
    st.dataframe(view, hide_index=True, column_config={c: st.column_config.NumberColumn(c, format="%.1f%%")
                                                       for c in cols})
    state.download_csv(df, file_name, key=key)


def _kind(p: Predictions) -> str:
    return p.kind if p.kind in ("probs", "logits") else "logits"


def run_decisions(p: Predictions, threshold: float, own: bool) -> tuple[np.ndarray, str]:
    """(decisions (N, C) bool, what decided them): the run's own per-class thresholds when it has
    them and ``own``, else ``probability >= threshold``."""
    if own and p.thresholds is not None:
        return threshold_decisions(p.scores, p.thresholds), "its own per-class thresholds"
    return decisions(p.scores, threshold, _kind(p)), f"probability ≥ {threshold:g}"


def _rank(ds: ClassificationDataset, run: str, split: str) -> RankState:
    p = ds.runs[run].preds[split]
    return _memo(("rank", run, split), (ds.labels[split], p),
                 lambda: RankState.empty(ds.classes.n_classes).update(ds.labels[split].dense(), p.scores))


def _report(ds, run, split, scheme, threshold, own, n_boot, seed):
    p = ds.runs[run].preds[split]

    def make():
        D, _ = run_decisions(p, threshold, own)
        return multilabel_report(ds.labels[split].dense(), p.scores, ds.classes, scheme, kind=_kind(p),
                                 threshold=threshold if not (own and p.thresholds is not None) else p.thresholds,
                                 bootstrap=int(n_boot), seed=int(seed), rank=_rank(ds, run, split), decided=D)
    return _memo(("report", run, split, scheme, float(threshold), bool(own), int(n_boot), int(seed)),
                 (ds.labels[split], p, ds.classes), make)


def _badge_caption(ds) -> str:
    return f"{state.kind_badge(ds)} {ds.name}" + (" · generated data" if ds.generated else "")


# ================================================================================================
# Metrics
# ================================================================================================
def metrics_view(ds: ClassificationDataset, scheme: str, split: str, run_names: list[str], reference: str,
                 shown: list[str], focus: str, n_boot: int, seed: int) -> None:
    """The Metrics page for a multi-label dataset: mAP and F1s per bin, CIs, runs side by side."""
    sch = parse_bins(scheme)
    c = st.columns([1, 1, 3])
    thr = c[0].number_input("Decision threshold", 0.01, 0.99, 0.5, 0.05, key="m_ml_thr",
                            help="A class is predicted when its probability (sigmoid of the logit) reaches this; the "
                                 "F1s, precision, recall and hamming loss depend on it, AP and ROC-AUC do not.")
    own = c[1].toggle("Runs' own thresholds", True, key="m_ml_own",
                      help="Runs kept from the Thresholds page carry per-class thresholds tuned on val; use them "
                           "(otherwise every run is cut at the threshold on the left).")
    Y = ds.labels[split]
    try:
        with st.spinner("Computing multi-label metrics and bootstrap intervals (resampling samples)…"):
            reports = {r: _report(ds, r, split, scheme, thr, own, n_boot, seed) for r in shown}
            paired = {}
            if n_boot:
                pa = ds.runs[reference].preds[split]
                Da, _ = run_decisions(pa, thr, own)
                for r in shown:
                    if r == reference:
                        continue
                    pb = ds.runs[r].preds[split]
                    Db, _ = run_decisions(pb, thr, own)
                    paired[r] = _memo(("paired", reference, r, split, scheme, float(thr), bool(own), int(n_boot),
                                       int(seed)), (Y, pa, pb, ds.classes),
                                      lambda pa=pa, pb=pb, Da=Da, Db=Db: paired_bootstrap_multilabel(
                                          Y.dense(), (pa.scores, Da), (pb.scores, Db), ds.classes, scheme,
                                          n_resamples=int(n_boot), seed=int(seed)))
    except InputError as e:
        state.show_error(e, "metrics")
        st.stop()

    # ---------------------------------------------------------------- the answer, first screen
    ref, cur = reports[reference], reports[focus]
    bins = [b for b in cur.bins.index if b != NO_DATA]
    pick = bins if len(bins) <= 3 else [bins[0], bins[len(bins) // 2], bins[-1]]
    pt = paired.get(focus)

    def delta(now, before):
        if focus == reference or now != now or before != before:
            return None
        return f"{100 * (now - before):+.1f} pp"

    def ci(lo, hi):
        return f" 95% CI {state.fmt_pct(lo)} – {state.fmt_pct(hi)}." if lo == lo else ""

    def paired_txt(row):
        if pt is None or row not in pt.index:
            return ""
        t = pt.loc[row]
        return (f" Paired 95% CI of the change: {100 * t['ci_low']:+.1f} … {100 * t['ci_high']:+.1f} pp "
                f"({'real' if t['significant'] else 'noise'}).")

    o = cur.overall
    m = st.columns(len(pick) + 2)
    m[0].metric("mAP", state.fmt_pct(o["mAP"]), delta(o["mAP"], ref.overall["mAP"]),
                help="Mean average precision over the classes with positives on the split (AP as scikit-learn's "
                     "average_precision_score)." + ci(o.get("mAP_ci_low", np.nan), o.get("mAP_ci_high", np.nan))
                     + paired_txt("mAP"))
    for i, b in enumerate(pick, 1):
        row = cur.bins.loc[b]
        m[i].metric(f"{b} mAP ({int(row['n_classes']):,} classes)", state.fmt_pct(row["mAP"]),
                    delta(row["mAP"], ref.bins["mAP"].get(b, np.nan)),
                    help=f"Mean AP of the {b} classes (bins by TRAIN positives), {int(row['n_positives']):,} {split} "
                         f"positives." + ci(row["ci_low"], row["ci_high"]) + paired_txt(f"{b} mAP"))
    m[-1].metric("Macro-F1", state.fmt_pct(o["macro_f1"]), delta(o["macro_f1"], ref.overall["macro_f1"]),
                 help="Mean per-class F1 over every class (scikit-learn f1_score, average='macro') at the decision "
                      "threshold." + ci(o.get("macro_f1_ci_low", np.nan), o.get("macro_f1_ci_high", np.nan))
                      + paired_txt("macro_f1"))
    _, how = run_decisions(ds.runs[focus].preds[split], thr, own)
    who = f"run **{focus}**" + (f" vs reference **{reference}**" if focus != reference else "")
    boot = (f"bootstrap {int(n_boot):,} resamples of the {split} samples, seed {int(seed)}" if n_boot
            else "no bootstrap (set resamples > 0 for intervals)")
    st.caption(f"{_badge_caption(ds)} · {who} · split **{split}** ({len(Y):,} samples, {Y.cardinality:.2f} labels "
               f"each) · decisions: {how} · bins **{scheme}** by TRAIN positives · {boot}.")
    st.caption(f"micro-F1 {state.fmt_pct(o['micro_f1'])} · samples-F1 {state.fmt_pct(o['samples_f1'])} · "
               f"hamming loss {o['hamming_loss']:.4f} · ROC-AUC {state.fmt_pct(o['roc_auc'])} · label cardinality "
               f"{o['label_cardinality']:.2f} (predicted {o['predicted_cardinality']:.2f}), density "
               f"{o['label_density']:.3f}.", help=ML_HELP)
    if split == "val":
        st.caption("Numbers on **val**: use them for choosing settings; report the test split.")

    # ---------------------------------------------------------------- the chart that explains it
    long = runs_ml_bin_table(reports)
    metric = st.radio("Per-bin metric", ["mAP", "macro_f1", "micro_f1", "samples_f1"], horizontal=True,
                      key="m_ml_binmetric", format_func=mlplots.ML_METRIC_LABELS.get,
                      help="mAP: mean AP of the bin's classes; macro-F1 over them; micro-F1 pools their counts; "
                           "samples-F1 averages each sample's F1 over the bin's labels (scikit-learn on the bin's "
                           "columns).")
    st.plotly_chart(mlplots.ml_bin_chart(long, run_names, metric=metric, scheme=scheme), key="m_ml_bins")
    if pt is not None:
        st.plotly_chart(mlplots.ml_paired_chart(pt, reference, focus, run_names), key="m_ml_paired")
        noisy = [n for n in pt.index if not pt.loc[n, "significant"]]
        if noisy:
            st.caption("Differences whose 95% interval includes 0 (could be noise): " + ", ".join(noisy))
    elif len(shown) > 1:
        st.caption("Set bootstrap resamples > 0 to see whether the differences between runs are real.")
    pm = st.radio("Per-class", ["ap", "f1", "roc_auc"], horizontal=True, key="m_ml_pcmetric",
                  format_func=mlplots.ML_METRIC_LABELS.get)
    from ui import examples as ex  # the samples behind a class: its missed positives and false positives

    left, right = st.columns([3, 2])
    with left:
        scatter_event = ex.chart_event(mlplots.ap_vs_positives_chart(reports, run_names, metric=pm), "m_ml_scatter")
    with right:
        ex.take_click(scatter_event, "m_ml_ex", lambda pt: ex.class_target(pt, focus))
        ex_run = (ex.target("m_ml_ex") or {}).get("run")
        ex_run = ex_run if ex_run in shown else focus
        ex.multilabel_panel(ds, ex_run, split, scheme, "m_ml_ex", decided=run_decisions(
            ds.runs[ex_run].preds[split], thr, own)[0], threshold=thr)

    # ---------------------------------------------------------------- where the tail goes
    st.subheader(f"Where the tail goes · {focus}")
    Dcur, _ = run_decisions(ds.runs[focus].preds[split], thr, own)
    tc = _memo(("tailconf", focus, split, scheme, float(thr), bool(own)), (Y, ds.runs[focus].preds[split], ds.classes),
               lambda: ml_tail_confusions(Y.dense(), Dcur, ds.classes, scheme, k=3))
    if len(tc):
        lead = tc.drop_duplicates("name")
        st.caption(f"Missed positives of the {lead['bin'].iloc[0]} classes and what the model predicted on those "
                   f"samples instead: {state.fmt_pct(np.nanmean(lead['missed_with_head']))} of the missed samples "
                   "got a head label (mean over the classes).")
    show_table(tc, f"ml_tail_confusions_{focus}_{split}.csv", "m_ml_dl_tc")

    # ---------------------------------------------------------------- tables behind it
    st.subheader("Tables")
    t1, t2, t3, t4 = st.tabs(["Per bin (all runs)", "Overall (all runs)", "Per class", "Per-class change vs reference"])
    with t1:
        show_table(long, f"ml_bins_{split}.csv", "m_ml_dl_bins")
    with t2:
        show_table(runs_ml_overall_table(reports), f"ml_overall_{split}.csv", "m_ml_dl_overall")
        if paired:
            allp = pd.concat([p.reset_index().assign(run=r, reference=reference) for r, p in paired.items()],
                             ignore_index=True)
            st.markdown("**Paired differences (run − reference) with bootstrap CIs**")
            show_table(allp, f"ml_paired_{reference}_{split}.csv", "m_ml_dl_paired")
    with t3:
        run_pc = st.selectbox("Run", shown, index=shown.index(focus), key="m_ml_pc_run")
        pc = reports[run_pc].per_class.copy()
        pc["low_support"] = pc["support"] < MIN_SUPPORT
        st.caption(f"{len(pc):,} classes, class-table order. support = {split} positives; low_support: fewer than "
                   f"{MIN_SUPPORT}.")
        show_table(pc, f"ml_per_class_{run_pc}_{split}.csv", "m_ml_dl_pc")
    with t4:
        if len(reports) > 1:
            d = ml_class_deltas(reports, reference, metric="ap")
            show_table(d, f"ml_class_deltas_vs_{reference}_{split}.csv", "m_ml_dl_deltas")
        else:
            st.info("Only one run: keep another on the Thresholds or Retrain page (or load one on the Data page) to "
                    "compare.", icon=":material/info:")


# ================================================================================================
# Thresholds
# ================================================================================================
PT, PC = "per-class thresholds", "prior correction"
OBJ_LABEL = {"macro_f1": "macro-F1", "micro_f1": "micro-F1", "samples_f1": "samples-F1",
             "tail_macro_f1": "tail-bin macro-F1 (bounded head drop)"}


def thresholds_view(ds: ClassificationDataset, scheme: str) -> None:
    """The Thresholds page for a multi-label dataset: per-class thresholds and the sigmoid prior
    correction, tuned on val and applied to test, per bin before / after with CIs."""
    labelled = [s for s in ("val", "test") if s in ds.labels]
    runs = [r for r, run in ds.runs.items() if any(s in run.preds and run.preds[s].scores is not None
                                                   for s in labelled)]
    if not runs:
        st.info("No scores to fix: load a run's per-class probabilities or logits (val and test) on the **Data** "
                "page, or go back to the demo there.", icon=":material/info:")
        st.stop()
    c = st.columns([2, 2, 2, 1])
    method = c[0].radio("Method", [PT, PC], horizontal=True, key="t_ml_method",
                        help="Per-class thresholds: one decision threshold per class, chosen on val (threshold moving; "
                             "Fan & Lin 2007 'SCut'). Prior correction: z − τ·log(p_c / (1 − p_c)) with p_c the train "
                             "prior of class c, τ chosen on val (the binary form of logit adjustment, Menon et al. "
                             "ICLR 2021).")
    run_name = c[1].selectbox("Run", runs, key="t_ml_run", help="The model whose decisions are fixed.")
    run = ds.runs[run_name]
    splits = [s for s in labelled if s in run.preds and run.preds[s].scores is not None]
    tune_split = "val" if "val" in splits else splits[0]
    report_split = "test" if "test" in splits else tune_split
    base_thr = c[2].number_input("Baseline threshold", 0.05, 0.95, 0.5, 0.05, key="t_ml_base",
                                 help="The decision the fix is compared with: probability ≥ this for every class.")
    seed = int(c[3].number_input("Seed", 0, 2**31 - 1, 0, 1, key="t_ml_seed",
                                 help="Seed of the bootstrap (1,000 resamples of the samples, the same for before and "
                                      "after; Efron & Tibshirani 1993)."))
    if tune_split == "test":
        st.warning("**Tuning on test.** There is no validation split with scores, so the fix is chosen on the test split "
                   "and every number below is optimistic. Load val labels and scores on the Data page.",
                   icon=":material/warning:")
    elif report_split == tune_split:
        st.warning(f"No test split: numbers are reported on {tune_split}, the split the fix is tuned on (optimistic).",
                   icon=":material/warning:")
    p_tune, p_rep = run.preds[tune_split], run.preds[report_split]
    Y_tune, Y_rep = ds.labels[tune_split], ds.labels[report_split]
    counts = ds.classes.train_count
    D0 = decisions(p_rep.scores, base_thr, _kind(p_rep))
    sch = parse_bins(scheme)
    bins = ds.classes.bins(sch)
    names = [n for n in sch.order(bins) if n != NO_DATA]
    head_bin, tail_bin = names[0], names[-1]

    if method == PT:
        h = st.columns([2, 1])
        obj = h[0].radio("Per class, choose", ["f1", "precision", "recall"], horizontal=True, key="t_ml_obj",
                         format_func={"f1": "best F1", "precision": "precision target", "recall": "recall target"}.get,
                         help="On the val split, among the points of scikit-learn's precision-recall curve: the highest "
                              "F1, or the highest recall that reaches a precision target, or the highest threshold "
                              "that reaches a recall target.")
        tdef = h[1].number_input("Target", 0.05, 1.0, 0.5, 0.05, key="t_ml_target", disabled=obj == "f1",
                                 help="The precision / recall to reach for every class.")
        try:
            res = _memo(("ml_thr", run_name, tune_split, obj, float(tdef)), (Y_tune, p_tune),
                        lambda: tune_thresholds(Y_tune.dense(), p_tune.scores, obj, None if obj == "f1" else tdef))
        except InputError as e:
            state.show_error(e, "thresholds")
            st.stop()
        D1 = threshold_decisions(p_rep.scores, res.thresholds)
        label = f"per-class thresholds ({obj})"
    else:
        n_train = len(ds.labels["train"]) if "train" in ds.labels else None
        if n_train is None:
            st.info("The prior correction needs the TRAIN priors: load train labels on the Data page.",
                    icon=":material/info:")
            st.stop()
        h = st.columns([2, 1, 1])
        obj = h[0].selectbox("Tuning objective", ML_OBJECTIVES, format_func=OBJ_LABEL.get, key="t_ml_pobj",
                             help="What the τ sweep (41 values over [0, 2]) maximises on val, at the baseline threshold.")
        max_drop = h[1].number_input("Max head drop (points)", 0.0, 100.0, 5.0, 0.5, key="t_ml_drop",
                                     disabled=obj != "tail_macro_f1") / 100
        pseudo = 1.0 if ((counts == 0) | (counts == n_train)).any() else 0.0
        try:
            tuned = _memo(("ml_prior", run_name, tune_split, scheme, obj, round(max_drop, 4), float(base_thr), pseudo),
                          (Y_tune, p_tune, ds.classes),
                          lambda: tune_prior_tau(Y_tune.dense(), p_tune.scores, _kind(p_tune), counts, n_train,
                                                 ds.classes, scheme, obj, DEFAULT_TAUS, base_thr, max_drop,
                                                 tune_split, pseudo))
        except InputError as e:
            state.show_error(e, "prior correction")
            st.stop()
        tkey = ("t_ml_tuned", run_name, obj, round(max_drop, 4), scheme, float(base_thr))
        if st.session_state.get("t_ml_tuned_key") != tkey:
            st.session_state["t_ml_tuned_key"] = tkey
            st.session_state["t_ml_tau"] = float(tuned.tau)
        tau = h[2].slider("τ", 0.0, 2.0, step=0.05, key="t_ml_tau", format="%.2f",
                          help="0 = the model as trained; 1 = each class's logit moved to a balanced prior.")
        lp = sigmoid_log_prior(counts, n_train, pseudo)
        Z_rep = prior_corrected(as_logits(p_rep.scores, _kind(p_rep)), lp, tau)
        D1 = decisions(Z_rep, base_thr, "logits")
        label = f"prior correction τ = {tau:.2f}"
    try:
        with st.spinner("Bootstrap intervals before / after (1,000 resamples of the samples)…"):
            table = _memo(("ml_cmp", method, run_name, report_split, scheme, label, float(base_thr), seed),
                          (Y_rep, p_rep, ds.classes),
                          lambda: compare_decisions(Y_rep.dense(), p_rep.scores, D0, D1, ds.classes, scheme, 1000,
                                                    seed))
    except InputError as e:
        state.show_error(e, "bootstrap")
        st.stop()
    tb = table.set_index("bin")

    # ---------------------------------------------------------------- the answer
    m = st.columns(5)
    for col, b in ((m[0], tail_bin), (m[1], head_bin)):
        r = tb.loc[b]
        col.metric(f"{b} macro-F1 ({report_split})", state.fmt_pct(r["f1_after"]), f"{100 * r['delta']:+.1f} pts",
                   help=f"Macro-F1 of the {b} classes on {report_split} with the fix vs probability ≥ {base_thr:g}. "
                        f"Paired 95% CI of the change [{100 * r['delta_ci_low']:+.1f}, {100 * r['delta_ci_high']:+.1f}] "
                        f"pts ({'real' if r['significant'] else 'could be noise'}).")
    r = tb.loc["all"]
    m[2].metric(f"macro-F1 ({report_split})", state.fmt_pct(r["f1_after"]), f"{100 * r['delta']:+.1f} pts")
    m[3].metric(f"micro-F1 ({report_split})", state.fmt_pct(r["micro_f1_after"]),
                f"{100 * (r['micro_f1_after'] - r['micro_f1_before']):+.1f} pts")
    if method == PT:
        m[4].metric(f"targets reached (on {tune_split})", f"{int(res.reached.sum()):,} / {len(res.reached):,}")
    else:
        m[4].metric(f"tuned τ (on {tune_split})", f"{tuned.tau:.2f}", delta=f"slider {tau:.2f}", delta_color="off",
                    help=f"Chosen on {tune_split} for {OBJ_LABEL[obj]}.")
    st.caption(f"{_badge_caption(ds)} · {label} · run **{run_name}** · tuned on **{tune_split}** ({len(Y_tune):,} "
               f"samples) · reported on **{report_split}** ({len(Y_rep):,}) · baseline: probability ≥ {base_thr:g} · "
               f"bins {scheme} by train positives · AP and ROC-AUC do not change with thresholds or per-class shifts.")

    # ---------------------------------------------------------------- charts
    g = st.columns([2, 3])
    g[0].plotly_chart(mlplots.before_after_bins_chart(table, scheme, report_split, "macro-F1",
                                                      f"probability ≥ {base_thr:g}", label), key="t_ml_bins")
    f0 = _per_class_f1(Y_rep.dense(), D0)
    f1 = _per_class_f1(Y_rep.dense(), D1)
    from ui import examples as ex  # what the fix changed: a class's samples fixed and broken

    with g[1]:
        change_event = ex.chart_event(mlplots.class_change_chart(counts, ds.classes.names, bins, scheme, f0, f1,
                                                                 Y_rep.counts(), report_split, "F1",
                                                                 class_ids=ds.classes.ids), "t_ml_classes")
    ex.take_click(change_event, "t_ml_ex", ex.class_of_point)
    with st.expander(f"What the fix changed, one class at a time ({report_split})",
                     expanded=ex.target("t_ml_ex") is not None, icon=":material/compare_arrows:"):
        ex.multilabel_changes_panel(ds, report_split, "t_ml_ex", scheme, D0, D1,
                                    scores=Z_rep if method == PC else p_rep.scores,
                                    kind="logits" if method == PC else _kind(p_rep),
                                    names=(f"p≥{base_thr:g}", "the fix"))
    if method == PC:
        st.plotly_chart(mlplots.prior_sweep_chart(tuned.table, scheme, tuned.tau, tau, tune_split, OBJ_LABEL[obj]),
                        key="t_ml_sweep")

    # ---------------------------------------------------------------- tables
    st.subheader(f"Per bin ({report_split}), before → after, bootstrap 95% CIs (seed {seed})")
    show_table(table, f"ml_bins_{method.replace(' ', '_')}_{report_split}.csv", "t_ml_dl_bins")
    pcf = pd.DataFrame({"class": ds.classes.names, "bin": bins, "train_positives": counts,
                        f"{report_split}_positives": Y_rep.counts(), "f1_before": f0, "f1_after": f1,
                        "delta": f1 - f0})
    if method == PT:
        pcf.insert(3, "threshold", res.thresholds)
        pcf.insert(4, f"f1 {tune_split}", res.f1)
    with st.expander(f"Per class ({report_split}), tail first"):
        show_table(pcf.sort_values("train_positives", kind="stable"), f"ml_classes_{report_split}.csv",
                   "t_ml_dl_classes")

    # ---------------------------------------------------------------- keep / export
    st.subheader("Keep it")
    k = st.columns([2, 3])
    new_name = k[0].text_input("Run name", value=f"{run_name} + {label}", key="t_ml_name",
                               help="The fixed decisions become a run; the Metrics page compares it with the original.")
    if k[0].button("Keep as run", icon=":material/add:", type="primary", key="t_ml_keep"):
        try:
            preds = {}
            for s_ in splits:
                p = run.preds[s_]
                if method == PT:
                    preds[s_] = Predictions(s_, p.kind, scores=p.scores, sample_ids=p.sample_ids,
                                            source=f"per-class {obj} thresholds of {run_name}",
                                            thresholds=np.asarray(res.thresholds, dtype=np.float64))
                else:  # corrected logits in float64 so the kept decisions are exactly the ones shown
                    z = prior_corrected(as_logits(p.scores, _kind(p)), lp, tau)
                    t_logit = float(np.log(base_thr) - np.log1p(-base_thr))
                    preds[s_] = Predictions(s_, "logits", scores=z, sample_ids=p.sample_ids,
                                            source=f"prior correction of {run_name}",
                                            thresholds=np.full(ds.classes.n_classes, t_logit))
            state.add_run(ds, Run(new_name, preds, source=f"{label}, tuned on {tune_split}", description=label))
            st.success(f"Added run **{new_name}** ({', '.join(preds)}). Compare it with **{run_name}** on the Metrics "
                       "page.", icon=":material/check:")
        except InputError as e:
            state.show_error(e, "keep as run")
    if method == PT:
        spec = thresholds_spec(res.thresholds, objective=obj, targets=res.targets, class_ids=ds.classes.ids,
                               class_names=ds.classes.names,
                               tuning={"tuned_on": tune_split, "input_kind": _kind(p_tune), "run": run_name})
        usage = ML_USAGE["thresholds"]
        fname = "thresholds.json"
    else:
        spec = prior_correction_spec(counts, n_train, tau, threshold=base_thr, input_kind=_kind(p_tune),
                                     pseudo_count=pseudo, class_ids=ds.classes.ids, class_names=ds.classes.names,
                                     tuning={**tuned.to_dict(), "slider_tau": tau})
        usage = ML_USAGE["sigmoid_prior_correction"]
        fname = "prior_correction.json"
    k[1].download_button(f"Export {fname}", json.dumps(spec, indent=1, allow_nan=False).encode(), fname,
                         "application/json", icon=":material/download:", key="t_ml_export")
    k[1].code(f"{LOAD.replace('adjustment.json', fname)}\n{usage}", language="python")
    k[1].caption("Same from the command line: `python -m lt_core adjust-ml --preds TEST_SCORES --train-labels L "
                 f"--tune-on VAL_LABELS VAL_SCORES --method {'thresholds' if method == PT else 'prior'} ...`")


def _per_class_f1(Y: np.ndarray, D: np.ndarray) -> np.ndarray:
    tp = (Y & D).sum(0).astype(float)
    den = tp * 2 + (~Y & D).sum(0) + (Y & ~D).sum(0)
    return np.divide(2 * tp, den, out=np.zeros_like(tp), where=den > 0)


# ================================================================================================
# Retrain
# ================================================================================================
JOB, RESULTS, ROWS = "rt_ml_job", "rt_ml_results", "rt_ml_rows"
CI_RESAMPLES, CI_SEED = 1000, 0


def retrain_view(ds: ClassificationDataset, scheme: str) -> None:
    """The Retrain page for a multi-label dataset: a new head with a sigmoid loss and a multi-label
    sampler, compared per bin (mAP, macro-F1) with the reference run, with paired CIs."""
    from lt_core.heads import (LOSS_HELP, METHOD_HELP, METHOD_LABELS, ML_LOSSES, ML_METHODS, ML_SAMPLERS,
                               USAGE_SNIPPET, RetrainJob, RetrainSettings, head_metadata, head_state_bytes,
                               ml_experiment_row, retrain_dataset)
    from lt_core.io import to_jsonable

    splits = [s for s in ("val", "test") if s in ds.features and s in ds.labels]
    report_split = "test" if "test" in splits else ("val" if "val" in splits else None)
    if report_split is None:
        st.warning("No val or test features with labels: a head can be trained and exported, but not evaluated here.",
                   icon=":material/warning:")
    results: dict = st.session_state.setdefault(RESULTS, {})
    rows: list = st.session_state.setdefault(ROWS, [])
    ref_name = next((r for r in ds.runs if report_split in ds.runs[r].preds
                     and ds.runs[r].preds[report_split].scores is not None and r not in results), None)
    Y_rep = ds.labels[report_split] if report_split else None

    def rep_of(name: str, scores, owner):
        return _memo(("rt_rep", name, scheme, report_split), (Y_rep, owner, ds.classes),
                     lambda: multilabel_report(Y_rep.dense(), scores, ds.classes, scheme, kind="logits"
                                               if name not in ds.runs else _kind(ds.runs[name].preds[report_split]),
                                               bootstrap=CI_RESAMPLES, seed=CI_SEED))

    # ---------------------------------------------------------------- the answer first
    latest = rows[-1]["run"] if rows else None
    ref_rep = rep_of(ref_name, ds.runs[ref_name].preds[report_split].scores, ds.runs[ref_name].preds[report_split]) \
        if ref_name and report_split else None
    sch = parse_bins(scheme)
    present = [b for b in sch.order(ds.classes.bins(sch)) if b != NO_DATA]
    head_bin, tail_bin = present[0], present[-1]
    m = st.columns(4)
    if latest and report_split and latest in results:
        new = rep_of(latest, results[latest].scores[report_split], results[latest])

        def d(get):
            return None if ref_rep is None else f"{100 * (get(new) - get(ref_rep)):+.1f} pts vs {ref_name}"
        m[0].metric(f"{tail_bin} bin mAP", state.fmt_pct(new.bins.loc[tail_bin, "mAP"]),
                    d(lambda r: r.bins.loc[tail_bin, "mAP"]),
                    help=f"Mean AP of the {tail_bin} classes on {report_split}, of '{latest}'.")
        m[1].metric(f"{head_bin} bin mAP", state.fmt_pct(new.bins.loc[head_bin, "mAP"]),
                    d(lambda r: r.bins.loc[head_bin, "mAP"]), help="What the head pays for the tail.")
        m[2].metric("mAP (all classes)", state.fmt_pct(new.overall["mAP"]), d(lambda r: r.overall["mAP"]))
        m[3].metric("training time", f"{results[latest].elapsed_s:,.1f} s", help=f"on {results[latest].device}")
        st.caption(f"{_badge_caption(ds)} · latest retraining **{latest}** on **{report_split}**, against "
                   f"**{ref_name or '—'}** · bins by train positives ({scheme}).")
    elif ref_rep is not None:
        m[0].metric(f"{tail_bin} bin mAP ({ref_name})", state.fmt_pct(ref_rep.bins.loc[tail_bin, "mAP"]))
        m[1].metric(f"{head_bin} bin mAP ({ref_name})", state.fmt_pct(ref_rep.bins.loc[head_bin, "mAP"]))
        m[2].metric(f"mAP ({ref_name})", state.fmt_pct(ref_rep.overall["mAP"]))
        m[3].metric("retrainings this session", "0")
        st.caption(f"{_badge_caption(ds)} · the current model **{ref_name}** on **{report_split}**. Train a new head "
                   "below; every retraining becomes a run on the Metrics page.")

    # ---------------------------------------------------------------- parameters
    st.subheader("Train a head (multi-label)")
    c = st.columns(4)
    method = c[0].selectbox("Method", ML_METHODS, index=1, format_func=METHOD_LABELS.get, key="rt_ml_method",
                            help=" · ".join(f"{METHOD_LABELS[k]}: {METHOD_HELP[k]}" for k in ML_METHODS)
                                 + " (τ-norm and NCM pick one class per sample: single-label methods.)")
    loss = c[1].selectbox("Loss", ML_LOSSES, index=2, key="rt_ml_loss",
                          help=" · ".join(f"{k}: {LOSS_HELP[k]}" for k in ML_LOSSES))
    default_sampler = "instance" if method == "joint" else "class-aware"
    sampler = c[2].selectbox("Sampler", ML_SAMPLERS, index=ML_SAMPLERS.index(default_sampler),
                             key=f"rt_ml_sampler_{method}",
                             help="instance: every sample once; class-aware: classes visited equally often, each "
                                  "class's samples in random cycles (Shen et al. 2016; Wu et al. 2020's sampler); rfs: "
                                  "repeat factor r = max(1, √(t / f)) of a sample's rarest label (Gupta et al. 2019).")
    model = c[3].selectbox("Head", ["linear", "mlp"], key="rt_ml_model", disabled=method not in ("crt", "joint"),
                           help="A linear classifier or a small MLP (linear-ReLU-linear, 512 hidden).")
    c = st.columns(6)
    epochs = c[0].number_input("Epochs", 1, 500, 10, key="rt_ml_epochs")
    lr = c[1].number_input("Learning rate", 1e-4, 100.0, 2.0, format="%.4f", key="rt_ml_lr",
                           help="SGD (momentum 0.9), cosine schedule; the sigmoid losses are normalised per sample, so "
                                "one learning rate fits all of them.")
    batch = c[2].number_input("Batch", 8, 8192, 512, step=64, key="rt_ml_batch")
    seed = c[3].number_input("Seed", 0, 2 ** 31 - 1, 0, key="rt_ml_seed",
                             help="Seeds the head initialisation, the sampler and the shuffling.")
    beta = c[4].number_input("β", 0.0, 0.99999, 0.9999, format="%.5f", key="rt_ml_beta", disabled=loss != "cb-focal",
                             help="Effective-number β of the class-balanced focal loss (Cui et al., CVPR 2019).")
    gamma_default = {"cb-focal": 1.0, "db": 2.0}.get(loss, 0.0)
    gamma = c[5].number_input("γ", 0.0, 10.0, gamma_default, key=f"rt_ml_gamma_{loss}",
                              disabled=loss not in ("cb-focal", "db"),
                              help="Focal γ: 1 for CB focal (Cui et al.'s CIFAR-LT script), 2 for DB (Wu et al.). ASL's "
                                   "γ- = 4, γ+ = 0 are fixed at the paper's values.")
    go = st.button("Train", type="primary", icon=":material/play_arrow:", key="rt_ml_go",
                   disabled=bool(st.session_state.get(JOB) and st.session_state[JOB].running))
    if go:
        try:
            settings = RetrainSettings(method=method, loss=loss, sampler=sampler, epochs=int(epochs), lr=float(lr),
                                       batch_size=int(batch), seed=int(seed),
                                       model=model if method in ("crt", "joint") else "linear",
                                       beta=float(beta) if loss == "cb-focal" else None,
                                       gamma=float(gamma) if loss in ("cb-focal", "db") else None,
                                       multi_label=True, use_loaded=True)
            name = settings.label()
            k = 2
            while name in ds.runs or name in results:
                name = f"{settings.label()} #{k}"
                k += 1
            settings.name = name
            st.session_state[JOB] = RetrainJob(
                lambda progress, cancel, _s=settings, _ds=ds, _sch=scheme: retrain_dataset(
                    _ds, _s, bin_scheme=_sch, progress=progress, cancel=cancel), label=name)
        except InputError as e:
            state.show_error(e, "settings")

    def progress_section() -> None:
        job = st.session_state.get(JOB)
        if job is None:
            return
        if job.running:
            cols = st.columns([6, 1])
            cols[0].progress(job.progress.fraction, text=f"**{job.label}** — {job.message()}")
            if cols[1].button("Cancel", icon=":material/stop:", key="rt_ml_cancel"):
                job.cancel()
            return
        if job.status == "done" and job.label not in results:
            res = job.result
            results[res.name] = res
            st.session_state["rt_ml_pick"] = res.name
            state.add_run(ds, res.to_run(), {"head": res})  # kept in the workspace with its head
            if report_split:
                rows.append(ml_experiment_row(res, Y_rep, ds.classes, scheme, report_split))
            st.rerun(scope="app")
        elif job.status == "cancelled":
            st.info(f"**{job.label}** was cancelled; nothing was added.", icon=":material/stop_circle:")
        elif job.status == "failed":
            if isinstance(job.error, InputError):
                state.show_error(job.error, job.label)
            else:
                st.error(job.message(), icon=":material/error:")

    job = st.session_state.get(JOB)
    if job is not None and job.running:
        st.fragment(run_every=0.5)(progress_section)()
    else:
        progress_section()
    if not results:
        st.info("No retraining yet in this session. Pick a loss and press **Train**: cRT with the distribution-balanced "
                "loss and class-aware sampling is the multi-label recipe of Wu et al. 2020.", icon=":material/info:")
        return

    # ---------------------------------------------------------------- charts
    names = list(results)
    pick = st.selectbox("Show run", names[::-1], key="rt_ml_pick")
    res = results[pick]
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(mlplots.ml_training_curves_chart(res.history_frame(), scheme, f"Training curves of {pick}"),
                        width="stretch", key="rt_ml_curves")
        if res.notes:
            st.caption(" · ".join(res.notes))
    if report_split:
        reports = {}
        if ref_name:
            reports[ref_name] = ref_rep
        for n in names[-4:]:
            reports[n] = rep_of(n, results[n].scores[report_split], results[n])
        run_names = ([ref_name] if ref_name else []) + names
        metric = right.radio("Per-bin metric", ["mAP", "macro_f1"], horizontal=True, key="rt_ml_metric",
                             format_func=mlplots.ML_METRIC_LABELS.get)
        fig = mlplots.ml_bin_chart(runs_ml_bin_table(reports), [r for r in run_names if r in reports], metric, scheme)
        fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0), height=460)
        right.plotly_chart(fig, width="stretch", key="rt_ml_bins")
        right.caption(f"{report_split}; whiskers: bootstrap 95% CIs ({CI_RESAMPLES:,} resamples of the samples, seed "
                      f"{CI_SEED}); F1 at probability 0.5.")
        if ref_name:
            with st.expander(f"Is the change real? {pick} − {ref_name} with paired bootstrap 95% CIs ({report_split})"):
                pref = ds.runs[ref_name].preds[report_split]
                pt = _memo(("rt_paired", pick, ref_name, scheme, report_split), (Y_rep, pref, res),
                           lambda: paired_bootstrap_multilabel(
                               Y_rep.dense(), (pref.scores, decisions(pref.scores, 0.5, _kind(pref))),
                               (res.scores[report_split], decisions(res.scores[report_split], 0.5, "logits")),
                               ds.classes, scheme, n_resamples=CI_RESAMPLES, seed=CI_SEED))
                st.plotly_chart(mlplots.ml_paired_chart(pt, ref_name, pick, run_names), key="rt_ml_paired")
                show_table(pt.reset_index(), f"ml_paired_{pick}.csv", "rt_ml_dl_paired")

    if report_split and ref_name:  # what the new head fixed and broke, one class at a time
        from ui import examples as ex

        pref = ds.runs[ref_name].preds[report_split]
        with st.expander(f"What {pick} fixed and broke vs {ref_name}, one class at a time ({report_split})"):
            ex.multilabel_changes_panel(ds, report_split, "rt_ml_ex", scheme, decisions(pref.scores, 0.5, _kind(pref)),
                                        decisions(res.scores[report_split], 0.5, "logits"),
                                        scores=res.scores[report_split], kind="logits", names=(ref_name, pick))

    # ---------------------------------------------------------------- tables and export
    st.subheader("Experiments of this session")
    show_table(pd.DataFrame(rows), "ml_retrain_experiments.csv", "rt_ml_dl_rows")
    st.subheader(f"Export {pick}")
    e = st.columns(3)
    safe = pick.replace("·", "_").replace(" ", "_").replace("#", "")
    e[0].download_button("Head (safetensors)", head_state_bytes(res.head, "safetensors"), f"{safe}.safetensors",
                         icon=":material/download:", key="rt_ml_dl_head")
    e[1].download_button("Head (torch state_dict)", head_state_bytes(res.head, "torch"), f"{safe}.pt",
                         icon=":material/download:", key="rt_ml_dl_pt")
    meta = head_metadata(res)
    meta["weights_file"] = "head.safetensors"
    e[2].download_button("Settings (head.json)", json.dumps(to_jsonable(meta), indent=2), "head.json",
                         mime="application/json", icon=":material/download:", key="rt_ml_dl_json")
    st.caption("Sigmoid outputs: probabilities = 1 / (1 + exp(−logits)); a class is predicted at probability ≥ 0.5 (or "
               "tune per-class thresholds on the Thresholds page). Save the head as `head.safetensors` next to "
               "`head.json`, then:")
    st.code(USAGE_SNIPPET.format(dir="head_folder"), language="python")


# ================================================================================================
# Rebalance (re-sampling)
# ================================================================================================
def resampling_view(ds: ClassificationDataset, scheme: str) -> None:
    """The Re-sampling section of the Rebalance page for multi-label train labels: class-aware
    sampling per label and repeat factors over a sample's labels, and what they do to every label."""
    from lt_core.rebalance import ML_STRATEGIES, expected_label_distribution, multilabel_epoch_indices
    from lt_core.rebalance import exports as ex

    lab = ds.labels["train"]
    counts = lab.counts()
    sch = parse_bins(scheme)
    bins = ds.classes.bins(sch)
    present = [b for b in sch.order(bins) if b != NO_DATA]
    tail_bin = present[-1]
    c = st.columns([2, 1, 1, 2])
    strategy = c[0].selectbox("Sampling strategy (multi-label)", ML_STRATEGIES, index=1, key="rb_ml_strategy",
                              help="instance: every sample once. class-aware: the classes visited equally often, each "
                                   "class's samples in random cycles (Shen et al. 2016; the sampler of Wu et al. 2020). "
                                   "rfs: a sample repeated r = max over its labels of max(1, √(t / f(c))) times, "
                                   "stochastically rounded (Gupta et al. 2019).")
    seed = int(c[1].number_input("Seed", min_value=0, value=0, step=1, key="rb_ml_seed"))
    epoch = int(c[2].number_input("Epoch", min_value=0, value=0, step=1, key="rb_ml_ep"))
    t = c[3].select_slider("t (RFS threshold)", options=[1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1], value=1e-2,
                           key="rb_ml_t", disabled=strategy != "rfs",
                           help="f(c) = share of training samples carrying class c.")
    try:
        idx = multilabel_epoch_indices(lab, strategy, epoch=epoch, seed=seed, threshold=t)
        expected = {s: expected_label_distribution(lab, s, threshold=t) for s in ML_STRATEGIES}
    except InputError as e:
        state.show_error(e, "re-sampling")
        st.stop()
    drawn = lab.take(idx).counts()
    tb = bins == tail_bin
    e_now = expected[strategy]
    m = st.columns(3)
    m[0].metric("Epoch length", f"{len(idx):,}", f"{len(idx) / len(lab):.2f}× the {len(lab):,} train samples",
                delta_color="off", delta_arrow="off")
    m[1].metric(f"Epoch share of {tail_bin} positives", state.fmt_pct(e_now[tb].sum() / e_now.sum()),
                f"{100 * (e_now[tb].sum() / e_now.sum() - counts[tb].sum() / counts.sum()):+.1f} pts vs instance",
                help="Exact expectation over the labels the drawn samples carry.")
    head = bins == present[0]
    m[2].metric(f"Epoch share of {present[0]} positives", state.fmt_pct(e_now[head].sum() / e_now.sum()),
                f"{100 * (e_now[head].sum() / e_now.sum() - counts[head].sum() / counts.sum()):+.1f} pts vs instance",
                help="Sampling a tail class brings the head labels its samples carry along: the head keeps a large share.")
    st.caption(f"{state.kind_badge(ds)} multi-label train labels: a drawn sample adds a positive to each of its classes.")
    st.plotly_chart(mlplots.expected_labels_chart(counts, expected, ds.classes, scheme), key="rb_ml_chart")
    per = pd.DataFrame({"class_id": ds.classes.ids, "name": ds.classes.names, "bin": bins, "train_positives": counts,
                        **{f"expected {s}": v for s, v in expected.items()}, "drawn_this_epoch": drawn})
    st.dataframe(per.sort_values("train_positives", ascending=False), hide_index=True)
    state.download_csv(per, f"ml_resampling_{strategy}.csv", key="rb_ml_dl_per")
    e = st.columns(2)
    e[0].download_button("epoch indices (.npy)", ex.indices_payload(idx, "npy"), f"indices_{strategy}_e{epoch}.npy",
                         "application/octet-stream", key="rb_ml_dl_inpy", icon=":material/download:")
    e[1].download_button("epoch indices (.csv)", ex.indices_payload(idx, "csv"), f"indices_{strategy}_e{epoch}.csv",
                         "text/csv", key="rb_ml_dl_icsv", icon=":material/download:")
    st.code(f"idx = np.load('indices_{strategy}_e{epoch}.npy')  # one epoch, rows of the train label file\n"
            "loader = DataLoader(train_set, batch_size=256, sampler=idx.tolist())\n"
            f"# a fresh epoch: lt_core.rebalance.multilabel_epoch_indices(Y, '{strategy}', epoch=e, seed={seed})",
            language="python")
