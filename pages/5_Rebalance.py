"""Rebalance: what would re-weighting or re-sampling do to my data?"""
from __future__ import annotations

import time
from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from lt_core.bins import NO_DATA, parse_bins
from lt_core.errors import InputError
from lt_core.plots import rebalance as rplots
from lt_core.rebalance import (BETA_PRESETS, SMOTE_METHODS, STRATEGIES, bin_weight_share, epoch_indices,
                               expected_class_distribution, expected_sample_repeats, plan_targets, repeat_factors,
                               rfs_epoch_indices, smote_pca_view, smote_resample, weights_table)
from lt_core.rebalance import exports as ex
from ui import state

st.title("Rebalance")
st.caption("What would re-weighting or re-sampling do to my data? Everything here is computed from the TRAIN split.")

SECTIONS = ["Re-weighting", "Re-sampling", "Repeat factors (detection)", "SMOTE (features)"]
_SLUGS = {"weights": 0, "sampling": 1, "rfs": 2, "smote": 3}  # ?section=... deep links
section = st.radio("What to change", SECTIONS, horizontal=True, key="rb_section", label_visibility="collapsed",
                   index=_SLUGS.get(st.query_params.get("section", "weights"), 0))

STRATEGY_HELP = {
    "instance": "Every sample once per epoch, shuffled (the baseline).",
    "class-balanced": "Pick a class uniformly, then one of its samples (Kang et al. 2020, Decoupling).",
    "sqrt": "Class with probability ∝ √n (square-root sampling; Mahajan et al. 2018, Kang et al. 2020).",
    "progressive": "Instance- to class-balanced over T epochs: p(t) = (1 − t/T)·p_IB + (t/T)·p_CB (Kang et al. 2020).",
    "label-shuffling": "Per class a random permutation of length max n, modulo the class size; concatenated and "
                       "shuffled, fresh each epoch (Shen et al. 2016, Relay Backpropagation).",
    "over": "Random over-sampling: every sample plus random repeats up to a target per class (imbalanced-learn).",
    "under": "Random under-sampling: at most a target per class, drawn without replacement (imbalanced-learn).",
    "rfs": "Repeat factor sampling: r(c) = max(1, √(t / f(c))), stochastic rounding per epoch (Gupta et al. 2019, LVIS).",
}


def _code(text: str) -> None:
    st.code(text, language="python")


def _cls_dataset(need_labels: bool = True):
    ds = state.classification()
    if ds is None or (need_labels and "train" not in ds.labels):
        st.info("Load a classification dataset with TRAIN labels on the **Data** page (or use the demo there).",
                icon=":material/info:")
        st.stop()
    return ds


# Heavy export payloads (torch, GT JSON, .npz) are callables: built only when the button is clicked.

