"""The Data page's classification tab: what was loaded, part by part, and the controls that add,
replace or remove one part (or rename / remove a run) without losing the others.

Called from ``pages/1_Data.py``; all loading and checking is :mod:`lt_core.data.parts`; every edit
goes through :func:`ui.state.edit_classification`, which keeps it in the workspace.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from lt_core.bins import parse_bins
from lt_core.data import ClassificationDataset, MultiLabelRowsError
from lt_core.data.parts import ClassificationParts, FileRef
from lt_core.errors import InputError
from ui import files, state

LABEL_TYPES = ["csv", "tsv", "parquet", "txt", "gz", "npy", "npz", "json"]
SCORE_TYPES = ["npy", "npz", "csv", "parquet"]
FEATURE_TYPES = ["npy", "npz", "parquet"]
#: the form's file fields: key, label, part, split, types, help
FIELDS = [
    ("tr", "Train labels", "train_labels", None, LABEL_TYPES, "Train labels: their counts define the bins."),
    ("tc", "…or train counts CSV (class_id,count[,name])", "train_counts", None, ["csv", "gz"],
     "Per-class train counts, e.g. ImageNet_LT_class_counts.csv (its shot_group column picks the bins)."),
    ("cn", "Class names (one per line)", "class_names", None, ["txt", "gz"],
     "Line i is the name of class id i, e.g. GoEmotions emotions.txt."),
    ("va", "Val labels", "val_labels", None, LABEL_TYPES, "Validation labels: used for tuning τ and thresholds."),
    ("te", "Test labels", "test_labels", None, LABEL_TYPES, "Test labels: where the reported numbers come from."),
    ("rv", "Run: val scores", "run", "val", SCORE_TYPES,
     "N × C scores (logits or probabilities) or predicted labels, val split, of the run named above."),
    ("rt", "Run: test scores", "run", "test", SCORE_TYPES,
     "N × C scores (logits or probabilities) or predicted labels, test split, of the run named above."),
    ("ftr", "Train features (N × D)", "features", "train", FEATURE_TYPES,
     "Frozen features for head retraining (Retrain page); row i belongs to train label row i."),
    ("fva", "Val features (N × D)", "features", "val", FEATURE_TYPES,
     "Val features: the Retrain page chooses τ and early numbers on them; with the classifier, τ-normalisation "
     "on the Thresholds page."),
    ("fte", "Test features (N × D)", "features", "test", FEATURE_TYPES,
     "Test features: the Retrain page evaluates its heads on them."),
    ("clf", "Classifier weights", "classifier", None, ["pt", "pth", "safetensors", "npz"],
     "Original classifier W (C × D) and bias; torch files load with weights_only=True."),
]
LEFT = ("tr", "tc", "cn", "va", "te")


def _fmt_size(n: int) -> str:
    if n is None or n < 0:
        return "–"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


# ----------------------------------------------------------------------------------------------
# what was loaded
# ----------------------------------------------------------------------------------------------
def parts_table(ds: ClassificationDataset) -> pd.DataFrame:
    """One row per part: part, split / run, the user's file name, size, rows, notes."""
    rows = []
    parts: ClassificationParts | None = ds.parts

    def add(part, where, ref: FileRef | None, n_rows, notes, shape=""):
        rows.append({"part": part, "split / run": where or "", "file": ref.name if ref is not None else "",
                     "size": _fmt_size(ref.size) if ref is not None else "", "rows": n_rows, "shape": shape,
                     "notes": " · ".join(notes),
                     "from": "" if ref is None else ("upload" if ref.origin == "upload" else ref.original)})

    if parts is None or parts.builtin is not None:
        for sp, lab in ds.labels.items():
            add(f"{sp} labels", sp, None, len(lab), lab.notes or [f"built-in: {lab.source}"])
        for sp, f in ds.features.items():
            add("features", sp, None, f.X.shape[0], f.notes or [f"built-in: {f.source}"], f"{f.X.shape[0]:,} × {f.dim}")
        if ds.classifier is not None:
            W_ = ds.classifier.W
            add("classifier weights", "", None, W_.shape[0], [f"built-in: {ds.classifier.source}"],
                f"{W_.shape[0]:,} × {W_.shape[1]:,}")
    else:
        c = ds.classes
        if parts.train_labels is not None and "train" in ds.labels:
            add("train labels", "train", parts.train_labels, len(ds.labels["train"]), ds.labels["train"].notes)
        if parts.train_counts is not None:
            add("train counts", "", parts.train_counts, c.n_classes, c.notes)
        elif parts.train_labels is not None:
            add("class table", "", None, c.n_classes, c.notes or ["counted from the train labels"])
        if parts.class_names is not None:
            add("class names", "", parts.class_names, c.n_classes, ["names of the class ids, line by line"])
        for sp, ref in (("val", parts.val_labels), ("test", parts.test_labels)):
            if ref is not None and sp in ds.labels:
                add(f"{sp} labels", sp, ref, len(ds.labels[sp]), ds.labels[sp].notes)
        for sp, ref in parts.features.items():
            f = ds.features.get(sp)
            if f is not None:
                add("features", sp, ref, f.X.shape[0], f.notes, f"{f.X.shape[0]:,} × {f.dim}")
        if parts.classifier is not None and ds.classifier is not None:
            W_ = ds.classifier.W
            add("classifier weights", "", parts.classifier, W_.shape[0], ds.classifier.notes,
                f"{W_.shape[0]:,} × {W_.shape[1]:,}")
    run_parts = parts.runs if parts is not None else {}
    for name, run in ds.runs.items():
        rp = run_parts.get(name)
        for sp, p in run.preds.items():
            ref = rp.files.get(sp) if rp is not None and rp.derived is None else None
            notes = list(p.notes)
            if ref is None:
                notes = [f"made in the app: {run.source or run.description}"] + notes if rp is not None else \
                    [f"built-in: {p.source or run.source}"] + notes
            shape = f"{p.scores.shape[0]:,} × {p.scores.shape[1]:,} {p.kind}" if p.scores is not None else \
                f"{len(p):,} predicted ids"
            add("run scores", f"{name} / {sp}", ref, len(p), notes, shape)
    return pd.DataFrame(rows, columns=["part", "split / run", "file", "size", "rows", "shape", "notes", "from"])


