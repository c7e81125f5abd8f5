"""Data: what did I load, and is it sound?"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from lt_core.bins import parse_bins
from lt_core.data import MultiLabelRowsError, build_classification_dataset, build_detection_dataset
from lt_core.errors import InputError
from ui import data_classification, files, state
from ui import examples as ex

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
    ex.image_root_section(state.classification())  # where the examples' images are (list paths, image folders)

# ---------------------------------------------------------------- detection
with tab_det:
    from ui.data_detection import detection_tab

    detection_tab(det)
