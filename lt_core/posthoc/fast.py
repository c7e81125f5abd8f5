"""Fast repeated argmax of ``scores - tau * log_prior`` for many tau (the Thresholds slider).

For one row, ``tau -> argmax_c (z_c - tau * lp_c)`` is piecewise constant: the winner follows
the upper envelope of C lines. :class:`AdjustIndex` walks that envelope once per loaded run over
a tau range and keeps, per row, only the classes that come within a float rounding margin of
it (usually 1-4 of C). A tau change is then an argmax over those few candidates, exactly equal
(ties included: the smallest class index wins, as ``np.argmax``) to the dense float64
``(scores - tau * lp).argmax(1)``.

Build (per chunk of rows): (1) a float32 pre-filter keeps the classes that are running-max
records of their end-point values ``f(tau_min)`` / ``f(tau_max)`` from both sides of the classes
sorted by prior (any other class is beaten everywhere by a neighbour; a handful per row remain);
(2) the envelope is walked in float64 over those, breakpoint by breakpoint. Cost measured in
``benchmarks/bench_posthoc.py``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

__all__ = ["AdjustIndex", "build_adjust_index", "dense_adjusted_argmax"]

_CHUNK_ROWS = 4096


def dense_adjusted_argmax(scores: np.ndarray, lp: np.ndarray, tau: float) -> np.ndarray:
    """Reference: ``(scores - tau * lp).argmax(1)`` in float64, shape (N,) int64."""
    lp = np.asarray(lp, dtype=np.float64)
    return (scores - float(tau) * lp).argmax(1).astype(np.int64)


@dataclass
class _Bucket:
    rows: np.ndarray      # (n,) int64 row positions
    cls: np.ndarray       # (n, K) int64 candidate class indices, ascending, padded with the last
    z: np.ndarray         # (n, K) float64 scores of the candidates (-inf where padded)
    lp: np.ndarray        # (n, K) float64 log prior of the candidates (0 where padded)


@dataclass
class AdjustIndex:
    """Candidates per row for ``argmax(scores - tau * lp)`` over ``tau in [tau_min, tau_max]``.

    Build with :func:`build_adjust_index`. ``predict(tau)`` costs about N x (mean candidates)
    instead of N x C.

    Attributes
    ----------
    n_rows, n_classes : int
    tau_min, tau_max : float
        The range the index is exact on; ``predict`` outside it falls back to the dense argmax.
    fixed_rows, fixed_pred : ndarray
        Rows whose winner does not change over the range, and that winner.
    buckets : list
        Rows grouped by candidate count (padded to a power of two).
    lp : ndarray (C,) float64
    """

    n_rows: int
    n_classes: int
    tau_min: float
    tau_max: float
    lp: np.ndarray
    fixed_rows: np.ndarray
    fixed_pred: np.ndarray
    buckets: list = field(default_factory=list)
    scores: np.ndarray | None = None  # kept (by reference) for the dense fallback

    @property
    def mean_candidates(self) -> float:
        """Mean number of candidate classes per row (1 = the winner never changes)."""
        k = len(self.fixed_rows) + sum(int((b.z > -np.inf).sum()) for b in self.buckets)
        return k / max(self.n_rows, 1)

    def predict(self, tau: float) -> np.ndarray:
        """Predicted class per row at ``tau``, shape (N,) int64 (exactly the dense argmax)."""
        tau = float(tau)
        if not (self.tau_min <= tau <= self.tau_max):
            if self.scores is None:
                raise InputError(f"tau={tau} is outside the indexed range [{self.tau_min}, {self.tau_max}]",
                                 field="tau")
            return dense_adjusted_argmax(self.scores, self.lp, tau)
        out = np.empty(self.n_rows, dtype=np.int64)
        out[self.fixed_rows] = self.fixed_pred
        for b in self.buckets:
            v = b.z - tau * b.lp
            j = v.argmax(1)
            out[b.rows] = np.take_along_axis(b.cls, j[:, None], 1)[:, 0]
        return out

    def predict_many(self, taus) -> np.ndarray:
        """Predictions for several tau, shape (T, N) int64."""
        return np.stack([self.predict(t) for t in np.asarray(taus, dtype=np.float64).ravel()])


def _walk(Z: np.ndarray, LP: np.ndarray, t0: float, t1: float, eps: np.ndarray) -> np.ndarray:
    """Boolean (n, K): lines within ``eps`` of the upper envelope somewhere on [t0, t1].

    ``Z`` (n, K) intercepts at tau = 0, ``LP`` (n, K) minus the slopes (padding: -inf, 0).
    The envelope is walked breakpoint by breakpoint; a line ``c`` that never comes within
    ``eps`` of it at a breakpoint or an end point never does in between (``f_c - envelope``
    is concave and piecewise linear with kinks only at the breakpoints).
    """
    n, K = Z.shape
    cand = np.zeros((n, K), dtype=bool)
    b = np.full(n, t0)
    final = np.zeros(n, dtype=bool)
    active = np.arange(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        while active.size:
            Za, LPa, ba, ea = Z[active], LP[active], b[active], eps[active]
            V = Za - ba[:, None] * LPa                    # line values at the current breakpoint
            M = V.max(1)
            near = V >= (M - ea)[:, None]
            cand[active] |= near
            fin = final[active]
            # winner just after the breakpoint: the steepest (smallest lp) line among the near ones
            r = np.arange(len(active))
            w = np.where(near, LPa, np.inf).argmin(1)
            dl = LPa[r, w][:, None] - LPa                 # > 0: line rises faster than the winner
            gap = V[r, w][:, None] - V                    # > 0 for every steeper line (none is near)
            pos = dl > 0
            t = np.where(pos, gap / np.where(pos, dl, 1.0), np.inf)
            nb = ba + t.min(1)
            over = ~(nb < t1)                             # next change beyond the range (or none)
            b[active] = np.where(over, t1, nb)
            # a row that just reached t1 gets one more look there, then it is done
            final[active] = over & ~fin
            active = active[~fin]
    return cand


def _prefilter(Zt: np.ndarray, lp_sorted: np.ndarray, t0: float, t1: float, eps: float,
               work: np.ndarray) -> np.ndarray:
    """Boolean (C, n) superset of the candidates (rows of ``Zt`` = classes sorted by lp).

    A class ``j`` with ``lp_j <= lp_c`` and ``f_j(t0) > f_c(t0) + eps`` beats ``c`` by more
    than ``eps`` at every tau >= t0; one with ``lp_j >= lp_c`` and ``f_j(t1) > f_c(t1) + eps``
    beats it at every tau <= t1. So a candidate is a running-max record of the end values
    from both sides (float32 is enough: ``eps`` covers its rounding).
    """
    C, n = Zt.shape
    ok = np.empty((C, n), dtype=bool)
    tmp = np.empty(n, dtype=bool)
    we = np.empty_like(work)
    for t, order in ((t0, range(1, C)), (t1, range(C - 2, -1, -1))):
        np.subtract(Zt, (np.float32(t) * lp_sorted)[:, None], out=work)
        np.add(work, eps, out=we)
        first = 0 if t == t0 and order.start == 1 else C - 1
        run = work[first].copy()
        if first == 0:
            ok[0] = True
            for i in order:
                np.greater_equal(we[i], run, out=ok[i])
                np.maximum(run, work[i], out=run)
        else:
            for i in order:
                np.greater_equal(we[i], run, out=tmp)
                ok[i] &= tmp
                np.maximum(run, work[i], out=run)
    return ok


def _nonzero_sparse(ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-D C-contiguous bool array that is mostly False (reads 8 bytes at a time)."""
    flat = ok.reshape(-1)
    pad = (-flat.size) % 8
    if pad:
        return np.nonzero(ok)
    w = np.flatnonzero(flat.view(np.uint64))
    r, j = np.nonzero(flat.view(np.uint8).reshape(-1, 8)[w])
    return np.divmod(w[r] * 8 + j, ok.shape[1])


