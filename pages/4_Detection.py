"""Detection: which classes does my detector miss, and who steals them?"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from lt_core.bins import parse_bins
from lt_core.data import DetectionDataset, load_detection_gt
from lt_core.detection import (ap_by_bin, evaluate_detections, load_results_fast, operating_thresholds,
                               pr_curve, pr_curves_by_bin, raw_pr_curve, stealing_analysis, thresholds_to_json)
from lt_core.errors import InputError
from lt_core.io import to_jsonable
from lt_core.plots import detection as dplots
from ui import files, state

st.title("Detection")
st.caption("Which classes does my detector miss, and who steals them?")

ds = state.detection()
CACHE = "ts_det_eval_cache"
cache: dict = st.session_state.setdefault(CACHE, {})


# ---------------------------------------------------------------- loading
with st.expander("Load ground truth and results files", expanded=ds is None or not ds.results,
                 icon=":material/upload_file:"):
    mode = st.radio("Source", ["Upload", "Local path"], horizontal=True, key="det_src",
                    help="Upload small files; give local paths for large ones (LVIS val results are hundreds of MB).")
    if mode == "Upload":
        gt_up = st.file_uploader("Ground truth (COCO / LVIS JSON)", type=["json", "gz"], key="det_gt_up",
                                 help="instances_val.json or lvis_v1_val.json (.json or .json.gz)")
        dt_up = st.file_uploader("Results (COCO results JSON, one or more)", type=["json", "gz"],
                                 accept_multiple_files=True, key="det_dt_up",
                                 help="A list of {image_id, category_id, bbox, score}; one file per detector.")
        gt_path = files.save_uploads([gt_up], "det_gt_up").get(gt_up.name) if gt_up is not None else None
        dt_paths = list(files.save_uploads(dt_up, "det_dt_up").values())
    else:
        gt_path = st.text_input("Ground truth path", key="det_gt_path",
                                help="Path to a COCO / LVIS ground-truth JSON on the machine running the app.").strip() or None
        dt_text = st.text_area("Results paths (one per line)", key="det_dt_paths",
                               help="Each file becomes one results set, named after the file.")
        dt_paths = [l.strip() for l in dt_text.splitlines() if l.strip()]
    c = st.columns([1, 1, 3])
    if c[0].button("Load", type="primary", key="det_load", disabled=not gt_path):
        try:
            if mode != "Upload":  # local paths: only inside the data roots (ui/files.py)
                gt_path, dt_paths = files.confine(gt_path, "ground truth path"), [files.confine(p) for p in dt_paths]
            with st.spinner("Reading ground truth and results…"):
                g = load_detection_gt(gt_path)
                newd = DetectionDataset(Path(gt_path).name, g)
                for p in dt_paths:
                    r = load_results_fast(p, g)
                    newd.results[r.name] = r
            state.set_detection(newd)
            st.session_state[CACHE] = {}
            st.rerun()
        except (InputError, OSError, ValueError) as e:
            state.show_error(e, "Could not load the detection files")
    if ds is not None and not ds.generated and c[1].button("Back to the demo", key="det_demo_back"):
        state.reset_demo("detection")
        st.session_state[CACHE] = {}
        st.rerun()

if ds is None or not ds.results:
    st.info("Load a ground-truth file and at least one results file above, or go back to the demo.",
            icon=":material/info:")
    st.stop()

if ds.generated:
    st.info(f"**{ds.name}** — {ds.description}", icon=":material/science:")

gt = ds.gt
names = list(ds.results)
raw_cats = (gt.raw or {}).get("categories", []) if isinstance(gt.raw, dict) else []
train_counts = bool(raw_cats) and all("image_count" in c for c in raw_cats)
count_words = "TRAIN images" if train_counts else "images in this ground-truth file (no train counts given)"

# ---------------------------------------------------------------- parameters
auto_style = "lvis" if gt.is_lvis and gt.neg_category_ids is not None else "coco"
with st.form("det_params", border=False):
    c = st.columns([1, 1, 1, 1, 2])
    style = c[0].selectbox("Protocol", ["lvis", "coco"], index=0 if auto_style == "lvis" else 1, key="det_style",
                           disabled=auto_style == "coco",
                           help="lvis: LVISEval (Gupta et al. 2019): federated, ≤ max detections per image. "
                                "coco: COCOeval (Lin et al. 2014): crowd boxes, maxDets per image and category.")
    segm_ok = gt.has_segmentation and any(r.segmentation is not None for r in ds.results.values())
    iou_type = c[1].selectbox("IoU type", ["bbox", "segm"] if segm_ok else ["bbox"], key="det_iou_type",
                              help="bbox: box IoU; segm: mask IoU of RLE masks (pycocotools, as both references).")
    default_md = 300 if style == "lvis" else 100
    max_dets = c[2].number_input("Max detections", min_value=1, max_value=10000, value=default_md, step=1,
                                 key=f"det_maxdets_{style}",
                                 help="lvis: per image across categories (LVIS: 300). coco: per image and category "
                                      "(COCO: 100).")
    bins_spec = c[3].selectbox("Bins", ["lvis", "imagenet-lt", "quantile:3"], key="det_bins",
                               help="Frequency bins from TRAIN images per class (image_count). lvis: rare 1–10, "
                                    "common 11–100, frequent > 100 (Gupta et al. 2019).")
    c[4].markdown("&nbsp;")
    submitted = c[4].form_submit_button("Evaluate", type="primary", icon=":material/play_arrow:")

scheme = parse_bins(bins_spec)
if style == "lvis" and auto_style == "coco":
    style = "coco"


def _evaluate(name: str):
    key = (id(gt), name, style, iou_type, int(max_dets))
    if key in cache:
        return cache[key]
    bar = st.progress(0.0, text=f"Evaluating **{name}**…")
    try:
        ev = evaluate_detections(gt, ds.results[name], iou_type=iou_type, style=style, max_dets=int(max_dets),
                                 shard_images=max(200, gt.n_images // 10),
                                 progress=lambda f, m: bar.progress(min(0.95, 0.9 * f), text=f"{name}: {m}"))
    finally:
        bar.empty()
    cache[key] = ev
    return ev


evs = {}
try:
    for n in names:
        evs[n] = _evaluate(n)
except InputError as e:
    state.show_error(e, "Evaluation failed")
    st.stop()

if len(names) > 1:
    c = st.columns([3, 2])
    focus = c[0].selectbox("Results shown first", names, index=len(names) - 1, key="det_focus",
                           help="Its numbers head the page; deltas are against the reference.")
    ref = c[1].selectbox("Reference", names, index=0, key="det_ref",
                         help="The results file the deltas are computed against.")
else:
    focus = ref = names[0]
ev = evs[focus]
h = ev.headline
hr = evs[ref].headline


def _ap(v):
    return "n/a" if v is None or v < 0 else f"{100 * v:.1f}"


def _delta(k):
    if focus == ref or h.get(k, -1) < 0 or hr.get(k, -1) < 0:
        return None
    return f"{100 * (h[k] - hr[k]):+.1f}"


# ---------------------------------------------------------------- the answer, first screen
by_bin = {n: ap_by_bin(evs[n], scheme) for n in names}
bb = by_bin[focus].set_index("bin")
tail_bin = scheme.names[-1]
m = st.columns(5)
m[0].metric("AP", _ap(h["AP"]), _delta("AP"), help="Mean AP over IoU 0.50:0.95 and classes (× 100)")
if "APr" in h:
    m[1].metric("APr (rare)", _ap(h["APr"]), _delta("APr"), help="AP of LVIS rare classes (1–10 training images)")
    m[2].metric("APc (common)", _ap(h["APc"]), _delta("APc"), help="AP of LVIS common classes (11–100 images)")
    m[3].metric("APf (frequent)", _ap(h["APf"]), _delta("APf"), help="AP of LVIS frequent classes (> 100 images)")
else:
    for i, b in enumerate(scheme.names[::-1][:3]):
        v = bb["AP"].get(b, -1) if b in bb.index else -1
        m[1 + i].metric(f"AP {b}", _ap(v), help=f"AP of the '{b}' bin ({scheme.spec}, by training images)")
pc = ev.per_class
have = pc[pc["AP"] >= 0]
zero_tail = have[(scheme.assign(have["image_count"].to_numpy()) == tail_bin)]
m[4].metric(f"{tail_bin} classes at AP 0", f"{int((zero_tail['AP'] == 0).sum()):,} / {len(zero_tail):,}",
            help=f"Classes of the '{tail_bin}' bin with ground truth here whose AP is exactly 0: never detected.")
st.caption(f"Numbers on **{Path(gt.source).name or ds.name}** ({gt.n_images:,} evaluation images, "
           f"{len(gt.ann_id):,} boxes) — the split these files hold (LVIS / COCO val); bins from {count_words}. "
           f"Protocol **{style}**, {iou_type}, max {int(max_dets)} detections per "
           f"{'image' if style == 'lvis' else 'image and category'}. Exact to "
           f"{'lvis-api LVISEval' if style == 'lvis' else 'pycocotools COCOeval'}.")
for note in ev.notes:
    st.caption(f":material/info: {note}")

c = st.columns([3, 2])
c[0].plotly_chart(dplots.ap_vs_frequency_chart({n: evs[n].per_class for n in names}, scheme, names,
                                               x_label=f"{count_words.split(' (')[0]} per class (log)"),
                  width="stretch", key="det_apfreq")
c[1].plotly_chart(dplots.ap_by_bin_chart(by_bin, scheme, run_names=names), width="stretch", key="det_apbin")

# ---------------------------------------------------------------- tables
st.subheader("Headline numbers")
head = pd.DataFrame([{"results": n, **{k: (round(100 * v, 1) if v >= 0 else None) for k, v in evs[n].headline.items()}}
                     for n in names])
st.dataframe(head, hide_index=True, width="stretch")
state.download_csv(head, "detection_headline.csv", key="dl_det_head")

bt = pd.concat([by_bin[n].assign(results=n) for n in names], ignore_index=True)
bt_show = bt[["results", "bin", "n_classes", "n_evaluated", "AP", "AP50"]].copy()
for k in ("AP", "AP50"):
    bt_show[k] = np.where(bt_show[k] >= 0, (100 * bt_show[k]).round(1), np.nan)

st.subheader("Per-class AP")
pc_show = pc.copy()
pc_show.insert(3, "bin", scheme.assign(pc["image_count"].to_numpy()))
for k in ("AP", "AP50", "AP75"):
    pc_show[k] = np.where(pc_show[k] >= 0, (100 * pc_show[k]).round(1), np.nan)
for n in names:
    if n != focus:
        other = evs[n].per_class["AP"].to_numpy()
        pc_show[f"AP {n}"] = np.where(other >= 0, (100 * other).round(1), np.nan)
cc = st.columns([1, 3])
only = cc[0].multiselect("Bins shown", scheme.order(pc_show["bin"].to_numpy()),
                         default=scheme.order(pc_show["bin"].to_numpy()), key="det_pc_bins",
                         help="Filter the table by frequency bin.")
cc[1].caption("AP × 100, empty where the class has no ground truth here (the references report -1). "
              f"image_count / instance_count: {count_words.split(' (')[0]} / instances per class. "
              "Click a header to sort.")
tab = pc_show[pc_show["bin"].isin(only)].sort_values("image_count", ascending=False, kind="stable")
st.dataframe(tab, hide_index=True, width="stretch", height=360)
state.download_csv(tab, f"per_class_ap_{focus}.csv", key="dl_det_pc")
with st.expander("AP per bin table"):
    st.dataframe(bt_show, hide_index=True, width="stretch")
    state.download_csv(bt_show, "ap_by_bin.csv", key="dl_det_bin")

# ---------------------------------------------------------------- deeper looks
t_pr, t_steal, t_thr = st.tabs(["PR curves", "Who steals the tail", "Operating thresholds"])

with t_pr:
    c = st.columns([3, 1])
    valid = pc[pc["AP"] >= 0].sort_values("image_count", kind="stable")
    labels = [f"{r.name} (id {r.category_id}, {r.image_count:,} train images)" for r in valid.itertuples()]
    first = next((i for i, a in enumerate(valid["AP"]) if a > 0), 0)
    pick = c[0].selectbox("Class", labels, index=first if labels else None, key="det_pr_class",
                          help="Classes with ground truth here, rarest first (the default: the rarest one detected).")
    iou = c[1].selectbox("IoU", [0.5, 0.75] + [round(x, 2) for x in np.arange(0.55, 0.951, 0.05) if round(x, 2) != 0.75],
                         key="det_pr_iou", help="IoU threshold of a true positive (COCO: 0.50:0.05:0.95).")
    c = st.columns(2)
    if pick is not None:
        k = int(valid.index[labels.index(pick)])
        curves = {n: pr_curve(evs[n], k, iou) for n in names}
        raw = {n: raw_pr_curve(evs[n], k, iou) for n in names}
        c[0].plotly_chart(dplots.pr_curve_chart(curves, f"{pc['name'][k]} — IoU {iou:.2f}", names, raw),
                          width="stretch", key="det_pr_one")
    pb = pr_curves_by_bin(ev, scheme, iou)
    c[1].plotly_chart(dplots.pr_by_bin_chart(pb, scheme, f"Mean PR curve per bin, IoU {iou:.2f}"),
                      width="stretch", key="det_pr_bin")
    st.caption("Solid: 101-point interpolated precision (its mean is the AP at this IoU); dotted: raw precision "
               "after each detection in score order.")
    state.download_csv(pb, f"pr_by_bin_{focus}.csv", key="dl_det_prbin")

with t_steal:
    c = st.columns([2, 1, 1, 2])
    s_name = c[0].selectbox("Results", names, index=names.index(focus), key="det_steal_run",
                            help="Whose detections are analysed.")
    s_iou = c[1].number_input("IoU ≥", min_value=0.1, max_value=0.95, value=0.5, step=0.05, key="det_steal_iou",
                              help="Class-agnostic overlap that counts as covering a box (COCO AP50 uses 0.5).")
    s_min = c[2].number_input("Score ≥", min_value=0.0, max_value=1.0, value=0.05, step=0.05, key="det_steal_min",
                              help="Detections below this score are ignored (detectors report down to ~0.001).")
    skey = ("steal", id(gt), s_name, float(s_iou), float(s_min))
    if skey not in cache:
        with st.spinner("Matching every box to detections of every class…"):
            cache[skey] = stealing_analysis(gt, ds.results[s_name], iou=float(s_iou), min_score=float(s_min))
    sr = cache[skey]
    spc = sr.per_class.copy()
    spc.insert(3, "bin", scheme.assign(spc["image_count"].to_numpy()))
    tail_bins = list(scheme.names[1:])
    tail = spc[spc["bin"].isin(tail_bins)]
    n_t = int(tail["n_gt"].sum())
    stolen_t = float((tail["stolen_share"] * tail["n_gt"]).sum() / n_t) if n_t else float("nan")
    top_pair = sr.pairs[sr.pairs["victim_id"].isin(tail["category_id"])].sort_values("n_stolen", ascending=False).head(1)
    mm = st.columns(3)
    mm[0].metric(f"{' + '.join(tail_bins)} boxes stolen", f"{100 * stolen_t:.1f}%" if n_t else "n/a",
                 help="Share of ground-truth boxes of the non-head bins covered (IoU ≥ threshold) by a detection of "
                      "another class and by none of their own class.")
    mm[1].metric("Found by own class", f"{100 * float((tail['found_share'] * tail['n_gt']).sum() / n_t):.1f}%" if n_t else "n/a",
                 help="Share of those boxes covered by a detection of their own class at the same IoU.")
    if len(top_pair):
        r = top_pair.iloc[0]
        mm[2].metric("Top stealing pair", f"{r['stealer']} → {r['victim']}", f"{int(r['n_stolen']):,} boxes",
                     delta_color="off", help="The head class that steals most boxes of one tail class.")
    c = st.columns([2, 3])
    c[0].plotly_chart(dplots.stealing_chart(spc[spc["bin"].isin(tail_bins)], scheme), width="stretch", key="det_steal_chart")
    with c[1]:
        st.markdown("**Stealing pairs** (tail victims)")
        pairs = sr.pairs[sr.pairs["victim_id"].isin(tail["category_id"])].copy()
        pairs["share"] = (100 * pairs["share"]).round(1)
        pairs = pairs.sort_values("n_stolen", ascending=False, kind="stable")
        st.dataframe(pairs, hide_index=True, width="stretch", height=330)
        state.download_csv(pairs, f"stealing_pairs_{s_name}.csv", key="dl_det_pairs")
    show = spc.copy()
    for k in ("found_share", "covered_by_other_share", "stolen_share"):
        show[k] = (100 * show[k]).round(1)
    st.markdown("**Per class** (shares in %)")
    st.dataframe(show.sort_values("stolen_share", ascending=False, kind="stable"), hide_index=True, width="stretch",
                 height=300)
    state.download_csv(show, f"stealing_per_class_{s_name}.csv", key="dl_det_steal")

with t_thr:
    c = st.columns([2, 1, 1, 2])
    th_name = c[0].selectbox("Results", names, index=names.index(focus), key="det_thr_run",
                             help="Whose detections get thresholds.")
    target = c[1].slider("Target precision", 0.05, 1.0, 0.5, 0.05, key="det_thr_target",
                         help="The lowest score threshold per class whose precision (IoU 0.5) still reaches this.")
    which = c[2].radio("Export", ["f1", "target"], horizontal=True, key="det_thr_which",
                       help="f1: threshold maximising F1 per class (IoU 0.5); target: the target-precision one.")
    tkey = ("thr", id(gt), th_name, float(target), style, iou_type, int(max_dets))
    if tkey not in cache:
        cache[tkey] = operating_thresholds(evs[th_name], target_precision=float(target), iou=0.5)
    th = cache[tkey].copy()
    th.insert(3, "bin", scheme.assign(th["image_count"].to_numpy()))
    ok = th.dropna(subset=["f1_threshold"])
    mm = st.columns(3)
    mm[0].metric("Classes with a threshold", f"{len(ok):,} / {int((th['n_gt'] > 0).sum()):,}",
                 help="Classes with ground truth and at least one true positive at IoU 0.5.")
    tail_ok = ok[ok["bin"] == tail_bin]
    mm[1].metric(f"Median F1 threshold, {tail_bin}", f"{tail_ok['f1_threshold'].median():.3f}" if len(tail_ok) else "n/a",
                 help="Tail classes usually need lower score thresholds than head classes.")
    head_ok = ok[ok["bin"] == scheme.names[0]]
    mm[2].metric(f"Median F1 threshold, {scheme.names[0]}", f"{head_ok['f1_threshold'].median():.3f}" if len(head_ok) else "n/a")
    st.caption(f"Precision / recall at IoU 0.5 on the evaluation images of **{th_name}** — thresholds tuned on the "
               "same images they are measured on are optimistic; tune on val, confirm on held-out data.")
    st.dataframe(th, hide_index=True, width="stretch", height=330)
    state.download_csv(th, f"thresholds_{th_name}.csv", key="dl_det_thr")
    js = thresholds_to_json(cache[tkey], which)
    st.download_button(f"Download thresholds JSON ({len(js):,} classes)", json.dumps(to_jsonable(js), indent=1),
                       file_name=f"thresholds_{which}_{th_name}.json", mime="application/json",
                       icon=":material/download:", key="dl_det_thr_json")
    st.code("import json\nthr = {int(k): v for k, v in json.load(open('thresholds.json')).items()}\n"
            "keep = [d for d in dets if d['score'] >= thr.get(d['category_id'], 0.05)]", language="python")