# ====================================================================== re-weighting
if section == "Re-weighting":
    ds = _cls_dataset(need_labels=False)  # weights need only the TRAIN counts of the class table
    scheme = state.bin_scheme()
    cl = ds.classes
    counts = cl.train_count
    bins = cl.bins(scheme)
    c = st.columns([2, 3])
    wscheme = c[0].selectbox("Weighting", ["effective-number", "inverse", "sqrt-inverse", "uniform"], key="rb_wscheme",
                             help="effective-number: w = (1 − β)/(1 − β^n) (Cui et al. 2019, Class-Balanced Loss); "
                                  "inverse: 1/n; sqrt-inverse: 1/√n (Mahajan et al. 2018); all normalised to sum to C.")
    beta = c[1].select_slider("β (effective number)", options=[0.0, 0.5, *BETA_PRESETS, 0.99999], value=0.999,
                              key="rb_beta", disabled=wscheme != "effective-number",
                              help="Cui et al. 2019 use β ∈ {0.9, 0.99, 0.999, 0.9999}; β = 0 gives uniform weights, "
                                   "β → 1 inverse frequency.")
    try:
        table = weights_table(counts, wscheme, beta, class_ids=cl.ids, names=cl.names, bins=bins)
    except InputError as e:
        state.show_error(e, "weights")
        st.stop()
    bin_order = parse_bins(scheme).order(bins)
    share = bin_weight_share(counts, table["weight"], bins, bin_order)
    w = table["weight"].to_numpy()
    pos = counts > 0
    head_i = int(np.argmax(np.where(pos, counts, -1)))
    tail_i = int(np.argmin(np.where(pos, counts, np.iinfo(np.int64).max)))
    tail_bin = [b for b in bin_order if b != NO_DATA][-1]
    sh = share.set_index("bin")
    m = st.columns(4)
    m[0].metric("Weight range (max / min)", f"{w[pos].max() / w[pos].min():,.1f}×",
                help="Ratio of the largest to the smallest class weight (classes with training samples).")
    m[1].metric(f"Rarest class: {cl.names[tail_i]}", f"{w[tail_i]:.3g}", f"n = {counts[tail_i]:,}",
                delta_color="off", delta_arrow="off", help="Its weight per sample (uniform weighting gives 1).")
    m[2].metric(f"Largest class: {cl.names[head_i]}", f"{w[head_i]:.3g}", f"n = {counts[head_i]:,}",
                delta_color="off", delta_arrow="off", help="Its weight per sample (uniform weighting gives 1).")
    m[3].metric(f"Loss share of the {tail_bin} bin", state.fmt_pct(sh.loc[tail_bin, "weighted_share"]),
                f"{100 * (sh.loc[tail_bin, 'weighted_share'] - sh.loc[tail_bin, 'sample_share']):+.1f} pts vs unweighted",
                help="Σ n_c·w_c over the bin / Σ over all classes: how much of the training loss the tail carries.")
    st.caption(f"{ds.name}{' · generated data' if ds.generated else ''} · TRAIN counts · bins **{scheme}** "
               f"(sidebar) · {cl.n_classes:,} classes · weights sum to {w.sum():,.2f} = C.")
    st.plotly_chart(rplots.weights_chart(counts, w, bins, scheme, cl.names,
                                         title=f"Weight per class vs train count ({wscheme}"
                                               + (f", β = {beta:g})" if wscheme == "effective-number" else ")")),
                    key="rb_wchart")
    c1, c2 = st.columns(2)
    with c1:
        st.plotly_chart(rplots.effective_number_curves(counts, BETA_PRESETS, beta if wscheme == "effective-number"
                                                       else None, bins, scheme), key="rb_eff")
    with c2:
        st.plotly_chart(rplots.weighted_share_chart(share, scheme), key="rb_share")
    st.subheader("Weights per class")
    st.dataframe(table.sort_values("count", ascending=False), hide_index=True,
                 column_config={"weight": st.column_config.NumberColumn(format="%.4f"),
                                "effective_number": st.column_config.NumberColumn(format="%.1f")})
    state.download_csv(table, "class_weights_table.csv", key="rb_dl_wtable")
    st.subheader("Export")
    e = st.columns(3)
    e[0].download_button("weights.json", ex.weights_json_payload(table, wscheme, beta), "weights.json",
                         "application/json", key="rb_dl_wjson", icon=":material/download:")
    e[1].download_button("weights.csv", ex.weights_csv_payload(table), "weights.csv", "text/csv",
                         key="rb_dl_wcsv", icon=":material/download:")
    e[2].download_button("weights.pt (torch)", partial(ex.weights_pt_payload, w), "weights.pt", "application/octet-stream",
                         key="rb_dl_wpt", icon=":material/download:")
    _code("w = torch.load('weights.pt', weights_only=True)  # float32 (C,), class-table order\n"
          "loss_fn = torch.nn.CrossEntropyLoss(weight=w)")
    st.caption("Same from the command line: `python -m lt_core rebalance weights --train-labels L "
               f"--scheme {wscheme} --beta {beta:g} --out weights.json`. See docs/exports.md.")

