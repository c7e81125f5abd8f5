"""Detection: which classes does my detector miss, and who steals them?"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from lt_core.bins import parse_bins
from lt_core.data import DetectionDataset, load_detection_gt
from lt_core.detection import (ap_by_bin, bootstrap_ci, evaluate_detections, load_results_fast,
                               operating_thresholds, paired_bootstrap, pr_curve, pr_curves_by_bin, raw_pr_curve,
                               stealing_analysis, thresholds_to_json, tide_errors, with_train_frequencies)
from lt_core.detection.evaluator import detection_bins
from lt_core.errors import InputError
from lt_core.io import to_jsonable
from lt_core.plots import detection as dplots
from ui import examples_detection as ex
from ui import files, state
from ui.dask_run import dask_option, detections_on_dask

st.title("Detection")
st.caption("Which classes does my detector miss, and who steals them?")

ds = state.detection()
CACHE = "ts_det_eval_cache"
cache: dict = st.session_state.setdefault(CACHE, {})
VIEWS = ["PR curves", "Who steals the tail", "Where the AP goes (TIDE)", "Confidence intervals",
         "Operating thresholds"]


# ---------------------------------------------------------------- loading
def load_section() -> None:
    with st.expander("Load ground truth and results files", expanded=ds is None or not ds.results,
                     icon=":material/upload_file:"):
        mode = st.radio("Source", ["Upload", "Local path"], horizontal=True, key="det_src",
                        help="Upload small files; give local paths for large ones (LVIS val results are hundreds of MB).")
        if mode == "Upload":
            gt_up = st.file_uploader("Ground truth (COCO / LVIS JSON)", type=["json", "gz"], key="det_gt_up",
                                     help="instances_val.json or lvis_v1_val.json (.json or .json.gz)")
            dt_up = st.file_uploader("Results (COCO results JSON, one or more)", type=["json", "gz"],
                                     accept_multiple_files=True, key="det_dt_up",
                                     help="A list of {image_id, category_id, bbox, score} (+ RLE segmentation for "
                                          "masks); one file per detector.")
            fr_up = st.file_uploader("Train frequencies (optional)", type=["json", "gz", "csv"], key="det_fr_up",
                                     help="The training ground truth, an LVIS category file (image_count, frequency) "
                                          "or a counts CSV (class_id,count): the bins come from it.")
            gt_path = files.save_uploads([gt_up], "det_gt_up").get(gt_up.name) if gt_up is not None else None
            dt_paths = list(files.save_uploads(dt_up, "det_dt_up").values())
            fr_path = files.save_uploads([fr_up], "det_fr_up").get(fr_up.name) if fr_up is not None else None
        else:
            gt_path = st.text_input("Ground truth path", key="det_gt_path",
                                    help="A COCO / LVIS ground-truth JSON on the machine running the app.").strip() or None
            dt_text = st.text_area("Results paths (one per line)", key="det_dt_paths",
                                   help="Each file becomes one results set, named after the file.")
            dt_paths = [line.strip() for line in dt_text.splitlines() if line.strip()]
            fr_path = st.text_input("Train frequencies path (optional)", key="det_fr_path",
                                    help="The training ground truth, an LVIS category file or a counts CSV: the bins "
                                         "come from it.").strip() or None
        c = st.columns([1, 1, 3])
        if c[0].button("Load", type="primary", key="det_load", disabled=not gt_path):
            _load(gt_path, dt_paths, fr_path, local=mode != "Upload")
        if ds is not None and not ds.generated and c[1].button("Back to the demo", key="det_demo_back"):
            state.reset_demo("detection")
            st.session_state[CACHE] = {}
            st.rerun()


def _load(gt_path, dt_paths, fr_path, local: bool = False) -> None:
    try:
        if local:  # local paths: only inside the data roots (ui/files.py)
            gt_path = files.confine(gt_path, "ground truth path")
            fr_path = files.confine(fr_path, "train frequencies path") if fr_path else None
        with st.spinner("Reading ground truth…"):
            g = load_detection_gt(gt_path)
            if fr_path:
                g, notes = with_train_frequencies(g, fr_path)
                for note in notes:
                    st.info(note, icon=":material/info:")
    except (InputError, OSError, ValueError) as e:
        state.show_error(e, "Could not load the ground truth")
        return
    newd = DetectionDataset(Path(gt_path).name, g)
    failed = []
    for p in dt_paths:  # one bad results file never takes the others down
        try:
            if local:
                p = files.confine(p, "results path")
            with st.spinner(f"Reading {Path(p).name}…"):
                r = load_results_fast(p, g)
            newd.results[r.name] = r
        except (InputError, OSError, ValueError) as e:
            failed.append((p, e))
    st.session_state["det_load_errors"] = [f"{Path(p).name}: {e}" for p, e in failed]
    if not newd.results and failed:
        for p, e in failed:
            state.show_error(e, f"Could not load {Path(p).name}")
        return
    state.set_detection(newd, train_frequencies=fr_path)  # kept in the workspace with its files
    st.session_state[CACHE] = {}
    st.rerun()


load_section()
for msg in st.session_state.get("det_load_errors", []):
    st.error(f"Not loaded — {msg}", icon=":material/error:")

if ds is None or not ds.results:
    st.info("Load a ground-truth file and at least one results file above, or go back to the demo.",
            icon=":material/info:")
    st.stop()

if ds.generated:
    st.info(f"**{ds.name}** — {ds.description}", icon=":material/science:")

gt = ds.gt
names = list(ds.results)
data_key = f"{id(gt)}"
count_source = gt.categories.count_source or "unknown"
train_counts = count_source.startswith(("train", "image_count"))
count_words = "training images" if train_counts else "images per class in the evaluation split"
count_note = f"counts from {count_source}" if train_counts else \
    f"counts from {count_source.replace('the evaluation split: ', '')}, the evaluation split (no train counts given)"


# ---------------------------------------------------------------- parameters
auto_style = "lvis" if gt.neg_category_ids is not None else "coco"
segm_gt = gt.has_segmentation


def iou_type_of(name: str, masks_as: str) -> str:
    """bbox results as bbox, mask results as segm (unless the user evaluates masks as boxes)."""
    r = ds.results[name]
    return "segm" if (r.segmentation is not None and segm_gt and masks_as == "segm") else "bbox"


with st.form("det_params", border=False):
    c = st.columns([1, 1, 1, 1, 2])
    style = c[0].selectbox("Protocol", ["lvis", "coco"], index=0 if auto_style == "lvis" else 1,
                           key=f"det_style_{data_key}", disabled=auto_style == "coco",
                           help="lvis: LVISEval (Gupta et al. 2019): federated, ≤ max detections per image. "
                                "coco: COCOeval (Lin et al. 2014): crowd boxes, maxDets per image and category.")
    any_masks = segm_gt and any(r.segmentation is not None for r in ds.results.values())
    masks_as = c[1].selectbox("Mask results as", ["segm", "bbox"], key=f"det_masks_{data_key}",
                              disabled=not any_masks,
                              help="Results files with RLE masks are evaluated by mask IoU (segm) unless you choose "
                                   "their boxes; box-only files are always evaluated as bbox.")
    default_md = 300 if style == "lvis" else 100
    max_dets = c[2].number_input("Max detections", min_value=1, max_value=10000, value=default_md, step=1,
                                 key=f"det_maxdets_{style}_{data_key}",
                                 help="lvis: per image across categories (LVIS: 300). coco: per image and category "
                                      "(COCO: 100).")
    bins_spec = c[3].selectbox("Bins", ["lvis", "imagenet-lt", "quantile:3"], key="det_bins",
                               help="Frequency bins. lvis: the LVIS frequency letters when the categories have them, "
                                    "else rare 1–10, common 11–100, frequent > 100 training images (Gupta et al. 2019).")
    c[4].markdown("&nbsp;")
    c[4].form_submit_button("Evaluate", type="primary", icon=":material/play_arrow:")

scheme = parse_bins(bins_spec)
if style == "lvis" and auto_style == "coco":
    style = "coco"
md_note = "the protocol's default" if int(max_dets) == default_md else "your choice"


dask_spec = dask_option("det_dask")  # 'Run on Dask': the same evaluation by lt_core.distributed


def evaluate(name: str):
    it = iou_type_of(name, masks_as)
    key = (id(gt), name, style, it, int(max_dets), dask_spec)
    if key in cache:
        return cache[key]
    bar = st.progress(0.0, text=f"Evaluating **{name}**…")
    try:
        if dask_spec:
            ev = detections_on_dask(dask_spec, gt, ds.results[name], it, style, int(max_dets),
                                    progress=lambda f, m: bar.progress(min(0.95, 0.9 * f), text=f"{name}: {m}"))
        else:
            ev = evaluate_detections(gt, ds.results[name], iou_type=it, style=style, max_dets=int(max_dets),
                                     shard_images=max(200, gt.n_images // 10),
                                     progress=lambda f, m: bar.progress(min(0.95, 0.9 * f), text=f"{name}: {m}"))
    finally:
        bar.empty()
    cache[key] = ev
    return ev


evs, eval_errors = {}, {}
for n in names:
    try:
        evs[n] = evaluate(n)
    except InputError as e:
        eval_errors[n] = e
for n, e in eval_errors.items():
    state.show_error(e, f"Could not evaluate {n}")
names = [n for n in names if n in evs]
if not names:
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
    return "n/a" if v is None or v != v or v < 0 else f"{100 * v:.1f}"


def _delta(k):
    if focus == ref or h.get(k, -1) < 0 or hr.get(k, -1) < 0:
        return None
    return f"{100 * (h[k] - hr[k]):+.1f}"


def stealing(name: str, iou: float = 0.5, min_score: float = 0.05):
    key = ("steal", id(gt), name, float(iou), float(min_score))
    if key not in cache:
        with st.spinner("Matching every box to detections of every class…"):
            cache[key] = stealing_analysis(gt, ds.results[name], iou=float(iou), min_score=float(min_score))
    return cache[key]


# ---------------------------------------------------------------- the answer, first screen
by_bin = {n: ap_by_bin(evs[n], scheme) for n in names}
bb = by_bin[focus].set_index("bin")
tail_bin = scheme.names[-1]
pc = ev.per_class
pc_bins = detection_bins(ev.columns, scheme)


def answer_metrics() -> None:
    m = st.columns(5)
    m[0].metric("AP", _ap(h["AP"]), _delta("AP"), help="Mean AP over IoU 0.50:0.95 and classes (× 100)")
    if "APr" in h:
        m[1].metric("APr (rare)", _ap(h["APr"]), _delta("APr"), help="AP of LVIS rare classes (1–10 training images)")
        m[2].metric("APc (common)", _ap(h["APc"]), _delta("APc"), help="AP of LVIS common classes (11–100 images)")
        m[3].metric("APf (frequent)", _ap(h["APf"]), _delta("APf"), help="AP of LVIS frequent classes (> 100 images)")
    else:
        for i, b in enumerate(scheme.names[::-1][:3]):
            v = bb["AP"].get(b, -1) if b in bb.index else -1
            m[1 + i].metric(f"AP {b}", _ap(v), help=f"AP of the '{b}' bin ({scheme.spec}; {count_note})")
    have = pc["AP"].to_numpy() >= 0
    tail = have & (pc_bins == tail_bin)
    m[4].metric(f"{tail_bin} classes at AP 0", f"{int((pc['AP'].to_numpy()[tail] == 0).sum()):,} / {int(tail.sum()):,}",
                help=f"Classes of the '{tail_bin}' bin with ground truth here whose AP is exactly 0: never detected.")


def protocol_caption() -> None:
    files = ", ".join(f"{n} ({ev_.params.iou_type})" for n, ev_ in evs.items())
    ar_keys = [k for k in h if k.startswith("AR")]
    ar = " · ".join(f"{k} {_ap(h[k])}" for k in ar_keys)
    st.caption(f"Numbers on **{Path(gt.source).name or ds.name}** ({gt.n_images:,} evaluation images, "
               f"{len(gt.ann_id):,} boxes). Protocol **{style}** ({'from the ground truth' if style == auto_style else 'your choice'}), "
               f"max {int(max_dets)} detections per {'image' if style == 'lvis' else 'image and category'} "
               f"({md_note}); IoU type per file: {files}. Exact to "
               f"{'lvis-api LVISEval' if style == 'lvis' else 'pycocotools COCOeval'}. Bins: {scheme.spec}, {count_note}.  \n"
               f"Recall: {ar}")
    for note in ev.notes:
        st.caption(f":material/info: {note}")


def stealing_summary() -> None:
    sr = stealing(focus)
    spc = sr.per_class
    tail_ids = set(np.asarray(ev.columns["category_id"])[pc_bins == tail_bin].tolist())
    pairs = sr.pairs[sr.pairs["victim_id"].isin(tail_ids)]
    n_gt = int(spc[spc["category_id"].isin(tail_ids)]["n_gt"].sum())
    n_stolen = int(pairs["n_stolen"].sum()) if len(pairs) else 0
    if not n_gt:
        st.caption(f"Who steals the {tail_bin} classes: no {tail_bin} ground truth here.")
        return
    top = pairs.groupby("stealer", sort=False)["n_stolen"].sum().sort_values(ascending=False).head(3)
    who = ", ".join(f"**{s}** ({int(k):,})" for s, k in top.items()) or "nobody"
    st.markdown(f":material/swap_horiz: **Who steals the {tail_bin} classes:** {n_stolen:,} of {n_gt:,} {tail_bin} "
                f"boxes ({100 * n_stolen / n_gt:.1f} %) are covered by a detection of another class and by none of "
                f"their own (IoU ≥ 0.5, score ≥ 0.05). Top stealers: {who}.")


answer_metrics()
protocol_caption()
stealing_summary()

c = st.columns([3, 2])
with c[0]:
    apfreq_event = ex.chart_event(dplots.ap_vs_frequency_chart({n: evs[n].per_class for n in names}, scheme, names,
                                                               x_label=f"{count_words} per class (log)"),
                                  "det_apfreq", width="stretch")
ci_bins = {n: {k[3:-1]: v for k, v in cache[("ci", id(evs[n]))].ci.items() if k.startswith("AP[")}
           for n in names if ("ci", id(evs[n])) in cache}
with c[1]:
    apbin_event = ex.chart_event(dplots.ap_by_bin_chart(by_bin, scheme, run_names=names, ci=ci_bins or None,
                                                        x_label="frequency bin"), "det_apbin", width="stretch")


def class_boxes() -> None:
    """The boxes behind a clicked class (or bin): by outcome, worst first, on their images."""
    ex.take_click(apfreq_event, "det_ex", lambda pt: ex.det_class_target(pt, focus))
    ex.take_click(apbin_event, "det_ex", lambda pt: ex.det_bin_target(pt, focus))
    with st.expander("The boxes behind a class or a bin", expanded=ex.target("det_ex") is not None,
                     icon=":material/image_search:"):
        ex.detection_examples(ds, "det_ex", default_run=focus, scheme=bins_spec, style=style, evaluation=evaluate,
                              hint="Click a class in the AP chart (or a bin bar), or pick a class: its false "
                                   "positives by kind and its missed boxes, worst first, on their images.")


class_boxes()

# ---------------------------------------------------------------- tables
st.subheader("Headline numbers")
head = pd.DataFrame([{"results": n, "IoU type": evs[n].params.iou_type,
                      **{k: (round(100 * v, 1) if v >= 0 else None) for k, v in evs[n].headline.items()}}
                     for n in names])
st.dataframe(head, hide_index=True, width="stretch")
state.download_csv(head, "detection_headline.csv", key="dl_det_head")

bt = pd.concat([by_bin[n].assign(results=n) for n in names], ignore_index=True)
bt_show = bt[["results", "bin", "n_classes", "n_evaluated", "AP", "AP50"]].copy()
for k in ("AP", "AP50"):
    bt_show[k] = np.where(bt_show[k] >= 0, (100 * bt_show[k]).round(1), np.nan)

st.subheader("Per-class AP")
pc_show = pc.copy()
pc_show.insert(3, "bin", pc_bins)
for k in ("AP", "AP50", "AP75", "AR"):
    pc_show[k] = np.where(pc_show[k] >= 0, (100 * pc_show[k]).round(1), np.nan)
for n in names:
    if n != focus:
        other = evs[n].per_class["AP"].to_numpy()
        pc_show[f"AP {n}"] = np.where(other >= 0, (100 * other).round(1), np.nan)
cc = st.columns([1, 3])
only = cc[0].multiselect("Bins shown", scheme.order(pc_bins), default=scheme.order(pc_bins), key="det_pc_bins",
                         help="Filter the table by frequency bin.")
cc[1].caption("AP × 100, empty where the class has no ground truth here (the references report -1). "
              f"image_count / instance_count: {count_note}. Click a header to sort.")
tab = pc_show[pc_show["bin"].isin(only)].sort_values("image_count", ascending=False, kind="stable")
st.dataframe(tab, hide_index=True, width="stretch", height=360)
state.download_csv(tab, f"per_class_ap_{focus}.csv", key="dl_det_pc")
with st.expander("AP per bin table"):
    st.dataframe(bt_show, hide_index=True, width="stretch")
    state.download_csv(bt_show, "ap_by_bin.csv", key="dl_det_bin")


# ---------------------------------------------------------------- deeper looks (the chosen view survives reruns)
def pr_view() -> None:
    c = st.columns([3, 1])
    valid = pc[pc["AP"] >= 0].sort_values("image_count", kind="stable")
    labels = [f"{r.name} (id {r.category_id}, {r.image_count:,} {'train ' if train_counts else ''}images)"
              for r in valid.itertuples()]
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
        with c[0]:
            pr_event = ex.chart_event(dplots.pr_curve_chart(curves, f"{pc['name'][k]} — IoU {iou:.2f}", names, raw),
                                      "det_pr_one", width="stretch")
        ex.take_click(pr_event, "det_pr_ex", lambda pt: ex.det_pr_target(pt, int(pc["category_id"][k]), iou, focus))
    pb = pr_curves_by_bin(ev, scheme, iou)
    c[1].plotly_chart(dplots.pr_by_bin_chart(pb, scheme, f"Mean PR curve per bin, IoU {iou:.2f}"),
                      width="stretch", key="det_pr_bin")
    st.caption("Solid: 101-point interpolated precision (its mean is the AP at this IoU); dotted: raw precision "
               "after each detection in score order.")
    state.download_csv(pb, f"pr_by_bin_{focus}.csv", key="dl_det_prbin")
    tgt = ex.target("det_pr_ex")
    if tgt is not None and pick is not None and tgt.get("class_id") != int(pc["category_id"][k]):
        ex.set_target("det_pr_ex", None)  # another class was picked: its curve has not been clicked yet
    ex.detection_examples(ds, "det_pr_ex", default_run=focus, scheme=bins_spec, style=style, evaluation=evaluate,
                          class_picker=False, outcome_picker=False,
                          hint="Click a point of the PR curve: the detections at or above its score (true and false "
                               "positives at this IoU) and the boxes they leave unmatched.")


def steal_view() -> None:
    c = st.columns([2, 1, 1, 2])
    s_name = c[0].selectbox("Results", names, index=names.index(focus), key="det_steal_run",
                            help="Whose detections are analysed.")
    s_iou = c[1].number_input("IoU ≥", min_value=0.1, max_value=0.95, value=0.5, step=0.05, key="det_steal_iou",
                              help="Class-agnostic overlap that counts as covering a box (COCO AP50 uses 0.5).")
    s_min = c[2].number_input("Score ≥", min_value=0.0, max_value=1.0, value=0.05, step=0.05, key="det_steal_min",
                              help="Detections below this score are ignored (detectors report down to ~0.001).")
    sr = stealing(s_name, s_iou, s_min)
    spc = sr.per_class.copy()
    cols = {"image_count": spc["image_count"].to_numpy()}
    fr = dict(zip(np.asarray(ev.columns["category_id"]).tolist(), np.asarray(ev.columns["frequency"]).tolist()))
    cols["frequency"] = np.array([fr.get(int(i)) for i in spc["category_id"]], dtype=object)
    spc.insert(3, "bin", detection_bins(cols, scheme))
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
                     delta_color="off", help="The class that steals most boxes of one tail class.")
    c = st.columns([2, 3])
    with c[0]:
        steal_event = ex.chart_event(dplots.stealing_chart(spc[spc["bin"].isin(tail_bins)], scheme), "det_steal_chart",
                                     width="stretch")
    ex.take_click(steal_event, "det_steal_ex", ex.det_stolen_target)
    with c[1]:
        st.markdown("**Stealing pairs** (tail victims)")
        pairs = sr.pairs[sr.pairs["victim_id"].isin(tail["category_id"])].copy()
        pairs["share"] = (100 * pairs["share"]).round(1)
        pairs = pairs.sort_values("n_stolen", ascending=False, kind="stable").reset_index(drop=True)
        picked = st.dataframe(pairs, hide_index=True, width="stretch", height=330, key="det_pairs_table",
                              on_select="rerun", selection_mode="single-row")
        rows_ = list(getattr(getattr(picked, "selection", None), "rows", []) or [])
        sig = tuple(rows_)
        if rows_ and st.session_state.get("det_pairs_seen") != sig:
            r_ = pairs.iloc[int(rows_[0])]
            ex.set_target("det_steal_ex", {"what": "stolen", "victim": int(r_["victim_id"]),
                                           "stealer": int(r_["stealer_id"]), "run": s_name})
        st.session_state["det_pairs_seen"] = sig
        st.caption("Select a pair (or click a class in the chart) to see its boxes below.")
        state.download_csv(pairs, f"stealing_pairs_{s_name}.csv", key="dl_det_pairs")
    show = spc.copy()
    for k in ("found_share", "covered_by_other_share", "stolen_share"):
        show[k] = (100 * show[k]).round(1)
    ex.detection_examples(ds, "det_steal_ex", default_run=s_name, scheme=bins_spec, style=style, stealing=sr,
                          class_picker=False, outcome_picker=False,
                          hint="Select a stealing pair in the table, or click a class in the chart: the boxes that "
                               "another class's detection covers and none of their own, with the stealer's box.")
    st.markdown(f"**Per class** (shares in %; image_count: {count_note})")
    st.dataframe(show.sort_values("stolen_share", ascending=False, kind="stable"), hide_index=True, width="stretch",
                 height=300)
    state.download_csv(show, f"stealing_per_class_{s_name}.csv", key="dl_det_steal")


def tide_view() -> None:
    c = st.columns([2, 1, 1, 2])
    t_name = c[0].selectbox("Results", names, index=names.index(focus), key="det_tide_run",
                            help="Whose detections are broken down.")
    pos = c[1].number_input("Foreground IoU", min_value=0.1, max_value=0.95, value=0.5, step=0.05, key="det_tide_pos",
                            help="TIDE's positive threshold (Bolya et al. 2020; tidecv default 0.5).")
    bg = c[2].number_input("Background IoU", min_value=0.0, max_value=0.5, value=0.1, step=0.05, key="det_tide_bg",
                           help="Below this IoU with every box a false positive is background (tidecv default 0.1).")
    key = ("tide", id(gt), t_name, float(pos), float(bg), style, bins_spec)
    if key not in cache:
        with st.spinner("Classifying every false positive and missed box (TIDE)…"):
            cache[key] = tide_errors(gt, ds.results[t_name], style=style, pos_thr=float(pos), bg_thr=float(bg),
                                     scheme=bins_spec)
    td = cache[key]
    worst = max(td.main, key=td.main.get)
    tail_row = td.per_bin[td.per_bin["bin"] == tail_bin]
    mm = st.columns(3)
    mm[0].metric(f"TIDE AP{int(round(100 * pos))}", f"{td.ap:.1f}", help="tidecv's own AP at the foreground IoU.")
    mm[1].metric("Biggest error overall", f"{worst}", f"ΔAP {td.main[worst]:.1f}", delta_color="off",
                 help="AP gained by fixing only this error type (tidecv's main errors, non-progressive).")
    if len(tail_row):
        tr = tail_row.iloc[0]
        tw = max(("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss"), key=lambda k: tr[f"dAP_{k}"])
        mm[2].metric(f"What kills the {tail_bin} classes", tw, f"ΔAP {tr[f'dAP_{tw}']:.1f}", delta_color="off",
                     help=f"The error type whose fix gains the most AP on the '{tail_bin}' bin alone.")
    tide_event = ex.chart_event(dplots.tide_chart(td.per_bin, scheme, overall=td.main), "det_tide_chart",
                                width="stretch")
    ex.take_click(tide_event, "det_tide_ex", lambda pt: {**(ex.det_tide_target(pt) or {}), "run": t_name}
                  if ex.det_tide_target(pt) else None)
    st.caption(f"ΔAP{int(round(100 * pos))} × 100 from fixing each error type alone (tidecv semantics: Cls wrong class, "
               "Loc poor box, Both, Dupe duplicate, Bkg background, Miss missed ground truth). "
               + ("LVIS: detections of classes not verified in their image (and not-exhaustive classes) are ignored "
                  "unless matched, as tidecv's LVIS loader does. " if style == "lvis" else "")
               + f"Bins: {count_note}.")
    ex.detection_examples(ds, "det_tide_ex", default_run=t_name, scheme=bins_spec, style=style,
                          tide_outcomes=td.outcomes, class_picker=False, outcome_picker=False,
                          hint="Click a bar: that bin's boxes of that error type, worst first, on their images.")
    c = st.columns(2)
    with c[0]:
        st.markdown("**Per class** (ΔAP × 100, error counts)")
        pcs = td.per_class[td.per_class["n_gt"] > 0].round(2)
        st.dataframe(pcs, hide_index=True, width="stretch", height=300)
        state.download_csv(pcs, f"tide_per_class_{t_name}.csv", key="dl_det_tide_pc")
    with c[1]:
        st.markdown("**Every prediction and missed box**")
        out = td.outcomes
        kinds = st.multiselect("Outcomes", sorted(out["outcome"].unique()), default=["wrong_class", "missed"],
                               key="det_tide_kinds", help="tp, duplicate, wrong_class, background, localization, "
                                                         "both, ignored, missed.")
        sel = out[out["outcome"].isin(kinds)].sort_values("score", ascending=False, kind="stable")
        st.dataframe(sel.head(2000), hide_index=True, width="stretch", height=260)
        state.download_csv(sel, f"outcomes_{t_name}.csv", key="dl_det_tide_out")


def ci_view() -> None:
    c = st.columns([1, 1, 2])
    n_boot = c[0].number_input("Bootstrap resamples", min_value=50, max_value=20000, value=1000, step=50,
                               key="det_ci_n", help="Images resampled with replacement (seeded), from the per-image "
                                                    "match tables: nothing is re-matched.")
    seed = c[1].number_input("Seed", min_value=0, max_value=2 ** 32 - 1, value=0, step=1, key="det_ci_seed",
                             help="Same seed, same intervals.")
    go = c[2].button("Compute 95 % intervals", type="primary", key="det_ci_go", icon=":material/functions:")
    key = ("ci_params", int(n_boot), int(seed), bins_spec)
    if go:
        bar = st.progress(0.0, text="Resampling images…")
        for i, n in enumerate(names):
            cache[("ci", id(evs[n]))] = bootstrap_ci(evs[n], int(n_boot), int(seed), scheme=bins_spec)
            bar.progress((i + 1) / (len(names) + (1 if len(names) > 1 else 0)), text=f"{n} done")
        if len(names) > 1:
            cache[("cmp", id(evs[focus]), id(evs[ref]))] = paired_bootstrap(evs[focus], evs[ref], int(n_boot), int(seed),
                                                                            scheme=bins_spec)
        bar.empty()
        cache["ci_params"] = key
        st.rerun()
    if cache.get("ci_params") != key or not all(("ci", id(evs[n])) in cache for n in names):
        st.info("Press the button: 1,000 resamples take about a second per results file on LVIS val scale.",
                icon=":material/info:")
        return
    rows = []
    for n in names:
        b = cache[("ci", id(evs[n]))]
        for k, (lo, hi) in b.ci.items():
            rows.append({"results": n, "metric": k, "estimate": b.estimate[k], "low": lo, "high": hi})
    ci_df = pd.DataFrame(rows).dropna()
    st.plotly_chart(dplots.ci_chart(ci_df, f"95 % intervals ({int(n_boot):,} image resamples, seed {int(seed)})"),
                    width="stretch", key="det_ci_chart")
    st.caption("Image bootstrap from the per-image match tables: a drawn image counts as many copies as it is drawn; "
               "the class set stays the estimate's; the interval is the percentile interval shifted to the estimate "
               "(see lt_core.detection.bootstrap).")
    show = ci_df.copy()
    for k in ("estimate", "low", "high"):
        show[k] = (100 * show[k]).round(1)
    st.dataframe(show, hide_index=True, width="stretch")
    state.download_csv(show, "detection_ci.csv", key="dl_det_ci")
    ck = ("cmp", id(evs[focus]), id(evs[ref]))
    if len(names) > 1 and ck in cache:
        cmp = cache[ck]
        st.markdown(f"**{focus} − {ref}** (paired: the same drawn images for both)")
        d = pd.DataFrame([{"metric": k, "estimate": cmp.estimate[k], "low": lo, "high": hi}
                          for k, (lo, hi) in cmp.ci.items()]).dropna()
        st.plotly_chart(dplots.ci_chart(d, f"Δ {focus} − {ref}, 95 % paired intervals"), width="stretch",
                        key="det_cmp_chart")
        per = cmp.per_class.copy()
        per["significant"] = (per["low"] > 0) | (per["high"] < 0)
        for k in ("estimate", "low", "high"):
            per[k] = (100 * per[k]).round(1)
        st.markdown("**Per class** (classes with ground truth on at least 5 images)")
        st.dataframe(per.sort_values("estimate", kind="stable"), hide_index=True, width="stretch", height=300)
        state.download_csv(per, f"compare_per_class_{focus}_vs_{ref}.csv", key="dl_det_cmp")


def thresholds_view() -> None:
    c = st.columns([2, 1, 1, 2])
    th_name = c[0].selectbox("Results", names, index=names.index(focus), key="det_thr_run",
                             help="Whose detections get thresholds.")
    target = c[1].slider("Target precision", 0.05, 1.0, 0.5, 0.05, key="det_thr_target",
                         help="The lowest score threshold per class whose precision (IoU 0.5) still reaches this.")
    which = c[2].radio("Export", ["f1", "target"], horizontal=True, key="det_thr_which",
                       help="f1: threshold maximising F1 per class (IoU 0.5); target: the target-precision one.")
    tkey = ("thr", id(gt), th_name, float(target), style, iou_type_of(th_name, masks_as), int(max_dets))
    if tkey not in cache:
        cache[tkey] = operating_thresholds(evs[th_name], target_precision=float(target), iou=0.5)
    th = cache[tkey].copy()
    cols = {"image_count": th["image_count"].to_numpy(), "frequency": np.asarray(ev.columns["frequency"])}
    th.insert(3, "bin", detection_bins(cols, scheme))
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
    thr_event = st.dataframe(th, hide_index=True, width="stretch", height=330, key="det_thr_table",
                             on_select="rerun", selection_mode="single-row")
    state.download_csv(th, f"thresholds_{th_name}.csv", key="dl_det_thr")
    # the detections a class keeps at its operating threshold (a row of the table, or picked)
    col = "f1_threshold" if which == "f1" else "target_threshold"
    usable = th.dropna(subset=[col]).sort_values("image_count", kind="stable")
    opts = [int(v) for v in usable["category_id"]]
    label_of = {int(r.category_id): f"{r.name} (id {int(r.category_id)}, {which} threshold {getattr(r, col):.3f})"
                for r in usable.itertuples()}
    rows_sel = list(getattr(getattr(thr_event, "selection", None), "rows", None) or [])
    k_pick = "det_thr_ex_pick"
    seen = st.session_state.get("det_thr_ex_row")
    if rows_sel and rows_sel != seen:  # a NEW row click picks its class
        cid = int(th["category_id"].iloc[int(rows_sel[0])])
        if cid in label_of:
            st.session_state[k_pick] = cid
    st.session_state["det_thr_ex_row"] = rows_sel
    if st.session_state.get(k_pick) not in label_of:
        st.session_state[k_pick] = None
    pick = st.selectbox("The detections a class keeps at its threshold", opts, index=None, format_func=label_of.get,
                        key=k_pick, placeholder="click a row of the table, or pick a class (rarest first)",
                        help=f"The class's detections at or above its {which} threshold, matched at IoU 0.5 as the "
                             "evaluator matched them (true and false positives), and the ground truth they leave "
                             "unmatched.")
    if pick is None:
        ex.set_target("det_thr_ex", None)
    else:
        thr = float(usable.set_index("category_id").loc[pick, col])
        ex.set_target("det_thr_ex", {"what": "threshold", "class_id": int(pick), "iou": 0.5, "threshold": thr,
                                     "run": th_name})
    ex.detection_examples(ds, "det_thr_ex", default_run=th_name, scheme=bins_spec, style=style, evaluation=evaluate,
                          class_picker=False, outcome_picker=False,
                          hint="Click a row (or pick a class): the detections it keeps at its operating threshold.")
    js = thresholds_to_json(cache[tkey], which)
    st.download_button(f"Download thresholds JSON ({len(js):,} classes)", json.dumps(to_jsonable(js), indent=1),
                       file_name=f"thresholds_{which}_{th_name}.json", mime="application/json",
                       icon=":material/download:", key="dl_det_thr_json")
    st.code("import json\nthr = {int(k): v for k, v in json.load(open('thresholds.json')).items()}\n"
            "keep = [d for d in dets if d['score'] >= thr.get(d['category_id'], 0.05)]", language="python")


view = st.segmented_control("View", VIEWS, default=VIEWS[0], key="det_view", label_visibility="collapsed",
                            help="The view stays chosen while you change its controls.")
{VIEWS[0]: pr_view, VIEWS[1]: steal_view, VIEWS[2]: tide_view, VIEWS[3]: ci_view,
 VIEWS[4]: thresholds_view}.get(view or VIEWS[0], pr_view)()
