"""Augment: what would pasting tail objects do to my detection data?"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import streamlit as st

from lt_core.augment import (BLENDS, DEMOS, PHOTO_ATTRIBUTION, AugmentJob, CopyPasteConfig, copy_paste, photo_demo,
                             planned_distribution, prepare_copy_paste, preview_copy_paste, scenes_demo)
from lt_core.bins import parse_bins
from lt_core.errors import InputError
from lt_core.images import draw_annotations
from lt_core.plots import augment as aplots
from ui import files, state

JOB, DONE = "aug_job", "aug_done"
SOURCES = {"photos": f"Demo: {DEMOS['photos']}", "scenes": f"Demo: {DEMOS['scenes']}",
           "mine": "My COCO / LVIS dataset (paths)"}
BETAS = (0.9, 0.99, 0.999, 0.9999)
THRESHOLDS = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0)

st.title("Augment")
st.caption("What would pasting tail objects do to my detection data? Tail-aware copy-paste (Ghiasi et al., "
           "CVPR 2021) onto the TRAIN images, the number per class set by repeat factors or class weights, written "
           "as a new COCO / LVIS dataset.")


# ---------------------------------------------------------------- data
@st.cache_resource(show_spinner="Reading the ground truth and finding its images…", max_entries=4)
def _load(gt_path: str, root: str, stamp: tuple):
    from lt_core.data import load_detection_gt
    from lt_core.images import resolve_gt_images

    gt = load_detection_gt(gt_path)
    return gt, resolve_gt_images(gt, root)


def _stamp(p: str) -> tuple:
    try:
        s = os.stat(p)
        return (s.st_mtime_ns, s.st_size)
    except OSError:
        return (0, 0)


def data_source():
    """The GT path and image folder: a demo or the user's own paths."""
    deep = st.query_params.get("source", "photos")  # ?source=photos|scenes|mine deep links
    src = st.radio("Dataset", list(SOURCES), format_func=SOURCES.get, horizontal=True, key="aug_source",
                   index=list(SOURCES).index(deep) if deep in SOURCES else 0,
                   help="Copy-paste needs a ground truth and its images. The photo demo ships 10 real photographs "
                        "from scikit-image's sample data; the scenes demo is generated on first use.")
    if src == "photos":
        gt_path, root = photo_demo()
    elif src == "scenes":
        gt_path, root = scenes_demo()
    else:
        c = st.columns(2)
        gt_path = c[0].text_input("Ground truth (COCO / LVIS JSON)", key="aug_gt_path",
                                  placeholder="/data/lvis/lvis_v1_train.json",
                                  help="A training ground truth, .json or .json.gz. It is only read.")
        root = c[1].text_input("Image folder", key="aug_root", placeholder="/data/coco",
                               help="The folder that holds the images named by file_name (COCO) or by coco_url's "
                                    "split/name (LVIS v1, e.g. the folder with train2017/ in it).")
        if not gt_path or not root:
            st.info("Give the paths of a COCO / LVIS training ground truth and of its image folder, or choose a "
                    "demo above.", icon=":material/info:")
            st.stop()
    try:
        if src not in ("photos", "scenes"):  # local paths: only inside the data roots (ui/files.py)
            gt_path, root = files.confine(gt_path, "ground truth"), files.confine(root, "image folder")
        gt, index = _load(str(gt_path), str(root), _stamp(str(gt_path)) + _stamp(str(root)))
        index.require_all()
    except InputError as e:
        state.show_error(e, "data")
        st.stop()
    return src, str(gt_path), str(root), gt, index


source, gt_path, image_root, gt, index = data_source()
style = "LVIS" if gt.is_lvis else "COCO"
size_b = os.path.getsize(gt_path)
size_txt = f"{size_b / 1e6:,.1f} MB" if size_b >= 1e6 else f"{size_b / 1e3:,.0f} kB"
st.caption(f"**{Path(gt_path).name}** ({size_txt}, {style}) · {gt.n_images:,} images, all found under "
           f"`{image_root}` · {len(gt.ann_id):,} annotations ({'with masks' if gt.has_segmentation else 'boxes only'}), "
           f"{int(gt.ann_iscrowd.sum()):,} crowd (never copied) · {gt.categories.n_classes:,} categories · TRAIN split")