# ====================================================================== re-sampling
elif section == "Re-sampling":
    ds = _cls_dataset()
    scheme = state.bin_scheme()
    if ds.multi_label:  # class-aware sampling per label, repeat factors over labels (lt_core.rebalance.multilabel)
        from ui.multilabel_views import resampling_view

        resampling_view(ds, scheme)
        st.stop()
    cl = ds.classes
    y = ds.labels["train"].y
    counts = ds.labels["train"].counts(cl.n_classes)
    bins = cl.bins(scheme)
    c = st.columns([3, 1, 1, 2])
    strategy = c[0].selectbox("Sampling strategy", STRATEGIES, index=1, key="rb_strategy",
                              help=" · ".join(f"{k}: {v}" for k, v in STRATEGY_HELP.items()))
    seed = int(c[1].number_input("Seed", min_value=0, value=0, step=1, key="rb_seed",
                                 help="Every epoch is drawn from numpy default_rng([seed, epoch]): same seed and "
                                      "epoch, same list."))
    params: dict = {}
    num_epochs = None
    if strategy == "progressive":
        num_epochs = int(c[3].number_input("T (total epochs)", min_value=1, value=90, step=1, key="rb_T",
                                           help="Progressively-balanced sampling interpolates over T epochs "
                                                "(Kang et al. 2020 use the training length)."))
        epoch = int(c[2].number_input("Epoch", min_value=0, max_value=num_epochs, value=num_epochs // 2, key="rb_ep",
                                      help="Epoch t in 0..T to draw."))
    else:
        epoch = int(c[2].number_input("Epoch", min_value=0, value=0, step=1, key="rb_ep0",
                                      help="Each epoch is a fresh, reproducible list."))
    if strategy in ("over", "under"):
        default = int(counts[counts > 0].max() if strategy == "over" else counts[counts > 0].min())
        params["target"] = int(c[3].number_input("Target per class", min_value=1, value=default, key=f"rb_t_{strategy}",
                                                 help="Random over-/under-sampling target (imbalanced-learn's "
                                                      "RandomOverSampler / RandomUnderSampler default: the largest / "
                                                      "smallest class)."))
    if strategy == "rfs":
        params["threshold"] = c[3].select_slider("t (RFS threshold)", options=[1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1],
                                                 value=1e-2, key="rb_cls_t",
                                                 help="r(c) = max(1, √(t / f(c))), f(c) = share of training samples of "
                                                      "class c (Gupta et al. 2019; LVIS uses t = 0.001).")
    st.caption(STRATEGY_HELP[strategy])
    try:
        t0 = time.perf_counter()
        idx = epoch_indices(y, cl.n_classes, strategy, epoch=epoch, seed=seed, num_epochs=num_epochs, **params)
        dt = time.perf_counter() - t0
        expected = expected_class_distribution(counts, strategy, epoch=epoch, num_epochs=num_epochs, **params)
        rep = expected_sample_repeats(counts, strategy, epoch=epoch, num_epochs=num_epochs, **params)
    except InputError as e:
        state.show_error(e, "re-sampling")
        st.stop()
    drawn = np.bincount(y[idx], minlength=cl.n_classes)
    hits = np.bincount(idx, minlength=len(y))
    pos = counts > 0
    tail_i = int(np.argmin(np.where(pos, counts, np.iinfo(np.int64).max)))
    bin_order = [b for b in parse_bins(scheme).order(bins) if b != NO_DATA]
    tail_bin = bin_order[-1]
    tb = bins == tail_bin
    m = st.columns(4)
    m[0].metric("Epoch length", f"{len(idx):,}", f"{len(idx) / len(y):.2f}× the {len(y):,} train samples",
                delta_color="off", delta_arrow="off", help="Indices in the drawn epoch (expected: "
                                        f"{expected.sum():,.1f}).")
    m[1].metric(f"Epoch share of the {tail_bin} bin", state.fmt_pct(expected[tb].sum() / expected.sum()),
                f"{100 * (expected[tb].sum() / expected.sum() - counts[tb].sum() / counts.sum()):+.1f} pts vs instance",
                help="Exact expectation, not from the draw.")
    m[2].metric(f"Rarest class: {cl.names[tail_i]} (n = {counts[tail_i]:,})", f"{rep[tail_i]:,.2f}×",
                "visits per sample per epoch", delta_color="off", delta_arrow="off",
                help="Expected times each of its samples is visited per epoch (exact).")
    m[3].metric("Max repeats of one sample", f"{hits.max():,}×",
                f"{int((hits == 0).sum()):,} samples not visited", delta_color="off", delta_arrow="off",
                help=f"From the seeded epoch (seed {seed}, epoch {epoch}); drawn in {1000 * dt:.0f} ms.")
    st.plotly_chart(rplots.resampling_chart(counts, expected, drawn, bins, scheme, cl.names,
                                            title=f"Class distribution after {strategy} sampling (seed {seed}, "
                                                  f"epoch {epoch})"), key="rb_schart")
    max_rep = np.zeros(cl.n_classes, dtype=np.int64)
    np.maximum.at(max_rep, y, hits)
    per = pd.DataFrame({"class_id": cl.ids, "name": cl.names, "bin": bins, "train_count": counts,
                        "expected_per_epoch": expected, "drawn_this_epoch": drawn,
                        "expected_repeats_per_sample": rep, "max_repeats_this_epoch": max_rep})
    st.subheader("Per class")
    st.dataframe(per.sort_values("train_count", ascending=False), hide_index=True,
                 column_config={"expected_per_epoch": st.column_config.NumberColumn(format="%.1f"),
                                "expected_repeats_per_sample": st.column_config.NumberColumn(format="%.2f")})
    state.download_csv(per, f"resampling_{strategy}.csv", key="rb_dl_per")
    st.subheader("Export")
    e = st.columns(2)
    e[0].download_button("epoch indices (.npy)", ex.indices_payload(idx, "npy"), f"indices_{strategy}_e{epoch}.npy",
                         "application/octet-stream", key="rb_dl_inpy", icon=":material/download:")
    e[1].download_button("epoch indices (.csv)", ex.indices_payload(idx, "csv"), f"indices_{strategy}_e{epoch}.csv",
                         "text/csv", key="rb_dl_icsv", icon=":material/download:")
    cls_name = {"class-balanced": "ClassBalancedSampler", "sqrt": "SquareRootSampler",
                "progressive": "ProgressivelyBalancedSampler", "label-shuffling": "LabelShufflingSampler",
                "over": "RandomOverSampler", "under": "RandomUnderSampler", "rfs": "RepeatFactorSampler",
                "instance": "InstanceBalancedSampler"}[strategy]
    _code(f"idx = np.load('indices_{strategy}_e{epoch}.npy')  # one epoch, rows of the train label file\n"
          "loader = DataLoader(train_set, batch_size=256, sampler=idx.tolist())\n"
          f"# or a fresh epoch every pass: lt_core.rebalance.{cls_name}(train_labels, seed={seed})")

