"""The boxes behind the Detection page's numbers: a class or a bin by outcome, a PR-curve point, a
stealing pair, a TIDE bar — each example its image with the boxes drawn by outcome.

Built on :mod:`ui.examples` (clicks -> targets, paging, the thumbnail cache) and
:mod:`lt_core.examples` (the selections, :class:`~lt_core.examples.DetectionContent`).
"""
from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np
import pandas as pd
import streamlit as st

from lt_core.errors import InputError
from lt_core.examples import Selection
from ui.examples import (DISPLAY_CAP, _md_escape, _memo, _page, chart_event, set_target, take_click, target,
                         thumbnail_cache)

__all__ = ["detection_panel", "show_detection_selection", "det_box_table", "det_content", "det_image_root_section",
           "detection_examples", "det_class_target", "det_bin_target", "det_pr_target", "det_stolen_target",
           "det_tide_target", "det_outcome_picker", "det_class_picker", "chart_event", "take_click", "target",
           "set_target", "DET_OUTCOMES"]


DET_THUMB_SIDE = 320     # a detection example in the grid
DET_ZOOM_SIDE = 960      # the one opened large
DET_PAGE_SIZE = 8


def det_box_table(det, name: str, scheme: str = "lvis", style: str | None = None, outcomes=None):
    """:func:`lt_core.examples.box_table` of one results file (on the TIDE outcome table), memoised.

    ``outcomes``: a :func:`lt_core.detection.detection_outcomes` table already computed (the TIDE
    view's, with its IoU thresholds); default the outcomes at IoU 0.5 / 0.1 with ``style``.
    """
    from lt_core.examples import box_table

    res = det.results[name]
    if outcomes is not None:
        return _memo(("det_boxes_of", name, scheme, id(outcomes)), (det.gt, res, outcomes),
                     lambda: box_table(det.gt, res, scheme, outcomes=outcomes))
    return _memo(("det_boxes", name, scheme, style), (det.gt, res),
                 lambda: box_table(det.gt, res, scheme, style=style))


def det_content(det, name: str, table):
    """The pictures of a results file's examples (boxes coloured by ``table``'s outcomes): its image
    folder, or a plain canvas for generated data."""
    from lt_core.examples import DetectionContent

    res = det.results[name]
    root = getattr(det, "image_root", None)

    def make():
        try:
            return DetectionContent(det.gt, res, table, root)
        except InputError as e:
            st.session_state["ex_det_root_error"] = str(e)
            return DetectionContent(det.gt, res, table, None)
    return _memo(("det_content", name, str(root), id(table)), (det.gt, res, table), make)


@st.cache_data(show_spinner=False)
def _legend():
    """The colour key of the drawn boxes (:data:`lt_core.examples.detection.LEGEND_ITEMS`)."""
    from lt_core.examples.detection import LEGEND_ITEMS
    from lt_core.images import outcome_legend

    return outcome_legend(LEGEND_ITEMS, max_width=560)


def _det_caption(r: pd.Series) -> str:
    from lt_core.examples import OUTCOME_LABELS

    what = OUTCOME_LABELS.get(str(r["outcome"]), str(r["outcome"]))
    score = f" {float(r['score']):.2f}" if r.get("score") == r.get("score") and r.get("score") is not None else ""
    true = r.get("true_category")
    about = f" on a **{true}**" if isinstance(true, str) and true and true != r["category"] else ""
    steal = ""
    if "stealer" in r.index and isinstance(r.get("stealer"), str):
        steal = f" · taken by **{r['stealer']}** {float(r['stealer_score']):.2f}"
    iou = f" · IoU {float(r['iou']):.2f}" if r.get("iou") == r.get("iou") and r.get("iou") is not None else ""
    return f"{what}: **{r['category']}**{score}{about}{iou}{steal} · image {int(r['image_id'])}"


