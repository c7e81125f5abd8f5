"""From matching statistics to precision / recall tables and the headline numbers.

Reproduces ``COCOeval.accumulate`` / ``summarize`` and ``LVISEval.accumulate`` / ``summarize``:
per class, detections of all images in score order (stable: image id, then rank within the
image break ties), cumulative true / false positives, precision made monotone from the right,
and read at the 101 recall thresholds with ``searchsorted(rc, rec_thrs, "left")``. A class with
no non-ignored ground truth in an area range gets -1 there and is left out of the means.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matching import MatchState

__all__ = ["Accumulated", "accumulate", "accumulate_numpy", "summarize_ap", "summarize_ar", "class_order"]


@dataclass
class Accumulated:
    """Precision and recall tables.

    Attributes
    ----------
    precision : ndarray (T, R, C, A, M) float64   interpolated precision; -1 = no ground truth
    recall : ndarray (T, C, A, M) float64         final recall; -1 = no ground truth
    max_dets : tuple of int                       M values (lvis: one, the per-image limit)
    cat_order : ndarray (C,) int64                class indices in category-id order (the
                                                  references' order: means are summed in it)
    """

    precision: np.ndarray
    recall: np.ndarray
    max_dets: tuple
    cat_order: np.ndarray | None = None


def class_order(state: MatchState) -> tuple[np.ndarray, np.ndarray]:
    """Permutation sorting detections by (class, score desc, image id, rank), and class starts.

    Returns ``order`` (N,) and ``starts`` (C + 1,): detections of class k are
    ``order[starts[k]:starts[k + 1]]``.
    """
    img = state.img
    if len(img) < 2 or bool(np.all(img[1:] >= img[:-1])):
        # shards merged in image order: within a class, (image, rank) order is already there,
        # so two stable sorts give the same permutation as the full lexsort
        order = np.argsort(-state.score, kind="stable")
        cat = state.cat[order]
        if len(state.class_ids) < 32767:
            cat = cat.astype(np.int16)  # a stable sort of 16-bit keys is a radix sort in NumPy
        order = order[np.argsort(cat, kind="stable")]
    else:
        order = np.lexsort((state.rank, state.img, -state.score, state.cat))
    starts = np.searchsorted(state.cat[order], np.arange(len(state.class_ids) + 1))
    return order, starts


def _unpack(bits: np.ndarray, n: int) -> np.ndarray:
    """(N,) uint64 -> (N, n) bool, column j = bit j."""
    return ((bits[:, None] >> np.arange(n, dtype=np.uint64)[None, :]) & np.uint64(1)).astype(bool)


def _min_counts(npig: np.ndarray, rec_thrs: np.ndarray) -> np.ndarray:
    """Smallest integer x with ``x / npig >= rec_thr`` in float64 arithmetic, shape (A, R).

    ``searchsorted(tp / npig, rec_thrs, "left")`` equals ``searchsorted(tp, x, "left")`` because
    float division by a positive constant is monotone; this lets one integer search serve all
    columns at once.
    """
    n = np.maximum(npig.astype(np.float64), 1.0)[:, None]
    c = np.ceil(rec_thrs[None, :] * n).astype(np.int64)
    x = c + 1
    for d in (0, -1):
        cand = c + d
        ok = (cand >= 0) & ((cand / n) >= rec_thrs[None, :])
        x = np.where(ok, cand, x)
    return np.maximum(x, 0)


def accumulate(state: MatchState) -> Accumulated:
    """Precision (T, R, C, A, M) and recall (T, C, A, M) tables of a (merged) state.

    Runs the compiled kernel (:func:`lt_core.detection.kernels.accumulate_classes`, classes split
    over two threads) unless the NumPy backend is selected; both give the same tables.
    """
    from ._jit import use_kernels

    if use_kernels():
        return _accumulate_kernel(state)
    return accumulate_numpy(state)


def _accumulate_kernel(state: MatchState) -> Accumulated:
    from .kernels import accumulate_classes

    p = state.params
    T, A, R = p.n_thr, p.n_area, len(p.rec_thrs)
    C = len(state.class_ids)
    mds = np.asarray(tuple(p.max_dets) if p.style == "coco" else (p.max_dets[0],), np.int64)
    M = len(mds)
    # stored area / maxDets-major so that every (area, maxDets) table is one contiguous block;
    # exposed with the references' axes (T, R, C, A, M) / (T, C, A, M) as transposed views
    precision = (-np.ones((A, M, T, R, C))).transpose(2, 3, 4, 0, 1)
    recall = (-np.ones((A, M, T, C))).transpose(2, 3, 0, 1)
    order, starts = class_order(state)
    args = (order, starts.astype(np.int64), state.rank.astype(np.int64), state.matched, state.ignored,
            state.gt_count.astype(np.int64), T, mds, p.style == "coco", np.asarray(p.rec_thrs, np.float64))
    n = len(order)
    if n < 100_000 or C < 2:
        accumulate_classes(*args, 0, C, precision, recall)
    else:
        # two threads, each about half of the detections
        kmid = int(np.searchsorted(starts, n // 2))
        kmid = min(max(kmid, 1), C - 1)
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(2) as ex:
            f1 = ex.submit(accumulate_classes, *args, 0, kmid, precision, recall)
            f2 = ex.submit(accumulate_classes, *args, kmid, C, precision, recall)
            f1.result()
            f2.result()
    return Accumulated(precision=precision, recall=recall, max_dets=tuple(int(x) for x in mds),
                       cat_order=np.argsort(state.class_ids, kind="stable"))


def accumulate_numpy(state: MatchState) -> Accumulated:
    """The vectorised NumPy reference path of :func:`accumulate`."""
    p = state.params
    T, A, R = p.n_thr, p.n_area, len(p.rec_thrs)
    J = T * A
    C = len(state.class_ids)
    mds = tuple(p.max_dets) if p.style == "coco" else (p.max_dets[0],)
    M = len(mds)
    precision = -np.ones((T, R, C, A, M))
    recall = -np.ones((T, C, A, M))
    order, starts = class_order(state)
    rank_sorted = state.rank[order]
    eps = np.spacing(1)
    npig_all = state.gt_count  # (C, A)
    xmin_all = np.stack([_min_counts(npig_all[:, a], p.rec_thrs) for a in range(A)], axis=1)  # (C, A, R)
    col_area = np.repeat(np.arange(A), T)          # column j = a * T + t
    col_t = np.tile(np.arange(T), A)
    for k in range(C):
        npig = npig_all[k]                       # (A,)
        if not np.any(npig > 0):
            continue
        o = order[starts[k]:starts[k + 1]]
        mb = _unpack(state.matched[o], J)        # (n, J)
        ib = _unpack(state.ignored[o], J)
        rk = rank_sorted[starts[k]:starts[k + 1]]
        cols = np.flatnonzero(npig[col_area] > 0)
        for mi, md in enumerate(mds):
            if p.style == "coco" and len(rk) and rk.max() >= md:
                sel = rk < md
                m_, i_ = mb[sel], ib[sel]
            else:
                m_, i_ = mb, ib
            nd = m_.shape[0]
            ca, ct = col_area[cols], col_t[cols]
            if nd == 0:
                recall[ct, k, ca, mi] = 0.0
                precision[ct, :, k, ca, mi] = 0.0
                continue
            tpi = np.cumsum(m_[:, cols] & ~i_[:, cols], axis=0)
            fpi = np.cumsum(~m_[:, cols] & ~i_[:, cols], axis=0)
            tp = tpi.astype(np.float64)
            fp = fpi.astype(np.float64)
            rc_last = tp[-1] / npig[ca]
            recall[ct, k, ca, mi] = rc_last
            pr = tp / (fp + tp + eps)
            pr = np.maximum.accumulate(pr[::-1], axis=0)[::-1]
            # inds[r, j] = searchsorted(tp[:, j] / npig, rec_thrs, "left"), all columns at once
            jn = len(cols)
            off = np.arange(jn, dtype=np.int64) * (nd + 1)
            keys = (tpi.T + off[:, None]).ravel()
            xq = np.minimum(xmin_all[k, ca], nd + 1) + off[:, None]           # (jn, R)
            inds = np.searchsorted(keys, xq.ravel(), side="left").reshape(jn, R) - (off // (nd + 1) * nd)[:, None]
            valid = inds < nd
            q = np.where(valid, pr[np.minimum(inds, nd - 1), np.arange(jn)[:, None]], 0.0)  # (jn, R)
            precision[ct, :, k, ca, mi] = q
    return Accumulated(precision=precision, recall=recall, max_dets=mds,
                       cat_order=np.argsort(state.class_ids, kind="stable"))


def summarize_ar(acc: Accumulated, params, t: float | None = None, area: int = 0,
                 classes: np.ndarray | None = None, m: int | None = None) -> float:
    """Mean of the recall table over the non -1 entries (the references' ``_summarize(ap=0)``).

    Same arguments as :func:`summarize_ap`; classes are taken in category-id order, as the
    references hold them, so the mean is summed in the same order.
    """
    s = acc.recall
    if t is not None:
        s = s[np.where(t == params.iou_thrs)[0]]
    s = s[:, :, area, params.headline_m if m is None else m]
    s = s[:, _classes_in_id_order(acc, classes)]
    v = s[s > -1]
    return -1.0 if v.size == 0 else float(np.mean(v))


def _classes_in_id_order(acc: Accumulated, classes) -> np.ndarray:
    order = acc.cat_order if acc.cat_order is not None else np.arange(acc.recall.shape[1])
    if classes is None:
        return order
    keep = np.zeros(acc.recall.shape[1], bool)
    keep[np.asarray(classes, dtype=np.int64)] = True
    return order[keep[order]]


def summarize_ap(acc: Accumulated, params, t: float | None = None, area: int = 0,
                 classes: np.ndarray | None = None, m: int | None = None) -> float:
    """Mean of the precision table over the non -1 entries (the references' ``_summarize``).

    Parameters
    ----------
    t : float, optional     one IoU threshold (e.g. 0.5), else all
    area : int              area-range index (0 all, 1 small, 2 medium, 3 large)
    classes : ndarray of int, optional   class indices to average over (lvis r / c / f groups)
    m : int, optional       maxDets index (default: ``params.headline_m``)
    """
    mi = params.headline_m if m is None else m
    key = ("p", area, mi)
    cache = acc.__dict__.setdefault("_views", {})
    if key not in cache:  # (T, R, C) in category-id order, made once per (area, maxDets)
        order = acc.cat_order if acc.cat_order is not None else np.arange(acc.precision.shape[2])
        block = acc.precision[:, :, :, area, mi]
        sorted_ids = bool(np.array_equal(order, np.arange(len(order))))
        cache[key] = np.ascontiguousarray(block if sorted_ids else block[:, :, order])
    s = cache[key]
    if t is not None:
        s = s[np.where(t == params.iou_thrs)[0]]
    if classes is not None:
        keep = np.zeros(acc.precision.shape[2], bool)
        keep[np.asarray(classes, dtype=np.int64)] = True
        order = acc.cat_order if acc.cat_order is not None else np.arange(acc.precision.shape[2])
        s = s[:, :, keep[order]]
    v = s[s > -1]
    return -1.0 if v.size == 0 else float(np.mean(v))