# ====================================================================== repeat factors
elif section == "Repeat factors (detection)":
    dds = state.detection()
    if dds is None:
        st.info("Load a COCO / LVIS training ground truth on the **Data** page (or use the LVIS-profile demo).",
                icon=":material/info:")
        st.stop()
    gt = dds.gt
    cats = gt.categories
    is_v1 = cats.n_classes == 1203
    c = st.columns([3, 2, 1, 1])
    t = c[0].select_slider("t (RFS threshold)", options=[1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1], value=1e-3,
                           key="rb_rfs_t", help="r(c) = max(1, √(t / f(c))), f(c) = fraction of training images "
                                                "containing c; image factor = max over its categories "
                                                "(Gupta et al. 2019, LVIS; t = 0.001 there and in detectron2).")
    src_opts = ["annotations", "image_count"]
    src = c[1].radio("f(c) from", src_opts, index=1 if dds.generated and is_v1 else 0, key="rb_rfs_src",
                     help="annotations: images of this file containing c (the definition, for a training file). "
                          "image_count: the category table's train image counts (LVIS metadata) over the number "
                          "of training images below.")
    seed = int(c[2].number_input("Seed", min_value=0, value=0, key="rb_rfs_seed",
                                 help="Stochastic rounding of the factors per epoch uses default_rng([seed, epoch])."))
    epoch = int(c[3].number_input("Epoch", min_value=0, value=0, key="rb_rfs_epoch", help="Epoch to draw."))
    n_train = None
    if src == "image_count":
        n_train = int(st.number_input("Training images behind image_count", min_value=1,
                                      value=100_170 if is_v1 else max(gt.n_images, int(cats.train_count.max())),
                                      key="rb_rfs_ntrain",
                                      help="LVIS v1 train has 100,170 images (v0.5: 57,263)."))
    try:
        rf = repeat_factors(gt, t, frequency=src, n_train_images=n_train)
        ep = rfs_epoch_indices(rf.image_factors, epoch=epoch, seed=seed)
    except InputError as e:
        state.show_error(e, "repeat factors")
        st.stop()
    if dds.generated:
        st.caption(f"{dds.name}: the category profile (image counts, r/c/f) is real LVIS v1; images and boxes are "
                   "**generated**.")
    m = st.columns(4)
    rep = rf.category_factors > 1
    m[0].metric("Categories repeated (r > 1)", f"{int(rep.sum()):,} of {len(rep):,}",
                help="Categories in fewer than t·I training images.")
    m[1].metric("Largest category factor", f"{rf.category_factors.max():.2f}×",
                help="r = √(t / f) of the rarest category.")
    m[2].metric("Images repeated", f"{int((rf.image_factors > 1).sum()):,} of {len(rf.image_ids):,}",
                state.fmt_pct((rf.image_factors > 1).mean()), delta_color="off", delta_arrow="off")
    m[3].metric("Epoch length", f"{len(ep):,}", f"expected {rf.expected_epoch_length:,.1f}", delta_color="off", delta_arrow="off",
                help=f"Images in the drawn epoch (seed {seed}, epoch {epoch}) vs Σ image factors.")
    bins_d = cats.bins("lvis")
    c1, c2 = st.columns([3, 2])
    with c1:
        st.plotly_chart(rplots.repeat_factor_chart(rf.image_fraction, rf.category_factors, t, bins_d, "lvis",
                                                   cats.names), key="rb_rfs_chart")
    with c2:
        st.plotly_chart(rplots.image_factor_histogram(rf.image_factors), key="rb_rfs_hist")
    img_pos, cat_pos = rf.image_categories
    hits = np.bincount(ep, minlength=len(rf.image_ids))
    drawn_cat = np.bincount(cat_pos, weights=hits[img_pos], minlength=cats.n_classes)
    in_file = np.bincount(cat_pos, minlength=cats.n_classes)
    st.plotly_chart(rplots.resampling_chart(in_file, rf.expected_images_per_category(), drawn_cat, bins_d, "lvis",
                                            cats.names, title="Images per category per epoch: in the file, expected "
                                                              "with RFS (exact), one seeded epoch",
                                            sort_by=cats.train_count), key="rb_rfs_dist")
    per = rf.categories_frame()
    per["bin"] = bins_d
    per["images_in_file"] = in_file
    per["expected_images_per_epoch"] = rf.expected_images_per_category()
    st.subheader("Per category")
    st.dataframe(per.sort_values("image_count", ascending=False), hide_index=True)
    state.download_csv(per, "repeat_factors_categories.csv", key="rb_dl_rfs_cat")
    st.subheader("Export")
    e = st.columns(3)
    e[0].download_button("repeat_factors.json", partial(ex.rfs_json_payload, rf), "repeat_factors.json", "application/json",
                         key="rb_dl_rfs_json", icon=":material/download:")
    e[1].download_button("repeat_factors.csv (per image)", ex.rfs_csv_payload(rf), "repeat_factors.csv", "text/csv",
                         key="rb_dl_rfs_csv", icon=":material/download:")
    if gt.raw is not None:
        e[2].download_button("GT JSON + repeat_factor", partial(ex.rfs_gt_payload, gt.raw, rf), "train_with_repeat_factors.json",
                             "application/json", key="rb_dl_rfs_gt", icon=":material/download:")
    _code("r = torch.tensor(pd.read_csv('repeat_factors.csv')['repeat_factor'].values)  # dataset order\n"
          "sampler = detectron2.data.samplers.RepeatFactorTrainingSampler(r)  # same r as REPEAT_THRESHOLD = t")
    st.caption("mmdetection's ClassBalancedDataset(oversample_thr=t) computes the same r but repeats ⌈r⌉ times "
               "instead of rounding stochastically. See docs/exports.md.")

