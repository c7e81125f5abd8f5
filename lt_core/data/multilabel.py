"""Multi-label targets: the formats users have -> :class:`~lt_core.data.schema.MultiLabels`.

Formats (each read by :func:`lt_core.data.load_label_splits` through a small hook)
-------------------------------------------------------------------------------
indicator matrix   ``.npy`` / ``.npz`` (N x C, 0/1; npz key ``Y`` / ``labels`` / ``targets`` / ``y``
                   and optional ``ids``), or a wide CSV / Parquet whose columns are the class names
                   (or ids) holding 0/1, next to optional ``id`` and ``split`` columns.
label lists        a label column whose cells hold several labels, ``"a,b"``, ``"a|b"`` or
                   ``"a;b"`` (names or integer ids), or a Parquet list column.
GoEmotions TSV     ``text <TAB> ids <TAB> comment_id`` with every row (Demszky et al. 2020).
COCO / LVIS GT     ground-truth JSON read as image-level labels: an image carries every category
                   it has an annotation of (for LVIS, a category without annotations in an image
                   is not verified absent unless it is in the image's ``neg_category_ids``).

What a single-label analysis does with multi-label rows is a choice, never a silent coercion
(``multi_label`` argument of the loaders):

``"error"`` (default of the single-label loaders)
    stop with :class:`MultiLabelRowsError`: how many rows carry several labels, and the choices;
``"auto"``  multi-label targets give :class:`MultiLabels`, single-label ones :class:`Labels`;
``"multi"`` always :class:`MultiLabels` (a single-label file has one label per sample);
``"first"`` single-label, keeping the first label of each row (counted in ``notes``);
``"drop"``  single-label, dropping the rows with several labels (counted in ``notes``).

Rows without a label are a sample with no positive in multi-label mode; in single-label mode they
are an error ("error") or dropped and counted ("first" / "drop").

Memory: labels are stored as CSR (O(number of labels)); a dense N x C bool view is built on demand
up to :data:`~lt_core.data.schema.DENSE_MAX_CELLS` (1e8 cells), beyond which the metric states
work on row blocks.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from . import loaders as L
from .schema import SPLITS, ClassificationDataset, ClassTable, Labels, MultiLabels, Predictions, Run

__all__ = ["MULTI_LABEL_POLICIES", "MultiLabelRowsError", "load_multilabels", "as_multilabels", "to_single_label",
           "single_label_dataset", "multilabel_score_kind", "image_labels_from_detection", "SEPARATORS"]

MULTI_LABEL_POLICIES = ("error", "auto", "multi", "first", "drop")
#: separators of several labels in one cell, in the order they are preferred
SEPARATORS = ("|", ";", ",")
_ARRAY_KEYS = ("Y", "labels", "targets", "y", "label", "target", "indicator")
_STRONG_LABEL_COLS = {"label", "labels", "class", "class_id", "class_name", "category", "category_id", "target",
                      "label_id", "tags"}


class MultiLabelRowsError(InputError):
    """A single-label analysis met rows that carry several labels.

    Attributes
    ----------
    n_rows, n_multi, n_empty : int
        Rows read, rows with several labels, rows with none.
    example : str
        One offending cell as the file spells it.
    """

    def __init__(self, n_rows: int, n_multi: int, n_empty: int, example: str, source: str, field: str | None):
        self.n_rows, self.n_multi, self.n_empty, self.example = int(n_rows), int(n_multi), int(n_empty), example
        empty = f" and {n_empty:,} carry none" if n_empty else ""
        super().__init__(
            f"{n_multi:,} of {n_rows:,} rows carry several labels (e.g. '{example}'){empty}: a single-label "
            "analysis cannot use them as they are", source, field,
            hint=f"load them as multi-label (multi_label='multi', --multi-label), keep the first label of each "
                 f"({n_multi:,} rows changed: 'first'), or drop them ({n_multi + n_empty:,} rows dropped: 'drop')")


def _check_policy(policy: str) -> str:
    p = str(policy).strip().lower()
    if p in ("true", "yes", "multi-label", "multilabel"):
        p = "multi"
    if p not in MULTI_LABEL_POLICIES:
        raise InputError(f"unknown multi-label policy '{policy}'", field="multi_label",
                         hint=f"use one of {', '.join(MULTI_LABEL_POLICIES)}")
    return p


# ----------------------------------------------------------------------------------------------
# rows of label tokens -> CSR class indices
# ----------------------------------------------------------------------------------------------
def _pick_separator(cells: pd.Series, known: set[str]) -> str | None:
    """The separator used in a column of strings (None when no cell holds several labels)."""
    s = cells.astype(str)
    for sep in SEPARATORS:
        has = s.str.contains(sep, regex=False)
        if has.any():
            if known and s[has].isin(known).all():
                continue  # every such cell is a class name that itself holds the character
            return sep
    return None


def _tokens(cells, sep: str | None, known: set[str]) -> list[list[str]]:
    out = []
    for v in cells:
        if isinstance(v, (list, tuple, np.ndarray)):
            out.append([str(t).strip() for t in v if str(t).strip() != ""])
            continue
        t = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
        if sep is None or t in known:
            out.append([t] if t else [])
        else:
            out.append([x.strip() for x in t.split(sep) if x.strip()])
    return out


def _csr_from_tokens(rows: list[list[str]], classes: ClassTable | None, source: str, field: str
                     ) -> tuple[np.ndarray, np.ndarray, ClassTable, int]:
    """Token lists -> (indptr, class indices, class table, rows that listed a label twice)."""
    lens = np.fromiter((len(r) for r in rows), np.int64, len(rows))
    flat = pd.Series([t for r in rows for t in r], dtype=object)
    p = Path(source)
    ints = L._as_int_array(flat, p, field) if len(flat) else None
    if ints is not None and len(flat):
        if (ints < 0).any():
            raise InputError(f"negative class ids ({int((ints < 0).sum())} labels)", source, field)
        if classes is None:
            c = int(ints.max()) + 1
            classes = ClassTable(np.arange(c), [str(i) for i in range(c)], np.zeros(c, np.int64), source=source)
        idx = classes.index_of(ints, source, field)
    else:
        if classes is None:
            uniq = sorted(flat.unique()) if len(flat) else []
            if not uniq:
                raise InputError("no labels in the file", source, field)
            classes = ClassTable(np.arange(len(uniq)), uniq, np.zeros(len(uniq), np.int64), source=source)
        idx = classes.index_of_names(flat, source, field) if len(flat) else np.zeros(0, np.int64)
    row_of = np.repeat(np.arange(len(rows)), lens)
    key = row_of * classes.n_classes + idx
    uniq_key = np.unique(key)
    dup_rows = int(len(np.unique(row_of[np.flatnonzero(np.diff(np.sort(key)) == 0)]))) if len(key) > len(uniq_key) \
        else 0
    r, c = uniq_key // classes.n_classes, uniq_key % classes.n_classes
    indptr = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(np.bincount(r, minlength=len(rows)), out=indptr[1:])
    return indptr, c.astype(np.int32), classes, dup_rows


def _first_tokens_index(rows: list[list[str]], classes: ClassTable, source: str, field: str) -> np.ndarray:
    """Class index of the first label of each (non-empty) row, in file order."""
    first = pd.Series([r[0] for r in rows if r], dtype=object)
    ints = L._as_int_array(first, Path(source), field) if len(first) else None
    if ints is not None:
        return classes.index_of(ints, source, field)
    return classes.index_of_names(first, source, field) if len(first) else np.zeros(0, np.int64)


def _finish(rows: list[list[str]], classes: ClassTable | None, policy: str, split: str, ids, source: str,
            field: str, example_cells=None, force_multi: bool = False, texts=None, file_rows=None,
            file_n_rows=None):
    """Apply the policy to one split's token lists -> (Labels or MultiLabels, ClassTable).

    ``texts`` (one per row, or None) follow the rows that are kept (the examples' content).
    ``file_rows`` / ``file_n_rows``: the rows' positions in their file and the file's row count
    (default: the rows are the whole file), so a single-label result that drops rows records which
    rows it kept (:attr:`Labels.file_rows`: row-aligned feature files are subset with it)."""
    lens = np.fromiter((len(r) for r in rows), np.int64, len(rows))
    n_multi, n_empty = int((lens > 1).sum()), int((lens == 0).sum())
    if policy == "error" and (n_multi or (force_multi and n_empty)):
        if not n_multi:
            raise InputError(f"{n_empty:,} rows have no label", source, field,
                             hint="load them as multi-label (a sample may carry no label), or remove them")
        cells = example_cells if example_cells is not None else [",".join(r) for r in rows]
        ex = str(np.asarray(cells, dtype=object)[np.flatnonzero(lens > 1)[0]])
        raise MultiLabelRowsError(len(rows), n_multi, n_empty, ex[:60], source, field)
    if policy == "error" and n_empty:
        raise InputError(f"{n_empty:,} rows have an empty label", source, field)
    multi = policy == "multi" or (policy == "auto" and (n_multi > 0 or force_multi))
    indptr, indices, classes, dups = _csr_from_tokens(rows, classes, source, field)
    if multi:
        notes = []
        if dups:
            notes.append(f"{dups:,} rows listed a label twice (kept once)")
        if n_empty:
            notes.append(f"{n_empty:,} samples carry no label")
        return MultiLabels(indptr, indices, classes.n_classes, split, ids, source, tuple(notes), texts=texts), classes
    # single-label
    keep = lens > 0
    if policy == "drop":
        keep &= lens == 1
    notes = []
    if policy == "first" and n_multi:
        notes.append(f"{n_multi:,} of {len(rows):,} rows carried several labels: the first label was kept")
    if policy == "drop" and n_multi:
        notes.append(f"{n_multi:,} of {len(rows):,} rows carried several labels: dropped")
    if n_empty:
        notes.append(f"{n_empty:,} rows without a label: dropped")
    if not keep.any():
        raise InputError("no rows left with a label", source, field)
    kept_rows = [r for r, k in zip(rows, keep) if k]
    y = _first_tokens_index(kept_rows, classes, source, field)
    kept_ids = None if ids is None else np.asarray(ids, dtype=object)[keep]
    kept_texts = None if texts is None else np.asarray(texts, dtype=object)[keep]
    pos = np.arange(len(rows)) if file_rows is None else np.asarray(file_rows, dtype=np.int64)
    n_file = len(rows) if file_n_rows is None else int(file_n_rows)
    dropped = not keep.all() or n_file != len(rows)
    return Labels(y.astype(np.int64), split, kept_ids, source, tuple(notes),
                  file_rows=pos[keep] if dropped else None, file_n_rows=n_file if dropped else None,
                  texts=kept_texts), classes


def _per_split(rows, classes, policy, split, ids, spc_values, source, field, cells=None, force_multi=False,
               texts=None):
    """Split the rows by a split column (or not) and finish each split with one class table."""
    if spc_values is None:
        out, classes = _finish(rows, classes, policy, split, ids, source, field, cells, force_multi, texts)
        return {out.split: out}, classes
    sp = np.array([L._normalise_split(v, Path(source)) for v in spc_values], dtype=object)
    present = [s for s in SPLITS if (sp == s).any() and (split is None or split == s)]
    if split is not None and split not in present:
        raise InputError(f"no rows with split '{split}' (found {sorted(set(sp))})", source, "split")
    # one class table for every split: built from all rows (so ids / names agree across splits)
    if classes is None:
        _, _, classes, _ = _csr_from_tokens([r for r in rows if r] or rows, None, source, field)
    out = {}
    multi_any = policy == "multi" or (policy == "auto" and (force_multi or any(len(r) > 1 for r in rows)))
    pol = "multi" if multi_any and policy == "auto" else policy
    for s in present:
        m = np.flatnonzero(sp == s)
        sub_rows = [rows[i] for i in m]
        sub_cells = None if cells is None else [cells[i] for i in m]
        out[s], classes = _finish(sub_rows, classes, pol, s, None if ids is None else np.asarray(ids)[m], source,
                                  field, sub_cells, force_multi, None if texts is None else np.asarray(texts)[m],
                                  file_rows=m, file_n_rows=len(rows))
    return out, classes


# ----------------------------------------------------------------------------------------------
# the loaders' hooks
# ----------------------------------------------------------------------------------------------
def table_labels(df: pd.DataFrame, lab: str | None, idc: str | None, spc: str | None, classes: ClassTable | None,
                 split: str | None, source: str, policy: str, default_split: str, texts=None):
    """Labels of a CSV / TSV / Parquet table when they are multi-label (or asked to be).

    Returns None when the table is an ordinary single-label table and the policy does not ask
    for multi-label targets (the single-label loader goes on).
    """
    policy = _check_policy(policy)
    ids = df[idc].astype(str).to_numpy(dtype=object) if idc else None
    if ids is not None and len(pd.unique(ids)) != len(ids):
        dup = pd.Series(ids).value_counts()
        raise InputError(f"duplicate sample ids, e.g. {dup[dup > 1].index.tolist()[:5]}", source, idc)
    spv = df[spc].to_numpy() if spc else None
    wide = None
    if lab is None or lab.lower() not in _STRONG_LABEL_COLS:  # e.g. a class named 'y' among 0/1 columns
        wide = indicator_columns(df, classes, exclude=(idc, spc))
        if wide is not None and lab is not None and lab not in wide:
            wide = None
    if wide is not None:
        B = df[wide].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
        _check_binary(B, source, "columns")
        B = B != 0
        tbl = classes if classes is not None else ClassTable(np.arange(len(wide)), wide, np.zeros(len(wide), np.int64),
                                                             source=source)
        if classes is not None:
            B = B[:, _column_order(wide, classes)]
        if spv is None:
            return {(split or default_split): _dense_policy(B, policy, split or default_split, ids, source, "columns")[0]}, tbl
        sp = np.array([L._normalise_split(v, Path(source)) for v in spv], dtype=object)
        present = [s_ for s_ in SPLITS if (sp == s_).any() and (split is None or split == s_)]
        if split is not None and split not in present:
            raise InputError(f"no rows with split '{split}' (found {sorted(set(sp))})", source, "split")
        pol = "multi" if policy == "auto" else policy
        return {s_: _dense_policy(B[sp == s_], pol, s_, None if ids is None else ids[sp == s_], source,
                                  "columns")[0] for s_ in present}, tbl
    if lab is None:
        return None
    col = df[lab]
    is_list = col.map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any()
    known = set(map(str, classes.names)) if classes is not None else set()
    sep = None if is_list else _pick_separator(col, known)
    if not is_list and sep is None and policy in ("error", "auto", "first", "drop"):
        return None  # plain single-label column: the single-label loader goes on
    rows = _tokens(col.to_numpy(dtype=object), sep, known)
    cells = col.astype(str).tolist()
    return _per_split(rows, classes, policy, split if spv is not None else (split or default_split), ids, spv,
                      source, lab, cells, force_multi=bool(is_list), texts=texts)


def list_labels(ids: np.ndarray, raw: np.ndarray, classes: ClassTable | None, split: str, source: str,
                policy: str):
    """``path label`` text lists whose label token holds several labels (``a,b``); else None."""
    policy = _check_policy(policy)
    col = pd.Series(raw, dtype=object)
    known = set(map(str, classes.names)) if classes is not None else set()
    sep = _pick_separator(col, known)
    if sep is None and policy != "multi":
        return None
    rows = _tokens(col.to_numpy(), sep, known)
    out, classes = _finish(rows, classes, policy, split, ids, source, "label", col.tolist())
    return {split: out}, classes


def goemotions_labels(p: Path, classes: ClassTable | None, split: str, policy: str):
    """A GoEmotions TSV with EVERY row (Demszky et al. 2020): ``text <TAB> ids <TAB> comment_id``.

    The ids index ``emotions.txt`` (pass its names through ``classes`` for named classes).
    """
    policy = _check_policy(policy)
    labs, ids, texts = L.goemotions_table(p)
    rows = [x.split(",") for x in labs]
    out, classes = _finish(rows, classes, policy, split, ids, L._name(p), "labels", list(labs), texts=texts)
    return {split: out}, classes


def label_array(p: Path, classes: ClassTable | None, split: str, policy: str):
    """A ``.npy`` / ``.npz`` label file: an N x C 0/1 indicator matrix, or N integer class ids."""
    policy = _check_policy(policy)
    arr, ids, key = L._load_array_file(p, _ARRAY_KEYS)
    src = L._name(p)
    if arr.dtype.kind not in "biuf":
        raise InputError(f"expected numeric labels, got dtype {arr.dtype}", src, key)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 1:
        if arr.dtype.kind == "f" and not (np.isfinite(arr).all() and (arr == np.round(arr)).all()):
            raise InputError("a 1-D float array: expected N integer class ids (or an N x C 0/1 matrix)", src, key)
        rows = [[str(int(v))] for v in arr]
        out, classes = _finish(rows, classes, policy, split, ids, src, key)
        return {split: out}, classes
    if arr.ndim != 2:
        raise InputError(f"expected an N x C indicator matrix or N class ids, got shape {arr.shape}", src, key)
    _check_binary(arr, src, key)
    n, c = arr.shape
    if classes is None:
        classes = ClassTable(np.arange(c), [str(i) for i in range(c)], np.zeros(c, np.int64), source=src)
    elif classes.n_classes != c:
        raise InputError(f"{c} label columns but the dataset has {classes.n_classes} classes", src, key,
                         hint="column j must be class index j")
    if ids is not None and len(ids) != n:
        raise InputError(f"{len(ids)} ids for {n} rows", src, "ids")
    B = arr != 0 if arr.dtype != bool else arr
    return {split: _dense_policy(B, policy, split, ids, src, key)[0]}, classes


def _dense_policy(B: np.ndarray, policy: str, split: str, ids, src: str, key: str):
    """An (n, C) bool indicator block under a policy -> (MultiLabels or Labels, kept mask)."""
    ml = MultiLabels.from_dense(B, split, ids, src)
    if policy in ("multi", "auto"):
        if ml.n_empty:
            ml.notes = (f"{ml.n_empty:,} samples carry no label",)
        return ml, np.ones(len(ml), bool)
    if policy == "error":
        if ml.n_multi:
            r = int(np.flatnonzero(ml.labels_per_sample() > 1)[0])
            ex = ",".join(str(int(j)) for j in ml.indices[ml.indptr[r]:ml.indptr[r + 1]][:6])
            raise MultiLabelRowsError(len(ml), ml.n_multi, ml.n_empty, f"row {r}: classes {ex}", src, key)
        if ml.n_empty:
            raise InputError(f"{ml.n_empty:,} rows have no label", src, key,
                             hint="load them as multi-label (a sample may carry no label), or remove them")
    return to_single_label(ml, "drop" if policy == "error" else policy)


def _check_binary(Y: np.ndarray, source: str, field: str) -> None:
    if Y.dtype == bool:
        return
    bad = ~np.isin(Y, (0, 1))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise InputError(f"an indicator matrix holds 0/1, found {Y[r, c]!r} at row {r}, column {c} "
                         f"({int(bad.sum()):,} such cells)", source, field,
                         hint="scores belong in a prediction file; labels are 0/1")


def _column_order(cols: list[str], classes: ClassTable) -> list[int]:
    by_name = {n: k for k, n in enumerate(classes.names)}
    by_id = {str(i): k for k, i in enumerate(classes.ids)}
    for mapping in (by_name, by_id):
        if all(c in mapping for c in cols):
            pos = [mapping[c] for c in cols]
            order = np.argsort(pos)
            return [int(i) for i in order]
    raise InputError("label columns do not match the class table", field="columns")


def indicator_columns(df: pd.DataFrame, classes: ClassTable | None, exclude=()) -> list[str] | None:
    """The wide 0/1 columns of a table that is an indicator matrix, or None.

    With a class table every class must have its column (named by class name or id); without
    one, every non-id / non-split column must hold only 0/1 (at least two such columns).
    """
    cols = [c for c in df.columns if c not in set(x for x in exclude if x)]
    if len(cols) < 2:
        return None
    if classes is not None:
        names = set(map(str, classes.names)) | set(map(str, classes.ids))
        if not all(c in names for c in cols) or len(cols) != classes.n_classes:
            return None
    vals = df[cols]
    for c in cols:
        v = pd.to_numeric(vals[c], errors="coerce")
        if v.isna().any() or not v.isin([0, 1]).all():
            return None
    return cols


# ----------------------------------------------------------------------------------------------
# public helpers
# ----------------------------------------------------------------------------------------------
def load_multilabels(path, classes: ClassTable | None = None, split: str | None = None, **kw
                     ) -> tuple[MultiLabels, ClassTable]:
    """Load ONE split of any label file as :class:`MultiLabels` (``multi_label="multi"``)."""
    lab, classes = L.load_labels(path, classes, split, multi_label="multi", **kw)
    return lab, classes


def as_multilabels(lab, n_classes: int) -> MultiLabels:
    """A :class:`Labels` (one class per sample) as :class:`MultiLabels`; MultiLabels unchanged."""
    if isinstance(lab, MultiLabels):
        return lab
    y = np.asarray(lab.y, dtype=np.int64)
    return MultiLabels(np.arange(len(y) + 1, dtype=np.int64), y.astype(np.int32), n_classes, lab.split,
                       lab.sample_ids, lab.source, tuple(getattr(lab, "notes", ())))


def to_single_label(ml: MultiLabels, policy: str) -> tuple[Labels, np.ndarray]:
    """Single-label view of multi-label targets, counted: ``"first"`` keeps each sample's first
    label (the lowest class index), ``"drop"`` keeps only samples with exactly one label; samples
    without a label are dropped by both.

    Returns
    -------
    (Labels, kept) : the labels and the boolean (N,) mask of the samples kept
    """
    policy = _check_policy(policy)
    if policy not in ("first", "drop"):
        raise InputError(f"a single-label view keeps the first label or drops multi-label samples, got '{policy}'",
                         field="multi_label")
    lens = ml.labels_per_sample()
    keep = lens > 0 if policy == "first" else lens == 1
    if not keep.any():
        raise InputError("no samples left with a single label", ml.source, "labels")
    y = ml.indices[ml.indptr[:-1][keep]].astype(np.int64)
    n_multi, n_empty = int((lens > 1).sum()), int((lens == 0).sum())
    notes = []
    if n_multi:
        notes.append(f"{n_multi:,} of {len(ml):,} samples carried several labels: "
                     + ("the first label was kept" if policy == "first" else "dropped"))
    if n_empty:
        notes.append(f"{n_empty:,} samples without a label: dropped")
    ids = None if ml.sample_ids is None else np.asarray(ml.sample_ids)[keep]
    return Labels(y, ml.split, ids, ml.source, tuple(notes)), keep


def single_label_dataset(ds: ClassificationDataset, policy: str, name: str | None = None) -> ClassificationDataset:
    """The single-label view of a multi-label dataset (``policy`` "first" or "drop", counted).

    Labels, features and every run's predictions are subset to the kept samples; train counts
    are re-counted from the kept train samples (when there are train labels).
    """
    if not ds.multi_label:
        return ds
    labels, keep = {}, {}
    for s, lab in ds.labels.items():
        labels[s], keep[s] = to_single_label(as_multilabels(lab, ds.classes.n_classes), policy)
    classes = ds.classes.with_counts(labels["train"].counts(ds.classes.n_classes)) if "train" in labels \
        else ds.classes
    out = ClassificationDataset(name or f"{ds.name} (single-label: {policy})", classes, labels, {}, {},
                                ds.classifier, ds.generated, ds.description, ds.attribution, ds.default_bins)
    for s, f in ds.features.items():
        out.features[s] = type(f)(f.X[keep[s]] if s in keep else f.X, s,
                                  None if f.sample_ids is None or s not in keep else f.sample_ids[keep[s]], f.source)
    for r in ds.runs.values():
        preds = {}
        for s, p in r.preds.items():
            m = keep.get(s)
            preds[s] = Predictions(s, p.kind, None if p.scores is None else (p.scores if m is None else p.scores[m]),
                                   None if (p.scores is not None or p.labels is None) else
                                   (p.labels if m is None else p.labels[m]),
                                   None if p.sample_ids is None or m is None else np.asarray(p.sample_ids)[m], p.source)
        out.add_run(Run(r.name, preds, r.source, r.description))
    return out


def multilabel_score_kind(scores: np.ndarray) -> str:
    """``"probs"`` when every score is in [0, 1] (independent per-class probabilities, e.g.
    sigmoid outputs), else ``"logits"``."""
    s = np.asarray(scores)
    return "probs" if s.size and float(s.min()) >= 0.0 and float(s.max()) <= 1.0 else "logits"


def image_labels_from_detection(gt, split: str = "train", policy: str = "multi", classes: ClassTable | None = None):
    """COCO / LVIS ground truth as image-level labels: each image carries the categories it has
    annotations of (crowd annotations included, as "which categories are in this image").

    Parameters
    ----------
    gt : DetectionGT or path to a COCO / LVIS JSON
    split : str
    policy : see the module docstring (default ``"multi"``)
    classes : ClassTable, optional
        Map the category ids onto this table (unknown ids are an error); default: the file's
        categories.

    Returns
    -------
    (dict split -> MultiLabels / Labels, ClassTable)
        The class table is the categories' (ids, names); its train counts are LVIS's
        ``image_count`` when the file has it, else the images with the category in this file.
        ``sample_ids`` are the image ids (as strings).
    """
    policy = _check_policy(policy)
    if not hasattr(gt, "ann_image_id"):
        gt = L.load_detection_gt(gt)
    cats = gt.categories if classes is None else classes
    img_pos = pd.Index(gt.image_ids).get_indexer(gt.ann_image_id)
    ci = cats.index_of(gt.ann_category_id, gt.source, "annotations.category_id") if len(gt.ann_category_id) \
        else np.zeros(0, np.int64)
    ids = np.array([str(i) for i in gt.image_ids], dtype=object)
    src = gt.source or "detection ground truth"
    ml = MultiLabels.from_pairs(img_pos, ci, gt.n_images, cats.n_classes, split, ids, src)
    notes = [f"image-level labels from {len(gt.ann_id):,} annotations of {gt.n_images:,} images"]
    if gt.is_lvis:
        notes.append("LVIS is federated: a category not annotated in an image is not verified absent unless it is "
                     "in the image's neg_category_ids")
    if ml.n_empty:
        notes.append(f"{ml.n_empty:,} images carry no annotation (no positive label)")
    ml.notes = tuple(notes)
    table = ClassTable(cats.ids, cats.names, cats.train_count, cats.train_instances, cats.frequency, cats.source)
    if policy in ("first", "drop", "error"):
        if policy == "error" and ml.n_multi:
            r = int(np.flatnonzero(ml.labels_per_sample() > 1)[0])
            ex = ",".join(cats.names[ml.indices[ml.indptr[r]:ml.indptr[r + 1]]][:4])
            raise MultiLabelRowsError(len(ml), ml.n_multi, ml.n_empty, f"image {ids[r]}: {ex}", src, "annotations")
        lab, _ = to_single_label(ml, "first" if policy == "error" else policy)
        return {split: lab}, table
    return {split: ml}, table
