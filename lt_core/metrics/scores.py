"""Per-sample summaries of a score matrix: predicted class, confidence, rank of the true class.

This is the only pass over the (N, C) scores; every metric is then computed from the small
mergeable state (:mod:`lt_core.metrics.state`). Rows are processed in blocks of ~2 MiB of scores
by two threads (NumPy releases the GIL inside its loops); each block is read from memory once
and the later passes find it in cache:

- ``argmax`` (NumPy's, so ties go to the first maximum) and the row max;
- logits: ``exp`` of the block into a scratch buffer and a per-row ``einsum`` sum; the
  confidence is ``exp(max) / sum(exp)`` without the max shift (one pass fewer); rows whose max
  lies outside (-60, 60) are recomputed with the shifted float64 formula;
- the rank of the true class with sklearn's tie rule in ONE comparison: the row is compared
  with its true score ``t`` up to the true class's column and with ``nextafter(t, -inf)``
  after it (``s > nextafter(t, -inf)`` is ``s >= t``), the thresholds laid out flat with
  ``numpy.repeat``; the per-row count sums the bool row as uint64 words (eight byte lanes).

Every value of a row depends on that row only (never on its block or on other rows), so shards
merge to exactly the numbers of one pass. ``pred`` and ``rank`` are exact; confidences are
float32 sums (relative error < 2e-6), and those within ``EDGE_TOL`` of an ECE bin edge are
recomputed in float64 (:func:`softmax_max64`), so each sample's ECE bin is that of the exact
softmax.
"""
from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["ScoreSummary", "summarize_scores", "is_probability_matrix", "softmax_max64", "EDGE_TOL"]

