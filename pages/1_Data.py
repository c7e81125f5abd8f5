"""Data: what did I load, and is it sound?"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from lt_core.bins import parse_bins
from lt_core.data import MultiLabelRowsError, build_classification_dataset, build_detection_dataset
from lt_core.errors import InputError
from ui import data_classification, files, state

st.title("Data")
st.caption("What did I load, and is it sound?")

cls = state.classification()
det = state.detection()
scheme = parse_bins(state.bin_scheme())

# ---------------------------------------------------------------- the answer, first screen
c = st.columns(5)
c[0].metric("Classes", f"{cls.classes.n_classes:,}", help="Classes in the active classification dataset")
if cls.multi_label and "train" in cls.labels:  # a sample counts once, in each of its classes' positives
    c[1].metric("Train samples", f"{len(cls.labels['train']):,}",
                help=f"Multi-label: {int(cls.classes.train_count.sum()):,} train positives (labels) over these samples, "
                     f"{cls.labels['train'].cardinality:.2f} per sample; the bins come from each class's train positives")
else:
    c[1].metric("Train samples", f"{int(cls.classes.train_count.sum()):,}",
                help="Sum of the TRAIN counts that define the bins")
ir = cls.classes.imbalance_ratio
c[2].metric("Imbalance ratio", f"{ir:,.0f}×" if ir != float("inf") else "∞",
            help="max / min train count over classes with at least one training sample")
c[3].metric("Runs (models)", f"{sum(1 for r in cls.runs.values() if r.preds)}",
            help="Named model outputs you can compare on the Metrics page")
c[4].metric("Detection images", f"{det.gt.n_images:,}", help="Images in the active detection ground truth")

if cls.generated or det.generated:
    st.info(f"Classification: **{cls.name}** — {cls.description}  \nDetection: **{det.name}** — {det.description}",
            icon=":material/info:")
else:
    st.caption(f"Classification: **{cls.name}**. Detection: **{det.name}**.")


def _file_input(label: str, key: str, mode: str, types: list[str] | None, help: str) -> str | None:
    """One file from an upload or a local path (for files too large to upload)."""
    if mode == "Upload":
        f = st.file_uploader(label, type=types, key=f"up_{key}", help=help)
        return state.save_uploads([f]).get(f.name) if f is not None else None
    p = st.text_input(label + " (local path)", key=f"path_{key}", help=help + " Large files: give a path.")
    return p.strip() or None


tab_cls, tab_det = st.tabs(["Classification", "Detection"])

# ---------------------------------------------------------------- classification
with tab_cls:
    data_classification.render(cls, scheme.spec)

# ---------------------------------------------------------------- detection
with tab_det:
    st.subheader("Summary")
    ds = det.summary("lvis")
    d1 = st.columns(4)
    d1[0].metric("Images", f"{det.gt.n_images:,}")
    d1[1].metric("Annotations", f"{len(det.gt.ann_id):,}")
    d1[2].metric("Categories", f"{det.classes.n_classes:,}")
    d1[3].metric("Evaluation style", ds["style"].upper(),
                 help="LVIS (federated: neg / not-exhaustive category lists) or COCO")
    if det.generated:
        st.info("Generated data: the categories and their train frequencies are the real LVIS v1 ones; images, "
                "boxes and detections are generated (tail classes detected worse).", icon=":material/science:")
    dbins = det.classes.bins("lvis")
    st.dataframe(pd.DataFrame([{"bin": b, "categories": int((dbins == b).sum()),
                                "train images": int(det.classes.train_count[dbins == b].sum())}
                               for b in parse_bins("lvis").order(dbins)]), hide_index=True)
    st.dataframe(pd.DataFrame([{"results": k, "detections": len(v), "images": len(set(v.image_id.tolist())),
                                "masks": v.segmentation is not None, "source": v.source}
                               for k, v in det.results.items()]), hide_index=True, width="stretch")

    st.subheader("Load detection data")
    st.caption("Ground truth: COCO or LVIS JSON (`.json` or `.json.gz`). Results: COCO results JSON, one or more.")
    dmode = st.radio("Files from", ["Upload", "Local path"], horizontal=True, key="det_mode")
    with st.form("det_form"):
        gt_path = _file_input("Ground truth JSON", "gt", dmode, ["json", "gz"], "COCO / LVIS annotations.")
        if dmode == "Upload":
            ups = st.file_uploader("Results JSON (one or more)", type=["json", "gz"], accept_multiple_files=True,
                                   key="up_dt", help="COCO results: [{image_id, category_id, bbox, score}, ...]")
            res_paths = state.save_uploads(ups)
        else:
            txt = st.text_area("Results JSON paths (one per line)", key="path_dt")
            res_paths = {Path(x.strip()).name: x.strip() for x in txt.splitlines() if x.strip()}
        dsub = st.form_submit_button("Load", type="primary")
    if dsub:
        if not gt_path:
            st.error("Give a ground-truth JSON file.")
        else:
            try:
                if dmode != "Upload":  # local paths: only inside the data roots (ui/files.py)
                    gt_path, res_paths = files.confine(gt_path), {k: files.confine(v) for k, v in res_paths.items()}
                newd = build_detection_dataset(gt_path, {Path(k).name.split(".")[0]: v for k, v in res_paths.items()})
            except (InputError, OSError, ValueError) as e:
                state.show_error(e, "Could not load")
            else:
                state.set_detection(newd)
                st.success(f"Loaded {newd.name}: {newd.gt.n_images:,} images, {len(newd.results)} results files")
                st.rerun()
    if not det.generated:
        if st.button("Back to the detection demo", key="det_demo"):
            state.reset_demo("detection")
            st.rerun()
