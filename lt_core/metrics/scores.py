"""Per-sample summaries of a score matrix: predicted class, confidence, rank of the true class.

This is the only pass over the (N, C) scores; every metric is then computed from the small
mergeable state (:mod:`lt_core.metrics.state`). Rows are processed in cache-sized chunks on
two threads (NumPy releases the GIL inside its ufuncs).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["ScoreSummary", "summarize_scores", "is_probability_matrix"]

_CHUNK_BYTES = 1 << 20  # ~1 MiB of scores per chunk: the repeated passes stay in cache
_THREADS = max(1, min(2, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None
_LOCAL = threading.local()


def _buffer(name: str, shape: tuple[int, int], dtype) -> np.ndarray:
    """A per-thread scratch array (reused across chunks: no page faults on every chunk)."""
    key = (name, np.dtype(dtype).str)
    buf = getattr(_LOCAL, "bufs", None)
    if buf is None:
        buf = _LOCAL.bufs = {}
    arr = buf.get(key)
    if arr is None or arr.size < shape[0] * shape[1]:
        arr = buf[key] = np.empty(shape[0] * shape[1], dtype)
    return arr[: shape[0] * shape[1]].reshape(shape)


class ScoreSummary:
    """What the metrics need from the scores, one value per sample.

    Attributes
    ----------
    pred : ndarray (N,) int64
        argmax of the scores (the first index among ties, as ``numpy.argmax``).
    conf : ndarray (N,) float64 or None
        Confidence in [0, 1]: the largest softmax probability (logits) or largest probability.
    rank : ndarray (N,) int64 or None
        Rank of the true class (0 = top), ties broken as ``sklearn.metrics.top_k_accuracy_score``
        does (among equal scores the higher class index ranks first). Only computed when
        ``y`` is given.
    """

    __slots__ = ("pred", "conf", "rank")

    def __init__(self, pred: np.ndarray, conf: np.ndarray | None, rank: np.ndarray | None):
        self.pred, self.conf, self.rank = pred, conf, rank


def is_probability_matrix(scores: np.ndarray, atol: float = 1e-3, sample: int = 2048) -> bool:
    """True when (a sample of) the rows are non-negative and sum to 1 within ``atol``."""
    s = np.asarray(scores)
    rows = s[: min(len(s), sample)]
    if rows.size == 0:
        return True
    return bool((rows >= 0).all() and np.allclose(rows.sum(axis=1, dtype=np.float64), 1.0, atol=atol))


def _chunk(S: np.ndarray, y: np.ndarray | None, softmax: bool, max_k: int, pred, conf, rank) -> None:
    n = len(S)
    ar = np.arange(n)
    p = S.argmax(axis=1)
    pred[:] = p
    mx = S[ar, p]
    if softmax:
        if n and -60.0 < mx.min() and mx.max() < 60.0:
            # exp without the max shift is safe here (no overflow, the largest term is normal)
            z = np.exp(S, out=_buffer("z", S.shape, S.dtype))
            # float32 pairwise sums: relative error ~1e-7, far below what ECE can resolve
            conf[:] = np.exp(mx.astype(np.float64)) / z.sum(axis=1)
        else:
            z = np.subtract(S, mx[:, None], out=_buffer("z", S.shape, S.dtype))
            np.exp(z, out=z)
            conf[:] = 1.0 / z.sum(axis=1)
    else:
        conf[:] = mx
    if y is not None:
        st = S[ar, y]
        buf = _buffer("b", S.shape, bool)
        acc = np.uint16 if S.shape[1] < 65535 else np.int64  # exact counts, narrow accumulator when safe
        r = np.add.reduce(np.greater(S, st[:, None], out=buf).view(np.uint8), axis=1, dtype=acc).astype(np.int64)
        # sklearn's tie rule: an equal score of a higher class index ranks ahead of the true class.
        # A chunk-wide count tells whether any row has a tie at its true score (rare for real-valued
        # scores); only then are the affected rows (with a rank below max_k) counted exactly.
        np.equal(S, st[:, None], out=buf)
        if np.count_nonzero(buf) > n:
            n_eq = np.add.reduce(buf.view(np.uint8), axis=1, dtype=acc)
            ties = np.flatnonzero((n_eq > 1) & (r < max_k))
            if len(ties):
                cols = np.arange(S.shape[1])
                r[ties] += np.count_nonzero(buf[ties] & (cols[None, :] > y[ties, None]), axis=1)
        rank[:] = r


def summarize_scores(scores: np.ndarray, y: np.ndarray | None = None, kind: str = "logits",
                     max_k: int = 5, threads: int | None = None) -> ScoreSummary:
    """One pass over the scores: argmax, confidence and (with ``y``) the true class's rank.

    Parameters
    ----------
    scores : ndarray (N, C) float
        Logits (``kind="logits"``, softmax applied for the confidence) or probabilities.
    y : ndarray (N,) int, optional
        True class index per sample; needed for top-k ranks.
    kind : {"logits", "probs"}
    threads : int, optional
        Worker threads (default: up to 2).
    max_k : int
        Ranks are exact below ``max_k`` (the largest k of top-k accuracy); larger ranks may
        ignore ties.

    Returns
    -------
    ScoreSummary
    """
    S = np.asarray(scores)
    if S.dtype not in (np.float32, np.float64):
        S = S.astype(np.float32)
    n, c = S.shape
    softmax = kind != "probs"
    pred = np.empty(n, np.int64)
    conf = np.empty(n, np.float64)
    rank = np.empty(n, np.int64) if y is not None else None
    yy = None if y is None else np.asarray(y, dtype=np.int64)
    step = max(16, _CHUNK_BYTES // max(1, c * S.itemsize))
    bounds = [(a, min(n, a + step)) for a in range(0, n, step)]

    def work(ab):
        a, b = ab
        _chunk(S[a:b], None if yy is None else yy[a:b], softmax, max_k, pred[a:b], conf[a:b],
               None if rank is None else rank[a:b])

    nt = threads or _THREADS
    if nt > 1 and len(bounds) > 1:
        global _POOL
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=_THREADS)
        list(_POOL.map(work, bounds))
    else:
        for ab in bounds:
            work(ab)
    return ScoreSummary(pred, conf, rank)
