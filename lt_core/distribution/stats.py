"""How long is the tail: counts per class, Lorenz curve, Gini, imbalance ratio, effective number."""
from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["class_counts", "lorenz_curve", "gini", "imbalance_ratio", "effective_number", "head_share"]


def class_counts(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Samples per class, shape (C,) int64, from class indices ``y`` (N,)."""
    y = np.asarray(y, dtype=np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise InputError(f"class indices must be in 0..{n_classes - 1}", field="labels")
    return np.bincount(y, minlength=int(n_classes)).astype(np.int64)


def _counts(counts) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64).ravel()
    if (c < 0).any() or not np.isfinite(c).all():
        raise InputError("counts must be finite and non-negative", field="count")
    return c


def lorenz_curve(counts) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative share of samples vs cumulative share of classes, rarest class first.

    Parameters
    ----------
    counts : array (C,)
        Samples per class (classes with 0 included: they are part of the inequality).

    Returns
    -------
    share_classes, share_samples : ndarray (C + 1,)
        Both start at 0 and end at 1; the diagonal is a perfectly balanced dataset.
    """
    c = np.sort(_counts(counts))
    n = len(c)
    x = np.arange(n + 1) / max(n, 1)
    tot = c.sum()
    y = np.concatenate([[0.0], np.cumsum(c) / tot]) if tot > 0 else x.copy()
    return x, y


def gini(counts) -> float:
    """Gini coefficient of the per-class counts: 0 balanced, -> 1 all samples in one class.

    ``G = sum_i (2 i - C - 1) x_(i) / (C * sum x)`` with counts sorted ascending (i = 1..C), which
    is twice the area between the diagonal and the Lorenz curve; equal to the relative mean
    absolute difference ``sum_ij |x_i - x_j| / (2 C^2 mean x)``.
    """
    c = np.sort(_counts(counts))
    n = len(c)
    if n == 0 or c.sum() == 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(((2 * i - n - 1) * c).sum() / (n * c.sum()))


def imbalance_ratio(counts) -> float:
    """max / min count over classes with at least one sample (inf when none has any)."""
    c = _counts(counts)
    pos = c[c > 0]
    return float(pos.max() / pos.min()) if len(pos) else float("inf")


def effective_number(counts, beta: float) -> np.ndarray:
    """Effective number of samples per class (Cui et al. 2019): ``E_n = (1 - beta^n) / (1 - beta)``.

    Parameters
    ----------
    counts : array (C,)
        Samples per class n.
    beta : float in [0, 1]
        0 gives 1 for every class with samples (no extra value in repeats); 1 gives n itself.

    Returns
    -------
    ndarray (C,) float64
    """
    if not 0.0 <= float(beta) <= 1.0:
        raise InputError(f"beta must be in [0, 1], got {beta}", field="beta",
                         hint="Cui et al. 2019 use 0.9, 0.99, 0.999, 0.9999")
    n = _counts(counts)
    if beta == 1.0:
        return n.copy()
    # 1 - beta^n computed as -expm1(n log beta): accurate for beta close to 1
    return -np.expm1(n * np.log(beta)) / (1.0 - beta) if beta > 0 else (n > 0).astype(np.float64)


def head_share(counts, top_fraction: float = 0.2) -> float:
    """Share of samples held by the most frequent ``top_fraction`` of classes (e.g. top 20%)."""
    c = np.sort(_counts(counts))[::-1]
    k = max(1, int(np.ceil(top_fraction * len(c))))
    return float(c[:k].sum() / c.sum()) if c.sum() else float("nan")