def summary(cls: ClassificationDataset, scheme) -> None:
    """Splits, bins, runs, soundness checks and the class table."""
    st.subheader("Summary")
    st.markdown(f"{state.kind_badge(cls)} " + ("every sample carries a set of classes; counts are positives (samples "
                                              "carrying the class)" if cls.multi_label else "one class per sample"))
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
    cc[0].caption(state.bin_scheme_note())
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
    if "train" in cls.features and not any(s in cls.features for s in ("val", "test")):
        issues.append("Train features but no val / test features: the Retrain page can train a head but not "
                      "evaluate it. Add val and test features below.")
    for msg in issues:
        st.warning(msg, icon=":material/warning:")
    if not issues:
        st.success("No problems found: every class has training and evaluation samples.", icon=":material/check:")

    table = cls.classes.to_frame(scheme).sort_values("train_count", ascending=False)
    if cls.classes.groups is not None:
        table[cls.classes.group_column or "group"] = cls.classes.groups[table.index]
    for sp in ("val", "test"):
        if sp in cls.labels:
            table[f"{sp}_count"] = cls.labels[sp].counts(cls.classes.n_classes)[table.index]
    with st.expander(f"Class table ({cls.classes.n_classes:,} classes, head first)"):
        st.dataframe(table, hide_index=True, width="stretch")
        state.download_csv(table, "classes.csv")


def parts_section(cls: ClassificationDataset) -> None:
    """The parts of the dataset: each file's user name, size, rows and what was dropped or converted."""
    st.subheader("Parts")
    table = parts_table(cls)
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"rows": st.column_config.NumberColumn(format="localized"),
                                "notes": st.column_config.TextColumn(width="large",
                                                                     help="What the loader converted or dropped, "
                                                                          "and why")})
    ws = state.workspace()
    if ws is not None:
        st.caption(f"Kept in workspace **{ws.name}** (`{ws.path}`): the files are copies, read from there; "
                   "your originals are not needed again and never changed.")


# ----------------------------------------------------------------------------------------------
# editing
# ----------------------------------------------------------------------------------------------
def _gen() -> int:
    return st.session_state.setdefault("cls_form_gen", 0)


