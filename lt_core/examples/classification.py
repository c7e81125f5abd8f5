"""Classification selections: the samples behind a class, a bin, a confusion cell, a flip.

Every function returns a :class:`~lt_core.examples.selection.Selection`: the matching rows of one
split, ordered by what a user wants to look at first (the most confident mistakes first), capped,
with the total count before the cap.

The base table (:func:`sample_table`) has one row per evaluated sample:

=============  ===================================================================================
row            position of the sample in the split (0..N-1): row i of the label file / score file
sample_id      the sample's key (file path, comment id) where the files have one, else ``row``
true_id        class id of the true label (as the files spell it); ``true_name``, ``true_bin``
pred_id        class id of the prediction; ``pred_name``, ``pred_bin``
correct        ``pred == true``
confidence     probability of the predicted class (softmax of logits; NaN for hard labels)
true_prob      probability of the true class (NaN for hard labels)
margin         ``confidence - true_prob`` for a mistake (how far the truth is behind), and for a
               correct prediction top-1 minus top-2 probability (how safely it is right)
text           the sample's text, where the labels have one (:attr:`Labels.texts`)
=============  ===================================================================================

Orders follow FiftyOne's habit of looking at the worst first: mistakes by confidence, highest
first; correct predictions after them, least safe first.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..bins import BinScheme, parse_bins
from ..data.schema import ClassTable, Labels, Predictions
from ..errors import InputError
from .selection import Selection

__all__ = ["sample_table", "by_class", "by_bin", "confusion_cell", "bin_flow", "tail_as_head", "changes",
           "decision_changes", "worst_per_class", "ORDER_NOTE", "CHANGES_NOTE"]

#: how selections are ordered, in words (shown with them)
ORDER_NOTE = "most confident mistakes first, then the least safe correct ones"
CHANGES_NOTE = "broken first (the new decision most sure of them), then fixed"

DEFAULT_CAP = 200


def _row_probabilities(preds: Predictions, y: np.ndarray, p: np.ndarray, block: int = 4096
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probability of the predicted class, of the true class, second-highest probability) per row.

    Logits go through a softmax block by block in float32 (no N x C float64 copy); rows of
    probabilities are used as they are.
    """
    S = preds.scores
    n = len(y)
    conf, true_prob, second = (np.empty(n) for _ in range(3))
    for a in range(0, n, block):
        b = min(n, a + block)
        rows = np.arange(b - a)
        Sb = np.asarray(S[a:b], dtype=np.float32)
        if preds.kind == "probs":
            e, tot = Sb, np.ones(b - a)
        else:
            e = np.exp(Sb - Sb.max(axis=1, keepdims=True))  # the row max: safe when p is not the argmax
            tot = e.sum(axis=1, dtype=np.float64)
        conf[a:b] = e[rows, p[a:b]] / tot
        true_prob[a:b] = e[rows, y[a:b]] / tot
        second[a:b] = (np.partition(e, -2, axis=1)[:, -2] / tot) if e.shape[1] > 1 else 0.0
    return conf, true_prob, second


def sample_table(labels: Labels, preds: Predictions, classes: ClassTable, scheme: str | BinScheme,
                 rows: np.ndarray | None = None) -> pd.DataFrame:
    """One row per sample of the split (see the module docstring for the columns).

    Parameters
    ----------
    labels : Labels
        True labels of one split, N samples.
    preds : Predictions
        One run's predictions on the same split (N rows, aligned with ``labels``).
    classes : ClassTable
        The classes (bins come from its TRAIN counts).
    scheme : str or BinScheme
        Bin scheme, e.g. ``"imagenet-lt"``.
    rows : ndarray of int, optional
        Only these rows of the split (positions 0..N-1), e.g. the predictions a τ change flips: the
        probabilities are computed for them alone.

    Returns
    -------
    DataFrame (N rows, or ``len(rows)``)
    """
    y_all = np.asarray(labels.y, dtype=np.int64)
    p_all = np.asarray(preds.labels, dtype=np.int64)
    if len(y_all) != len(p_all):
        raise InputError(f"{len(p_all)} predictions but {len(y_all)} labels", preds.source, hint="the run and the "
                         "labels must list the same samples")
    bins = classes.bins(parse_bins(scheme))
    if rows is None:
        pos = np.arange(len(y_all))
        y, p, sub = y_all, p_all, preds
    else:
        pos = np.asarray(rows, dtype=np.int64).ravel()
        if pos.size and (pos.min() < 0 or pos.max() >= len(y_all)):
            raise InputError(f"rows must lie in 0..{len(y_all) - 1}", field="rows")
        y, p = y_all[pos], p_all[pos]
        sub = Predictions(preds.split, preds.kind, scores=None if preds.scores is None else preds.scores[pos],
                          labels=p)
    n = len(y)
    conf = np.full(n, np.nan)
    true_prob = np.full(n, np.nan)
    margin = np.full(n, np.nan)
    if sub.scores is not None and n:
        conf, true_prob, second = _row_probabilities(sub, y, p)
        margin = np.where(p == y, conf - second, conf - true_prob)
    sid = labels.sample_ids if labels.sample_ids is not None else preds.sample_ids
    df = pd.DataFrame({
        "row": pos,
        "sample_id": np.asarray(sid, dtype=object)[pos] if sid is not None else pos.astype(str).astype(object),
        "true_id": classes.ids[y], "true_name": classes.names[y], "true_bin": bins[y],
        "pred_id": classes.ids[p], "pred_name": classes.names[p], "pred_bin": bins[p],
        "correct": p == y, "confidence": conf, "true_prob": true_prob, "margin": margin,
    })
    texts = getattr(labels, "texts", None)
    if texts is not None and len(texts) == len(y_all):
        df["text"] = np.asarray(texts, dtype=object)[pos]
    df.attrs["true_index"] = y
    df.attrs["pred_index"] = p
    return df


