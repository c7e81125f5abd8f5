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

__all__ = ["sample_table", "by_class", "by_bin", "confusion_cell", "tail_as_head", "changes"]

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
            e = np.exp(Sb - Sb[rows, p[a:b]][:, None])
            tot = e.sum(axis=1, dtype=np.float64)
        conf[a:b] = e[rows, p[a:b]] / tot
        true_prob[a:b] = e[rows, y[a:b]] / tot
        second[a:b] = (np.partition(e, -2, axis=1)[:, -2] / tot) if e.shape[1] > 1 else 0.0
    return conf, true_prob, second


def sample_table(labels: Labels, preds: Predictions, classes: ClassTable, scheme: str | BinScheme) -> pd.DataFrame:
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

    Returns
    -------
    DataFrame (N rows)
    """
    y = np.asarray(labels.y, dtype=np.int64)
    p = np.asarray(preds.labels, dtype=np.int64)
    if len(y) != len(p):
        raise InputError(f"{len(p)} predictions but {len(y)} labels", preds.source, hint="the run and the labels "
                         "must list the same samples")
    bins = classes.bins(parse_bins(scheme))
    n = len(y)
    conf = np.full(n, np.nan)
    true_prob = np.full(n, np.nan)
    margin = np.full(n, np.nan)
    if preds.scores is not None:
        conf, true_prob, second = _row_probabilities(preds, y, p)
        margin = np.where(p == y, conf - second, conf - true_prob)
    sid = labels.sample_ids if labels.sample_ids is not None else preds.sample_ids
    df = pd.DataFrame({
        "row": np.arange(n),
        "sample_id": np.asarray(sid, dtype=object) if sid is not None else np.arange(n).astype(str).astype(object),
        "true_id": classes.ids[y], "true_name": classes.names[y], "true_bin": bins[y],
        "pred_id": classes.ids[p], "pred_name": classes.names[p], "pred_bin": bins[p],
        "correct": p == y, "confidence": conf, "true_prob": true_prob, "margin": margin,
    })
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


def _select(base: pd.DataFrame, mask: np.ndarray, title: str, cap: int | None, order=_worst_first) -> Selection:
    sub = base[mask]
    sub = order(sub)
    total = len(sub)
    if cap is not None:
        sub = sub.head(int(cap))
    return Selection(title=title, rows=sub.reset_index(drop=True), total=total, kind="classification")


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
        mask &= ~base["correct"].to_numpy()
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
        mask &= ~base["correct"].to_numpy()
    return _select(base, mask, f"{role} bin {bin_name}" + (" (mistakes)" if errors_only else ""), cap)


def confusion_cell(base: pd.DataFrame, classes: ClassTable, true_id: int, pred_id: int,
                   cap: int | None = DEFAULT_CAP) -> Selection:
    """The samples of true class ``true_id`` predicted as ``pred_id`` (one confusion-matrix cell)."""
    a, b = _class_index(classes, true_id), _class_index(classes, pred_id)
    mask = (base.attrs["true_index"] == a) & (base.attrs["pred_index"] == b)
    return _select(base, mask, f"true {classes.names[a]} → predicted {classes.names[b]}", cap)


def tail_as_head(base: pd.DataFrame, scheme: str | BinScheme, tail_bins: tuple[str, ...] | None = None,
                 head_bins: tuple[str, ...] | None = None, cap: int | None = DEFAULT_CAP) -> Selection:
    """Tail samples predicted as a head class (default: the tail-most bin → the head-most bin)."""
    sch = parse_bins(scheme)
    names = list(sch.names)
    tail = tuple(tail_bins) if tail_bins else (names[-1],)
    head = tuple(head_bins) if head_bins else (names[0],)
    mask = base["true_bin"].isin(tail).to_numpy() & base["pred_bin"].isin(head).to_numpy()
    return _select(base, mask, f"{'/'.join(tail)} samples predicted as {'/'.join(head)}", cap)


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

    title = {"both": f"changed from {a} to {b}", "fixed": f"fixed by {b}", "broken": f"broken by {b}"}[which]
    return _select(df, mask, title, cap, order=order)
