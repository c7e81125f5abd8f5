"""Retrain: what does a new head buy over the old one?"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from lt_core.heads import (LOSS_HELP, LOSS_NAMES, METHOD_HELP, METHOD_LABELS, METHODS, SAMPLERS, USAGE_SNIPPET,
                           RetrainJob, RetrainSettings, experiment_row, head_metadata, head_state_bytes,
                           kang_table, paired_deltas, retrain_dataset)
from lt_core.io import to_jsonable
from lt_core.metrics import classification_report, runs_bin_table
from lt_core.plots import heads as hplots
from lt_core.plots import metrics as mplots
from lt_core.rebalance import SMOTE_METHODS
from lt_core.bins import parse_bins
from lt_core.errors import InputError
from lt_core.examples import decision_changes
from ui import examples as ex
from ui import state

JOB, RESULTS, ROWS, CACHE = "rt_job", "rt_results", "rt_rows", "rt_cache"
CI_RESAMPLES, CI_SEED = 1000, 0

st.title("Retrain")
st.caption("What does a new head buy over the old one? Decoupled classifier re-training on frozen features "
           "(Kang et al., ICLR 2020) with the long-tail losses.")

ds = state.classification()
scheme = state.bin_scheme()
sch = parse_bins(scheme)
if ds is None or "train" not in ds.features or "train" not in ds.labels:
    st.info("Retraining needs **train features and train labels** (and ideally val / test features with labels). "
            "Load them on the **Data** page, or go back to the demo there (real GoEmotions sentence embeddings).",
            icon=":material/info:")
    st.stop()

if ds.multi_label:  # sigmoid losses and multi-label samplers (lt_core.heads, lt_core.rebalance.multilabel)
    from ui.multilabel_views import retrain_view

    retrain_view(ds, scheme)
    st.stop()

splits = [s for s in ("val", "test") if s in ds.features and s in ds.labels]
report_split = "test" if "test" in splits else ("val" if "val" in splits else None)
if report_split is None:
    st.warning("No val or test features with labels: a head can be trained and exported, but not evaluated here.",
               icon=":material/warning:")
st.session_state.setdefault(RESULTS, {})
st.session_state.setdefault(ROWS, [])
st.session_state.setdefault(CACHE, {})
results: dict = st.session_state[RESULTS]
rows: list = st.session_state[ROWS]

# the reference: the loaded joint model (or the first run with scores on the report split)
ref_name = next((r for r in (["joint"] + list(ds.runs)) if r in ds.runs and report_split in ds.runs[r].preds
                 and ds.runs[r].preds[report_split].labels is not None and r not in results), None)
y_rep = ds.labels[report_split].y if report_split else None
tc = ds.classes.train_count
bins_present = [b for b in sch.order(ds.classes.bins(sch)) if b != "no training data"]
head_bin, tail_bin = (bins_present[0], bins_present[-1]) if bins_present else ("head", "tail")


def _cached(key: tuple, owners: tuple, fn):
    """Bootstrap results per (what, run, scheme, split), computed once while the same labels and
    predictions are in use (ui.state.memo), not on every rerun."""
    return state.memo(CACHE, key, owners, fn, 64)


def _bin_acc(pred: np.ndarray) -> dict:
    from lt_core.heads import per_bin_accuracy
    return per_bin_accuracy(y_rep, pred, tc, scheme)


# ---------------------------------------------------------------- the answer first
latest = rows[-1]["run"] if rows else None
ref_acc = _bin_acc(ds.runs[ref_name].preds[report_split].labels) if ref_name and report_split else None
m = st.columns(4)
if latest and report_split and latest in results:
    new_acc = _bin_acc(results[latest].scores[report_split].argmax(1))

    def _d(k):
        return None if ref_acc is None else f"{100 * (new_acc[k] - ref_acc[k]):+.1f} pts vs {ref_name}"

    m[0].metric(f"{tail_bin} bin accuracy", state.fmt_pct(new_acc[tail_bin]), _d(tail_bin),
                help=f"Mean per-class recall over the {tail_bin} classes, {report_split} split, of '{latest}'.")
    m[1].metric(f"{head_bin} bin accuracy", state.fmt_pct(new_acc[head_bin]), _d(head_bin),
                help="What the head pays for the tail (mean per-class recall).")
    m[2].metric("all classes", state.fmt_pct(new_acc["all"]), _d("all"),
                help="Mean per-class recall over every class (balanced accuracy); on a class-balanced test set "
                     "this is Kang et al.'s 'All' column.")
    m[3].metric("training time", f"{results[latest].elapsed_s:,.1f} s", help=f"on {results[latest].device}")
    st.caption(f"Latest retraining **{latest}** on the **{report_split}** split, against **{ref_name or '—'}**. "
               "Bins by train count (" + scheme + ").")
elif ref_acc is not None:
    m[0].metric(f"{tail_bin} bin accuracy ({ref_name})", state.fmt_pct(ref_acc[tail_bin]))
    m[1].metric(f"{head_bin} bin accuracy ({ref_name})", state.fmt_pct(ref_acc[head_bin]))
    m[2].metric(f"all classes ({ref_name})", state.fmt_pct(ref_acc["all"]))
    m[3].metric("retrainings this session", "0")
    st.caption(f"The current model **{ref_name}** on the **{report_split}** split. Train a new head below to see what "
               "it buys; every retraining becomes a run on the Metrics page.")

if ds.generated:
    st.caption(":orange[Generated data (demo).]")

# ---------------------------------------------------------------- parameters
st.subheader("Train a head")
c = st.columns(4)
method = c[0].selectbox("Method", METHODS, index=1, format_func=METHOD_LABELS.get, key="rt_method",
                        help=" · ".join(f"{METHOD_LABELS[k]}: {v}" for k, v in METHOD_HELP.items()))
trains = method in ("crt", "lws", "joint")
loss = c[1].selectbox("Loss", LOSS_NAMES, key="rt_loss", disabled=not trains,
                      help=" · ".join(f"{k}: {LOSS_HELP[k]}" for k in LOSS_NAMES))
BETA_LOSSES = ("cb", "focal", "cb-softmax-focal", "cb-focal", "ldam-drw")
GAMMA_LOSSES = ("focal", "cb-softmax-focal", "cb-focal", "eqlv2", "db")
default_sampler = {"crt": "class-balanced", "lws": "class-balanced"}.get(method, "instance")
sampler = c[2].selectbox("Sampler", SAMPLERS, index=SAMPLERS.index(default_sampler), key=f"rt_sampler_{method}",
                         disabled=not trains,
                         help="Which samples each epoch visits (lt_core.rebalance): instance-balanced, class-balanced "
                              "(Kang et al. 2020), square-root (Mahajan et al. 2018), progressive (Kang et al. 2020), "
                              "label shuffling (Shen et al. 2016), random over / under, repeat factor (Gupta et al. "
                              "2019).")
model = c[3].selectbox("Head", ["linear", "mlp"], key="rt_model", disabled=method not in ("crt", "joint"),
                       help="A linear classifier (Kang et al. 2020) or a small MLP (linear-ReLU-linear, 512 hidden).")
c = st.columns(7)
epochs = c[0].number_input("Epochs", 1, 500, 10, key="rt_epochs", disabled=not trains,
                           help="cRT / LWS train 10 epochs in Kang et al. 2020.")
lr = c[1].number_input("Learning rate", 1e-4, 100.0, 2.0, format="%.4f", key="rt_lr", disabled=not trains,
                       help="SGD (momentum 0.9) with a cosine schedule, as Kang et al. 2020; 2.0 suits the demo's "
                            "unit-norm sentence features (Kang et al. use 0.2 on CNN features).")
batch = c[2].number_input("Batch", 8, 8192, 512, step=64, key="rt_batch", disabled=not trains,
                          help="Mini-batch size (512 in Kang et al. 2020).")
seed = c[3].number_input("Seed", 0, 2 ** 31 - 1, 0, key="rt_seed",
                         help="Seeds the head initialisation, the sampler and the shuffling (and SMOTE): the same "
                              "seed gives the same head on CPU.")
beta = c[4].number_input("β", 0.0, 0.99999, 0.9999, format="%.5f", key="rt_beta",
                         disabled=not (trains and loss in BETA_LOSSES),
                         help="Effective number β of the CB, focal and DRW weights (Cui et al., CVPR 2019).")
gamma_default = {"eqlv2": 12.0, "db": 2.0}.get(loss, 1.0)
gamma = c[5].number_input("γ", 0.0, 50.0, gamma_default, key=f"rt_gamma_{loss}",
                          disabled=not (trains and loss in GAMMA_LOSSES),
                          help="Focal γ (Lin et al. 2017; Cui et al. 2019) or EQLv2's γ = 12 (Tan et al., CVPR 2021).")
tau_auto = method == "tau-norm"
tau = c[6].number_input("τ", 0.0, 5.0, 1.0, 0.1, key="rt_tau",
                        disabled=not ((trains and loss == "logit-adjusted")
                                      or (tau_auto and not (st.session_state.get("rt_tau_val", True)
                                                            and "val" in splits))),
                        help="Logit-adjusted loss τ (Menon et al., ICLR 2021); for τ-norm a fixed τ when "
                             "'choose τ on val' is off (Kang et al. 2020).")
c = st.columns([2, 2, 3])
tau_on_val = c[0].toggle("choose τ on val", True, key="rt_tau_val", disabled=not tau_auto or "val" not in splits,
                         help="τ-norm: pick τ in [0, 2] (step 0.1) maximising balanced accuracy on the val split "
                              "(Kang et al. 2020 tune τ on val).")
smote = c[1].selectbox("SMOTE features", ["none", *SMOTE_METHODS],
                       key="rt_smote", disabled=method not in ("crt", "joint", "lws", "ncm"),
                       help="Augment the train features before training (Chawla et al. 2002; lt_core.rebalance, "
                            "imbalanced-learn semantics); seeded with the seed above.")
go = c[2].button("Train", type="primary", icon=":material/play_arrow:", key="rt_go",
                 disabled=bool(st.session_state.get(JOB) and st.session_state[JOB].running))

if go:
    try:
        settings = RetrainSettings(
            method=method, loss=loss if trains else "ce", sampler=sampler if trains else None, epochs=int(epochs),
            lr=float(lr), batch_size=int(batch), seed=int(seed), model=model if method in ("crt", "joint") else "linear",
            beta=float(beta) if loss in BETA_LOSSES else None,
            gamma=float(gamma) if loss in GAMMA_LOSSES else None,
            tau=float(tau) if loss == "logit-adjusted" else None,
            tau_norm=None if (tau_on_val and "val" in splits) else float(tau),
            smote=None if smote == "none" else smote, use_loaded=True)
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


def _progress() -> None:
    job: RetrainJob | None = st.session_state.get(JOB)
    if job is None:
        return
    if job.running:
        cols = st.columns([6, 1])
        cols[0].progress(job.progress.fraction, text=f"**{job.label}** — {job.message()}")
        if cols[1].button("Cancel", icon=":material/stop:", key="rt_cancel",
                          help="Stops before the next mini-batch; nothing is added."):
            job.cancel()
        return
    if job.status == "done" and job.label not in results:
        res = job.result
        results[res.name] = res
        st.session_state["rt_pick"] = res.name
        run = res.to_run()
        state.add_run(ds, run, {"head": res})  # kept in the workspace with its head (safetensors + head.json)
        if report_split:
            rows.append(experiment_row(res, y_rep, tc, scheme, report_split))
        st.rerun(scope="app")
    elif job.status == "cancelled":
        st.info(f"**{job.label}** was cancelled; nothing was added.", icon=":material/stop_circle:")
    elif job.status == "failed":
        if isinstance(job.error, InputError):
            state.show_error(job.error, job.label)
        else:
            st.error(job.message(), icon=":material/error:")


_job = st.session_state.get(JOB)
if _job is not None and _job.running:
    st.fragment(run_every=0.5)(_progress)()   # poll only while a job runs; the page stays usable meanwhile
else:
    _progress()

if not results:
    st.info("No retraining yet in this session. Pick a method and press **Train**: cRT, LWS and τ-norm each raise "
            "the tail on the demo.", icon=":material/info:")
    st.stop()

# ---------------------------------------------------------------- charts
names = list(results)
pick = st.selectbox("Show run", names[::-1], key="rt_pick", help="Training curves and exports of this retraining.")
res = results[pick]
split_note = " · ".join(res.notes)
left, right = st.columns([3, 2])
with left:
    st.plotly_chart(hplots.training_curves_chart(res.history_frame(), scheme, f"Training curves of {pick}"),
                    width="stretch", key="rt_curves")
    if split_note:
        st.caption(split_note)
with right:
    if report_split:
        reports = {}
        run_names = ([ref_name] if ref_name else []) + names
        preds = {n: results[n].scores[report_split].argmax(1) for n in names[-4:]}
        if ref_name:
            preds = {ref_name: ds.runs[ref_name].preds[report_split].labels, **preds}
        for n, p in preds.items():
            owner = ds.runs[n].preds[report_split] if n == ref_name else results[n]
            reports[n] = _cached(("report", n, scheme, report_split), (ds.labels[report_split], owner),
                                 lambda p=p: classification_report(y_rep, p, ds.classes, scheme,
                                                                   bootstrap=CI_RESAMPLES, seed=CI_SEED))
        fig = mplots.bin_accuracy_chart(runs_bin_table(reports), [r for r in run_names if r in reports], scheme=scheme)
        fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0), height=460,
                          title=f"Per-bin accuracy vs {ref_name or 'the reference'} ({report_split})")
        bins_event = ex.chart_event(fig, "rt_bins", width="stretch")
        if ref_name:
            ex.take_click(bins_event, "rt_ex", lambda pt: ex.bin_target(pt, pick))
        st.caption(f"{report_split} split, the reference and the last four retrainings; whiskers: bootstrap 95% CIs "
                   f"({CI_RESAMPLES:,} resamples within each class, seed {CI_SEED}). Paired CIs: below and on the "
                   "**Metrics** page.")
if res.tau_search:
    st.plotly_chart(hplots.tau_search_chart(res.tau_search, res.tau), width="stretch", key="rt_tau_chart")

if report_split and ref_name:
    with st.expander(f"Is the change real? {pick} − {ref_name} with paired bootstrap 95% CIs ({report_split}, "
                     f"{CI_RESAMPLES:,} resamples, seed {CI_SEED})", expanded=False):
        pt = _cached(("paired", pick, ref_name, scheme, report_split),
                     (ds.labels[report_split], ds.runs[ref_name].preds[report_split], res), lambda: paired_deltas(
            y_rep, ds.runs[ref_name].preds[report_split].labels, res.scores[report_split].argmax(1), ds.classes,
            scheme, n_resamples=CI_RESAMPLES, seed=CI_SEED))
        show = pt.reset_index().rename(columns={"index": "metric"})
        st.dataframe(show, hide_index=True, width="stretch",
                     column_config={k: st.column_config.NumberColumn(format="percent")
                                    for k in ("a", "b", "delta", "ci_low", "ci_high")})
        state.download_csv(show, f"paired_{pick}.csv", key="rt_dl_paired")

# ---------------------------------------------------------------- what the new head fixed and broke
def fixed_and_broken(which: str, class_id):
    ref_p = ds.runs[ref_name].preds[report_split]
    return decision_changes(ds.labels[report_split], ds.classes, scheme, ref_p.labels,
                            res.scores[report_split].argmax(1), before_scores=ref_p.scores,
                            after_scores=res.scores[report_split], kind=("probs" if ref_p.kind == "probs" else "logits", "logits"),
                            which=which, cap=None, names=(ref_name, pick), true_ids=class_id)


if report_split and ref_name:
    ref_pred = ds.runs[ref_name].preds[report_split].labels
    new_pred = res.scores[report_split].argmax(1)
    n_fixed = int(((ref_pred != y_rep) & (new_pred == y_rep)).sum())
    n_broken = int(((ref_pred == y_rep) & (new_pred != y_rep)).sum())
    with st.expander(f"What {pick} fixed and broke vs {ref_name} ({report_split}): {n_fixed:,} fixed, "
                     f"{n_broken:,} broken", expanded=True):
        st.caption("Click a bin bar in the chart above, or pick a class, for its samples only.")
        ex.class_picker("rt_ex", ds.classes, scheme, label="only the samples of a class", role_choice=False)
        ex.changes_panel(ds, report_split, "rt_ex", fixed_and_broken, names=(ref_name, pick), csv_prefix="retrain",
                         scheme=scheme)

# ---------------------------------------------------------------- tables
st.subheader("Experiments of this session")
table = pd.DataFrame(rows)
pct_cols = [b for b in sch.order() if b in table.columns] + ["all", "accuracy"]
st.dataframe(table, hide_index=True, width="stretch",
             column_config={k: st.column_config.NumberColumn(format="percent") for k in pct_cols})
state.download_csv(table, "retrain_experiments.csv", key="rt_dl_rows")
if ref_name and report_split:
    ref_row = {"run": f"{ref_name} (reference)", **_bin_acc(ds.runs[ref_name].preds[report_split].labels)}
    kt = kang_table([ref_row] + rows, scheme)
    with st.expander("Kang et al. 2020 table style (%, " + report_split + ")"):
        st.dataframe(kt, hide_index=True, width="stretch")
        state.download_csv(kt, "retrain_kang_table.csv", key="rt_dl_kang")

# ---------------------------------------------------------------- export
st.subheader(f"Export {pick}")
e = st.columns(4)
safe = pick.replace("·", "_").replace(" ", "_").replace("#", "")
e[0].download_button("Head (safetensors)", head_state_bytes(res.head, "safetensors"), f"{safe}.safetensors",
                     icon=":material/download:", key="rt_dl_head")
e[1].download_button("Head (torch state_dict)", head_state_bytes(res.head, "torch"), f"{safe}.pt",
                     icon=":material/download:", key="rt_dl_pt")
meta = head_metadata(res)
meta["weights_file"] = "head.safetensors"
e[2].download_button("Settings (head.json)", json.dumps(to_jsonable(meta), indent=2), "head.json",
                     mime="application/json", icon=":material/download:", key="rt_dl_json")
if report_split:
    import io as _io

    buf = _io.BytesIO()
    np.save(buf, res.scores[report_split].astype(np.float32), allow_pickle=False)
    e[3].download_button(f"{report_split} scores (.npy)", buf.getvalue(), f"{safe}_{report_split}_scores.npy",
                         icon=":material/download:", key="rt_dl_scores")
st.caption("Save the head as `head.safetensors` next to `head.json` in a folder, then:")
st.code(USAGE_SNIPPET.format(dir="head_folder"), language="python")
