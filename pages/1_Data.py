"""Data: what did I load, and is it sound?"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from lt_core.bins import parse_bins
from lt_core.data import MultiLabelRowsError, build_classification_dataset, build_detection_dataset
from lt_core.errors import InputError
from ui import examples as ex
from ui import files, state

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
c[3].metric("Runs (models)", f"{len(cls.runs)}", help="Named model outputs you can compare on the Metrics page")
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
    st.subheader("Summary")
    st.markdown(f"{state.kind_badge(cls)} " + ("every sample carries a set of classes; counts are positives (samples "
                                              "carrying the class)" if cls.multi_label else "one class per sample"))
    s = cls.summary(scheme)
    rows = [{"split": sp, "samples": len(lab), "classes present": int((lab.counts(cls.classes.n_classes) > 0).sum()),
             **({"labels per sample": round(lab.cardinality, 3)} if cls.multi_label else {}),
             "source": lab.source, "notes": "; ".join(getattr(lab, "notes", ()))} for sp, lab in cls.labels.items()]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    bins = cls.classes.bins(scheme)
    bin_rows = [{"bin": b, "classes": int((bins == b).sum()),
                 "train samples": int(cls.classes.train_count[bins == b].sum())} for b in scheme.order(bins)]
    cc = st.columns([2, 3])
    cc[0].markdown(f"**Bins** ({scheme.spec}, by train count)")
    cc[0].dataframe(pd.DataFrame(bin_rows), hide_index=True, width="stretch")
    run_rows = []
    for r in cls.runs.values():
        for sp, p in r.preds.items():
            run_rows.append({"run": r.name, "split": sp, "kind": p.kind, "samples": len(p),
                             "source": p.source or r.source})
    cc[1].markdown("**Runs**")
    cc[1].dataframe(pd.DataFrame(run_rows, columns=["run", "split", "kind", "samples", "source"]),
                    hide_index=True, width="stretch")
    feat = ", ".join(f"{sp} {f.X.shape[0]:,}×{f.dim}" for sp, f in cls.features.items()) or "none"
    clf = f"{cls.classifier.W.shape[0]}×{cls.classifier.W.shape[1]}" if cls.classifier is not None else "none"
    st.caption(f"Features: {feat}. Original classifier weights: {clf}.")

    # soundness checks
    issues = []
    zero = int((cls.classes.train_count == 0).sum())
    if zero:
        issues.append(f"{zero} classes have no training samples (shown as their own grey bin).")
    for sp in ("val", "test"):
        if sp in cls.labels:
            cnt = cls.labels[sp].counts(cls.classes.n_classes)
            small = int(((cnt > 0) & (cnt < 5)).sum())
            missing = int((cnt == 0).sum())
            if small:
                issues.append(f"{small} classes have fewer than 5 {sp} samples: their recall is noise; "
                              "read the confidence intervals.")
            if missing:
                issues.append(f"{missing} classes have no {sp} samples (no recall can be measured).")
    if "val" not in cls.labels:
        issues.append("No validation split: tuning (τ, thresholds) would have to use test — the app will warn.")
    for msg in issues:
        st.warning(msg, icon=":material/warning:")
    if not issues:
        st.success("No problems found: every class has training and evaluation samples.", icon=":material/check:")

    table = cls.classes.to_frame(scheme).sort_values("train_count", ascending=False)
    for sp in ("val", "test"):
        if sp in cls.labels:
            table[f"{sp}_count"] = cls.labels[sp].counts(cls.classes.n_classes)[table.index]
    with st.expander(f"Class table ({cls.classes.n_classes:,} classes, head first)"):
        st.dataframe(table, hide_index=True, width="stretch")
        state.download_csv(table, "classes.csv")

    st.subheader("Load classification data")
    st.caption("Labels: CSV / TSV / Parquet with a `label` column (name or id; optional `id`, `split`), "
               "ImageNet-LT text lists (`path label`), GoEmotions TSV, or a folder of class sub-folders (local path). "
               "Multi-label: an N × C 0/1 indicator (`.npy` / `.npz` / wide CSV / Parquet), cells like `a,b` or `a|b`, "
               "a Parquet list column, COCO / LVIS JSON as image-level labels. "
               "Scores: `.npy` / `.npz` (N × C, column j = class j) or CSV / Parquet (score columns or one "
               "predicted-label column). The bins always come from the TRAIN counts.")
    mode = st.radio("Files from", ["Upload", "Local path"], horizontal=True, key="cls_mode",
                    help="Uploads are limited by the server; give a local path for large files.")
    with st.form("cls_form"):
        name = st.text_input("Dataset name", value="my dataset")
        a, b = st.columns(2)
        with a:
            tr = _file_input("Train labels", "tr", mode, ["csv", "tsv", "parquet", "txt", "gz", "npy", "npz", "json"],
                             "Train labels: their counts define the bins.")
            tc = _file_input("…or train counts CSV (class_id,count[,name])", "tc", mode, ["csv", "gz"],
                             "Per-class train counts, e.g. ImageNet_LT_class_counts.csv.")
            va = _file_input("Val labels", "va", mode, ["csv", "tsv", "parquet", "txt", "gz", "npy", "npz", "json"],
                             "Validation labels: used for tuning τ and thresholds.")
            te = _file_input("Test labels", "te", mode, ["csv", "tsv", "parquet", "txt", "gz", "npy", "npz", "json"],
                             "Test labels: where the reported numbers come from.")
        with b:
            run_name = st.text_input("Run name", value="model", help="A name for this model's outputs.")
            rv = _file_input("Run: val scores", "rv", mode, ["npy", "npz", "csv", "parquet"],
                             "N × C scores (logits or probabilities) or predicted labels, val split.")
            rt = _file_input("Run: test scores", "rt", mode, ["npy", "npz", "csv", "parquet"],
                             "N × C scores (logits or probabilities) or predicted labels, test split.")
            ftr = _file_input("Train features (N × D)", "ftr", mode, ["npy", "npz", "parquet"],
                              "Frozen features for head retraining (Retrain page).")
            clf_path = _file_input("Classifier weights", "clf", mode, ["pt", "pth", "safetensors", "npz"],
                                   "Original classifier W (C × D) and bias; torch files load with weights_only=True.")
        submitted = st.form_submit_button("Load", type="primary")
    if submitted:
        st.session_state.pop("cls_ml_pending", None)
        kwargs = None
        try:
            if mode != "Upload":  # local paths: only inside the data roots (ui/files.py)
                tr, tc, va, te, rv, rt, ftr, clf_path = [files.confine(x) for x in (tr, tc, va, te, rv, rt, ftr, clf_path)]
            runs = {run_name: {k: v for k, v in (("val", rv), ("test", rt)) if v}} if (rv or rt) else {}
            kwargs = dict(train_labels=tr, train_counts=tc, val_labels=va, test_labels=te, runs=runs,
                          features={"train": ftr} if ftr else None, classifier=clf_path, name=name)
            new = build_classification_dataset(**kwargs)
        except MultiLabelRowsError as e:  # never coerced silently: the user chooses (below)
            st.session_state["cls_ml_pending"] = (kwargs, str(e), e.n_multi, e.n_empty)
        except (InputError, OSError, ValueError) as e:
            state.show_error(e, "Could not load")
        else:
            state.set_classification(new)
            st.success(f"Loaded {new.name}: {new.classes.n_classes:,} classes, "
                       + ", ".join(f"{k} {len(v):,}" for k, v in new.labels.items()))
            st.rerun()
    if "cls_ml_pending" in st.session_state:
        kwargs, msg, n_multi, n_empty = st.session_state["cls_ml_pending"]
        st.error(f"Several labels per sample: {msg}", icon=":material/call_split:")
        ch = st.columns(3)
        choice = None
        if ch[0].button("Load as multi-label", type="primary", key="cls_ml_multi",
                        help="Every sample keeps all its labels; the pages show mAP and F1s per bin."):
            choice = "multi"
        if ch[1].button(f"Keep the first label ({n_multi:,} rows changed)", key="cls_ml_first"):
            choice = "first"
        if ch[2].button(f"Drop them ({n_multi + n_empty:,} rows dropped)", key="cls_ml_drop"):
            choice = "drop"
        if choice:
            try:
                new = build_classification_dataset(**kwargs, multi_label=choice)
            except (InputError, OSError, ValueError) as e:
                state.show_error(e, "Could not load")
            else:
                st.session_state.pop("cls_ml_pending", None)
                state.set_classification(new)
                st.rerun()
    if not cls.generated and not state.is_demo(cls):
        if st.button("Back to the GoEmotions demo", key="cls_demo"):
            state.reset_demo("classification")
            st.rerun()
    ex.image_root_section(cls)  # where the examples' images are (ImageNet-LT / Places-LT list paths)

# ---------------------------------------------------------------- detection
with tab_det:
    from ui.data_detection import detection_tab

    detection_tab(det)
