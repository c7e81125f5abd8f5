"""Thresholds: how much tail can I buy back without retraining, and at what head cost?"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from lt_core.data import Predictions, Run
from lt_core.errors import InputError
from lt_core.metrics import bin_accuracy, paired_bootstrap
from lt_core.plots import posthoc as pplots
from lt_core.posthoc import (DEFAULT_TAUS, OBJECTIVES, TauEvaluator, ThresholdCounts, apply_thresholds,
                             as_log_scores, bias_spec, log_prior, logit_adjustment_spec, predict_with_bias,
                             select_tau, sweep_table, tau_norm_predictor, tau_norm_scores, tau_norm_spec,
                             thresholds_spec, tune_thresholds, tuning_split)
from lt_core.examples import decision_changes
from lt_core.posthoc.export import LOAD, USAGE
from ui import examples as ex
from ui import state

st.title("Thresholds")
st.caption("How much tail can I buy back without retraining, and at what head cost?")

ds = state.classification()
scheme = state.bin_scheme()
if ds is None:
    st.info("Load a classification dataset on the **Data** page, or use the demo.", icon=":material/info:")
    st.stop()

if ds.multi_label:  # per-class thresholds and the sigmoid prior correction (lt_core.posthoc.multilabel)
    from ui.multilabel_views import thresholds_view

    thresholds_view(ds, scheme)
    st.stop()

LA, TN = "logit adjustment", "tau-normalisation"
OBJ_LABEL = {"balanced_accuracy": "balanced accuracy", "macro_f1": "macro-F1",
             "few_accuracy": "tail-bin accuracy (bounded head drop)"}
labelled = [s for s in ("val", "test") if s in ds.labels]
runs = [r for r, run in ds.runs.items()
        if any(s in run.preds and run.preds[s].scores is not None for s in labelled)]
can_tau_norm = ds.classifier is not None and all(s in ds.features for s in labelled) and labelled
if not runs and not can_tau_norm:
    st.info("No scores to adjust: load a run's logits or probabilities (val and test) on the **Data** page, or go "
            "back to the demo there.", icon=":material/info:")
    st.stop()

# ---------------------------------------------------------------- page parameters
c = st.columns([2, 2, 2, 1])
methods = ([LA] if runs else []) + ([TN] if can_tau_norm else [])
method = c[0].radio("Method", methods, horizontal=True, key="t_method",
                    help="Logit adjustment: logits − τ·log(train prior) (Menon et al., ICLR 2021). "
                         "τ-normalisation: classifier rows w_c / ‖w_c‖^τ, bias dropped (Kang et al., ICLR 2020); "
                         "needs the classifier weights and features.")
if method == LA:
    run_name = c[1].selectbox("Run", runs, key="t_run", help="The model whose scores are adjusted (Data page runs).")
    run = ds.runs[run_name]
    splits = [s for s in labelled if s in run.preds and run.preds[s].scores is not None]
else:
    run_name = next(iter(ds.runs), "classifier")
    c[1].markdown(f"**Classifier** `{ds.classifier.source or 'loaded weights'}` "
                  f"({ds.classifier.W.shape[0]:,} × {ds.classifier.W.shape[1]:,})")
    splits = [s for s in labelled if s in ds.features]
objective = c[2].selectbox("Tuning objective", OBJECTIVES, format_func=OBJ_LABEL.get, key="t_obj",
                           help="What the τ sweep (41 values over [0, 2]) maximises on the validation split: "
                                "balanced accuracy (Brodersen et al. 2010), macro-F1, or the tail bin's accuracy "
                                "while the head bin loses at most the allowed drop (Menon et al. 2021 report both).")
max_drop = c[3].number_input("Max head drop (points)", 0.0, 100.0, 5.0, 0.5, key="t_drop",
                             disabled=objective != "few_accuracy",
                             help="For the tail-bin objective: the head bin's accuracy may fall at most this many "
                                  "percentage points below the unadjusted model (on val).") / 100

try:
    tune_split = tuning_split(splits, allow_test=True)
except InputError as e:
    state.show_error(e, "tuning")
    st.stop()
report_split = "test" if "test" in splits else tune_split
if tune_split == "test":
    st.warning("**Tuning on test.** There is no validation split with scores, so τ is chosen on the test split "
               "and every number below is optimistic. Load val labels and val scores on the Data page to tune "
               "honestly.", icon=":material/warning:")
elif report_split == tune_split:
    st.warning(f"No test split: numbers are reported on {tune_split}, the split τ is tuned on (optimistic).",
               icon=":material/warning:")

if method == TN:
    st.caption("τ-normalisation drops the classifier's bias (Kang et al. 2020), so τ = 0 here is the classifier "
               "without its bias, not the original run; the deltas below are against that.")
counts = ds.classes.train_count
pseudo = 1.0 if (counts == 0).any() else 0.0
if pseudo:
    st.caption(f"{int((counts == 0).sum()):,} classes have no training sample: the prior adds a pseudo count of 1 "
               "to every class so log(prior) is finite.")

# ---------------------------------------------------------------- precomputed state (once per run / split)
def _cached(key: tuple, owners: tuple, make):
    return state.memo("t_memo", key, owners, make, 24)


def evaluator(split: str) -> TauEvaluator:
    y = ds.labels[split].y
    if method == LA:
        p = run.preds[split]
        return _cached(("la", run_name, split, scheme, pseudo), (ds.labels[split], p, ds.classes),
                       lambda: TauEvaluator(as_log_scores(p.scores, p.kind), y, counts, scheme, (0.0, 2.0), pseudo))
    f = ds.features[split]
    return _cached(("tn", split, scheme), (ds.labels[split], f, ds.classifier, ds.classes),
                   lambda: TauEvaluator(None, y, counts, scheme,
                                        predict=tau_norm_predictor(f.X, ds.classifier.W)))


try:
    with st.spinner("Indexing the scores for fast τ changes…"):
        ev_tune = evaluator(tune_split)
        ev_rep = evaluator(report_split)
        sweep = _cached(("sweep", method, run_name, tune_split, scheme, pseudo), (ev_tune,),
                        lambda: sweep_table(ev_tune.sweep(DEFAULT_TAUS), counts, scheme))
    tuned_tau, sweep_f = select_tau(sweep, objective, max_drop)
except InputError as e:
    state.show_error(e, "τ sweep")
    st.stop()

bins_present = [c_[4:] for c_ in sweep.columns if c_.startswith("acc ") and sweep[c_].notna().any()]
head_bin, tail_bin = bins_present[0], [b for b in bins_present if b != "no training data"][-1]

# the slider follows the tuned tau until the user moves it; "use tuned" snaps back
tkey = ("t_tuned", method, run_name, objective, round(max_drop, 4), scheme)
if st.session_state.get("t_tuned_key") != tkey:
    st.session_state["t_tuned_key"] = tkey
    st.session_state["t_tau"] = float(tuned_tau)
sc = st.columns([5, 1])
tau = sc[0].slider("τ", 0.0, 2.0, step=0.05, key="t_tau", format="%.2f",
                   help="Adjustment strength: 0 = the model as trained; 1 = Menon et al.'s Bayes-optimal logit "
                        "adjustment for a balanced test set (Kang et al. use τ in [0, 1] for τ-normalisation).")
if sc[1].button("Use tuned τ", help=f"Set τ to {tuned_tau:.2f}, chosen on {tune_split} for {OBJ_LABEL[objective]}."):
    st.session_state.pop("t_tuned_key")
    st.rerun()

p0, p1 = ev_rep.at(0.0), ev_rep.at(tau)
n_changed = int((p0.pred != p1.pred).sum())

# ---------------------------------------------------------------- the answer
m = st.columns(5)
m[0].metric(f"{tail_bin} accuracy ({report_split})", state.fmt_pct(p1.bins[tail_bin]),
            delta=f"{100 * (p1.bins[tail_bin] - p0.bins[tail_bin]):+.1f} pts",
            help=f"Mean per-class recall of the {tail_bin} bin on {report_split}, at τ = {tau:.2f} vs τ = 0.")
m[1].metric(f"{head_bin} accuracy ({report_split})", state.fmt_pct(p1.bins[head_bin]),
            delta=f"{100 * (p1.bins[head_bin] - p0.bins[head_bin]):+.1f} pts",
            help="The head cost of the fix (mean per-class recall of the head bin).")
m[2].metric(f"balanced accuracy ({report_split})", state.fmt_pct(p1.balanced_accuracy),
            delta=f"{100 * (p1.balanced_accuracy - p0.balanced_accuracy):+.1f} pts")
m[3].metric(f"accuracy ({report_split})", state.fmt_pct(p1.accuracy),
            delta=f"{100 * (p1.accuracy - p0.accuracy):+.1f} pts",
            help="Plain accuracy follows the (long-tailed) test distribution; it usually falls as the tail gains.")
m[4].metric(f"tuned τ (on {tune_split})", f"{tuned_tau:.2f}", delta=f"slider {tau:.2f}", delta_color="off",
            help=f"Chosen on the {tune_split} split for {OBJ_LABEL[objective]}; the metrics on the left are "
                 f"{report_split} numbers at the slider's τ.")
st.caption(f"{method} · run **{run_name}** · tuned on **{tune_split}** ({len(ev_tune.y):,} samples) · reported on "
           f"**{report_split}** ({len(ev_rep.y):,} samples) · {n_changed:,} predictions changed at τ = {tau:.2f} · "
           f"bins {scheme} by train count")

# ---------------------------------------------------------------- charts
g = st.columns([3, 2])
g[0].plotly_chart(pplots.tau_sweep_chart(sweep, scheme, tuned_tau, tau, tune_split, OBJ_LABEL[objective], method),
                  width="stretch")
g[1].plotly_chart(pplots.tradeoff_chart(sweep, head_bin, tail_bin, scheme, tuned_tau, tune_split), width="stretch")
if objective == "few_accuracy" and not bool(sweep_f.loc[np.isclose(sweep_f.tau, tuned_tau), "feasible"].iloc[0]):
    st.warning(f"No τ keeps the {head_bin}-bin drop within {100 * max_drop:.1f} points on {tune_split}.")

# ---------------------------------------------------------------- what the adjustment fixed and broke
def adjusted_scores(rows: np.ndarray, t: float) -> np.ndarray:
    """The scores behind the decision at τ = t, for these report-split rows only."""
    if method == LA:
        p = run.preds[report_split]
        return as_log_scores(p.scores[rows], p.kind) - t * log_prior(counts, pseudo)
    return tau_norm_scores(ds.features[report_split].X[rows], ds.classifier.W, t)


def fixed_and_broken(which: str, class_id: int | None):
    return decision_changes(ds.labels[report_split], ds.classes, scheme, p0.pred, p1.pred,
                            before_scores=lambda r: adjusted_scores(r, 0.0),
                            after_scores=lambda r: adjusted_scores(r, tau), which=which, cap=None,
                            names=("τ=0", f"τ={tau:.2f}"), true_ids=class_id)


y_rep = ds.labels[report_split].y
n_fixed = int(((p0.pred != y_rep) & (p1.pred == y_rep)).sum())
n_broken = int(((p0.pred == y_rep) & (p1.pred != y_rep)).sum())
st.subheader(f"What τ = {tau:.2f} fixed and broke ({report_split})")
st.caption(f"{n_fixed:,} samples fixed (wrong at τ = 0, right now) and {n_broken:,} broken (right at τ = 0, wrong now); "
           "click a class in the chart for its samples.")
chart_col, examples_col = st.columns([3, 2])
with chart_col:
    change_event = ex.chart_event(pplots.class_recall_change_chart(
        ev_rep.train_counts, ds.classes.names, np.asarray(ev_rep.bin_names, dtype=object)[ev_rep.codes], scheme,
        p0.recall, p1.recall, ev_rep.support, report_split, tau, class_ids=ds.classes.ids), "t_changes_chart")
with examples_col:
    ex.take_click(change_event, "t_ex", ex.class_of_point)
    ex.changes_panel(ds, report_split, "t_ex", fixed_and_broken, names=("τ=0", f"τ={tau:.2f}"),
                     csv_prefix=f"{'LA' if method == LA else 'taunorm'}_tau{tau:.2f}")

# ---------------------------------------------------------------- tables
hb = st.columns([4, 1])
hb[0].subheader(f"Per bin at τ = {tau:.2f} ({report_split})")
seed = int(hb[1].number_input("Bootstrap seed", 0, 2**31 - 1, 0, 1, key="t_seed",
                              help="Seed of the paired bootstrap (1,000 resamples of the test samples within each "
                                   "class, the same for both decisions; Efron & Tibshirani 1993)."))
bt = ev_rep.bin_table(p0, p1)
# counts-based, ~50 ms on the demo; ~0.4 s at 1,000 classes: then on request, so the slider stays instant
auto_ci = ds.classes.n_classes <= 200
want_ci = auto_ci or hb[0].toggle("Paired bootstrap CIs", value=False, key="t_ci",
                                  help="95% CIs of each bin's change (about 0.4 s per τ at 1,000 classes).")
try:
    if not want_ci:
        raise LookupError
    pbt = _cached(("pb", method, run_name, report_split, scheme, round(tau, 4), seed), (ev_rep,),
                  lambda: paired_bootstrap(ev_rep.y, p0.pred, p1.pred, ds.classes, scheme, n_resamples=1000,
                                           seed=seed).table)
    bt["delta_ci_low"] = bt["bin"].map(pbt["ci_low"]).to_numpy(dtype=float)
    bt["delta_ci_high"] = bt["bin"].map(pbt["ci_high"]).to_numpy(dtype=float)
    lo, hi = bt.set_index("bin").loc[tail_bin, ["delta_ci_low", "delta_ci_high"]]
    st.caption(f"The {tail_bin} bin gains {100 * (p1.bins[tail_bin] - p0.bins[tail_bin]):+.1f} points on "
               f"{report_split}, paired bootstrap 95% CI [{100 * lo:+.1f}, {100 * hi:+.1f}] "
               f"(1,000 resamples, seed {seed}). delta columns are percentage points.")
except LookupError:
    st.caption("Turn on the paired bootstrap for confidence intervals of each bin's change.")
except InputError as e:
    state.show_error(e, "paired bootstrap")
order = ["bin", "n_classes", "n_samples", "accuracy_before", "accuracy_after", "delta", "delta_ci_low",
         "delta_ci_high", "predicted_share_before", "predicted_share_after"]
bt = bt[[c_ for c_ in order if c_ in bt.columns]]
pct_cols = [c_ for c_ in bt.columns if c_.startswith(("accuracy", "delta", "predicted_share"))]
st.dataframe(bt.assign(**{c_: 100 * bt[c_] for c_ in pct_cols}), hide_index=True,
             column_config={c_: st.column_config.NumberColumn(c_, format="%.1f%%") for c_ in pct_cols})
state.download_csv(bt, f"bins_tau{tau:.2f}_{report_split}.csv", key="t_dl_bins")

with st.expander(f"Per class at τ = {tau:.2f} ({report_split}), tail first"):
    ct = ev_rep.class_table(p0, p1, ds.classes.names, ds.classes.ids)
    pc = ["recall_before", "recall_after", "delta"]
    st.dataframe(ct.assign(**{c_: 100 * ct[c_] for c_ in pc}), hide_index=True,
                 column_config={c_: st.column_config.NumberColumn(c_, format="%.1f%%") for c_ in pc})
    state.download_csv(ct, f"classes_tau{tau:.2f}_{report_split}.csv", key="t_dl_classes")

with st.expander(f"The τ sweep on {tune_split} (41 values)"):
    st.dataframe(sweep_f, hide_index=True)
    state.download_csv(sweep_f, f"tau_sweep_{tune_split}.csv", key="t_dl_sweep")

# ---------------------------------------------------------------- keep / export
st.subheader("Keep it")
k = st.columns([2, 3])
tag = "LA" if method == LA else "τ-norm"
new_name = k[0].text_input("Run name", value=f"{run_name} + {tag} τ={tau:.2f}",
                           help="The adjusted predictions become a run; the Metrics page compares it with the "
                                "original (paired bootstrap CIs).")
if k[0].button("Keep as run", icon=":material/add:", type="primary"):
    try:
        preds = {}
        for s_ in splits:
            if method == LA:
                p = run.preds[s_]
                z = as_log_scores(p.scores, p.kind) - tau * log_prior(counts, pseudo)
            else:
                z = tau_norm_scores(ds.features[s_].X, ds.classifier.W, tau)
            # labels = the exact float64 decision the page showed (float32 scores could flip a near-tie)
            preds[s_] = Predictions(s_, "logits", scores=np.asarray(z, dtype=np.float32),
                                    labels=evaluator(s_).predict(tau), sample_ids=ds.labels[s_].sample_ids,
                                    source=f"{method} of {run_name}")
        adj = (logit_adjustment_spec(counts, tau, input_kind="probs" if run.preds[splits[0]].kind == "probs" else "logits",
                                     pseudo_count=pseudo, class_ids=ds.classes.ids, class_names=ds.classes.names,
                                     tuning={"tuned_on": tune_split, "objective": objective, "tuned_tau": tuned_tau})
               if method == LA else tau_norm_spec(ds.classifier.W, tau, class_ids=ds.classes.ids,
                                                  class_names=ds.classes.names, tuning={"tuned_on": tune_split}))
        state.add_run(ds, Run(new_name, preds, source=f"{method}, τ = {tau:.2f} (tuned on {tune_split}: {tuned_tau:.2f})",
                              description=f"{method} of {run_name}"), {"adjustment": adj})
        st.success(f"Added run **{new_name}** ({', '.join(preds)}). Compare it with **{run_name}** on the Metrics page.",
                   icon=":material/check:")
    except InputError as e:
        state.show_error(e, "keep as run")

tuning_info = {"tuned_on": tune_split, "objective": objective, "tuned_tau": tuned_tau, "max_head_drop": max_drop}
if method == LA:
    kind = run.preds[splits[0]].kind
    spec = logit_adjustment_spec(counts, tau, input_kind="probs" if kind == "probs" else "logits",
                                 pseudo_count=pseudo, class_ids=ds.classes.ids, class_names=ds.classes.names,
                                 tuning=tuning_info)
    usage = USAGE[("logit_adjustment", spec["input"])]
else:
    spec = tau_norm_spec(ds.classifier.W, tau, class_ids=ds.classes.ids, class_names=ds.classes.names,
                         tuning=tuning_info)
    usage = USAGE[("tau_normalization", "features")]
k[1].download_button("Export adjustment (JSON)", json.dumps(spec, indent=1).encode(), "adjustment.json",
                     "application/json", icon=":material/download:", key="t_export")
k[1].code(f"{LOAD}\n{usage}", language="python")

# ---------------------------------------------------------------- per-class thresholds
st.divider()
st.subheader("Per-class thresholds (one-vs-rest)")
st.caption("Each class gets its own threshold on its probability, chosen on the tuning split: the best F1, or the "
           "lowest threshold that reaches a precision target, or the highest that reaches a recall target "
           "(the points of scikit-learn's precision-recall curve). For a single-label decision the thresholds act "
           "as biases: predict argmax(p − t).")
if method != LA:
    st.info("Per-class thresholds work on a run's scores: switch the method to logit adjustment.")
    st.stop()
h = st.columns([2, 1, 2])
t_obj = h[0].radio("Per class, choose", ["f1", "precision", "recall"], horizontal=True, key="t_thr_obj",
                   format_func={"f1": "best F1", "precision": "precision target", "recall": "recall target"}.get,
                   help="Threshold moving per class (Collell et al. 2016; Fan & Lin 2007, 'SCut' for F1).")
t_def = h[1].number_input("Default target", 0.05, 1.0, 0.5, 0.05, key="t_thr_target",
                          disabled=t_obj == "f1", help="The precision / recall to reach for every class; edit single "
                                                       "classes in the table.")
prob = {s_: _cached(("prob", run_name, s_), (run.preds[s_],), run.preds[s_].probabilities) for s_ in splits}
targets_key = ("t_targets", run_name, t_obj, t_def)
if st.session_state.get("t_targets_key") != targets_key:
    st.session_state["t_targets_key"] = targets_key
    st.session_state["t_targets"] = pd.DataFrame({"class": ds.classes.names, "bin": ds.classes.bins(scheme),
                                                  "train_count": counts, "target": t_def})
edited = st.data_editor(st.session_state["t_targets"], hide_index=True, key="t_editor", disabled=["class", "bin",
                        "train_count"], height=240,
                        column_config={"target": st.column_config.NumberColumn(
                            "target", min_value=0.01, max_value=1.0, step=0.05,
                            help="Per-class precision / recall target (ignored for best F1)")}) \
    if t_obj != "f1" else None
try:
    tg = None if t_obj == "f1" else edited["target"].to_numpy(dtype=float)
    thr_key = ("thr", run_name, tune_split, t_obj, None if tg is None else tg.tobytes())
    with st.spinner("Choosing a threshold per class…"):
        thr = _cached(thr_key, (ds.labels[tune_split], run.preds[tune_split]),
                      lambda: tune_thresholds(ds.labels[tune_split].y, prob[tune_split], t_obj, tg))
except InputError as e:
    state.show_error(e, "thresholds")
    st.stop()
yt = ds.labels[report_split].y
ovr_df, bias_pred = _cached(thr_key + (report_split,), (ds.labels[report_split], run.preds[report_split], thr), lambda: (
    ThresholdCounts.empty(ds.classes.n_classes).update(yt, apply_thresholds(prob[report_split], thr.thresholds)).compute(),
    predict_with_bias(prob[report_split], -thr.thresholds)))
pb = p0
bb = bin_accuracy(yt, bias_pred, counts, scheme)
q = st.columns(4)
q[0].metric(f"{tail_bin} accuracy, with biases ({report_split})", state.fmt_pct(bb[tail_bin]),
            delta=f"{100 * (bb[tail_bin] - pb.bins[tail_bin]):+.1f} pts",
            help="Single-label decision argmax(p − t) with the thresholds as biases, vs the plain argmax.")
q[1].metric(f"{head_bin} accuracy, with biases ({report_split})", state.fmt_pct(bb[head_bin]),
            delta=f"{100 * (bb[head_bin] - pb.bins[head_bin]):+.1f} pts")
q[2].metric(f"macro-F1, one-vs-rest ({report_split})", state.fmt_pct(np.nanmean(ovr_df["f1"])))
q[3].metric(f"targets reached (on {tune_split})", f"{int(thr.reached.sum()):,} / {len(thr.reached):,}")
tt = thr.to_frame(ds.classes.names)
tt.insert(2, "bin", ds.classes.bins(scheme))
tt.insert(3, "train_count", counts)
tt = tt.rename(columns={"precision": f"precision {tune_split}", "recall": f"recall {tune_split}",
                        "f1": f"f1 {tune_split}", "support": f"support {tune_split}"})
for col in ("precision", "recall", "f1"):
    tt[f"{col} {report_split} "] = ovr_df[col].to_numpy()
tt = tt.sort_values("train_count", kind="stable").reset_index(drop=True)
chart_df = tt.rename(columns={f"recall {report_split} ": "recall", "name": "name"})
st.plotly_chart(pplots.thresholds_chart(chart_df, scheme, report_split, "recall"), width="stretch")
pcols = [c_ for c_ in tt.columns if c_.startswith(("precision", "recall", "f1", "target"))]
st.dataframe(tt.assign(**{c_: 100 * tt[c_] for c_ in pcols}), hide_index=True,
             column_config={c_: st.column_config.NumberColumn(c_, format="%.1f%%") for c_ in pcols})
state.download_csv(tt, f"thresholds_{t_obj}_{run_name}.csv", key="t_dl_thr")
e = st.columns([2, 2, 1])
e[0].download_button("Export thresholds (JSON)", json.dumps(thresholds_spec(
    thr.thresholds, objective=t_obj, targets=thr.targets, class_ids=ds.classes.ids, class_names=ds.classes.names,
    tuning={"tuned_on": tune_split}), indent=1, allow_nan=False).encode(), "thresholds.json", "application/json",
    icon=":material/download:", key="t_exp_thr")
e[0].code(f"{LOAD.replace('adjustment', 'thresholds')}\n{USAGE[('thresholds', 'scores')]}", language="python")
e[1].download_button("Export as biases (JSON)", json.dumps(bias_spec(
    -thr.thresholds, objective=t_obj, class_ids=ds.classes.ids, class_names=ds.classes.names,
    tuning={"tuned_on": tune_split}), indent=1, allow_nan=False).encode(), "bias.json", "application/json",
    icon=":material/download:", key="t_exp_bias")
e[1].code(f"{LOAD.replace('adjustment', 'bias')}\n{USAGE[('bias', 'scores')]}", language="python")
if e[2].button("Keep biased argmax as run", icon=":material/add:", key="t_keep_bias"):
    try:
        preds = {s_: Predictions(s_, "labels", labels=predict_with_bias(prob[s_], -thr.thresholds),
                                 sample_ids=ds.labels[s_].sample_ids, source=f"per-class {t_obj} thresholds")
                 for s_ in splits}
        name = f"{run_name} + thresholds ({t_obj})"
        state.add_run(ds, Run(name, preds, source=f"one-vs-rest thresholds ({t_obj}) tuned on {tune_split}"),
                      {"thresholds": thresholds_spec(thr.thresholds, objective=t_obj, targets=thr.targets,
                                                     class_ids=ds.classes.ids, class_names=ds.classes.names,
                                                     tuning={"tuned_on": tune_split})})
        st.success(f"Added run **{name}**. Compare it on the Metrics page.", icon=":material/check:")
    except InputError as err:
        state.show_error(err, "keep as run")
