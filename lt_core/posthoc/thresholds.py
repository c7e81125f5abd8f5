"""Per-class decision thresholds (binary, one-vs-rest, multi-label) and additive biases.

For each class ``c`` the positives are ``scores[:, c] >= t_c``. The threshold is chosen on a
validation split among the distinct scores (the points of
``sklearn.metrics.precision_recall_curve``), by one rule per class:

* ``f1``: the highest F1 (ties: the highest threshold, i.e. the fewest positives);
* ``precision``: reach precision >= target with the highest recall (ties: highest threshold);
  when no threshold reaches it, the one with the highest precision (``reached = False``);
* ``recall``: reach recall >= target with the highest threshold (the best precision).

For single-label multi-class outputs the thresholds act as additive biases, ``argmax(scores - t)``
(:func:`predict_with_bias` with ``bias = -t``). Counts at fixed thresholds are a mergeable state
(:class:`ThresholdCounts`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["THRESHOLD_OBJECTIVES", "ThresholdResult", "tune_thresholds", "one_hot", "apply_thresholds",
           "predict_with_bias", "ThresholdCounts", "threshold_counts", "binary_threshold"]

THRESHOLD_OBJECTIVES = ("f1", "precision", "recall")


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Single-label classes (N,) -> indicator matrix (N, C) bool (one-vs-rest targets)."""
    y = np.asarray(y, dtype=np.int64)
    Y = np.zeros((len(y), n_classes), dtype=bool)
    Y[np.arange(len(y)), y] = True
    return Y


def _as_indicator(Y, n_classes: int) -> np.ndarray:
    Y = np.asarray(Y)
    if Y.ndim == 1:
        return one_hot(Y, n_classes)
    if Y.shape[1] != n_classes:
        raise InputError(f"label matrix has {Y.shape[1]} columns, scores have {n_classes}", field="labels")
    if not np.isin(Y, (0, 1)).all():
        raise InputError("multi-label targets must be 0/1", field="labels")
    return Y.astype(bool)


@dataclass
class ThresholdResult:
    """Per-class thresholds and what they achieve on the split they were chosen on.

    Attributes
    ----------
    thresholds : ndarray (C,) float64   predict class c when score >= threshold (+inf: never)
    objective : str
    targets : ndarray (C,) float64      the precision / recall target per class (NaN for f1)
    precision, recall, f1 : ndarray (C,) on the tuning split
    support : ndarray (C,) int64        positives per class on the tuning split
    reached : ndarray (C,) bool         the target (or any positive for f1) was reached
    """

    thresholds: np.ndarray
    objective: str
    targets: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    reached: np.ndarray

    def to_frame(self, names=None) -> pd.DataFrame:
        """One row per class: class_index, [name], threshold, target, precision, recall, f1, support, reached."""
        df = pd.DataFrame({"class_index": np.arange(len(self.thresholds))})
        if names is not None:
            df["name"] = np.asarray(names, dtype=object)
        df["threshold"] = self.thresholds
        df["target"] = self.targets
        for k in ("precision", "recall", "f1", "support", "reached"):
            df[k] = getattr(self, k)
        return df


def _pr_points(y: np.ndarray, s: np.ndarray):
    """Distinct thresholds (descending) with tp, fp at ``score >= threshold`` (as sklearn's curve)."""
    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    y_sorted = y[order]
    last = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), len(s_sorted) - 1]
    tp = np.cumsum(y_sorted)[last]
    fp = (last + 1) - tp
    return s_sorted[last], tp.astype(np.float64), fp.astype(np.float64)


def _pr_points_at_positives(pos: np.ndarray, s: np.ndarray):
    """The points of :func:`_pr_points` whose threshold is a positive's score (descending), exactly.

    Every objective picks such a point (F1, precision and recall only improve where a threshold
    adds a positive; a threshold that adds only negatives lowers F1 and precision and keeps recall),
    so only the scores at or above the lowest positive are counted and sorted.
    """
    v = np.unique(pos)[::-1]                                     # distinct positive scores, descending
    pos_sorted = np.sort(pos)
    tp = len(pos_sorted) - np.searchsorted(pos_sorted, v, side="left")
    above = s[s >= v[-1]]
    above.sort()
    n_ge = len(above) - np.searchsorted(above, v, side="left")   # all samples with score >= v
    return v, tp.astype(np.float64), (n_ge - tp).astype(np.float64)