def _worst_first(df: pd.DataFrame) -> pd.DataFrame:
    """Mistakes by confidence (highest first), then correct ones least safe first; ties by row."""
    conf = df["confidence"].to_numpy(dtype=np.float64)
    margin = df["margin"].to_numpy(dtype=np.float64)
    wrong = ~df["correct"].to_numpy(dtype=bool)
    # lexsort: last key is primary. mistakes first; within mistakes -confidence; within correct +margin
    key2 = np.where(wrong, -np.nan_to_num(conf, nan=-1.0), np.nan_to_num(margin, nan=np.inf))
    order = np.lexsort((df["row"].to_numpy(), key2, ~wrong))
    return df.iloc[order]


def _select(base: pd.DataFrame, mask: np.ndarray, title: str, cap: int | None, order=_worst_first,
            note: str = ORDER_NOTE) -> Selection:
    if cap is not None and int(cap) < 0:
        raise InputError(f"cap must be >= 0, got {cap}", field="cap")
    sub = base[mask]
    sub = order(sub)
    total = len(sub)
    if note == ORDER_NOTE and "correct" in sub.columns and total:
        n_right = int(sub["correct"].sum())
        note = ("most confident first" if n_right == 0 else "least safe first" if n_right == total else note)
    if cap is not None:
        sub = sub.head(int(cap))
    rows = sub.reset_index(drop=True)
    rows.attrs = {}  # the base table's index arrays belong to the base, not to the selection
    return Selection(title=title, rows=rows, total=total, kind="classification", order=note)


def _class_index(classes: ClassTable, class_id: int) -> int:
    return int(classes.index_of([class_id], field="class id")[0])


def by_class(base: pd.DataFrame, classes: ClassTable, class_id: int, role: str = "true",
             errors_only: bool = False, cap: int | None = DEFAULT_CAP) -> Selection:
    """The samples of one class: its true samples (``role="true"``, the class's recall) or the samples
    predicted as it (``role="predicted"``, its precision); mistakes first."""
    k = _class_index(classes, class_id)
    col = {"true": "true_index", "predicted": "pred_index"}.get(role)
    if col is None:
        raise InputError(f"role must be 'true' or 'predicted', got {role!r}", field="role")
    mask = base.attrs[col] == k
    if errors_only:
        mask = mask & ~base["correct"].to_numpy()
    what = "true" if role == "true" else "predicted"
    return _select(base, mask, f"{what} {classes.names[k]}" + (" (mistakes)" if errors_only else ""), cap)


def by_bin(base: pd.DataFrame, bin_name: str, role: str = "true", errors_only: bool = False,
           cap: int | None = DEFAULT_CAP) -> Selection:
    """The samples whose true (or predicted) class is in one bin; mistakes first."""
    col = {"true": "true_bin", "predicted": "pred_bin"}.get(role)
    if col is None:
        raise InputError(f"role must be 'true' or 'predicted', got {role!r}", field="role")
    mask = (base[col] == bin_name).to_numpy()
    if errors_only:
        mask = mask & ~base["correct"].to_numpy()
    return _select(base, mask, f"{role} bin {bin_name}" + (" (mistakes)" if errors_only else ""), cap)


def _class_set(classes: ClassTable, ids) -> tuple[np.ndarray, str]:
    """Class indices of one id or a group of ids, and their name in words."""
    arr = np.atleast_1d(np.asarray(ids))
    if arr.size == 0:
        raise InputError("no class given", field="class id")
    idx = classes.index_of(arr, field="class id")
    if len(idx) == 1:
        return idx, str(classes.names[idx[0]])
    return idx, f"{len(idx)} classes ({classes.names[idx[0]]} … {classes.names[idx[-1]]})"