if source == "photos":
    st.caption(":orange[Real photos, segmentation-derived masks (not hand annotations).] " + PHOTO_ATTRIBUTION)
elif source == "scenes":
    st.caption(":orange[Generated data (demo): shapes with known masks on gradient backgrounds.]")


# ---------------------------------------------------------------- settings
def settings() -> CopyPasteConfig:
    st.subheader("How many to paste")
    c = st.columns([2, 2, 1, 1, 1])
    kinds = ["repeat factors", "effective number", "counts file"]
    kind = c[0].selectbox("Target per class", kinds, index=1 if source == "photos" else 0, key=f"aug_kind_{source}",
                          help="repeat factors: add round((r(c) − 1)·n) instances, r(c) = max(1, √(t / f(c))) (Gupta "
                               "et al., LVIS 2019). effective number: add round(n·(E(n_max)/E(n) − 1)), E(n) = (1 − "
                               "βⁿ)/(1 − β) (Cui et al., CVPR 2019). counts file: a CSV category_id,add or "
                               "category_id,target, or a weights / repeat-factor export of the Rebalance page.")
    if kind == "repeat factors":
        t = c[1].select_slider("RFS threshold t", THRESHOLDS, value=0.3 if gt.n_images < 200 else 0.001,
                               key=f"aug_t_{source}", help="LVIS uses t = 0.001; on a small dataset every class is in a large "
                                                 "fraction of the images, so t must be larger to repeat anything.")
        target = f"rfs:{t:g}"
    elif kind == "effective number":
        b = c[1].select_slider("β", BETAS, value=0.9 if source == "photos" else 0.99, key=f"aug_beta_{source}",
                               help="β = 0 adds nothing; β → 1 fills every class up to the largest (Cui et al. 2019).")
        target = f"effective-number:{b:g}"
    else:
        up = c[1].file_uploader("Counts / weights file", type=["csv", "json"], key="aug_counts",
                                help="category_id,add (instances to paste) or category_id,target (instances wanted); "
                                     "weights.json / weights.csv or repeat_factors.json from the Rebalance page.")
        if up is None:
            st.info("Upload a counts or weights file, or pick another target.", icon=":material/info:")
            st.stop()
        target = state.save_uploads([up])[up.name]
    seed = c[2].number_input("Seed", 0, 2 ** 31 - 1, 0, key="aug_seed",
                             help="Seeds the plan and every image's scale, flip, position and photometric draws: the "
                                  "same seed writes the same bytes, with any number of workers.")
    max_per = c[3].number_input("Max pastes / image", 1, 50, 5 if gt.n_images < 100 else 3, key="aug_maxper",
                                help="Pastes are spread evenly: every image gets one before any gets two.")
    default_bins = {"photos": "custom:2,3", "scenes": "lvis"}.get(source, "lvis" if gt.is_lvis else "quantile:3")
    bins = c[4].selectbox("Bins", sorted({default_bins, "lvis", "quantile:3", "imagenet-lt"}),
                          index=sorted({default_bins, "lvis", "quantile:3", "imagenet-lt"}).index(default_bins),
                          key=f"aug_bins_{source}",
                          help="Bins by TRAIN images per class; the last bin is the tail for the photometric options. "
                               "lvis: rare 1–10, common 11–100, frequent > 100 (Gupta et al. 2019).")
    c = st.columns([1, 1, 2, 2])
    blend = c[0].selectbox("Edges", BLENDS, key="aug_blend",
                           help="feather: alpha from a Gaussian-blurred mask (Ghiasi et al. 2021); poisson: Poisson "
                                "image editing (Pérez et al. 2003, OpenCV seamlessClone); none: a hard paste.")
    box_only = c[1].toggle("Box only", not gt.has_segmentation, key="aug_box_only", disabled=not gt.has_segmentation,
                           help="Paste box crops (rectangles) instead of masks; boxes hidden by more than 70% are "
                                "dropped. Box-only data always pastes boxes.")
    scale = c[2].slider("Scale factor", 0.25, 4.0, (0.5, 2.0), 0.05, key="aug_scale",
                        help="Log-uniform factor on the object's size relative to its image (1 keeps it).")
    limits = c[3].slider("Size limits (of the target's shorter side)", 0.02, 1.0, (0.05, 0.6), 0.01, key="aug_limits",
                         help="The pasted object's longer side stays within these fractions of the target image.")
    with st.expander("Photometric tail augmentation (images holding tail classes)"):
        c = st.columns(3)
        jitter = c[0].slider("Colour jitter", 0.0, 0.9, 0.0, 0.05, key="aug_jitter",
                             help="Brightness, contrast and saturation factors in [1 − j, 1 + j] (torchvision "
                                  "ColorJitter semantics), on images holding a tail class.")
        mosaic = c[1].slider("Mosaic probability", 0.0, 1.0, 0.0, 0.05, key="aug_mosaic",
                             help="A tail image also yields a 2×2 mosaic with three other images (Bochkovskiy et "
                                  "al., YOLOv4 2020), as a new image.")
        mixup = c[2].slider("Mixup probability", 0.0, 1.0, 0.0, 0.05, key="aug_mixup",
                            help="A tail image also yields a blend with another image, λ ~ Beta(32, 32), objects of "
                                 "both kept (Zhang et al. 2019), as a new image.")
    try:
        return CopyPasteConfig(target=target, seed=int(seed), box_only=bool(box_only), blend=blend,
                               max_pastes_per_image=int(max_per), scale_range=tuple(scale), size_limits=tuple(limits),
                               jitter=float(jitter), mosaic=float(mosaic), mixup=float(mixup), bins=bins).validate()
    except InputError as e:
        state.show_error(e, "settings")
        st.stop()