def _choose(y: np.ndarray, s: np.ndarray, objective: str, target: float, pos: np.ndarray | None = None):
    P = float(y.sum()) if pos is None else float(len(pos))
    if P == 0 or len(s) == 0:
        return np.inf, np.nan, np.nan, np.nan, False
    thr, tp, fp = _pr_points(y, s) if pos is None else _pr_points_at_positives(pos, s)
    prec = tp / (tp + fp)
    rec = tp / P
    f1 = 2 * tp / (tp + fp + P)
    if objective == "f1":
        i = int(np.argmax(f1))            # first = highest threshold among ties
        ok = True
    elif objective == "precision":
        feas = prec >= target - 1e-12
        if feas.any():
            r = np.where(feas, rec, -1.0)
            i = int(np.argmax(r))
            ok = True
        else:
            i = int(np.argmax(prec))
            ok = False
    elif objective == "recall":
        feas = rec >= target - 1e-12
        i = int(np.argmax(feas))           # the first (highest) threshold that reaches the recall
        ok = bool(feas[i])
    else:
        raise InputError(f"unknown threshold objective '{objective}'", field="objective",
                         hint=f"use one of {THRESHOLD_OBJECTIVES}")
    return float(thr[i]), float(prec[i]), float(rec[i]), float(f1[i]), ok


def tune_thresholds(y, scores: np.ndarray, objective: str = "f1", target=None) -> ThresholdResult:
    """Choose one threshold per class on a validation split.

    Parameters
    ----------
    y : array (N,) int or (N, C) 0/1
        Single-label classes (one-vs-rest) or a multi-label indicator matrix.
    scores : array (N, C) or (N,)
        Probabilities or any per-class scores (higher = more likely); (N,) for a binary problem
        (then ``y`` is (N,) 0/1).
    objective : {"f1", "precision", "recall"}
    target : float or array (C,)
        Precision / recall to reach per class (required unless ``objective="f1"``).

    Returns
    -------
    ThresholdResult
    """
    S = np.asarray(scores)
    if S.dtype.kind != "f":
        S = S.astype(np.float64)
    if S.ndim == 1:
        S = S[:, None]
        yb = np.asarray(y)
        if not np.isin(yb, (0, 1)).all():
            raise InputError("binary targets must be 0/1", field="labels")
        Y = yb.astype(bool)[:, None]
    elif S.ndim == 2:
        Y = _as_indicator(y, S.shape[1])
    else:
        raise InputError(f"scores must be (N,) or (N, C), got shape {S.shape}", field="scores")
    if len(Y) != len(S):
        raise InputError(f"{len(Y)} labels but {len(S)} score rows", field="labels")
    if not np.isfinite(S).all():
        raise InputError("scores contain NaN or inf", field="scores")
    if objective not in THRESHOLD_OBJECTIVES:
        raise InputError(f"unknown threshold objective '{objective}'", field="objective",
                         hint=f"use one of {THRESHOLD_OBJECTIVES}")
    C = S.shape[1]
    if objective == "f1":
        tg = np.full(C, np.nan)
    else:
        if target is None:
            raise InputError(f"objective '{objective}' needs a target in (0, 1]", field="target")
        tg = np.broadcast_to(np.asarray(target, dtype=np.float64), (C,)).copy()
        if not ((tg > 0) & (tg <= 1)).all():
            raise InputError("targets must be in (0, 1]", field="target")
    out = np.zeros((5, C))
    reached = np.zeros(C, dtype=bool)
    # each class's positive scores, gathered once (no per-class scan of the (N, C) indicator)
    rows, cols = np.nonzero(Y)
    order = np.argsort(cols, kind="stable")
    pos_scores = np.split(S[rows[order], cols[order]], np.cumsum(np.bincount(cols, minlength=C))[:-1])
    for c0 in range(0, C, 64):                                   # column blocks: contiguous per class
        block = np.ascontiguousarray(S[:, c0:c0 + 64].T)
        for j, col in enumerate(block):
            c = c0 + j
            t, p, r, f, ok = _choose(None, col, objective, tg[c], pos=pos_scores[c])
            out[:, c] = (t, p, r, f, 0)
            reached[c] = ok
    return ThresholdResult(out[0], objective, tg, out[1], out[2], out[3], Y.sum(0).astype(np.int64), reached)