def confusion_cell(base: pd.DataFrame, classes: ClassTable, true_id, pred_id,
                   cap: int | None = DEFAULT_CAP) -> Selection:
    """The samples of true class ``true_id`` predicted as ``pred_id`` (one confusion-matrix cell).

    ``true_id`` / ``pred_id`` may also be groups of class ids (a pooled cell of a large confusion
    matrix): the samples whose true class is in the first group and prediction in the second.
    """
    a, an = _class_set(classes, true_id)
    b, bn = _class_set(classes, pred_id)
    mask = np.isin(base.attrs["true_index"], a) & np.isin(base.attrs["pred_index"], b)
    return _select(base, mask, f"true {an} → predicted {bn}", cap)


def bin_flow(base: pd.DataFrame, true_bins, pred_bins, errors_only: bool = True,
             cap: int | None = DEFAULT_CAP) -> Selection:
    """The samples of the ``true_bins`` predicted as a class of the ``pred_bins`` (one bar of the
    "where the errors go" chart: a bin's mistakes that land in another bin)."""
    tb = (true_bins,) if isinstance(true_bins, str) else tuple(true_bins)
    pb = (pred_bins,) if isinstance(pred_bins, str) else tuple(pred_bins)
    mask = base["true_bin"].isin(tb).to_numpy() & base["pred_bin"].isin(pb).to_numpy()
    if errors_only:
        mask = mask & ~base["correct"].to_numpy()
    what = "mistakes" if errors_only else "samples"
    return _select(base, mask, f"{'/'.join(tb)} {what} predicted as {'/'.join(pb)}", cap)


def tail_as_head(base: pd.DataFrame, scheme: str | BinScheme, tail_bins: tuple[str, ...] | None = None,
                 head_bins: tuple[str, ...] | None = None, cap: int | None = DEFAULT_CAP) -> Selection:
    """Tail samples predicted as a head class (default: the tail-most bin → the head-most bin)."""
    sch = parse_bins(scheme)
    names = list(sch.names)
    tail = tuple(tail_bins) if tail_bins else (names[-1],)
    head = tuple(head_bins) if head_bins else (names[0],)
    return bin_flow(base, tail, head, errors_only=False, cap=cap)


def changes(before: pd.DataFrame, after: pd.DataFrame, which: str = "both", cap: int | None = DEFAULT_CAP,
            names: tuple[str, str] = ("before", "after")) -> Selection:
    """Predictions that change between two runs (or before / after a τ or threshold change).

    ``fixed``: wrong before, right after; ``broken``: right before, wrong after. Rows carry both
    predictions (``pred_name_before`` / ``pred_name_after`` ...) and ``change``. Order: broken ones the
    new run is most sure of first, then fixed ones by how sure the new run is.

    Parameters
    ----------
    before, after : DataFrame
        :func:`sample_table` of the two runs on the same split (same labels).
    which : {"both", "fixed", "broken"}
    """
    if len(before) != len(after) or not np.array_equal(before.attrs["true_index"], after.attrs["true_index"]):
        raise InputError("the two runs must be evaluated on the same samples and labels", field="runs")
    if which not in ("both", "fixed", "broken"):
        raise InputError(f"which must be both, fixed or broken, got {which!r}", field="which")
    cb, ca = before["correct"].to_numpy(), after["correct"].to_numpy()
    fixed, broken = ~cb & ca, cb & ~ca
    mask = {"both": fixed | broken, "fixed": fixed, "broken": broken}[which]
    a, b = names
    df = after[["row", "sample_id", "true_id", "true_name", "true_bin"]].copy()
    for col in ("pred_id", "pred_name", "pred_bin", "confidence"):
        df[f"{col}_{a}"] = before[col].to_numpy()
        df[f"{col}_{b}"] = after[col].to_numpy()
    df["change"] = np.where(fixed, "fixed", np.where(broken, "broken", "same"))
    # for the shared ordering: 'correct' = fixed (broken first), confidence = the new run's
    df["correct"] = fixed
    df["confidence"] = after["confidence"].to_numpy()
    df["margin"] = after["margin"].to_numpy()

    def order(sub: pd.DataFrame) -> pd.DataFrame:
        conf = np.nan_to_num(sub["confidence"].to_numpy(dtype=np.float64), nan=-1.0)
        o = np.lexsort((sub["row"].to_numpy(), -conf, sub["correct"].to_numpy()))
        return sub.iloc[o].drop(columns=["correct", "margin"])

    if "text" in after.columns:
        df["text"] = after["text"].to_numpy()
    title = {"both": f"changed from {a} to {b}", "fixed": f"fixed by {b}", "broken": f"broken by {b}"}[which]
    note = CHANGES_NOTE if which == "both" else f"those {b} is most sure of first"
    return _select(df, mask, title, cap, order=order, note=note)


