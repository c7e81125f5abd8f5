"""Mergeable sufficient statistics for classification metrics.

``state = update(state, y_true, y_pred, scores=...)``, ``merge(a, b)``, ``compute`` (see
:func:`lt_core.metrics.classification.report_from_state`). Everything is an integer count, so
merging shards gives *exactly* the same numbers as one pass over all samples:

- ``confusion`` (C, C): samples of true class i predicted as j;
- ``rank_hist`` (C, K): samples of true class i whose true class was ranked r (0-based, r < K)
  by the scores (top-k hits = cumulative sum);
- per true class, a histogram of the confidence over M equal-width bins on (0, 1] (Guo et al.
  2017): sample count, correct count and the summed confidence in fixed point (units of 2**-24).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .scores import ScoreSummary, is_probability_matrix, summarize_scores

__all__ = ["ConfusionState", "update", "merge", "CONF_SCALE", "N_ECE_BINS"]

CONF_SCALE = float(2 ** 24)  # confidence sums are stored as integers in units of 1 / CONF_SCALE
N_ECE_BINS = 15  # Guo et al. 2017 use 15 equal-width confidence bins


@dataclass
class ConfusionState:
    """Integer counts from which every classification metric is computed.

    Attributes
    ----------
    confusion : ndarray (C, C) int64
        ``confusion[i, j]`` = samples of true class i predicted as class j.
    rank_hist : ndarray (C, K) int64 or None
        ``rank_hist[i, r]`` = samples of class i whose true class had rank r (< K) in the scores.
        None when the predictions were hard labels.
    cal_count, cal_correct, cal_conf : ndarray (C, M) int64 or None
        Per true class and confidence bin: samples, correct predictions, and the summed
        confidence in units of ``1 / CONF_SCALE``.
    """

    confusion: np.ndarray
    rank_hist: np.ndarray | None = None
    cal_count: np.ndarray | None = None
    cal_correct: np.ndarray | None = None
    cal_conf: np.ndarray | None = None
    # set by empty(): every count is known to be zero, so update() need not read (and page in)
    # the C x C zeros; any other construction (merge, by hand) leaves it False
    _zero: bool = field(default=False, repr=False, compare=False)

    @classmethod
    def empty(cls, n_classes: int, with_scores: bool = False, max_k: int = 5,
              n_ece_bins: int = N_ECE_BINS) -> "ConfusionState":
        """An all-zero state for ``n_classes`` classes."""
        c = int(n_classes)
        st = cls(np.zeros((c, c), np.int64), _zero=True)
        if with_scores:
            st.rank_hist = np.zeros((c, int(max_k)), np.int64)
            st.cal_count = np.zeros((c, n_ece_bins), np.int64)
            st.cal_correct = np.zeros((c, n_ece_bins), np.int64)
            st.cal_conf = np.zeros((c, n_ece_bins), np.int64)
        return st

    @property
    def n_classes(self) -> int:
        return int(self.confusion.shape[0])

    @property
    def has_scores(self) -> bool:
        return self.rank_hist is not None

    @property
    def max_k(self) -> int:
        return 0 if self.rank_hist is None else int(self.rank_hist.shape[1])

    @property
    def support(self) -> np.ndarray:
        """Test samples per true class, (C,)."""
        return self.confusion.sum(axis=1)

    @property
    def tp(self) -> np.ndarray:
        """Correct predictions per class, (C,)."""
        return np.diagonal(self.confusion).copy()

    @property
    def n_samples(self) -> int:
        return int(self.confusion.sum())

    def update(self, y_true, y_pred=None, *, scores=None, kind: str = "auto",
               summary: ScoreSummary | None = None) -> "ConfusionState":
        """See :func:`update`."""
        return update(self, y_true, y_pred, scores=scores, kind=kind, summary=summary)

    def merge(self, other: "ConfusionState") -> "ConfusionState":
        """See :func:`merge`."""
        return merge(self, other)


def _check_labels(y: np.ndarray, c: int, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise InputError(f"expected a 1-d array of class indices, got shape {y.shape}", field=what)
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(np.mod(y, 1) == 0):
            y = y.astype(np.int64)
        else:
            raise InputError(f"expected integer class indices, got dtype {y.dtype}", field=what)
    y = y.astype(np.int64, copy=False)
    if y.size and (y.min() < 0 or y.max() >= c):
        raise InputError(f"class indices must be in 0..{c - 1}, got {int(y.min())}..{int(y.max())}", field=what)
    return y


def update(state: ConfusionState, y_true, y_pred=None, *, scores=None, kind: str = "auto",
           summary: ScoreSummary | None = None) -> ConfusionState:
    """Add one shard of samples; returns a new state (the input is not changed).

    Parameters
    ----------
    state : ConfusionState
    y_true : array (n,) int
        True class indices of the shard.
    y_pred : array (n,) int, optional
        Predicted class indices; taken as the argmax of ``scores`` when omitted.
    scores : array (n, C) float, optional
        Logits or probabilities; needed when the state tracks top-k and calibration.
    kind : {"auto", "logits", "probs"}
        ``auto`` treats rows that are non-negative and sum to 1 as probabilities, else logits.
    summary : ScoreSummary, optional
        A precomputed :func:`~lt_core.metrics.scores.summarize_scores` of ``scores`` (skips the pass).
    """
    c = state.n_classes
    y = _check_labels(y_true, c, "y_true")
    if summary is None and scores is not None:
        S = np.asarray(scores)
        if S.ndim != 2 or S.shape != (len(y), c):
            raise InputError(f"expected scores of shape ({len(y)}, {c}), got {S.shape}", field="scores")
        if kind == "auto":
            kind = "probs" if is_probability_matrix(S) else "logits"
        if state.has_scores:
            summary = summarize_scores(S, y, kind, max_k=state.max_k, n_bins=state.cal_count.shape[1])
        else:  # only the argmax is needed (the max still flags NaN / inf rows below)
            summary = summarize_scores(S, None, "probs")
        if not np.isfinite(summary.conf).all():  # a NaN / +inf score makes its row's confidence NaN
            bad = int(np.flatnonzero(~np.isfinite(summary.conf))[0])
            raise InputError(f"scores contain NaN or infinite values (first at row {bad})", field="scores",
                             hint="scores must be finite logits or probabilities")
    if y_pred is None:
        if summary is None:
            raise InputError("give predicted labels or scores", field="y_pred")
        y_pred = summary.pred
    p = _check_labels(y_pred, c, "y_pred")
    if len(p) != len(y):
        raise InputError(f"{len(y)} true labels but {len(p)} predictions", field="y_pred")
    cm = np.bincount(y * c + p, minlength=c * c).reshape(c, c)
    if not state._zero:
        cm += state.confusion  # in place on the fresh array: no third C x C array
    out = ConfusionState(cm)
    if state.has_scores:
        if summary is None or summary.rank is None:
            raise InputError("this state tracks top-k and calibration: give scores for every shard",
                             field="scores")
        k = state.max_k
        r = summary.rank
        keep = r < k
        out.rank_hist = state.rank_hist + np.bincount(y[keep] * k + r[keep], minlength=c * k).reshape(c, k)
        m = state.cal_count.shape[1]
        conf = np.clip(summary.conf, 0.0, 1.0)
        # bins (lo, hi] as in Guo et al.'s reference code; a confidence of exactly 0 goes to bin 0
        b = np.clip(np.ceil(conf * m).astype(np.int64) - 1, 0, m - 1)
        key = y * m + b
        out.cal_count = state.cal_count + np.bincount(key, minlength=c * m).reshape(c, m)
        # calibration is of the scores' own argmax (confidence = its probability), even when y_pred
        # comes from another decision rule (thresholds, adjusted logits)
        out.cal_correct = state.cal_correct + np.bincount(key[summary.pred == y], minlength=c * m).reshape(c, m)
        fixed = np.rint(conf * CONF_SCALE)
        out.cal_conf = state.cal_conf + np.bincount(key, weights=fixed, minlength=c * m).reshape(c, m).astype(np.int64)
    return out


def merge(a: ConfusionState, b: ConfusionState) -> ConfusionState:
    """Sum of two states over disjoint shards (exact: integer counts)."""
    if a.confusion.shape != b.confusion.shape:
        raise InputError(f"cannot merge states of {a.n_classes} and {b.n_classes} classes")
    if a.has_scores != b.has_scores or a.max_k != b.max_k:
        raise InputError("cannot merge a state with scores (top-k, calibration) and one without")
    out = ConfusionState(a.confusion + b.confusion)
    if a.has_scores:
        out.rank_hist = a.rank_hist + b.rank_hist
        out.cal_count = a.cal_count + b.cal_count
        out.cal_correct = a.cal_correct + b.cal_correct
        out.cal_conf = a.cal_conf + b.cal_conf
    return out
