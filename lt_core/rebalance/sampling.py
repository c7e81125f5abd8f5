"""Re-sampling as seeded, vectorised epoch-index generators (the torch Samplers wrap these).

Strategies (``strategy`` argument)
----------------------------------
``instance``         every sample once, shuffled (instance-balanced).
``class-balanced``   pick a class uniformly, then a sample of it uniformly (with replacement);
                     Kang et al. 2020 "Decoupling representation and classifier", p_j ∝ n_j^0.
``sqrt``             class probability ∝ n_j^q with q = 1/2 (square-root sampling; Mahajan et al. 2018,
                     Kang et al. 2020), then a sample of it uniformly.
``progressive``      p_j(t) = (1 - t/T) n_j / N + (t/T) / K at epoch t of T = ``num_epochs``
                     (progressively-balanced sampling, Kang et al. 2020).
``label-shuffling``  per class a random permutation of length max_j n_j, taken modulo the class size,
                     the lists concatenated and shuffled; a fresh list each epoch (Shen et al. 2016,
                     "Relay backpropagation", class-aware sampling).
``over`` / ``under`` random over- / under-sampling to ``target`` samples per class (default: the largest /
                     smallest class), as imbalanced-learn's RandomOverSampler / RandomUnderSampler.
``rfs``              repeat factor sampling (Gupta et al. 2019, LVIS): r(c) = max(1, sqrt(t / f(c))), f(c) the
                     fraction of training samples with label c (t = ``threshold``, default 0.001); a sample's
                     factor is r of its class, or ``repeat_factors`` given per sample (detection: per image,
                     see :mod:`lt_core.rebalance.rfs`); stochastic rounding each epoch as detectron2's
                     ``RepeatFactorTrainingSampler``.

Every epoch is drawn from ``numpy.random.default_rng([seed, epoch])``: the same (seed, epoch) gives
the same list, another epoch a fresh one. Classes with no sample are never drawn. All generators are
vectorised numpy (no per-sample Python loop).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["STRATEGIES", "epoch_indices", "expected_class_distribution", "expected_epoch_length",
           "expected_sample_repeats", "class_sampling_probabilities", "rng_for", "check_labels"]

STRATEGIES = ("instance", "class-balanced", "sqrt", "progressive", "label-shuffling", "over", "under", "rfs")
DEFAULT_RFS_THRESHOLD = 1e-3


def rng_for(seed: int, epoch: int = 0) -> np.random.Generator:
    """The generator of one epoch: ``default_rng([seed, epoch])``."""
    if int(seed) < 0 or int(epoch) < 0:
        raise InputError(f"seed and epoch must be >= 0, got seed={seed}, epoch={epoch}", field="seed")
    return np.random.default_rng([int(seed), int(epoch)])


def check_labels(y, n_classes: int | None = None) -> tuple[np.ndarray, int]:
    """Validate class indices: 1-D integers in 0..C-1. Returns (y int64, C)."""
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.size == 0:
        raise InputError(f"expected a non-empty 1-D array of class indices, got shape {arr.shape}", field="y")
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.isfinite(arr).all() and (arr == np.round(arr)).all():
            arr = arr.astype(np.int64)
        else:
            raise InputError(f"class indices must be integers, got dtype {arr.dtype}", field="y")
    arr = arr.astype(np.int64, copy=False)
    c = int(arr.max()) + 1 if n_classes is None else int(n_classes)
    if arr.min() < 0 or arr.max() >= c:
        raise InputError(f"class indices must be in 0..{c - 1}, found {int(arr.min())}..{int(arr.max())}",
                         field="y")
    return arr, c


def _counts(counts) -> np.ndarray:
    n = np.asarray(counts, dtype=np.float64)
    if n.ndim != 1 or n.size == 0 or (n < 0).any() or not np.isfinite(n).all():
        raise InputError("expected a non-empty vector of class counts >= 0", field="counts")
    if not (n > 0).any():
        raise InputError("every class has 0 samples", field="counts")
    return n


def _check_strategy(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise InputError(f"unknown sampling strategy '{strategy}'", field="strategy",
                         hint="use one of " + ", ".join(STRATEGIES))


def class_sampling_probabilities(counts, strategy: str, *, epoch: int = 0, num_epochs: int | None = None,
                                 q: float = 0.5) -> np.ndarray:
    """Class probabilities p_j of the class-then-sample strategies (instance, class-balanced, sqrt, progressive).

    Returns
    -------
    ndarray (C,) float64 summing to 1 (0 for empty classes).
    """
    n = _counts(counts)
    pos = n > 0
    if strategy == "instance":
        return n / n.sum()
    if strategy == "class-balanced":
        return pos / pos.sum()
    if strategy == "sqrt":
        w = np.where(pos, n ** float(q), 0.0)
        return w / w.sum()
    if strategy == "progressive":
        if num_epochs is None or int(num_epochs) < 1:
            raise InputError("progressive sampling needs num_epochs >= 1 (T in Kang et al. 2020)",
                             field="num_epochs")
        t = min(max(int(epoch), 0), int(num_epochs)) / int(num_epochs)
        return (1.0 - t) * n / n.sum() + t * pos / pos.sum()
    raise InputError(f"strategy '{strategy}' does not draw classes by probability", field="strategy")


def _rfs_class_factors(n: np.ndarray, threshold: float) -> np.ndarray:
    t = float(threshold)
    if not t > 0:
        raise InputError(f"the RFS threshold t must be > 0, got {threshold}", field="threshold")
    f = n / n.sum()
    with np.errstate(divide="ignore"):
        r = np.maximum(1.0, np.sqrt(t / f))
    r[n == 0] = 1.0
    return r


def _target(n: np.ndarray, target, kind: str) -> int:
    pos = n[n > 0]
    if target is None:
        return int(pos.max() if kind == "over" else pos.min())
    t = int(target)
    if t < 1:
        raise InputError(f"target per class must be >= 1, got {target}", field="target")
    return t


def expected_class_distribution(counts, strategy: str, *, epoch: int = 0, num_epochs: int | None = None,
                                num_samples: int | None = None, y=None, **params) -> np.ndarray:
    """Exact expected number of draws per class in one epoch (not estimated from a draw).

    Parameters
    ----------
    counts : array (C,)
        Training samples per class.
    strategy : str
        One of :data:`STRATEGIES`.
    num_samples : int, optional
        Epoch length of the class-then-sample strategies (default N = sum of counts).
    y : array (N,), optional
        Only for ``rfs`` with per-sample ``repeat_factors``.
    **params
        ``q`` (sqrt), ``target`` (over / under), ``threshold`` and ``repeat_factors`` (rfs).

    Returns
    -------
    ndarray (C,) float64
        Expected samples drawn from each class per epoch.
    """
    _check_strategy(strategy)
    n = _counts(counts)
    pos = n > 0
    total = n.sum()
    if strategy in ("instance", "class-balanced", "sqrt", "progressive"):
        if strategy == "instance":
            return n.copy()
        L = total if num_samples is None else int(num_samples)
        return L * class_sampling_probabilities(n, strategy, epoch=epoch, num_epochs=num_epochs,
                                                q=params.get("q", 0.5))
    if strategy == "label-shuffling":
        return np.where(pos, n.max(), 0.0)
    if strategy == "over":
        return np.where(pos, np.maximum(n, _target(n, params.get("target"), "over")), 0.0)
    if strategy == "under":
        return np.minimum(n, _target(n, params.get("target"), "under"))
    # rfs: expectation of stochastic rounding of r is r
    rf = params.get("repeat_factors")
    if rf is not None:
        if y is None:
            raise InputError("rfs with per-sample repeat_factors needs y to give the class distribution",
                             field="y")
        yy, _ = check_labels(y, n.size)
        return np.bincount(yy, weights=_check_factors(rf, yy.size), minlength=n.size)
    return n * _rfs_class_factors(n, params.get("threshold", DEFAULT_RFS_THRESHOLD))


def expected_epoch_length(counts, strategy: str, **kw) -> float:
    """Expected number of indices in one epoch (exact for every strategy but rfs, whose length varies)."""
    return float(expected_class_distribution(counts, strategy, **kw).sum())


def expected_sample_repeats(counts, strategy: str, **kw) -> np.ndarray:
    """Expected times each sample of class j is drawn per epoch, shape (C,) (NaN for empty classes)."""
    n = _counts(counts)
    e = expected_class_distribution(n, strategy, **kw)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, e / n, np.nan)


def _check_factors(rf, n: int) -> np.ndarray:
    r = np.asarray(rf, dtype=np.float64).ravel()
    if r.size != n:
        raise InputError(f"repeat_factors has {r.size} values for {n} samples", field="repeat_factors")
    if not np.isfinite(r).all() or (r < 0).any():
        raise InputError("repeat factors must be finite and >= 0", field="repeat_factors")
    return r


def stochastic_repeat_indices(repeat_factors, rng: np.random.Generator, *, shuffle: bool = True) -> np.ndarray:
    """Indices with sample i repeated floor(r_i) + Bernoulli(frac(r_i)) times (detectron2's rounding)."""
    r = np.asarray(repeat_factors, dtype=np.float64)
    base = np.floor(r)
    reps = (base + (rng.random(r.size) < (r - base))).astype(np.int64)
    idx = np.repeat(np.arange(r.size, dtype=np.int64), reps)
    return rng.permutation(idx) if shuffle else idx


def epoch_indices(y, n_classes: int | None, strategy: str, *, epoch: int = 0, seed: int = 0,
                  num_epochs: int | None = None, num_samples: int | None = None, **params) -> np.ndarray:
    """One seeded epoch of sample indices.

    Parameters
    ----------
    y : array (N,) int
        Class index (0..C-1) of each training sample.
    n_classes : int or None
        C (default max(y) + 1).
    strategy : str
        One of :data:`STRATEGIES` (see the module docstring).
    epoch, seed : int
        The epoch is drawn from ``default_rng([seed, epoch])``.
    num_epochs : int, optional
        T of ``progressive``.
    num_samples : int, optional
        Epoch length of class-balanced / sqrt / progressive (default N).
    **params
        ``q`` (sqrt, default 0.5), ``target`` (over / under), ``threshold`` (rfs, default 0.001),
        ``repeat_factors`` (rfs, per-sample factors overriding the class-based ones).

    Returns
    -------
    ndarray (L,) int64
        Indices into the N samples, in the order to visit them.
    """
    _check_strategy(strategy)
    yy, c = check_labels(y, n_classes)
    rng = rng_for(seed, epoch)
    N = yy.size
    if strategy == "instance":
        return rng.permutation(N).astype(np.int64)
    n = np.bincount(yy, minlength=c)
    order = np.argsort(yy, kind="stable")            # samples grouped by class
    offsets = np.concatenate([[0], np.cumsum(n)[:-1]])
    if strategy in ("class-balanced", "sqrt", "progressive"):
        L = N if num_samples is None else int(num_samples)
        if L < 1:
            raise InputError(f"num_samples must be >= 1, got {num_samples}", field="num_samples")
        p = class_sampling_probabilities(n, strategy, epoch=epoch, num_epochs=num_epochs, q=params.get("q", 0.5))
        cls = rng.choice(c, size=L, p=p)
        within = rng.integers(0, n[cls])
        return order[offsets[cls] + within]
    if strategy == "label-shuffling":
        cls = np.flatnonzero(n > 0)
        M = int(n.max())
        perms = rng.permuted(np.broadcast_to(np.arange(M, dtype=np.int64), (cls.size, M)), axis=1)
        local = perms % n[cls][:, None]
        idx = order[(offsets[cls][:, None] + local).ravel()]
        return rng.permutation(idx)
    if strategy == "over":
        t = _target(n.astype(float), params.get("target"), "over")
        extra = np.where(n > 0, np.maximum(t - n, 0), 0)
        cls = np.repeat(np.arange(c), extra)
        add = order[offsets[cls] + rng.integers(0, n[cls])] if cls.size else np.empty(0, np.int64)
        return rng.permutation(np.concatenate([np.arange(N, dtype=np.int64), add]))
    if strategy == "under":
        t = _target(n.astype(float), params.get("target"), "under")
        keys = rng.random(N)
        srt = np.lexsort((keys, yy))                  # by class, random order inside each class
        rank = np.arange(N) - offsets[yy[srt]]
        keep = srt[rank < t]
        return rng.permutation(keep)
    # rfs
    rf = params.get("repeat_factors")
    if rf is None:
        rf = _rfs_class_factors(n.astype(float), params.get("threshold", DEFAULT_RFS_THRESHOLD))[yy]
    else:
        rf = _check_factors(rf, N)
    return stochastic_repeat_indices(rf, rng)