class _RowScores:
    """Scores computed for the rows asked for only: ``obj[rows] -> fn(rows)`` (N x C never built)."""

    def __init__(self, fn, n: int):
        self._fn, self._n = fn, n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, rows):
        return np.asarray(self._fn(np.asarray(rows, dtype=np.int64)), dtype=np.float32)


def decision_changes(labels: Labels, classes: ClassTable, scheme: str | BinScheme, before_pred, after_pred, *,
                     before_scores=None, after_scores=None, kind: str | tuple[str, str] = "logits",
                     which: str = "both",
                     cap: int | None = DEFAULT_CAP, names: tuple[str, str] = ("before", "after"),
                     true_ids=None) -> Selection:
    """What a change of decision fixed and broke: :func:`changes` from two label vectors.

    For a τ / threshold change or a new head, without building two N x C tables: only the rows whose
    correctness differs are tabled, and their scores are asked for those rows alone.

    Parameters
    ----------
    labels : Labels
        The split's true labels (N).
    before_pred, after_pred : ndarray (N,) int
        The two decisions (class indices).
    before_scores, after_scores : ndarray (N, C), callable or None
        The scores behind each decision (for the confidence columns): an array, or a function
        ``rows -> (len(rows), C)`` array (e.g. the adjusted logits of those rows).
    kind : {"logits", "probs"} or (before kind, after kind)
        What the scores are.
    true_ids : int or sequence of int, optional
        Only the samples of these true classes (a class clicked in a chart).
    """
    y = np.asarray(labels.y, dtype=np.int64)
    pa, pb = np.asarray(before_pred, dtype=np.int64), np.asarray(after_pred, dtype=np.int64)
    if len(pa) != len(y) or len(pb) != len(y):
        raise InputError(f"{len(pa)} / {len(pb)} predictions for {len(y)} labels", field="predictions")
    flip = (pa == y) != (pb == y)
    if true_ids is not None:
        flip &= np.isin(y, classes.index_of(np.atleast_1d(np.asarray(true_ids)), field="class id"))
    rows = np.flatnonzero(flip)

    kinds = (kind, kind) if isinstance(kind, str) else tuple(kind)

    def preds(p, scores, k):
        if scores is None:
            return Predictions(labels.split, "labels", labels=p)
        sc = _RowScores(scores, len(y)) if callable(scores) else scores
        return Predictions(labels.split, k, scores=sc, labels=p)

    ta = sample_table(labels, preds(pa, before_scores, kinds[0]), classes, scheme, rows=rows)
    tb = sample_table(labels, preds(pb, after_scores, kinds[1]), classes, scheme, rows=rows)
    sel = changes(ta, tb, which, cap=cap, names=names)
    if true_ids is not None:
        picked = classes.names[classes.index_of(np.atleast_1d(np.asarray(true_ids)), field="class id")]
        sel.title += " · true " + ", ".join(str(n) for n in picked[:3]) + (" …" if len(picked) > 3 else "")
    return sel


def worst_per_class(base: pd.DataFrame, classes: ClassTable, n: int, errors_only: bool = False) -> pd.DataFrame:
    """The ``n`` worst samples of every class (by true class), in class-table order.

    Each class's rows are :func:`by_class` (its most confident mistakes first, then its least safe
    correct predictions), cut to ``n``; ``rank`` (1..n) is the position within the class and
    ``class_support`` / ``class_errors`` count the class's samples and mistakes in the split.

    Returns
    -------
    DataFrame (at most C * n rows): ``rank``, ``class_support``, ``class_errors`` and the
    :func:`sample_table` columns.
    """
    if int(n) < 1:
        raise InputError(f"n must be >= 1, got {n}", field="examples")
    ti = base.attrs["true_index"]
    wrong = ~base["correct"].to_numpy()
    support = np.bincount(ti, minlength=classes.n_classes)
    errors = np.bincount(ti[wrong], minlength=classes.n_classes)
    mask = wrong if errors_only else np.ones(len(base), bool)
    ordered = _worst_first(base[mask])
    cls_of = ti[ordered.index.to_numpy()]  # base has a RangeIndex aligned with its attrs
    # regroup by class, stable: the worst-first order is kept inside each class; the first n of each
    grp = np.argsort(cls_of, kind="stable")
    cls_sorted = cls_of[grp]
    start = np.searchsorted(cls_sorted, cls_sorted, side="left")
    rank = np.arange(len(grp)) - start + 1
    keep = rank <= int(n)
    out = ordered.iloc[grp[keep]].copy()
    c = cls_sorted[keep]
    out.insert(0, "rank", rank[keep])
    out.insert(1, "class_support", support[c])
    out.insert(2, "class_errors", errors[c])
    return out.reset_index(drop=True)