def _file_input(key: str, label: str, mode: str, types: list[str], help: str) -> FileRef | str | None:
    """One file from an upload (a FileRef) or a local path as typed (for files too large to upload;
    checked against the data roots when the form is submitted, :func:`local_ref`)."""
    if mode == "Upload":
        f = st.file_uploader(label, type=types, key=f"up_{key}", help=help)
        if f is None:
            return None
        path = state.save_uploads([f]).get(f.name)
        return FileRef.of(path, Path(f.name).name, "upload") if path else None
    p = st.text_input(label + " (local path)", key=f"path_{key}", help=help + " Large files: give a path.")
    return (p or "").strip() or None


def local_ref(typed: FileRef | str, what: str) -> FileRef:
    """A typed local path as a FileRef, if it lies inside the app's data roots (ui/files.py)."""
    if isinstance(typed, FileRef):
        return typed
    path = files.confine(typed, what)
    return FileRef.of(path, Path(typed).name, "local path", original=typed)


def _clear_form_if_asked() -> None:
    """After a successful load the form starts empty (before its widgets exist in this run)."""
    if st.session_state.pop("cls_form_clear", False):
        for key, *_ in FIELDS:
            if f"path_{key}" in st.session_state:
                st.session_state[f"path_{key}"] = ""
        st.session_state["cls_form_gen"] = _gen() + 1


