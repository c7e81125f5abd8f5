"""The Data page's Detection tab: what detection data is loaded, and loading it (with train frequencies).

Called from ``pages/1_Data.py`` (:func:`detection_tab`). Loaders and frequency files come from
``lt_core``; nothing here computes.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from lt_core.bins import parse_bins
from lt_core.data import DetectionDataset, load_detection_gt
from lt_core.detection import load_results_fast, with_train_frequencies
from lt_core.detection.evaluator import detection_bins
from lt_core.errors import InputError
from ui import files, state

__all__ = ["detection_tab"]


def _file_input(label: str, key: str, mode: str, types: list[str] | None, help: str) -> str | None:
    if mode == "Upload":
        f = st.file_uploader(label, type=types, key=f"up_{key}", help=help)
        return files.save_uploads([f], f"up_{key}").get(f.name) if f is not None else None
    p = st.text_input(label + " (local path)", key=f"path_{key}", help=help + " Large files: give a path.")
    return p.strip() or None


def _summary(det: DetectionDataset) -> None:
    st.subheader("Summary")
    cls = det.classes
    d1 = st.columns(4)
    d1[0].metric("Images", f"{det.gt.n_images:,}")
    d1[1].metric("Annotations", f"{len(det.gt.ann_id):,}")
    d1[2].metric("Categories", f"{cls.n_classes:,}")
    d1[3].metric("Evaluation style", "LVIS" if det.gt.neg_category_ids is not None else "COCO",
                 help="LVIS (federated: neg / not-exhaustive category lists) or COCO")
    if det.generated:
        st.info("Generated data: the categories and their train frequencies are the real LVIS v1 ones; images, "
                "boxes and detections are generated (tail classes detected worse).", icon=":material/science:")
    src = cls.count_source or "unknown"
    if src.startswith("the evaluation split"):
        st.warning(f"Class counts: {src} — not train counts. The bins of every chart then describe the evaluation "
                   "split; load the train frequencies below (a training ground truth, an LVIS category file or a "
                   "counts CSV).", icon=":material/warning:")
    else:
        st.caption(f"Class counts (they define the bins): {src}.")
    sch = parse_bins("lvis")
    bins = detection_bins({"image_count": cls.train_count, "frequency": cls.frequency}, sch)
    st.dataframe(pd.DataFrame([{"bin": b, "categories": int((bins == b).sum()),
                                "images (counts above)": int(cls.train_count[bins == b].sum())}
                               for b in sch.order(bins)]), hide_index=True)
    st.dataframe(pd.DataFrame([{"results": k, "detections": len(v), "images": len(set(v.image_id.tolist())),
                                "masks": v.segmentation is not None, "source": Path(v.source).name or v.source}
                               for k, v in det.results.items()]), hide_index=True, width="stretch")


def _load_form() -> None:
    st.subheader("Load detection data")
    st.caption("Ground truth: COCO or LVIS JSON (`.json` or `.json.gz`). Results: COCO results JSON, one or more "
               "(boxes, or RLE masks). Train frequencies (optional): the training ground truth, an LVIS category "
               "file (`image_count`, `frequency`) or a counts CSV (`class_id,count`).")
    dmode = st.radio("Files from", ["Upload", "Local path"], horizontal=True, key="det_mode")
    with st.form("det_form"):
        gt_path = _file_input("Ground truth JSON", "gt", dmode, ["json", "gz"], "COCO / LVIS annotations.")
        if dmode == "Upload":
            ups = st.file_uploader("Results JSON (one or more)", type=["json", "gz"], accept_multiple_files=True,
                                   key="up_dt", help="COCO results: [{image_id, category_id, bbox, score}, ...]")
            res_paths = files.save_uploads(ups, "up_dt")
        else:
            txt = st.text_area("Results JSON paths (one per line)", key="path_dt")
            res_paths = {Path(x.strip()).name: x.strip() for x in txt.splitlines() if x.strip()}
        fr_path = _file_input("Train frequencies (optional)", "det_fr", dmode, ["json", "gz", "csv"],
                              "The training ground truth, an LVIS category file or a counts CSV: the bins come from "
                              "it (LVIS frequency letters are used when present).")
        dsub = st.form_submit_button("Load", type="primary")
    if not dsub:
        return
    if not gt_path:
        st.error("Give a ground-truth JSON file.")
        return
    try:
        if dmode != "Upload":  # local paths: only inside the data roots (ui/files.py)
            gt_path = files.confine(gt_path, "ground truth path")
            fr_path = files.confine(fr_path, "train frequencies path") if fr_path else None
            res_paths = {k: files.confine(v, "results path") for k, v in res_paths.items()}
        g = load_detection_gt(gt_path)
        if fr_path:
            g, notes = with_train_frequencies(g, fr_path)
            for note in notes:
                st.info(note, icon=":material/info:")
        newd = DetectionDataset(Path(gt_path).name, g)
        for k, v in res_paths.items():
            name = Path(k).name.split(".")[0]
            newd.results[name] = load_results_fast(v, g, name)
    except (InputError, OSError, ValueError) as e:
        state.show_error(e, "Could not load")
        return
    state.set_detection(newd, train_frequencies=fr_path)  # kept in the workspace with its files
    st.success(f"Loaded {newd.name}: {newd.gt.n_images:,} images, {len(newd.results)} results files")
    st.rerun()


def detection_tab(det: DetectionDataset) -> None:
    """The Detection tab of the Data page: summary, soundness of the class counts, loading."""
    _summary(det)
    _load_form()
    from ui import examples_detection as ex

    ex.det_image_root_section(det)  # where the images of the detection examples are
    if not det.generated:
        if st.button("Back to the detection demo", key="det_demo"):
            state.reset_demo("detection")
            st.rerun()