def build_adjust_index(scores: np.ndarray, lp: np.ndarray, tau_min: float = 0.0, tau_max: float = 2.0,
                       keep_scores: bool = True) -> AdjustIndex:
    """Precompute the per-row candidate classes for ``argmax(scores - tau * lp)``.

    Parameters
    ----------
    scores : array (N, C)
        Logits (or log-probabilities), finite, float32 or float64.
    lp : array (C,)
        Log train prior (:func:`lt_core.posthoc.log_prior`).
    tau_min, tau_max : float
        The tau range the slider / sweep covers.
    keep_scores : bool
        Keep a reference to ``scores`` so ``predict`` outside the range still works.

    Returns
    -------
    AdjustIndex
    """
    S = np.asarray(scores)
    lp = np.asarray(lp, dtype=np.float64).ravel()
    if S.ndim != 2 or S.shape[1] != lp.size:
        raise InputError(f"scores of shape {S.shape} do not fit a prior of {lp.size} classes", field="scores")
    if not np.isfinite(lp).all():
        raise InputError("log prior must be finite", field="prior")
    if not (np.isfinite(tau_min) and np.isfinite(tau_max) and tau_min <= tau_max):
        raise InputError(f"need a finite tau range with min <= max, got [{tau_min}, {tau_max}]", field="tau")
    N, C = S.shape
    t0, t1 = float(tau_min), float(tau_max)
    perm = np.argsort(lp, kind="stable")           # tail (smallest prior) first
    lp_sorted = lp[perm].astype(np.float32)
    tmax = max(abs(t0), abs(t1))
    rows_by_k: dict[int, list] = {}
    fixed_rows, fixed_pred = [], []
    work = None
    for s in range(0, N, _CHUNK_ROWS):
        Z32 = S[s:s + _CHUNK_ROWS]
        if not np.isfinite(Z32).all():
            bad = s + int(np.flatnonzero(~np.isfinite(Z32).all(1))[0])
            raise InputError(f"non-finite score in row {bad}", field="scores",
                             hint="logits must be finite; for probabilities pass log(clip(p, 1e-45, 1))")
        scale = float(np.abs(Z32).max()) + tmax * float(np.abs(lp).max()) + 1.0
        eps64 = 256 * np.finfo(np.float64).eps * scale     # float64 rounding margin (exact step)
        eps32 = 64 * np.finfo(np.float32).eps * scale      # float32 margin (pre-filter only)
        Zt = np.take(Z32.T.astype(np.float32, copy=False), perm, axis=0)   # (C, n), classes by lp
        if work is None or work.shape != Zt.shape:
            work = np.empty_like(Zt)
        ok = _prefilter(Zt, lp_sorted, t0, t1, np.float32(eps32), work)   # (C, n), classes by lp
        pos, row = _nonzero_sparse(ok)
        o = np.argsort(row, kind="stable")
        pos, row = pos[o], row[o]
        kp = np.bincount(row, minlength=len(Z32))
        width = int(kp.max())
        start = np.concatenate([[0], np.cumsum(kp)[:-1]])
        slot = np.arange(len(row)) - start[row]
        order = np.zeros((len(Z32), width), dtype=np.int64)
        valid = np.zeros((len(Z32), width), dtype=bool)
        order[row, slot] = pos
        valid[row, slot] = True
        cls_all = perm[order]                                                # class indices
        Z64 = np.take_along_axis(Z32, cls_all, 1).astype(np.float64)
        Zc = np.where(valid, Z64, -np.inf)
        LPc = np.where(valid, lp[cls_all], 0.0)
        sub = _walk(Zc, LPc, t0, t1, np.full(len(Zc), eps64)) & valid
        k = sub.sum(1)
        one = np.flatnonzero(k == 1)
        fixed_rows.append(s + one)
        fixed_pred.append(cls_all[one, sub[one].argmax(1)])
        many = np.flatnonzero(k > 1)
        if many.size:
            kk = k[many]
            wdt_all = 1 << np.ceil(np.log2(kk)).astype(int)
            for wdt in np.unique(wdt_all):
                sel = many[wdt_all == wdt]
                # candidates in ascending class index, padded to wdt
                cm = np.where(sub[sel], cls_all[sel], C)
                cm.sort(axis=1)
                # the chunk's pre-filter width can be below the bucket width (a power of two):
                # pad with C (= no candidate) so every chunk's part of a bucket has width wdt
                if cm.shape[1] < wdt:
                    cm = np.concatenate([cm, np.full((len(sel), wdt - cm.shape[1]), C, cm.dtype)], axis=1)
                cm = cm[:, :wdt]
                rows_by_k.setdefault(int(wdt), []).append((s + sel, cm))
    buckets = []
    for wdt, parts in sorted(rows_by_k.items()):
        rows = np.concatenate([p[0] for p in parts])
        cm = np.concatenate([p[1] for p in parts])
        valid = cm < C
        cls = np.where(valid, cm, 0)
        z = np.where(valid, S[rows[:, None], cls].astype(np.float64), -np.inf)
        lpc = np.where(valid, lp[cls], 0.0)
        buckets.append(_Bucket(rows=rows, cls=cls, z=np.ascontiguousarray(z), lp=np.ascontiguousarray(lpc)))
    fr = np.concatenate(fixed_rows) if fixed_rows else np.zeros(0, np.int64)
    fp = np.concatenate(fixed_pred).astype(np.int64) if fixed_pred else np.zeros(0, np.int64)
    return AdjustIndex(n_rows=N, n_classes=C, tau_min=t0, tau_max=t1, lp=lp, fixed_rows=fr, fixed_pred=fp,
                       buckets=buckets, scores=S if keep_scores else None)