def _det_overlay(content, r: pd.Series, zoom: bool = False) -> dict:
    """The row's image with its boxes; a stolen box shows the stealer's detection too. A thumbnail
    draws the confident detections only and names the highlighted boxes; the opened one names all."""
    extra = (int(r["stealer_det"]),) if "stealer_det" in r.index and int(r.get("stealer_det", -1)) >= 0 else ()
    if zoom:
        return content.overlay(int(r["image_id"]), highlight=r.to_dict(), include_dets=extra, min_score=0.3,
                               max_dets=40)
    return content.overlay(int(r["image_id"]), highlight=r.to_dict(), include_dets=extra, min_score=0.5, max_dets=12,
                           labels_for="highlight")


def _det_picture(content, r: pd.Series, side: int, thumbs):
    iid = int(r["image_id"])
    src = content.source(iid)
    ov = _det_overlay(content, r, zoom=side >= DET_ZOOM_SIDE)
    return thumbs.get(src, side, ov, size_hw=content.size_hw(iid), label=content.label)


def show_detection_selection(sel: Selection, content, key: str, *, csv_name: str, cap: int = DISPLAY_CAP,
                             thumbs=None, generated: bool = True) -> None:
    """One detection selection: what it is, one page of its images with the boxes drawn (the row's
    box highlighted), the one picked opened large, and a CSV download of every row."""
    shown = Selection(sel.title, sel.rows.head(cap), sel.total, sel.kind, sel.order)
    st.markdown(f"**{_md_escape(sel.title)}**")
    st.caption(shown.caption())
    if sel.total == 0:
        st.info("No boxes here.", icon=":material/info:")
        return
    thumbs = thumbs or thumbnail_cache()
    a, b = _page(key, shown.shown, DET_PAGE_SIZE, sel.title)
    rows = shown.rows.iloc[a:b]
    if content is not None and content.kind == "canvas":
        st.caption(":orange[Generated data: the boxes are drawn on a plain canvas of each image's size.]" if generated
                   else "No image folder given: the boxes are drawn on a plain canvas of each image's size. Give the "
                        "images' folder on the **Data** page (Detection tab) to see them on the photos.")
    st.image(_legend(), width="content")
    st.caption("The row's box is drawn thick with its class and score; the image's other boxes dimmed.")
    kz = f"{key}_zoom"
    cols = st.columns(2)
    for i, (_, r) in enumerate(rows.iterrows()):
        with cols[i % 2]:
            try:
                st.image(str(_det_picture(content, r, DET_THUMB_SIDE, thumbs)), width="stretch")
            except InputError as e:
                st.caption(f"image {int(r['image_id'])}: {e}")
            st.caption(_det_caption(r))
            if st.button("open", key=f"{key}_open_{a + i}", icon=":material/zoom_in:", type="tertiary"):
                st.session_state[kz] = (sel.title, a + i)
    z = st.session_state.get(kz)
    if z and z[0] == sel.title and z[1] < shown.shown:
        r = shown.rows.iloc[z[1]]
        with st.expander(f"image {int(r['image_id'])}, large", expanded=True):
            try:
                st.image(str(_det_picture(content, r, DET_ZOOM_SIDE, thumbs)), width="stretch")
            except InputError as e:
                st.caption(str(e))
            st.caption(_det_caption(r))
    st.download_button(f"CSV of all {sel.total:,}", data=sel.to_csv, file_name=csv_name, mime="text/csv",
                       key=f"{key}_csv", icon=":material/download:", on_click="ignore",
                       help="Every box of the selection: image id, detection position / annotation id, category, "
                            "true category, score, IoU, outcome, bin and the boxes.")
    with st.expander(f"table of the first {shown.shown:,}"):
        cols_ = [c_ for c_ in ("image_id", "det_index", "ann_id", "category", "true_category", "score", "iou",
                               "outcome", "bin", "stealer", "stealer_score") if c_ in shown.rows.columns]
        st.dataframe(shown.rows[cols_], hide_index=True, width="stretch", height=260)