cfg = settings()


def _prepared(cfg: CopyPasteConfig):
    key = ("prep", gt_path, image_root, json.dumps(cfg.to_json(), sort_keys=True))
    return state.memo("aug_cache", key, (gt, index), lambda: prepare_copy_paste(gt, image_root, cfg, index=index), 8)


try:
    prep = _prepared(cfg)
except InputError as e:
    state.show_error(e, "targets")
    st.stop()
sch = parse_bins(cfg.bins)
dist, per_bin = planned_distribution(prep)


# ---------------------------------------------------------------- the answer first
def answer() -> None:
    bins_present = [b for b in sch.order(dist["bin"].to_numpy()) if b != "no training data"]
    tail_bin = bins_present[-1] if bins_present else sch.names[-1]
    row = per_bin.set_index("bin")
    m = st.columns(4)
    total = int(prep.plan.planned.sum())
    short = int(prep.plan.requested.sum()) - total
    m[0].metric("Objects to paste", state.fmt_count(total),
                f"{short:,} of the requested cannot be placed" if short else None, delta_color="inverse",
                help="Planned pastes (instances copied from the same class's annotations). " + prep.targets.rule)
    if tail_bin in row.index:
        b0, b1 = int(row.loc[tail_bin, "instances_before"]), int(row.loc[tail_bin, "instances_planned"])
        m[1].metric(f"{tail_bin} instances", f"{b0:,} → {b1:,}", f"+{b1 - b0:,}" if b1 > b0 else None,
                    help=f"Instances of the '{tail_bin}' bin ({sch.spec}, by train images) before and after pasting "
                         "(before any object a paste hides completely).")
        s0, s1 = row.loc[tail_bin, "share_before"], row.loc[tail_bin, "share_planned"]
        m[2].metric(f"{tail_bin} share of instances", state.fmt_pct(s1),
                    f"{100 * (s1 - s0):+.1f} pts" if total else None, help="Share of all instances in the tail bin.")
    n_img = sum(1 for p in prep.plan.per_image if len(p))
    m[3].metric("Images changed", f"{n_img:,} of {gt.n_images:,}",
                help=f"At most {cfg.max_pastes_per_image} pastes per image, never onto the image the object comes "
                     f"from. Photometric options: {int(prep.plan.jitter.sum()):,} jittered, {len(prep.plan.mosaic):,} "
                     f"mosaics, {len(prep.plan.mixup):,} mixups.")
    notes = prep.targets.notes + prep.plan.notes
    st.caption(f"TRAIN split · bins **{sch.spec}** · target `{cfg.target}` · seed **{cfg.seed}**"
               + (" · " + " · ".join(notes) if notes else ""))


