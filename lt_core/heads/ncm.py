"""Nearest class mean (NCM) on L2-normalised features (Kang et al. 2020, Sec. 4).

Class means are computed from a mergeable state: ``state = ncm_update(state, X, y)``,
``ncm_merge(a, b)``, ``ncm_compute(state)``; any sharding of the training set gives the same
means. Scores are cosine similarities between the normalised feature and the normalised class
mean (the same ranking as the Euclidean distance between them).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .models import LinearHead

__all__ = ["NCMState", "ncm_init", "ncm_update", "ncm_merge", "ncm_compute", "ncm_head"]


@dataclass
class NCMState:
    """Sufficient statistics of NCM: per-class sums of normalised features and counts.

    Attributes
    ----------
    sums : ndarray (C, D) float64
    counts : ndarray (C,) int64
    """

    sums: np.ndarray
    counts: np.ndarray


def ncm_init(n_classes: int, dim: int) -> NCMState:
    """An empty state for C classes and D-dimensional features."""
    return NCMState(np.zeros((n_classes, dim)), np.zeros(n_classes, dtype=np.int64))


def _normalize(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    n = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.maximum(n, 1e-12)


def ncm_update(state: NCMState, X: np.ndarray, y: np.ndarray) -> NCMState:
    """Add a shard: X (N, D) features, y (N,) class indices. Returns a new state."""
    sums = state.sums.copy()
    np.add.at(sums, np.asarray(y, dtype=np.int64), _normalize(X))
    return NCMState(sums, state.counts + np.bincount(y, minlength=len(state.counts)))


def ncm_merge(a: NCMState, b: NCMState) -> NCMState:
    """Combine two states (of disjoint shards)."""
    return NCMState(a.sums + b.sums, a.counts + b.counts)


def ncm_compute(state: NCMState) -> np.ndarray:
    """L2-normalised class means (C, D) float32; a class without samples gets a zero row."""
    means = state.sums / np.maximum(state.counts, 1)[:, None]
    return _normalize(means).astype(np.float32) * (state.counts > 0)[:, None]


def ncm_head(means: np.ndarray) -> LinearHead:
    """A cosine :class:`LinearHead` whose weights are the normalised class means."""
    c, d = means.shape
    head = LinearHead(d, c, bias=False, normalize_input=True, normalize_weight=False)
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(means))
    return head