def binary_threshold(y, scores, objective: str = "f1", target: float | None = None) -> float:
    """One threshold for a binary problem (``y`` 0/1, ``scores`` (N,))."""
    return float(tune_thresholds(y, np.asarray(scores).ravel(), objective, target).thresholds[0])


def apply_thresholds(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Multi-label / one-vs-rest decisions ``scores >= thresholds``, shape (N, C) bool."""
    S = np.asarray(scores)
    t = np.asarray(thresholds, dtype=np.float64).ravel()
    if S.ndim != 2 or S.shape[1] != t.size:
        raise InputError(f"{t.size} thresholds for scores of shape {S.shape}", field="thresholds")
    return S >= t


def predict_with_bias(scores: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Single-label decision with per-class additive biases: ``argmax(scores + bias)``, shape (N,).

    With ``bias = -thresholds`` this picks the class whose score clears its threshold by the
    largest margin.
    """
    S = np.asarray(scores)
    b = np.asarray(bias, dtype=np.float64).ravel()
    if S.ndim != 2 or S.shape[1] != b.size:
        raise InputError(f"{b.size} biases for scores of shape {S.shape}", field="bias")
    b = np.where(np.isfinite(b), b, -1e300)        # a class that is never predicted
    out = np.empty(S.shape[0], dtype=np.int64)
    step = max(1, (1 << 21) // max(1, S.shape[1]))  # float64 blocks of ~16 MB, not one (N, C) float64 copy
    for i in range(0, S.shape[0], step):
        out[i:i + step] = (S[i:i + step] + b).argmax(1)
    return out


@dataclass
class ThresholdCounts:
    """Mergeable per-class counts at fixed thresholds: tp, fp, fn (C,) int64."""

    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray

    @classmethod
    def empty(cls, n_classes: int) -> "ThresholdCounts":
        z = np.zeros(n_classes, np.int64)
        return cls(z.copy(), z.copy(), z.copy())

    def update(self, Y, decisions: np.ndarray) -> "ThresholdCounts":
        """Add a shard: ``Y`` (n,) or (n, C) truth, ``decisions`` (n, C) bool."""
        D = np.asarray(decisions, dtype=bool)
        T = _as_indicator(Y, D.shape[1])
        return ThresholdCounts(self.tp + (T & D).sum(0), self.fp + (~T & D).sum(0), self.fn + (T & ~D).sum(0))

    def merge(self, other: "ThresholdCounts") -> "ThresholdCounts":
        return ThresholdCounts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def compute(self) -> pd.DataFrame:
        """Per class: precision, recall, f1 (NaN where undefined; sklearn's zero_division=nan), support."""
        tp, fp, fn = (a.astype(np.float64) for a in (self.tp, self.fp, self.fn))
        with np.errstate(invalid="ignore", divide="ignore"):
            prec = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
            rec = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
            f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
        return pd.DataFrame({"precision": prec, "recall": rec, "f1": f1, "support": self.tp + self.fn})


def threshold_counts(Y, scores: np.ndarray, thresholds: np.ndarray) -> ThresholdCounts:
    """Counts of ``apply_thresholds(scores, thresholds)`` against ``Y`` (one shard)."""
    D = apply_thresholds(scores, thresholds)
    return ThresholdCounts.empty(D.shape[1]).update(Y, D)