def _sha256(path: str) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(8 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _already_loaded(parts: ClassificationParts, part: str, split: str | None, ref: FileRef) -> str | None:
    """Where this very file (same bytes) already is in the dataset, or None.

    Upload widgets keep their file after a load, so the next Load sends it again: a file that is
    already that part (or already some run's scores for that split) is not read again."""
    try:
        sha = _sha256(ref.path)
    except OSError:
        return None
    if part == "run":
        for name, rp in parts.runs.items():
            r = rp.files.get(split)
            if r is not None and r.sha256 == sha:
                return f"run {name}'s {split} scores"
        return None
    cur = parts.features.get(split) if part == "features" else getattr(parts, part)
    return PART_NAMES.get(part, part) if cur is not None and cur.sha256 == sha else None


PART_NAMES = {"train_labels": "the train labels", "train_counts": "the train counts", "class_names": "the class names",
              "val_labels": "the val labels", "test_labels": "the test labels", "classifier": "the classifier",
              "features": "the features"}


def _apply(cls: ClassificationDataset, given: list[tuple[str, str, str | None, FileRef]], name: str,
           run_name: str, new_dataset: bool) -> tuple[ClassificationParts, list[str]]:
    """The edited recipe and a list of what changed, in words."""
    base = cls.parts
    non_run = [g for g in given if g[1] != "run"]
    if base is None or new_dataset or (base.builtin is not None and non_run):
        parts = ClassificationParts(name=name or "my dataset")
    else:
        parts = base.copy()
        parts.name = name or parts.name
    done = []
    for key, part, split, ref in given:
        if part == "run":
            old = parts.runs.get(run_name)
            verb = "replaced" if old is not None and split in old.files else "added"
            parts = parts.with_file("run", ref, split, run_name)
            done.append(f"{verb} run **{run_name}** {split} scores ({ref.name})")
        elif part == "features":
            verb = "replaced" if split in parts.features else "added"
            parts = parts.with_file("features", ref, split)
            done.append(f"{verb} {split} features ({ref.name})")
        else:
            verb = "replaced" if getattr(parts, part) is not None else "added"
            parts = parts.with_file(part, ref)
            done.append(f"{verb} {part.replace('_', ' ')} ({ref.name})")
    return parts, done


def _submit(cls, given, name, run_name, new_dataset) -> None:
    st.session_state.pop("cls_ml_pending", None)
    try:
        is_demo = cls.parts is None or cls.parts.builtin is not None
        given = [(key, part, split, local_ref(ref, label_of(key))) for key, part, split, ref in given]
        if not is_demo and not new_dataset:
            given = [g for g in given if not _already_loaded(cls.parts, g[1], g[2], g[3])]
        if not given and (is_demo or (name or "").strip() == cls.parts.name):
            st.warning("Give at least one file to add or replace (files already loaded are not read again).",
                       icon=":material/info:")
            return
        parts, done = _apply(cls, given, (name or "").strip(), (run_name or "").strip(), new_dataset)
    except (InputError, OSError, ValueError) as e:
        state.show_error(e, "Could not load")
        return
    _load(parts, done)


def label_of(key: str) -> str:
    return next(label for k, label, *_ in FIELDS if k == key)


def _load(parts: ClassificationParts, done: list[str]) -> None:
    """Build and keep the edited dataset; a multi-label file stops with the user's choices (never coerced)."""
    try:
        with st.spinner("Reading and checking the files…"):
            new = state.edit_classification(parts)
    except MultiLabelRowsError as e:  # several labels per sample: the user chooses (multi_label_choice)
        st.session_state["cls_ml_pending"] = (parts, done, str(e), e.n_multi, e.n_empty)
        st.rerun()
    except (InputError, OSError, ValueError) as e:
        state.show_error(e, "Could not load")
        return
    kept = [r for r in new.runs if r not in {d.split("**")[1] for d in done if "run **" in d}]
    msg = "; ".join(done) or f"renamed the dataset to {new.name}"
    st.session_state["cls_flash"] = (f"{msg}. {new.name}: {new.classes.n_classes:,} classes, "
                                     + ", ".join(f"{k} {len(v):,}" for k, v in new.labels.items())
                                     + (f"; runs kept: {', '.join(kept)}" if kept else "") + ".")
    st.session_state["cls_form_clear"] = True
    st.rerun()


def load_section(cls: ClassificationDataset) -> None:
    """Add or replace parts (a form: only the fields given change), remove parts, rename / remove runs."""
    st.subheader("Add or replace parts")
    is_demo = cls.parts is None or cls.parts.builtin is not None
    st.caption("Give only the files you want to add or replace: every other part stays. A run is named; scores "
               "for a new name add a model, for an existing name replace that split. Labels: CSV / TSV / Parquet "
               "with a `label` column (name or id; optional `id`, `split`), ImageNet-LT text lists (`path label`), "
               "GoEmotions TSV, or a folder of class sub-folders (local path). Multi-label: an N × C 0/1 indicator "
               "(`.npy` / `.npz` / wide CSV / Parquet), cells like `a,b` or `a|b`, a Parquet list column, COCO / LVIS "
               "JSON as image-level labels. Scores: `.npy` / `.npz` (N × C, column j = class j) or CSV / Parquet "
               "(score columns or one predicted-label column). The bins always come from the TRAIN counts.")
    if is_demo:
        st.info("The built-in demo's own files cannot change: labels, counts or features start a new dataset (the "
                "demo stays available). Runs can be added to the demo.", icon=":material/info:")
    _clear_form_if_asked()
    modes = ["Upload", "Local path"]
    mode = st.radio("Files from", modes, horizontal=True, key="cls_mode",
                    index=modes.index(st.session_state.get("cls_mode_kept", "Upload")),
                    help="Uploads are limited by the server; give a local path for large files. Either way the file "
                         "is copied into the workspace.")
    st.session_state["cls_mode_kept"] = mode  # a widget's own state is dropped while another page shows
    default_run = "model" if not cls.runs or is_demo else f"model {len(cls.runs) + 1}"
    with st.form("cls_form"):
        top = st.columns([2, 2, 1])
        name = top[0].text_input("Dataset name", value="my dataset" if is_demo else cls.name, key="cls_name")
        run_name = top[1].text_input("Run name", value=default_run, key=f"cls_run_name_{_gen()}",
                                     help="The model the run scores below belong to. Existing runs: "
                                          + (", ".join(cls.runs) or "none"))
        new_dataset = top[2].toggle("Start a new dataset", value=False, key=f"cls_new_{_gen()}", disabled=is_demo,
                                    help="Drop every current part and start from the files given here.")
        a, b = st.columns(2)
        given = []
        for key, label, part, split, types, hlp in FIELDS:
            with a if key in LEFT else b:
                ref = _file_input(key, label, mode, types, hlp)
            if ref is not None:
                given.append((key, part, split, ref))
        submitted = st.form_submit_button("Load", type="primary")
    if submitted:
        _submit(cls, given, name, run_name, new_dataset)
    multi_label_choice()

    if not is_demo:
        _remove_part_section(cls)
    if cls.runs:
        _runs_section(cls)
    if not is_demo:
        if st.button("Back to the GoEmotions demo", key="cls_demo",
                     help="Closes the workspace (it keeps your files and runs; reopen it from the sidebar)."):
            state.reset_demo("classification")
            st.rerun()


def multi_label_choice() -> None:
    """Labels with several classes per sample: load as multi-label, keep the first label, or drop the rows."""
    pending = st.session_state.get("cls_ml_pending")
    if not pending:
        return
    parts, done, msg, n_multi, n_empty = pending
    st.error(f"Several labels per sample: {msg}", icon=":material/call_split:")
    ch = st.columns(3)
    choice = None
    if ch[0].button("Load as multi-label", type="primary", key="cls_ml_multi",
                    help="Every sample keeps all its labels; the pages show mAP and F1s per bin."):
        choice = "multi"
    if ch[1].button(f"Keep the first label ({n_multi:,} rows changed)", key="cls_ml_first"):
        choice = "first"
    if ch[2].button(f"Drop them ({n_multi + n_empty:,} rows dropped)", key="cls_ml_drop",
                    help="The rows are counted in the labels' notes; row-aligned features keep the same rows."):
        choice = "drop"
    if choice:
        st.session_state.pop("cls_ml_pending", None)
        p = parts.copy()
        p.multi_label = choice
        _load(p, done + [{"multi": "loaded as multi-label", "first": "kept the first label of each row",
                          "drop": "dropped the rows with several labels"}[choice]])


def _remove_part_section(cls: ClassificationDataset) -> None:
    parts = cls.parts
    options = {}
    for part in ("train_labels", "train_counts", "class_names", "val_labels", "test_labels", "classifier"):
        ref = getattr(parts, part)
        if ref is not None:
            options[f"{part.replace('_', ' ')} — {ref.name}"] = (part, None)
    for sp, ref in parts.features.items():
        options[f"{sp} features — {ref.name}"] = ("features", sp)
    for name, rp in parts.runs.items():
        for sp, ref in rp.files.items():
            options[f"run {name} / {sp} — {ref.name}"] = ("run", (name, sp))
    if not options:
        return
    with st.expander("Remove a part", icon=":material/remove_circle:"):
        pick = st.selectbox("Part", list(options), key="cls_rm_pick",
                            help="Only this part goes; a removal that would leave the others inconsistent is refused "
                                 "with the reason.")
        if st.button("Remove", key="cls_rm_go", icon=":material/delete:"):
            part, where = options[pick]
            try:
                if part == "run":
                    new_parts = parts.with_file("run", None, where[1], where[0])
                elif part == "features":
                    new_parts = parts.with_file("features", None, where)
                else:
                    new_parts = parts.with_file(part, None)
                state.edit_classification(new_parts)
            except InputError as e:
                state.show_error(e, "Could not remove")
                return
            st.session_state["cls_flash"] = f"Removed {pick}."
            st.rerun()


def _runs_section(cls: ClassificationDataset) -> None:
    with st.expander(f"Rename or remove runs ({len(cls.runs)})", icon=":material/edit:"):
        names = list(cls.runs)
        c = st.columns([2, 2, 1, 1])
        pick = c[0].selectbox("Run", names, key="cls_run_pick")
        new = c[1].text_input("New name", value=pick or "", key=f"cls_run_new_{pick}")
        parts = cls.parts if cls.parts is not None else ClassificationParts(name=cls.name)
        builtin_run = pick not in parts.runs
        if c[2].button("Rename", key="cls_run_rename", disabled=builtin_run or not new.strip() or new.strip() == pick,
                       help="The run keeps its colour and files." if not builtin_run else
                       "A run of the built-in demo keeps its name."):
            try:
                state.edit_classification(parts.renamed_run(pick, new))
            except InputError as e:
                state.show_error(e, "Could not rename")
                return
            st.session_state["cls_flash"] = f"Renamed run {pick} to {new.strip()}."
            st.rerun()
        with c[3].popover("Remove…", disabled=builtin_run, icon=":material/delete:"):
            st.markdown(f"Remove run **{pick}** from this dataset (its files leave the workspace at the next save)?")
            if st.button(f"Remove {pick}", key="cls_run_rm", type="primary"):
                try:
                    state.edit_classification(parts.without_run(pick))
                except InputError as e:
                    state.show_error(e, "Could not remove")
                    return
                st.session_state["cls_flash"] = f"Removed run {pick}."
                st.rerun()


def render(cls: ClassificationDataset, scheme) -> None:
    """The whole classification tab."""
    flash = st.session_state.pop("cls_flash", None)
    if flash:
        st.success(flash, icon=":material/check:")
    summary(cls, parse_bins(scheme))
    parts_section(cls)
    load_section(cls)
