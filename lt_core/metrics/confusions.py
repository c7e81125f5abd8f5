"""Where the tail goes: the confusion matrix by train frequency, error destinations, top confusions."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..bins import BinScheme, parse_bins
from ..data.schema import ClassTable
from .state import ConfusionState

__all__ = ["frequency_order", "ordered_confusion", "error_destinations", "top_confusions"]


def frequency_order(classes: ClassTable) -> np.ndarray:
    """Class indices sorted by train count, most frequent first (ties by class index), (C,)."""
    return np.lexsort((np.arange(classes.n_classes), -classes.train_count))


def ordered_confusion(state: ConfusionState, classes: ClassTable, normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The confusion matrix with rows and columns in train-frequency order (head first).

    Returns
    -------
    matrix : ndarray (C, C)
        Counts, or row-normalised shares (each true class's samples sum to 1) with ``normalize``.
    order : ndarray (C,)
        The class index of each row / column.
    """
    order = frequency_order(classes)
    m = state.confusion[np.ix_(order, order)].astype(np.float64)
    if normalize:
        s = m.sum(axis=1, keepdims=True)
        m = np.divide(m, s, out=np.zeros_like(m), where=s > 0)
    return m, order


def error_destinations(state: ConfusionState, classes: ClassTable, scheme: str | BinScheme) -> pd.DataFrame:
    """For each true bin, how its errors spread over the predicted classes' bins.

    Returns
    -------
    DataFrame
        Indexed by true bin (head first): ``errors`` (misclassified samples), ``head_share`` (share of
        the errors predicted as a class of the head-most bin), and ``to <bin>`` share columns that
        sum to 1 over the bins.
    """
    sch = parse_bins(scheme)
    bins = classes.bins(sch)
    names = sch.order(bins)
    code = np.array([names.index(b) for b in bins])
    off = state.confusion.copy()
    np.fill_diagonal(off, 0)
    k = len(names)
    # bin x bin error counts: sum rows then columns by bin code
    by_true = np.zeros((k, off.shape[1]), np.int64)
    np.add.at(by_true, code, off)
    agg = np.zeros((k, k), np.int64)
    np.add.at(agg.T, code, by_true.T)
    rows = []
    for i, name in enumerate(names):
        e = agg[i].sum()
        row = {"bin": name, "errors": int(e), "head_share": float(agg[i, 0] / e) if e else float("nan")}
        for j, to in enumerate(names):
            row[f"to {to}"] = float(agg[i, j] / e) if e else float("nan")
        rows.append(row)
    return pd.DataFrame(rows).set_index("bin")


def top_confusions(state: ConfusionState, classes: ClassTable, scheme: str | BinScheme,
                   bins: tuple[str, ...] | None = None, k: int = 3) -> pd.DataFrame:
    """The ``k`` classes each class is most often mistaken for (default: the tail-most bin).

    Returns
    -------
    DataFrame
        ``class_id``, ``name``, ``bin``, ``train_count``, ``support``, ``recall``, ``rank``,
        ``predicted_id``, ``predicted_name``, ``predicted_bin``, ``predicted_train_count``,
        ``count``, ``share`` (of the true class's test samples); rarest true class first.
    """
    sch = parse_bins(scheme)
    b = classes.bins(sch)
    if bins is None:
        present = [n for n in sch.order(b) if n != "no training data"]
        bins = (present[-1],) if present else ()
    cm = state.confusion
    support = cm.sum(axis=1)
    rows = []
    for i in frequency_order(classes)[::-1]:
        if b[i] not in bins or support[i] == 0:
            continue
        r = cm[i].copy()
        r[i] = 0
        top = np.argsort(-r, kind="stable")[:k]
        for rank, j in enumerate(top, 1):
            if r[j] == 0:
                break
            rows.append({"class_id": int(classes.ids[i]), "name": classes.names[i], "bin": b[i],
                         "train_count": int(classes.train_count[i]), "support": int(support[i]),
                         "recall": float(cm[i, i] / support[i]), "rank": rank,
                         "predicted_id": int(classes.ids[j]), "predicted_name": classes.names[j],
                         "predicted_bin": b[j], "predicted_train_count": int(classes.train_count[j]),
                         "count": int(r[j]), "share": float(r[j] / support[i])})
    cols = ["class_id", "name", "bin", "train_count", "support", "recall", "rank", "predicted_id",
            "predicted_name", "predicted_bin", "predicted_train_count", "count", "share"]
    return pd.DataFrame(rows, columns=cols)