def detection_panel(det, name: str, key: str, make: Callable[[], tuple | None], *, hint: str,
                    controls: Callable[[], None] | None = None) -> None:
    """The examples panel of a detection chart: its controls, then the boxes of the target (or a hint).

    ``make()`` returns ``(Selection, box table)`` or None (nothing chosen yet)."""
    if controls is not None:
        controls()
    err = st.session_state.pop("ex_det_root_error", None)
    try:
        made = make()
        if made is None:
            st.caption(hint)
            return
        sel, table = made
        content = det_content(det, name, table)
    except InputError as e:
        from ui import state

        state.show_error(e, "examples")
        return
    err = err or st.session_state.pop("ex_det_root_error", None)
    if err:
        st.warning(f"The image folder cannot be used: {err}", icon=":material/warning:")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"boxes_{name}_{sel.title}")[:120]
    show_detection_selection(sel, content, key, csv_name=f"{safe}.csv",
                             generated=bool(getattr(det, "generated", False)))


#: what the detection panels can show, in words
DET_OUTCOMES = {"errors": "false positives and missed", "fp": "false positives", "missed": "missed boxes",
                "tp": "true positives", "wrong_class": "wrong class", "duplicate": "duplicates",
                "localization": "poor localisation", "both": "wrong class and box", "background": "background"}


def det_class_target(pt: dict, run: str) -> dict | None:
    """A click on :func:`lt_core.plots.detection.ap_vs_frequency_chart` (customdata: name, id, ..., results)."""
    cd = pt.get("customdata") or []
    if len(cd) < 2:
        return None
    return {"what": "class", "class_id": int(cd[1]), "run": cd[4] if len(cd) > 4 else run}


def det_bin_target(pt: dict, run: str) -> dict | None:
    """A click on :func:`lt_core.plots.detection.ap_by_bin_chart` (customdata: ..., bin, results)."""
    cd = pt.get("customdata") or []
    b = cd[2] if len(cd) > 2 else pt.get("x")
    return None if b is None else {"what": "bin", "bin": str(b), "run": cd[3] if len(cd) > 3 else run}


def det_pr_target(pt: dict, class_id: int, iou: float, run: str) -> dict | None:
    """A click on a PR curve: the raw curve's score, or the recall of the interpolated one."""
    cd = pt.get("customdata") or []
    score = cd[0] if len(cd) else None
    r = cd[1] if len(cd) > 1 else run
    tgt = {"what": "threshold", "class_id": int(class_id), "iou": float(iou), "run": r,
           "recall": float(pt.get("x", 0.0))}
    if score is not None and score == score:
        tgt["threshold"] = float(score)
    return tgt


def det_stolen_target(pt: dict) -> dict | None:
    """A click on :func:`lt_core.plots.detection.stealing_chart` (customdata[4]: the victim's id)."""
    cd = pt.get("customdata") or []
    return {"what": "stolen", "victim": int(cd[4]), "stealer": None} if len(cd) > 4 else None


def det_tide_target(pt: dict) -> dict | None:
    """A click on :func:`lt_core.plots.detection.tide_chart` (customdata: count, bin, error type)."""
    cd = pt.get("customdata") or []
    if len(cd) < 3:
        return None
    return {"what": "tide", "bin": str(cd[1]), "type": str(cd[2])}


def det_outcome_picker(key: str, default: str = "errors") -> str:
    return st.selectbox("boxes", list(DET_OUTCOMES), index=list(DET_OUTCOMES).index(default),
                        format_func=DET_OUTCOMES.get, key=f"{key}_outcome",
                        help="false positives by kind (TIDE, IoU 0.5: duplicate, wrong class, poor localisation, "
                             "both, background), missed ground truth (no detection of its class found it), true "
                             "positives. Worst first: the highest-scoring false positives, the rarest classes' misses.")