# ====================================================================== SMOTE
else:
    ds = _cls_dataset()
    scheme = state.bin_scheme()
    cl = ds.classes
    if ds.multi_label:
        st.info("SMOTE interpolates between samples of ONE class; a multi-label sample carries several, so SMOTE is "
                "not defined here. Use class-aware sampling or repeat factors (Re-sampling) or a multi-label loss "
                "(Retrain page), or switch the GoEmotions demo to its single-label view in the sidebar.",
                icon=":material/info:")
        st.stop()
    if "train" not in ds.features:
        st.info("SMOTE works on feature vectors: load TRAIN features (N × D) on the **Data** page, or use the demo.",
                icon=":material/info:")
        st.stop()
    X = ds.features["train"].X
    y = ds.labels["train"].y
    counts = np.bincount(y, minlength=cl.n_classes)
    bins = cl.bins(scheme)
    with st.form("rb_smote_form", border=False):
        c = st.columns([2, 2, 1, 1, 1])
        method = c[0].selectbox("Method", SMOTE_METHODS, key="rb_sm_method",
                                help="smote (Chawla et al. 2002), borderline-smote (Han et al. 2005), adasyn (He et al. "
                                     "2008), random-over (copies): imbalanced-learn, identical for the same seed.")
        strat = c[1].selectbox("sampling_strategy", ["up to a target", "auto", "not majority", "minority", "all"],
                               key="rb_sm_strat",
                               help="imbalanced-learn's sampling_strategy: auto = every class but the majority up to "
                                    "the majority count; 'up to a target' = every smaller class up to the target.")
        target = int(c[2].number_input("Target", min_value=2, value=int(min(2000, counts.max())), key="rb_sm_target",
                                       help="Samples per class for 'up to a target' (classes above it are unchanged)."))
        k = int(c[3].number_input("k_neighbors", min_value=1, max_value=50, value=5, key="rb_sm_k",
                                  help="Neighbours used to interpolate (SMOTE k_neighbors / ADASYN n_neighbors). "
                                       "Classes with ≤ k samples use k = n − 1; a single sample is copied."))
        seed = int(c[4].number_input("Seed", min_value=0, value=0, key="rb_sm_seed",
                                     help="imbalanced-learn's random_state."))
        go = st.form_submit_button("Run over-sampling", type="primary", icon=":material/play_arrow:")
    strategy = {int(k_): target for k_ in np.flatnonzero((counts > 0) & (counts < target))} \
        if strat == "up to a target" else strat
    key = (method, str(strategy), k, seed, X.shape, ds.name)
    if go:
        try:
            planned = sum(plan_targets(y, strategy).values()) if strategy else 0
        except InputError as e:
            state.show_error(e, "SMOTE")
            st.stop()
        if not planned:
            st.warning("Nothing to generate: every class already reaches the target.", icon=":material/info:")
            st.stop()
        bar = st.progress(0.0, text=f"{method}: {planned:,} new samples of dimension {X.shape[1]}…")
        t0 = time.perf_counter()
        try:
            X_res, y_res, info = smote_resample(X, y, method, strategy, k, seed,
                                                progress=lambda f, s: bar.progress(min(f, 1.0), text=s))
        except InputError as e:
            bar.empty()
            state.show_error(e, "SMOTE")
            st.stop()
        bar.empty()
        info["seconds"] = time.perf_counter() - t0
        st.session_state["rb_smote"] = (key, X_res, y_res, info)
    res = st.session_state.get("rb_smote")
    if res is None or res[0] != key:
        st.info(f"TRAIN features {X.shape[0]:,} × {X.shape[1]:,} ({X.dtype}). Choose the parameters and press "
                "**Run over-sampling** (the demo with 'auto' builds ~360,000 rows: about 10–20 s).",
                icon=":material/science:")
        st.stop()
    _, X_res, y_res, info = res
    after = np.bincount(y_res, minlength=cl.n_classes)
    special = [r for r in info["classes"] if r["k_used"] is not None and r["k_used"] < k]
    m = st.columns(4)
    m[0].metric("Rows", f"{len(y_res):,}", f"+{info['n_synthetic']:,} synthetic", delta_color="off", delta_arrow="off",
                help=f"{info['n_original']:,} real TRAIN rows first, then the synthetic ones.")
    m[1].metric("Smallest class after", f"{after[counts > 0].min():,}", f"was {counts[counts > 0].min():,}",
                delta_color="off", delta_arrow="off")
    m[2].metric("Classes handled differently", f"{len(special)}",
                help="Classes with fewer than k_neighbors + 1 samples (see the notes below).")
    m[3].metric("Time", f"{info['seconds']:.1f} s", f"seed {info['seed']}", delta_color="off", delta_arrow="off")
    for note in info["notes"]:
        st.info(note, icon=":material/info:")
    st.plotly_chart(rplots.smote_counts_chart(counts, after, bins, scheme, cl.names), key="rb_sm_counts")
    synth_classes = [r["class"] for r in info["classes"] if r["generated"] > 0]
    if synth_classes:
        default = int(min(synth_classes, key=lambda c_: counts[c_]))
        pick = st.selectbox("Class for the PCA view", synth_classes, index=synth_classes.index(default),
                            format_func=lambda c_: f"{cl.names[c_]} ({counts[c_]:,} real)", key="rb_sm_pca",
                            help="Real and synthetic samples projected on the real samples' first two principal "
                                 "components (seeded subsample of ≤ 2,000 each).")
        view = smote_pca_view(X, y, X_res, y_res, info["n_original"], pick, seed=seed)
        st.plotly_chart(rplots.smote_pca_chart(view, cl.names[pick]), key="rb_sm_pcachart")
    per = pd.DataFrame(info["classes"])
    per.insert(1, "name", cl.names[per["class"].to_numpy()])
    per.insert(2, "bin", bins[per["class"].to_numpy()])
    st.subheader("Per class")
    st.dataframe(per, hide_index=True)
    state.download_csv(per, f"smote_{method}_classes.csv", key="rb_dl_sm")
    st.subheader("Export")
    size_mb = X_res.nbytes / 2**20
    if size_mb <= 200:
        st.download_button(f"augmented features (.npz, {size_mb:,.0f} MB before compression)",
                           partial(ex.smote_npz_payload, X_res, y_res, info, class_ids=cl.ids), f"smote_{method}.npz",
                           "application/octet-stream", key="rb_dl_npz", icon=":material/download:")
    else:
        st.info(f"The augmented features take {size_mb:,.0f} MB: too big for a browser download. Write them with "
                f"the CLI: `python -m lt_core rebalance smote --features F --train-labels L --method {method} "
                f"--k-neighbors {k} --seed {seed} --out smote.npz`.", icon=":material/terminal:")
    _code("z = np.load('smote.npz')  # X, y (class index), class_id, is_synthetic, info_json\n"
          "clf.fit(z['X'], z['y'])")
