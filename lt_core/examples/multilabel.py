"""Multi-label selections: one class's missed positives and false positives, worst first.

In a multi-label problem a sample carries a set of classes, and the model decides each class on
its own (probability >= a threshold, or per-class thresholds). The samples behind a class's number
(its AP, its F1) are then, for that class:

==========  ===================================================================================
outcome     meaning
==========  ===================================================================================
``FN``      a positive of the class the decision missed (``missed``)
``FP``      a sample without the class that the decision gave it (``false positive``)
``TP``      a positive found
``TN``      neither (never selected unless asked for)
==========  ===================================================================================

The order is "most confident mistakes first": a missed positive by how low its probability is
(``1 - p``), a false positive by how high it is (``p``); found positives least safe first.

Rows: ``row``, ``sample_id``, ``class_id``, ``class_name``, ``outcome``, ``probability``,
``true_labels`` (every class of the sample, by name), ``predicted_labels`` (every class the decision
gave it; filled for the kept rows only) and ``text`` where the labels have one.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.schema import ClassTable
from ..errors import InputError
from .selection import Selection

__all__ = ["multilabel_class", "multilabel_worst_per_class", "multilabel_changes", "MULTILABEL_WHICH"]

DEFAULT_CAP = 200
#: what a class's selection can hold
MULTILABEL_WHICH = {"errors": ("FN", "FP"), "missed": ("FN",), "false positives": ("FP",),
                    "positives": ("TP", "FN"), "predicted": ("TP", "FP")}


def _probabilities(col: np.ndarray, kind: str) -> np.ndarray:
    z = np.asarray(col, dtype=np.float64)
    if kind == "probs":
        return z
    return 1.0 / (1.0 + np.exp(-z))


def _positives(labels, k: int) -> np.ndarray:
    """Bool (N,): the samples that carry class index k (from the CSR rows, no dense matrix)."""
    n = len(labels.indptr) - 1
    hit = np.flatnonzero(np.asarray(labels.indices) == k)
    rows = np.searchsorted(labels.indptr, hit, side="right") - 1
    out = np.zeros(n, bool)
    out[rows] = True
    return out


def _decided_column(scores, k: int, kind: str, decided, threshold) -> tuple[np.ndarray, np.ndarray]:
    p = _probabilities(np.asarray(scores)[:, k], kind)
    if decided is not None:
        d = np.asarray(decided[:, k], dtype=bool)
    else:
        t = np.asarray(threshold, dtype=np.float64)
        d = p >= (t[k] if t.ndim else float(t))
    return p, d


def _label_names(labels, classes: ClassTable, rows: np.ndarray) -> list[str]:
    ip, ix = labels.indptr, labels.indices
    return [", ".join(str(classes.names[j]) for j in ix[ip[r]:ip[r + 1]]) for r in rows]


def _predicted_names(scores, classes: ClassTable, kind: str, decided, threshold, rows: np.ndarray) -> list[str]:
    if not len(rows):
        return []
    if decided is not None:
        D = np.asarray(decided[rows], dtype=bool)
    else:
        P = _probabilities(np.asarray(scores)[rows], kind)
        t = np.asarray(threshold, dtype=np.float64)
        D = P >= (t[None, :] if t.ndim else float(t))
    P = _probabilities(np.asarray(scores)[rows], kind)
    out = []
    for i in range(len(rows)):
        js = np.flatnonzero(D[i])
        js = js[np.argsort(-P[i, js], kind="stable")]
        out.append(", ".join(str(classes.names[j]) for j in js))
    return out


def multilabel_class(labels, scores, classes: ClassTable, class_id: int, *, kind: str = "logits", decided=None,
                     threshold=0.5, which: str = "errors", cap: int | None = DEFAULT_CAP) -> Selection:
    """One class's samples by outcome (see the module docstring), most confident mistakes first.

    Parameters
    ----------
    labels : MultiLabels
        The split's true label sets (N samples).
    scores : ndarray (N, C)
        Per-class logits (``kind="logits"``, sigmoid applied) or probabilities.
    class_id : int
        The class (its id in the class table).
    decided : ndarray (N, C) bool, optional
        The decisions to judge (e.g. a run's own per-class thresholds); default ``p >= threshold``.
    threshold : float or ndarray (C,)
    which : {"errors", "missed", "false positives", "positives", "predicted"}
    """
    if which not in MULTILABEL_WHICH:
        raise InputError(f"which must be one of {list(MULTILABEL_WHICH)}, got {which!r}", field="which")
    if cap is not None and int(cap) < 0:
        raise InputError(f"cap must be >= 0, got {cap}", field="cap")
    k = int(classes.index_of([class_id], field="class id")[0])
    n = len(labels.indptr) - 1
    if np.asarray(scores).shape[0] != n:
        raise InputError(f"{np.asarray(scores).shape[0]} score rows for {n} samples", field="scores")
    pos = _positives(labels, k)
    p, d = _decided_column(scores, k, kind, decided, threshold)
    outcome = np.where(pos & d, "TP", np.where(pos, "FN", np.where(d, "FP", "TN"))).astype(object)
    keep = np.isin(outcome, MULTILABEL_WHICH[which])
    rows = np.flatnonzero(keep)
    wrongness = np.where(outcome[rows] == "FN", 1.0 - p[rows], np.where(outcome[rows] == "FP", p[rows],
                         np.where(outcome[rows] == "TP", 1.0 - p[rows], p[rows])))
    mistake = np.isin(outcome[rows], ("FN", "FP"))
    order = np.lexsort((rows, -wrongness, ~mistake))  # mistakes first, then by how wrong, ties by row
    rows = rows[order]
    total = len(rows)
    if cap is not None:
        rows = rows[:int(cap)]
    sid = labels.sample_ids
    df = pd.DataFrame({
        "row": rows,
        "sample_id": (np.asarray(sid, dtype=object)[rows] if sid is not None else rows.astype(str).astype(object)),
        "class_id": int(classes.ids[k]), "class_name": str(classes.names[k]),
        "outcome": outcome[rows], "probability": p[rows],
        "true_labels": _label_names(labels, classes, rows),
        "predicted_labels": _predicted_names(scores, classes, kind, decided, threshold, rows),
    })
    texts = getattr(labels, "texts", None)
    if texts is not None and len(texts) == n:
        df["text"] = np.asarray(texts, dtype=object)[rows]
    what = {"errors": "mistakes", "missed": "missed positives", "false positives": "false positives",
            "positives": "positives", "predicted": "predicted positives"}[which]
    note = "most confident mistakes first" if which in ("errors", "missed", "false positives") else \
        "mistakes first, then the least safe"
    return Selection(f"{classes.names[k]}: {what}", df, total, "classification", note)


def multilabel_worst_per_class(labels, scores, classes: ClassTable, n: int, *, kind: str = "logits", decided=None,
                               threshold=0.5) -> pd.DataFrame:
    """The ``n`` most confident mistakes (missed positives and false positives) of every class.

    Returns
    -------
    DataFrame: ``rank`` (1..n within the class), ``class_positives``, ``class_missed``,
    ``class_false_positives`` and the :func:`multilabel_class` columns, classes in table order.
    """
    if int(n) < 1:
        raise InputError(f"n must be >= 1, got {n}", field="examples")
    parts = []
    for k in range(classes.n_classes):
        cid = int(classes.ids[k])
        sel = multilabel_class(labels, scores, classes, cid, kind=kind, decided=decided, threshold=threshold,
                               which="errors", cap=int(n))
        pos_k = _positives(labels, k)
        _, d = _decided_column(scores, k, kind, decided, threshold)
        pos, n_fn = int(pos_k.sum()), int((pos_k & ~d).sum())
        rows = sel.rows.copy()
        rows.insert(0, "rank", np.arange(1, len(rows) + 1))
        rows.insert(1, "class_positives", pos)
        rows.insert(2, "class_missed", n_fn)
        rows.insert(3, "class_false_positives", sel.total - n_fn)
        parts.append(rows)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def multilabel_changes(labels, classes: ClassTable, class_id: int, before, after, *, scores=None,
                       kind: str = "logits", which: str = "both", cap: int | None = DEFAULT_CAP,
                       names: tuple[str, str] = ("before", "after")) -> Selection:
    """What a change of per-class decisions (thresholds, a prior correction, a new head) fixed and
    broke for one class: the samples whose decision on the class became right (``fixed``: a missed
    positive now found, a false positive now dropped) or wrong (``broken``).

    Parameters
    ----------
    before, after : ndarray (N, C) bool
        The two decisions.
    scores : ndarray (N, C), optional
        The scores behind ``after`` (for ``probability``; sigmoid of logits unless ``kind="probs"``).
    which : {"both", "fixed", "broken"}

    Order: broken first, then fixed; within each, the most confident decision first (a false
    positive by p, a missed positive by 1 - p).
    """
    if which not in ("both", "fixed", "broken"):
        raise InputError(f"which must be both, fixed or broken, got {which!r}", field="which")
    k = int(classes.index_of([class_id], field="class id")[0])
    b = np.asarray(before[:, k], dtype=bool)
    a = np.asarray(after[:, k], dtype=bool)
    pos = _positives(labels, k)
    cb, ca = b == pos, a == pos
    fixed, broken = ~cb & ca, cb & ~ca
    mask = {"both": fixed | broken, "fixed": fixed, "broken": broken}[which]
    rows = np.flatnonzero(mask)
    p = _probabilities(np.asarray(scores)[rows, k], kind) if scores is not None else np.full(len(rows), np.nan)
    out_a = np.where(pos[rows] & a[rows], "TP", np.where(pos[rows], "FN", np.where(a[rows], "FP", "TN")))
    out_b = np.where(pos[rows] & b[rows], "TP", np.where(pos[rows], "FN", np.where(b[rows], "FP", "TN")))
    sure = np.where(a[rows], np.nan_to_num(p, nan=0.5), 1.0 - np.nan_to_num(p, nan=0.5))
    o = np.lexsort((rows, -sure, fixed[rows]))  # broken (fixed False) first
    rows, p, out_a, out_b = rows[o], p[o], out_a[o], out_b[o]
    total = len(rows)
    if cap is not None:
        rows, p, out_a, out_b = rows[:int(cap)], p[:int(cap)], out_a[:int(cap)], out_b[:int(cap)]
    sid = labels.sample_ids
    n0, n1 = names
    df = pd.DataFrame({
        "row": rows, "sample_id": (np.asarray(sid, dtype=object)[rows] if sid is not None else rows.astype(str)),
        "class_id": int(classes.ids[k]), "class_name": str(classes.names[k]),
        "change": np.where(fixed[rows], "fixed", "broken"), f"outcome_{n0}": out_b, f"outcome_{n1}": out_a,
        "outcome": out_a, "probability": p, "true_labels": _label_names(labels, classes, rows)})
    texts = getattr(labels, "texts", None)
    if texts is not None and len(texts) == len(pos):
        df["text"] = np.asarray(texts, dtype=object)[rows]
    title = {"both": f"{classes.names[k]}: changed by {n1}", "fixed": f"{classes.names[k]}: fixed by {n1}",
             "broken": f"{classes.names[k]}: broken by {n1}"}[which]
    return Selection(title, df, total, "classification",
                     "broken first, the most confident decision first" if which == "both" else
                     "the most confident decision first")