_BLOCK_BYTES = 1 << 21  # ~2 MiB of scores per block: ~20 us of Python per block, the block stays in L3
_THREADS = max(1, min(2, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_LOCAL = threading.local()
_SAFE = 60.0  # |row max| below this: exp without the max shift neither overflows nor underflows the max term
EDGE_TOL = 1e-5  # confidences this close to an ECE bin edge are recomputed in float64


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
        does (among equal scores the higher class index ranks first), exact for every row.
        Only computed when ``y`` is given.
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


def softmax_max64(rows: np.ndarray) -> np.ndarray:
    """Largest softmax probability of each row, in float64 (the reference formula).

    Parameters
    ----------
    rows : ndarray (n, C) float
        Logits.

    Returns
    -------
    ndarray (n,) float64
        ``1 / sum_j exp(s_j - max_j s_j)``.
    """
    r = np.asarray(rows, dtype=np.float64)
    if r.shape[0] == 0:
        return np.empty(0)
    return 1.0 / np.exp(r - r.max(axis=1, keepdims=True)).sum(axis=1)


def _scratch(n: int, c: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Per-thread scratch: an (n, C) float buffer and an (n, C8) bool buffer (C8 = C rounded up to
    8, the padding columns always False), reused across blocks (no page faults per block)."""
    dt = np.dtype(dtype)
    key = (n, c, dt.str)
    cached = getattr(_LOCAL, "scratch", None)
    if cached is None or cached[0] != key:
        c8 = -(-c // 8) * 8
        cached = _LOCAL.scratch = (key, np.empty((n, c), dt), np.zeros((n, c8), bool))
    return cached[1], cached[2]


def _lanes(c: int) -> bool:
    """Whether per-row counts of an (n, C8) bool array can be summed as uint64 words: each byte
    lane adds at most C8 / 8 ones, so lanes never carry into each other while C8 <= 2040."""
    return -(-c // 8) <= 255


_M8 = np.uint64(0x00FF00FF00FF00FF)
_ONES16 = np.uint64(0x0001000100010001)


def _lane_total(w: np.ndarray) -> np.ndarray:
    """(n,) uint64 words of eight byte lanes (each <= 255) -> (n,) int64 sums of the lanes.

    Pairs of byte lanes are added into four 16-bit lanes (each <= 510), whose sum (<= 2040)
    a multiplication by 0x0001000100010001 gathers in the top 16 bits."""
    pairs = (w & _M8) + ((w >> np.uint64(8)) & _M8)
    return ((pairs * _ONES16) >> np.uint64(48)).astype(np.int64)


def _denormals_flushed() -> bool:
    """True when this thread's FPU treats denormals as zero (DAZ/FTZ set by some library)."""
    return not bool((_TINY > 0)[0])


_TINY = np.array([1e-45], np.float32)  # the smallest float32 denormal


class _Work:
    """The arrays one call fills, block by block (rows a:b), from any thread.

    Ranks need one comparison per score: row i is compared with its true score ``t`` on the
    columns up to its true class and with ``nextafter(t, -inf)`` after it, so a score equal to
    ``t`` counts only when its class index is higher (sklearn's tie rule). The per-position
    thresholds are laid out flat with ``numpy.repeat`` (an array-array comparison is about twice
    as fast as a row-broadcast one, so this costs what a single broadcast comparison would).
    """

    def __init__(self, S: np.ndarray, y: np.ndarray | None, softmax: bool, step: int):
        n, c = S.shape
        self.S, self.y, self.softmax, self.step = S, y, softmax, step
        self.ar = np.arange(step)
        self.pred = np.empty(n, np.int64)
        self.mx = np.empty(n, S.dtype)
        self.zsum = np.empty(n, S.dtype) if softmax else None
        self.lanes = _lanes(c)
        self.gt = None
        if y is not None:
            self.st = np.empty(n, S.dtype)  # true score per row (gathered per block, from cache)
            self.thr = np.empty(2 * n, S.dtype)  # (true score, its predecessor) per row
            lens = np.empty(2 * n, np.int64)  # (columns 0..y, columns y+1..C-1) per row
            lens[0::2] = y + 1
            lens[1::2] = c - 1 - y
            self.lens = lens
            self.gt = np.empty(n, np.uint64 if self.lanes else np.int64)
        self.flushed = False

    def block(self, a: int, b: int) -> None:
        with np.errstate(all="ignore"):  # overflowing rows are recomputed; NaN rows are reported by update()
            self._block(a, b)

    def _block(self, a: int, b: int) -> None:
        S = self.S[a:b]
        if not S.flags.c_contiguous:
            S = np.ascontiguousarray(S)
        n, c = S.shape
        zbuf, bbuf = _scratch(self.step, c, S.dtype)
        p = self.pred[a:b]
        S.argmax(axis=1, out=p)
        self.mx[a:b] = S[self.ar[:n], p]
        if self.softmax:
            z = zbuf[:n]
            np.exp(S, out=z)  # no max shift: rows with |max| >= 60 are recomputed afterwards
            np.einsum("ij->i", z, out=self.zsum[a:b])
        if self.gt is None:
            return
        if _denormals_flushed():  # per thread: the FPU mode is a thread's own
            self.flushed = True
        st = self.st[a:b]
        st[:] = S[self.ar[:n], self.y[a:b]]
        thr = self.thr[2 * a:2 * b]
        thr[0::2] = st
        np.nextafter(st, -np.inf, out=thr[1::2])
        T = np.repeat(thr, self.lens[2 * a:2 * b]).reshape(n, c)
        bb = bbuf[:n]
        np.greater(S, T, out=bb[:, :c])
        if self.lanes:
            np.sum(bb.view(np.uint64), axis=1, out=self.gt[a:b])
        else:
            np.add.reduce(bb.view(np.uint8), axis=1, dtype=np.int64, out=self.gt[a:b])


def summarize_scores(scores: np.ndarray, y: np.ndarray | None = None, kind: str = "logits",
                     max_k: int = 5, threads: int | None = None,
                     n_bins: int | None = 15) -> ScoreSummary:
    """One pass over the scores: argmax, confidence and (with ``y``) the true class's rank.

    Parameters
    ----------
    scores : ndarray (N, C) float
        Logits (``kind="logits"``, softmax applied for the confidence) or probabilities.
    y : ndarray (N,) int, optional
        True class index per sample (0..C-1); needed for top-k ranks.
    kind : {"logits", "probs"}
    max_k : int
        The largest k of top-k accuracy (kept for callers; ranks are exact for every row).
    threads : int, optional
        Worker threads (default: up to 2).
    n_bins : int or None
        ECE bins (equal width on (0, 1]) whose edges get exact float64 confidences; None: no
        edge correction.

    Returns
    -------
    ScoreSummary
    """
    S = np.asarray(scores)
    if S.dtype not in (np.float32, np.float64):
        S = S.astype(np.float32)
    n, c = S.shape
    softmax = kind != "probs"
    yy = None if y is None else np.asarray(y, dtype=np.int64)
    step = max(16, _BLOCK_BYTES // max(1, c * S.itemsize))
    w = _Work(S, yy, softmax, step)
    n_blocks = -(-n // step)
    nt = max(1, min(threads or _THREADS, n_blocks))
    counter = itertools.count()

    def work() -> None:
        for i in counter:  # blocks are taken in turn by whichever thread is free
            a = i * step
            if a >= n:
                return
            w.block(a, min(n, a + step))

    if nt > 1:
        global _POOL
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="lt-scores")
        futures = [_POOL.submit(work) for _ in range(nt - 1)]
        work()  # the calling thread works too
        for f in futures:
            f.result()
    else:
        work()
    return _finish(w, max_k, n_bins)


def _finish(w: _Work, max_k: int, n_bins: int | None) -> ScoreSummary:
    """Per-row arithmetic on the block results (vectorised over all rows)."""
    S, y = w.S, w.y
    with np.errstate(all="ignore"):
        mx = w.mx.astype(np.float64)
        if w.softmax:
            # float64 numerator over the float32 sum of the same exps: relative error < 2e-6
            conf = np.exp(mx) / w.zsum
            bad = np.flatnonzero(~((mx > -_SAFE) & (mx < _SAFE)))  # per row: never depends on the block
            if len(bad):
                conf[bad] = softmax_max64(S[bad])
            if n_bins:
                _exact_near_edges(S, conf, int(n_bins))
        else:
            conf = mx
    rank = None
    if y is not None:
        rank = _lane_total(w.gt) if w.lanes else w.gt
        # rows the single comparison cannot rank: a true score of -inf (no predecessor), NaN,
        # or every row when this thread flushes denormals (the predecessor of 0 is one)
        odd = np.ones(len(y), bool) if w.flushed else ~np.isfinite(w.st)
        fix = np.flatnonzero(odd)
        if len(fix):
            rank[fix] = _exact_rank(S[fix], y[fix])
    return ScoreSummary(w.pred, conf, rank)


def _exact_rank(S: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Rank of the true class by two comparisons (the reference formula), (n,) int64."""
    st = S[np.arange(len(y)), y][:, None]
    after = np.arange(S.shape[1])[None, :] > y[:, None]
    return np.count_nonzero(S > st, axis=1) + np.count_nonzero((S == st) & after, axis=1)


def _exact_near_edges(S: np.ndarray, conf: np.ndarray, m: int) -> None:
    """Recompute in float64 the confidences within EDGE_TOL of an interior bin edge k / m."""
    k = np.rint(conf * m)
    near = np.flatnonzero((np.abs(conf * m - k) < EDGE_TOL * m) & (k >= 1) & (k <= m - 1))
    if len(near):
        conf[near] = softmax_max64(S[near])