answer()
left, right = st.columns([2, 3])
left.plotly_chart(aplots.bin_counts_chart(per_bin, sch, after_col="instances_planned", after_name="after (planned)"),
                  width="stretch", key="aug_bins_chart")
right.plotly_chart(aplots.class_counts_chart(dist, sch, after_col="instances_planned"), width="stretch",
                   key="aug_class_chart")


# ---------------------------------------------------------------- preview
SHOW_SIDE = 640  # small images are enlarged for display so boxes and labels keep their proportions


def _drawn(pixels: np.ndarray, overlay: dict | None) -> np.ndarray:
    from PIL import Image

    h, w = pixels.shape[:2]
    s = max(1.0, SHOW_SIDE / max(h, w))
    big = pixels if s == 1.0 else np.asarray(Image.fromarray(pixels).resize((round(w * s), round(h * s)),
                                                                            Image.Resampling.BILINEAR))
    if not overlay:
        return big
    return draw_annotations(big, scale=big.shape[1] / w, source_hw=(h, w), **overlay)


def preview() -> None:
    st.subheader("Preview")
    c = st.columns([1, 1, 4])
    n = c[0].number_input("Images", 1, 12, 4, key="aug_prev_n", help="Images shown (those with a tail paste first).")
    show_before = c[1].toggle("Side by side", False, key="aug_prev_before", help="Show each original beside it.")
    names = dict(zip(gt.categories.ids.tolist(), gt.categories.names.tolist()))
    key = ("preview", gt_path, image_root, json.dumps(cfg.to_json(), sort_keys=True), int(n))
    try:
        items = state.memo("aug_cache", key, (gt, index), lambda: preview_copy_paste(prep, n=int(n)), 8)
    except InputError as e:
        state.show_error(e, "preview")
        return
    if not items:
        st.info("Nothing to paste with these settings: raise the threshold / β or the counts.", icon=":material/info:")
        return
    st.caption(f"The pixels the dataset will hold (seed {cfg.seed}, {cfg.blend} edges), with the new boxes and mask "
               "outlines: yellow for pasted objects, orange ground truth that lost area to a paste (its mask is "
               "updated; a fully hidden object is dropped), white the other ground truth.")
    cols = st.columns(2)
    for k, it in enumerate(items):
        ov = it.overlay(names)
        pic = _drawn(it.pixels, ov)
        with cols[k % 2]:
            if show_before and it.original is not None:
                a, b = st.columns(2)
                a.image(_drawn(it.original, None), caption=f"{it.file} (before)", width="stretch")
                b.image(pic, caption="after", width="stretch")
            else:
                st.image(pic, width="stretch")
            pasted = ", ".join(f"{names.get(p['category_id'], p['category_id'])} from image {p['source_image_id']}"
                               f" (×{p['transform']['scale']:.2f}{', flipped' if p['transform']['flip'] else ''})"
                               for p in it.pastes)
            drop = f" · {len(it.dropped)} covered object(s) dropped" if it.dropped else ""
            st.caption(f"**{it.file}** (image {it.image_id}): pasted {pasted}{drop}.")


preview()


