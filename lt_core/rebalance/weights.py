"""Class re-weighting: effective number of samples (Cui et al. 2019), inverse and inverse-sqrt frequency.

All weights are normalised so they sum to the number of classes C (the convention of
Cui et al., "Class-Balanced Loss Based on Effective Number of Samples", CVPR 2019, and of their
reference code: ``weights / weights.sum() * no_of_classes``). Classes with no training sample
get weight 0 (no training sample carries their label, so the weight never enters the loss).

The sufficient statistic is the class count vector: :func:`count_update` / :func:`count_merge`
build it from label shards (shards merged give exactly the counts of the whole).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["WEIGHT_SCHEMES", "effective_number", "class_weights", "weights_table", "bin_weight_share",
           "count_init", "count_update", "count_merge", "BETA_PRESETS"]

WEIGHT_SCHEMES = ("effective-number", "inverse", "sqrt-inverse", "uniform")
BETA_PRESETS = (0.9, 0.99, 0.999, 0.9999)


def _counts(counts, field: str = "counts") -> np.ndarray:
    n = np.asarray(counts, dtype=np.float64)
    if n.ndim != 1 or n.size == 0:
        raise InputError(f"expected a non-empty 1-D vector of class counts, got shape {n.shape}", field=field)
    if not np.isfinite(n).all() or (n < 0).any():
        raise InputError("class counts must be finite and >= 0", field=field)
    return n


def _beta(beta: float) -> float:
    b = float(beta)
    if not 0.0 <= b <= 1.0 or b != b:
        raise InputError(f"beta must be in [0, 1], got {beta}", field="beta",
                         hint="Cui et al. 2019 use 0.9, 0.99, 0.999 or 0.9999")
    return b


def effective_number(counts, beta: float) -> np.ndarray:
    """Effective number of samples E_n = (1 - beta^n) / (1 - beta) (Cui et al. 2019, Eq. 3).

    Parameters
    ----------
    counts : array (C,)
        Training samples per class, n >= 0.
    beta : float in [0, 1]
        beta = 0 gives E = 1 for every class with data; beta = 1 gives E = n (the limit).

    Returns
    -------
    ndarray (C,) float64
        E_n per class (0 where n = 0).
    """
    n = _counts(counts)
    b = _beta(beta)
    if b == 1.0:
        return n.copy()
    if b == 0.0:
        return (n > 0).astype(np.float64)
    # 1 - beta^n computed as -expm1(n log beta): exact for beta close to 1 where beta^n ~ 1
    return -np.expm1(n * np.log(b)) / (1.0 - b)


def class_weights(counts, scheme: str = "effective-number", beta: float = 0.999) -> np.ndarray:
    """Per-class loss weights, normalised to sum to C.

    Parameters
    ----------
    counts : array (C,)
        Training samples per class.
    scheme : {"effective-number", "inverse", "sqrt-inverse", "uniform"}
        ``effective-number``: w = (1 - beta) / (1 - beta^n) (Cui et al. 2019);
        ``inverse``: w = 1 / n; ``sqrt-inverse``: w = 1 / sqrt(n) (Mahajan et al. 2018);
        ``uniform``: w = 1.
    beta : float in [0, 1]
        Only for ``effective-number``. beta = 0 gives uniform weights, beta -> 1 inverse frequency.

    Returns
    -------
    ndarray (C,) float64
        Weights summing to C; 0 for classes with n = 0.
    """
    n = _counts(counts)
    if scheme not in WEIGHT_SCHEMES:
        raise InputError(f"unknown weighting scheme '{scheme}'", field="scheme",
                         hint="use one of " + ", ".join(WEIGHT_SCHEMES))
    pos = n > 0
    if not pos.any():
        raise InputError("every class has 0 training samples: nothing to weight", field="counts")
    raw = np.zeros_like(n)
    if scheme == "effective-number":
        raw[pos] = 1.0 / effective_number(n, beta)[pos]
    elif scheme == "inverse":
        raw[pos] = 1.0 / n[pos]
    elif scheme == "sqrt-inverse":
        raw[pos] = 1.0 / np.sqrt(n[pos])
    else:
        raw[pos] = 1.0
    return raw / raw.sum() * n.size


def weights_table(counts, scheme: str = "effective-number", beta: float = 0.999, *, class_ids=None,
                  names=None, bins=None) -> pd.DataFrame:
    """One row per class: class_id, name, count, effective_number, weight [, bin].

    ``effective_number`` is E_n for the given beta (n itself for the other schemes). The column
    names are those of the ``rebalance weights`` JSON/CSV export.
    """
    n = _counts(counts)
    c = n.size
    df = pd.DataFrame({
        "class_id": np.arange(c) if class_ids is None else np.asarray(class_ids),
        "name": [str(i) for i in range(c)] if names is None else [str(x) for x in names],
        "count": n.astype(np.int64),
        "effective_number": effective_number(n, beta) if scheme == "effective-number" else n,
        "weight": class_weights(n, scheme, beta),
    })
    if bins is not None:
        df["bin"] = np.asarray(bins, dtype=object)
    return df


def bin_weight_share(counts, weights, bins, order: list[str] | None = None) -> pd.DataFrame:
    """How much of the loss each bin carries before and after weighting.

    Parameters
    ----------
    counts, weights : array (C,)
    bins : array (C,) of bin names
    order : bin names in display order (head first); default: order of first appearance.

    Returns
    -------
    DataFrame with columns bin, classes, samples, sample_share (n_b / N),
    weighted_share (sum_b n_c w_c / sum n_c w_c), mean_weight (per sample of the bin).
    """
    n = _counts(counts)
    w = np.asarray(weights, dtype=np.float64)
    b = np.asarray(bins, dtype=object)
    if w.shape != n.shape or b.shape != n.shape:
        raise InputError(f"counts {n.shape}, weights {w.shape} and bins {b.shape} must have the same shape")
    order = order or list(dict.fromkeys(b.tolist()))
    mass = n * w
    rows = []
    for name in order:
        m = b == name
        ns = n[m].sum()
        rows.append({"bin": name, "classes": int(m.sum()), "samples": int(ns),
                     "sample_share": ns / n.sum() if n.sum() else np.nan,
                     "weighted_share": mass[m].sum() / mass.sum() if mass.sum() else np.nan,
                     "mean_weight": mass[m].sum() / ns if ns else np.nan})
    return pd.DataFrame(rows)


# --- mergeable sufficient statistic: class counts -------------------------------------------

def count_init(n_classes: int) -> np.ndarray:
    """Empty count state, shape (C,) int64."""
    return np.zeros(int(n_classes), dtype=np.int64)


def count_update(state: np.ndarray, y_shard) -> np.ndarray:
    """Add a shard of class indices (0..C-1) to the count state; returns the new state."""
    y = np.asarray(y_shard, dtype=np.int64).ravel()
    if y.size and (y.min() < 0 or y.max() >= state.size):
        raise InputError(f"class index out of range 0..{state.size - 1}", field="y")
    return state + np.bincount(y, minlength=state.size)


def count_merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Merge two count states (the counts of the union of their shards)."""
    return np.asarray(a, dtype=np.int64) + np.asarray(b, dtype=np.int64)
