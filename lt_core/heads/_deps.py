"""Access to the sibling capabilities the heads build on (rebalancing, post-hoc, metrics).

One place to import them, so the heads package never re-implements them.
"""
from __future__ import annotations

import numpy as np

__all__ = ["class_weights", "epoch_indices", "multilabel_epoch_indices", "smote_resample", "tau_normalize"]


def class_weights(counts: np.ndarray, scheme: str = "effective-number", beta: float = 0.999) -> np.ndarray:
    """Per-class loss weights (C,), from :func:`lt_core.rebalance.class_weights`."""
    from ..rebalance import class_weights as _cw

    return np.asarray(_cw(np.asarray(counts), scheme=scheme, beta=beta), dtype=np.float64)


def epoch_indices(y: np.ndarray, n_classes: int, strategy: str, *, epoch: int = 0, seed: int = 0,
                  num_epochs: int | None = None, **params) -> np.ndarray:
    """Sample indices (int64) of one epoch, from :func:`lt_core.rebalance.epoch_indices`."""
    from ..rebalance import epoch_indices as _ei

    return np.asarray(_ei(y, n_classes, strategy, epoch=epoch, seed=seed, num_epochs=num_epochs, **params),
                      dtype=np.int64)


def multilabel_epoch_indices(Y, strategy: str, *, epoch: int = 0, seed: int = 0, **params) -> np.ndarray:
    """Sample indices of one epoch of multi-label data, from :func:`lt_core.rebalance.multilabel_epoch_indices`."""
    from ..rebalance import multilabel_epoch_indices as _mi

    return np.asarray(_mi(Y, strategy, epoch=epoch, seed=seed, **params), dtype=np.int64)


def smote_resample(X, y, method="smote", sampling_strategy="auto", k_neighbors=5, seed=0):
    """SMOTE-family oversampling of features, from :func:`lt_core.rebalance.smote_resample`."""
    from ..rebalance import smote_resample as _sm

    return _sm(X, y, method=method, sampling_strategy=sampling_strategy, k_neighbors=k_neighbors, seed=seed)


def tau_normalize(W: np.ndarray, tau: float) -> np.ndarray:
    """``W_i / ||W_i||^tau`` (Kang et al. 2020), from :func:`lt_core.posthoc.tau_normalize`."""
    from ..posthoc import tau_normalize as _tn

    return np.asarray(_tn(np.asarray(W), tau), dtype=np.float32)