# ---------------------------------------------------------------- write
def write_section() -> None:
    st.subheader("Write the dataset")
    default_out = str(Path(tempfile.gettempdir()) / "tailscope_augmented" / f"{Path(gt_path).parent.name}_{source}")
    c = st.columns([4, 1, 2])
    out = c[0].text_input("Output folder", default_out, key="aug_out",
                          help="A new folder (or an earlier Tailscope output, replaced as a whole): images/, "
                               "annotations.json, manifest.json, distribution.csv. The input is never written to.")
    workers = c[1].number_input("Workers", 1, 64, min(8, os.cpu_count() or 1), key="aug_workers",
                                help="Processes for the image work; the bytes written are the same for any number.")
    job: AugmentJob | None = st.session_state.get(JOB)
    go = c[2].button("Write dataset", type="primary", icon=":material/save:", key="aug_go",
                     disabled=bool(job and job.running))
    if go:
        label = Path(out).name
        st.session_state[JOB] = AugmentJob(
            lambda progress, cancel, _p=prep, _o=out, _w=int(workers): copy_paste(
                gt_path, image_root, _o, _p.cfg, workers=_w, progress=progress, cancel=cancel, prepared=_p),
            label=label)
    cli = (f"python -m lt_core augment copy-paste --gt {gt_path} --images {image_root} --target {cfg.target} "
           f"--out {out} --seed {cfg.seed} --blend {cfg.blend} --max-pastes-per-image {cfg.max_pastes_per_image} "
           f"--bins {cfg.bins}" + (" --box-only" if cfg.box_only else "")
           + (f" --jitter {cfg.jitter:g}" if cfg.jitter else "") + (f" --mosaic {cfg.mosaic:g}" if cfg.mosaic else "")
           + (f" --mixup {cfg.mixup:g}" if cfg.mixup else ""))
    st.caption("The same from the command line:")
    st.code(cli, language="bash")


def _progress() -> None:
    job: AugmentJob | None = st.session_state.get(JOB)
    if job is None:
        return
    if job.running:
        cols = st.columns([6, 1])
        cols[0].progress(job.fraction, text=f"**{job.label}** — {job.message()}")
        if cols[1].button("Cancel", icon=":material/stop:", key="aug_cancel",
                          help="Stops before the next image; nothing is written."):
            job.cancel()
        return
    if job.status == "done":
        rep = job.result
        st.session_state[DONE] = rep
        st.success(rep.summary(), icon=":material/check_circle:")
    elif job.status == "cancelled":
        st.info(f"Writing **{job.label}** was cancelled; nothing was written.", icon=":material/stop_circle:")
    elif job.status == "failed":
        if isinstance(job.error, InputError):
            state.show_error(job.error, job.label)
        else:
            st.error(job.message(), icon=":material/error:")


write_section()
_job = st.session_state.get(JOB)
if _job is not None and _job.running:
    st.fragment(run_every=0.5)(_progress)()
else:
    _progress()

report = st.session_state.get(DONE)
if report is not None and (st.session_state.get(JOB) is None or st.session_state[JOB].status == "done"):
    with st.expander(f"Written: {report.out_dir} — the distribution after (objects hidden by pastes removed)",
                     expanded=True):
        st.plotly_chart(aplots.bin_counts_chart(report.per_bin, report.cfg.bins), width="stretch",
                        key="aug_written_bins")
        st.dataframe(report.per_bin, hide_index=True, width="stretch",
                     column_config={k: st.column_config.NumberColumn(format="percent")
                                    for k in ("share_before", "share_after")})
        state.download_csv(report.distribution, "distribution.csv", key="aug_dl_written")
        man = Path(report.out_dir) / "manifest.json"
        if man.is_file():
            st.download_button("manifest.json", man.read_bytes(), "manifest.json", "application/json",
                               key="aug_dl_manifest", icon=":material/download:")
        st.code(f"from pycocotools.coco import COCO\ncoco = COCO('{report.out_dir}/annotations.json')  "
                f"# images in {report.out_dir}/images/", language="python")

# ---------------------------------------------------------------- tables
st.subheader("Per class")
show = dist.sort_values(["train_images", "instances_before"], ascending=False)
st.dataframe(show, hide_index=True, width="stretch")
state.download_csv(show, "augment_plan_per_class.csv", key="aug_dl_plan")