def det_class_picker(key: str, classes, label: str = "or pick a class") -> None:
    """A category selectbox (rarest first) that sets a class target."""
    order = np.argsort(classes.train_count, kind="stable")
    opts = [int(classes.ids[i]) for i in order]
    names = {int(i): f"{n} (id {int(i)}, {int(c):,} images)" for i, n, c in zip(classes.ids, classes.names,
                                                                              classes.train_count)}
    tgt = target(key) or {}
    kp = f"{key}_pick_class"
    cur = int(tgt["class_id"]) if tgt.get("what") == "class" else None
    if st.session_state.get(kp) != cur and (cur is None or cur in names):
        st.session_state[kp] = cur

    def on_change():
        v = st.session_state.get(kp)
        if v is not None:
            set_target(key, {"what": "class", "class_id": int(v), "run": (target(key) or {}).get("run")})

    st.selectbox(label, opts, index=None, format_func=names.get, key=kp, on_change=on_change,
                 placeholder="click a class in the chart, or type its name", help="Rarest classes first.")


def detection_examples(det, key: str, *, default_run: str, scheme: str, style: str | None, hint: str,
                       evaluation: Callable[[str], Any] | None = None, stealing=None, tide_outcomes=None,
                       class_picker: bool = True, outcome_picker: bool = True) -> None:
    """The boxes behind what was clicked (or picked): a class or a bin by outcome, a PR-curve
    point, a stealing pair or a victim class, a TIDE error bar. Drawn by :func:`detection_panel`."""
    from lt_core.examples import (boxes_by_tide_error, boxes_of_class, detections_at_threshold, pr_point_threshold,
                                  stealing_pair)

    tgt = target(key) or {}
    run = tgt.get("run") if tgt.get("run") in det.results else default_run
    cols = st.columns([3, 2]) if (class_picker and outcome_picker) else [st.container(), st.container()]
    if class_picker:
        with cols[0]:
            det_class_picker(key, det.classes)
    outcome = "errors"
    if outcome_picker and tgt.get("what") in (None, "class", "bin"):
        with cols[1]:
            outcome = det_outcome_picker(key)
    tgt = target(key) or {}

    def make():
        what = tgt.get("what")
        if what is None:
            return None
        table = det_box_table(det, run, scheme, style) if what != "tide" or tide_outcomes is None else \
            det_box_table(det, run, scheme, outcomes=tide_outcomes)
        if what == "class":
            return boxes_of_class(table, det.classes, int(tgt["class_id"]), outcome, cap=None), table
        if what == "bin":
            return boxes_of_class(table, det.classes, None, outcome, cap=None, bins=tgt["bin"]), table
        if what == "tide":
            return boxes_by_tide_error(table, det.classes, tgt["type"], bins=tgt["bin"], cap=None), table
        if what == "stolen" and stealing is not None:
            return stealing_pair(stealing, table, det.gt, det.results[run], int(tgt["victim"]),
                                 None if tgt.get("stealer") is None else int(tgt["stealer"]), cap=None), table
        if what == "threshold" and evaluation is not None:
            ev = evaluation(run)
            thr = tgt.get("threshold")
            if thr is None:
                thr = pr_point_threshold(ev, int(tgt["class_id"]), float(tgt.get("recall", 0.0)), float(tgt["iou"]))
            return detections_at_threshold(ev, det.gt, int(tgt["class_id"]), float(thr), iou=float(tgt["iou"]),
                                           results=det.results[run], cap=None, scheme=scheme), table
        return None
    detection_panel(det, run, key, make, hint=hint)


def det_image_root_section(det) -> None:
    """Where the images of a detection ground truth are (COCO ``file_name`` / LVIS ``coco_url``)."""
    from ui.examples import folder_input

    st.markdown("**Images of the examples**")

    def probe(root: str) -> str:
        from lt_core.images import resolve_gt_images

        raw = getattr(det.gt, "raw", None) or {}
        recs = raw.get("images", [])[:200]
        idx = resolve_gt_images(recs, root)
        return f"{idx.n_found:,} of the first {len(recs):,} images are under `{root}`."

    folder_input(det, "ex_det_image_root", label="Image folder (local path)",
                 placeholder="the folder the ground truth's file_name paths start from, e.g. /data/coco/val2017",
                 help="COCO: images[].file_name under this folder (or its split folder); LVIS v1: the split/name of "
                      "coco_url. Only folders inside the data roots are read. Without it, generated data draws its "
                      "boxes on a plain canvas.", probe=probe)
