"""Re-sampling for multi-label data: a sample carries several classes, so sampling one class also
brings its co-occurring (often head) labels along.

Strategies (``strategy`` argument of :func:`multilabel_epoch_indices`)
--------------------------------------------------------------------
``instance``     every sample once, shuffled.
``class-aware``  class-aware sampling per label (Shen et al. 2016, "Relay backpropagation"; the
                 ``ClassAwareSampler`` of wutong16/DistributionBalancedLoss, Wu et al. 2020): the
                 classes with positives are visited equally often (an epoch of L draws gives each
                 class L / C' draws, the remainder to random classes), and each class's samples are
                 taken in random cycles (every sample of the class once before any repeats).
``rfs``          repeat factors over a sample's labels (Gupta et al. 2019, LVIS; detectron2's
                 ``RepeatFactorTrainingSampler``): ``r(c) = max(1, sqrt(t / f(c)))`` with f(c) the
                 fraction of training samples carrying c, a sample's factor the max over its labels
                 (1 without labels), stochastic rounding each epoch.

Every epoch is drawn from ``numpy.random.default_rng([seed, epoch])``. The expected positives per
class of an epoch (:func:`expected_label_distribution`) show the catch of multi-label
re-sampling: under class-aware sampling class j appears ``(L / C') sum_c P(j | c)`` times.
"""
from __future__ import annotations

import numpy as np

from ..data.schema import MultiLabels
from ..errors import InputError
from .sampling import DEFAULT_RFS_THRESHOLD, rng_for, stochastic_repeat_indices

__all__ = ["ML_STRATEGIES", "as_multilabels_csr", "multilabel_repeat_factors", "multilabel_epoch_indices",
           "expected_label_distribution"]

ML_STRATEGIES = ("instance", "class-aware", "rfs")


def as_multilabels_csr(labels) -> MultiLabels:
    """MultiLabels, or an (N, C) 0/1 matrix as MultiLabels."""
    if isinstance(labels, MultiLabels):
        return labels
    Y = np.asarray(labels)
    if Y.ndim != 2 or Y.shape[0] == 0:
        raise InputError(f"expected a non-empty (N, C) 0/1 label matrix, got shape {Y.shape}", field="labels")
    if Y.dtype != bool and not np.isin(Y, (0, 1)).all():
        raise InputError("multi-label targets must be 0/1", field="labels")
    return MultiLabels.from_dense(Y.astype(bool), "train")


def multilabel_repeat_factors(labels, threshold: float = DEFAULT_RFS_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """(sample factors (N,), class factors (C,)) of repeat factor sampling over labels.

    ``r(c) = max(1, sqrt(t / f(c)))``, f(c) = samples carrying c / N (classes without samples get
    1); a sample's factor is the max of its labels' (Gupta et al. 2019), 1 for a sample without labels.
    """
    ml = as_multilabels_csr(labels)
    t = float(threshold)
    if not t > 0:
        raise InputError(f"the RFS threshold must be > 0, got {threshold}", field="threshold")
    f = ml.counts() / max(len(ml), 1)
    with np.errstate(divide="ignore"):
        rc = np.where(f > 0, np.maximum(1.0, np.sqrt(t / np.where(f > 0, f, 1.0))), 1.0)
    per = ml.labels_per_sample()
    rs = np.ones(len(ml))
    if ml.nnz:
        row = np.repeat(np.arange(len(ml)), per)
        np.maximum.at(rs, row, rc[ml.indices])
    return rs, rc


def _class_aware(ml: MultiLabels, rng: np.random.Generator, length: int) -> np.ndarray:
    counts = ml.counts()
    cls = np.flatnonzero(counts > 0)
    if not len(cls):
        raise InputError("no class has a training sample", field="labels")
    # samples grouped by class (CSR transposed): order[offsets[c]:offsets[c+1]] carry c
    row = np.repeat(np.arange(len(ml)), ml.labels_per_sample())
    by_class = np.argsort(ml.indices, kind="stable")
    members = row[by_class]
    offsets = np.zeros(ml.n_classes + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    k = len(cls)
    draws = np.full(k, length // k, np.int64)
    draws[rng.permutation(k)[: length % k]] += 1
    out = []
    for j, c in enumerate(cls):
        m = members[offsets[c]:offsets[c + 1]]
        need = int(draws[j])
        if need == 0:
            continue
        reps = -(-need // len(m))
        cyc = np.concatenate([rng.permutation(m) for _ in range(reps)])  # random cycles, as RandomCycleIter
        out.append(cyc[:need])
    idx = np.concatenate(out) if out else np.zeros(0, np.int64)
    return rng.permutation(idx).astype(np.int64)


def multilabel_epoch_indices(labels, strategy: str, *, epoch: int = 0, seed: int = 0,
                             num_samples: int | None = None, threshold: float = DEFAULT_RFS_THRESHOLD,
                             **_ignored) -> np.ndarray:
    """One seeded epoch of sample indices for multi-label training data.

    Parameters
    ----------
    labels : MultiLabels or (N, C) 0/1
    strategy : {"instance", "class-aware", "rfs"}
    epoch, seed : int
        The epoch is drawn from ``default_rng([seed, epoch])``.
    num_samples : int, optional
        Epoch length of ``class-aware`` (default N).
    threshold : float
        t of ``rfs`` (default 0.001).

    Returns
    -------
    ndarray (L,) int64
    """
    if strategy not in ML_STRATEGIES:
        raise InputError(f"unknown multi-label sampling strategy '{strategy}'", field="strategy",
                         hint="use one of " + ", ".join(ML_STRATEGIES))
    ml = as_multilabels_csr(labels)
    rng = rng_for(seed, epoch)
    N = len(ml)
    if strategy == "instance":
        return rng.permutation(N).astype(np.int64)
    if strategy == "class-aware":
        L = N if num_samples is None else int(num_samples)
        if L < 1:
            raise InputError(f"num_samples must be >= 1, got {num_samples}", field="num_samples")
        return _class_aware(ml, rng, L)
    rs, _ = multilabel_repeat_factors(ml, threshold)
    return stochastic_repeat_indices(rs, rng)


def expected_label_distribution(labels, strategy: str, *, num_samples: int | None = None,
                                threshold: float = DEFAULT_RFS_THRESHOLD) -> np.ndarray:
    """Expected positives of each class in one epoch, (C,) float64.

    ``instance``: the train positives; ``rfs``: ``sum_i r_i y_ic``; ``class-aware``:
    ``(L / C') sum_c P(j | c)`` over the C' classes with samples (each draw of class c brings the
    labels its sample carries).
    """
    ml = as_multilabels_csr(labels)
    counts = ml.counts().astype(np.float64)
    if strategy == "instance":
        return counts
    if strategy == "rfs":
        rs, _ = multilabel_repeat_factors(ml, threshold)
        return np.bincount(ml.indices, weights=np.repeat(rs, ml.labels_per_sample()), minlength=ml.n_classes)
    if strategy == "class-aware":
        from scipy import sparse

        L = len(ml) if num_samples is None else int(num_samples)
        Ysp = sparse.csr_matrix((np.ones(ml.nnz), ml.indices, ml.indptr), shape=(len(ml), ml.n_classes))
        co = (Ysp.T @ Ysp).toarray()
        has = counts > 0
        cond = np.divide(co, counts[:, None], out=np.zeros_like(co), where=counts[:, None] > 0)  # P(j | c)
        return (L / has.sum()) * cond[has].sum(0)
    raise InputError(f"unknown multi-label sampling strategy '{strategy}'", field="strategy",
                     hint="use one of " + ", ".join(ML_STRATEGIES))
