"""Greedy matching of detections to ground truth, as mergeable sufficient statistics.

The matching rule is the one of pycocotools ``COCOeval.evaluateImg`` and lvis-api
``LVISEval.evaluate_img``: per (image, category), detections in score order each take the
unmatched ground truth with the highest IoU >= the threshold, preferring non-ignored ground
truth (crowd boxes may be matched many times); ties in IoU go to the later ground truth.

Here it runs vectorised over all (image, category) groups of a shard at once: only
(detection, ground truth) pairs with IoU >= the lowest threshold can ever match, so they are
kept sparse, and the greedy order is respected by processing the k-th candidate detection of
every group in step k.

The result is a :class:`MatchState`, the sufficient statistics of the evaluation: per kept
detection its score, class, image, rank and two bit masks (matched / ignored per IoU threshold
and area range), plus the number of non-ignored ground truths per class and area range.
``merge`` concatenates states of disjoint image shards; :func:`lt_core.detection.accumulate`
turns any merged state into exactly the numbers of one run over all images.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .params import EvalParams
from .prepare import DetTable, GTTable

__all__ = ["MatchState", "match_shard", "merge", "update", "empty_state", "bbox_iou_pairs"]


@dataclass
class MatchState:
    """Sufficient statistics of a detection evaluation over a set of images.

    Attributes
    ----------
    params : EvalParams
    class_ids : ndarray (C,) int64       category id per class index
    score : ndarray (N,) float64         detection score
    cat : ndarray (N,) int32             class index
    img : ndarray (N,) int64             image id (orders ties as the references do)
    rank : ndarray (N,) int32            position in its (image, category) list by score
    matched : ndarray (N,) uint64        bit ``a * T + t``: matched at IoU threshold t, area range a
    ignored : ndarray (N,) uint64        same bits: ignored (matched to an ignored / crowd ground
                                         truth, or unmatched and out of area range / not exhaustive)
    gt_count : ndarray (C, A) int64      non-ignored ground truths per class and area range
    n_images : int                       images covered
    image_ids : ndarray int64            ids of the images covered (merging refuses overlaps)
    notes : list of str                  what the preparation dropped and why
    det_index : ndarray (N,) int64       position of the detection in the results file
    match_ann : ndarray (N,) int64       id of the ground truth it matched at IoU 0.50, area all
                                         (-1: none; ``ann_id`` of the ground-truth file)
    iou : ndarray (N,) float64           its largest IoU with a ground truth of its image and class
    gt_img, gt_cat : ndarray (K,) int64  (image id, class index) pairs with ground truth ...
    gt_n : ndarray (K, A) int64          ... and their non-ignored ground truths per area range
                                         (the per-image part of ``gt_count``; the bootstrap
                                         resamples images with it)
    """

    params: EvalParams
    class_ids: np.ndarray
    score: np.ndarray
    cat: np.ndarray
    img: np.ndarray
    rank: np.ndarray
    matched: np.ndarray
    ignored: np.ndarray
    gt_count: np.ndarray
    n_images: int = 0
    image_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    notes: list = field(default_factory=list)
    det_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    match_ann: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    iou: np.ndarray = field(default_factory=lambda: np.zeros(0))
    gt_img: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    gt_cat: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    gt_n: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int64))

    def __len__(self) -> int:
        return len(self.score)

    def flags(self, t: int = 0, a: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(matched, ignored) booleans (N,) at IoU threshold index ``t`` and area index ``a``."""
        bit = np.uint64(a * self.params.n_thr + t)
        one = np.uint64(1)
        return ((self.matched >> bit) & one).astype(bool), ((self.ignored >> bit) & one).astype(bool)


def empty_state(params: EvalParams, class_ids: np.ndarray) -> MatchState:
    """The state of zero images (the neutral element of :func:`merge`)."""
    C = len(class_ids)
    return MatchState(params=params, class_ids=np.asarray(class_ids, np.int64), score=np.zeros(0),
                      cat=np.zeros(0, np.int32), img=np.zeros(0, np.int64), rank=np.zeros(0, np.int32),
                      matched=np.zeros(0, np.uint64), ignored=np.zeros(0, np.uint64),
                      gt_count=np.zeros((C, params.n_area), np.int64), n_images=0,
                      gt_n=np.zeros((0, params.n_area), np.int64))


def merge(a: MatchState, b: MatchState) -> MatchState:
    """Combine the states of two disjoint sets of images."""
    if a.params != b.params or not np.array_equal(a.class_ids, b.class_ids):
        raise ValueError("cannot merge detection states with different parameters or categories")
    if len(a.image_ids) and len(b.image_ids) and len(np.intersect1d(a.image_ids, b.image_ids)):
        raise ValueError("cannot merge detection states that share images")
    return MatchState(params=a.params, class_ids=a.class_ids,
                      score=np.concatenate([a.score, b.score]), cat=np.concatenate([a.cat, b.cat]),
                      img=np.concatenate([a.img, b.img]), rank=np.concatenate([a.rank, b.rank]),
                      matched=np.concatenate([a.matched, b.matched]),
                      ignored=np.concatenate([a.ignored, b.ignored]),
                      gt_count=a.gt_count + b.gt_count, n_images=a.n_images + b.n_images,
                      image_ids=np.concatenate([a.image_ids, b.image_ids]), notes=a.notes + b.notes,
                      det_index=np.concatenate([a.det_index, b.det_index]),
                      match_ann=np.concatenate([a.match_ann, b.match_ann]), iou=np.concatenate([a.iou, b.iou]),
                      gt_img=np.concatenate([a.gt_img, b.gt_img]), gt_cat=np.concatenate([a.gt_cat, b.gt_cat]),
                      gt_n=np.concatenate([a.gt_n, b.gt_n]))


def update(state: MatchState, gtt: GTTable, dtt: DetTable, img_lo: int, img_hi: int) -> MatchState:
    """``merge(state, match_shard(gtt, dtt, img_lo, img_hi))``."""
    return merge(state, match_shard(gtt, dtt, img_lo, img_hi, state.params))


def bbox_iou_pairs(d: np.ndarray, g: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """IoU of box pairs, the arithmetic of pycocotools ``bbIou`` (float64, same operation order).

    Parameters
    ----------
    d, g : ndarray (P, 4)   x, y, w, h of the detection and ground-truth box of each pair
    crowd : ndarray (P,) bool   crowd ground truth: the union is the detection area
    """
    da = d[:, 2] * d[:, 3]
    ga = g[:, 2] * g[:, 3]
    w = np.minimum(d[:, 2] + d[:, 0], g[:, 2] + g[:, 0]) - np.maximum(d[:, 0], g[:, 0])
    h = np.minimum(d[:, 3] + d[:, 1], g[:, 3] + g[:, 1]) - np.maximum(d[:, 1], g[:, 1])
    ok = (w > 0) & (h > 0)
    i = w * h
    u = np.where(crowd, da, da + ga - i)
    with np.errstate(divide="ignore", invalid="ignore"):
        o = np.where(ok, i / np.where(ok, u, 1.0), 0.0)
    return o


def _segments(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ranges [lo_i, hi_i): (owner i per element, element index)."""
    cnt = hi - lo
    total = int(cnt.sum())
    owner = np.repeat(np.arange(len(lo)), cnt)
    start = np.cumsum(cnt) - cnt
    idx = lo[owner] + (np.arange(total) - start[owner])
    return owner, idx


def _pairs(gtt: GTTable, dtt: DetTable, ds: slice, gs: slice, params: EvalParams, keep_all: bool = False):
    """Candidate (detection, ground truth, IoU) pairs of a shard with IoU >= the lowest threshold.

    Indices are local to the shard slices. Returned sorted by (detection, IoU, ground truth).
    """
    dkey = dtt.key[ds]
    gkey = gtt.key[gs]
    lo = np.searchsorted(gkey, dkey, "left")
    hi = np.searchsorted(gkey, dkey, "right")
    thr_min = min(float(params.iou_thrs.min()), 1 - 1e-10)
    if params.iou_type == "bbox":
        pd, pg = _segments(lo, hi)
        if len(pd) == 0:
            return pd, pg, np.zeros(0)
        iou = bbox_iou_pairs(dtt.bbox[ds][pd], gtt.bbox[gs][pg], gtt.crowd[gs][pg])
    else:
        pd, pg, iou = _segm_pairs(gtt, dtt, ds, gs, lo, hi)
    if not keep_all:
        keep = iou >= thr_min
        pd, pg, iou = pd[keep], pg[keep], iou[keep]
    o = np.lexsort((pg, iou, pd))
    return pd[o], pg[o], iou[o]


def _segm_pairs(gtt: GTTable, dtt: DetTable, ds: slice, gs: slice, lo: np.ndarray, hi: np.ndarray):
    """Mask IoU per (image, category) group with pycocotools' RLE routines."""
    from pycocotools import mask as mask_utils

    from .segm import gt_rle
    dkey = dtt.key[ds]
    n = len(dkey)
    out_d, out_g, out_i = [], [], []
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    starts = np.flatnonzero(np.r_[True, dkey[1:] != dkey[:-1]])
    ends = np.r_[starts[1:], n]
    g0 = gs.start
    d0 = ds.start
    for s, e in zip(starts, ends):
        a, b = int(lo[s]), int(hi[s])
        if b <= a:
            continue
        drles = [dtt.segm[d0 + k] for k in range(s, e)]
        grles = [gt_rle(gtt, g0 + k) for k in range(a, b)]
        ious = np.asarray(mask_utils.iou(drles, grles, [int(c) for c in gtt.crowd[g0 + a:g0 + b]]),
                          dtype=np.float64).reshape(e - s, b - a)
        dd, gg = np.meshgrid(np.arange(s, e), np.arange(a, b), indexing="ij")
        out_d.append(dd.ravel())
        out_g.append(gg.ravel())
        out_i.append(ious.ravel())
    if not out_d:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(out_d), np.concatenate(out_g), np.concatenate(out_i)


def match_shard(gtt: GTTable, dtt: DetTable, img_lo: int, img_hi: int, params: EvalParams) -> MatchState:
    """Match the detections of images ``img_lo <= index < img_hi`` (indices into ``gtt.img_ids``).

    Returns the :class:`MatchState` of those images. Box IoU runs in the compiled kernel
    (:func:`lt_core.detection.kernels.match_bbox`, two threads on large shards) unless the
    NumPy backend is selected (:mod:`lt_core.detection._jit`); both give the same bits.
    """
    from ._jit import use_kernels

    T, A = params.n_thr, params.n_area
    ds = slice(*np.searchsorted(dtt.img, [img_lo, img_hi]))
    gs = slice(*np.searchsorted(gtt.img, [img_lo, img_hi]))
    nd = ds.stop - ds.start
    ng = gs.stop - gs.start
    lo_a = params.area_rngs[:, 0]
    hi_a = params.area_rngs[:, 1]
    # ground truth ignored per area range: (A, G)
    g_area = gtt.area[gs]
    g_ig = gtt.ignore[gs][None, :] | (g_area[None, :] < lo_a[:, None]) | (g_area[None, :] > hi_a[:, None])
    g_nonig = ~g_ig
    C = gtt.n_classes
    gkey = gtt.key[gs]
    # per (image, class) pair: non-ignored ground truths per area range (the per-image state)
    if ng:
        first = np.flatnonzero(np.r_[True, gkey[1:] != gkey[:-1]])
        gt_n = np.stack([np.add.reduceat(g_nonig[a].astype(np.int64), first) for a in range(A)], axis=1)
        pair_key = gkey[first]
    else:
        gt_n = np.zeros((0, A), np.int64)
        pair_key = np.zeros(0, np.int64)
    pair_cat = pair_key % C if C else pair_key
    gt_count = np.zeros((C, A), np.int64)
    for a in range(A):
        gt_count[:, a] = np.bincount(pair_cat, weights=gt_n[:, a], minlength=C).astype(np.int64) if len(pair_cat) \
            else np.zeros(C, np.int64)
    if params.iou_type == "bbox" and use_kernels() and nd:
        mbits, ibits, match_g, best = _match_kernel(gtt, dtt, ds, gs, params)
    else:
        mbits, ibits, match_g, best = _match_numpy(gtt, dtt, ds, gs, params, g_nonig, nd, ng)
    match_ann = np.where(match_g >= 0, gtt.ann_id[np.maximum(match_g, 0)], -1) if len(gtt.ann_id) else \
        np.full(nd, -1, np.int64)
    return MatchState(params=params, class_ids=gtt.class_ids, score=dtt.score[ds].copy(),
                      cat=dtt.cat[ds].astype(np.int32), img=gtt.img_ids[dtt.img[ds]],
                      rank=dtt.rank[ds].astype(np.int32), matched=mbits,
                      ignored=ibits, gt_count=gt_count, n_images=int(img_hi - img_lo),
                      image_ids=gtt.img_ids[img_lo:img_hi].copy(),
                      det_index=(dtt.index[ds].copy() if dtt.index is not None else np.arange(ds.start, ds.stop)),
                      match_ann=match_ann.astype(np.int64), iou=best,
                      gt_img=gtt.img_ids[pair_key // C] if C else pair_key, gt_cat=pair_cat.astype(np.int64),
                      gt_n=gt_n)


def _match_kernel(gtt: GTTable, dtt: DetTable, ds: slice, gs: slice, params: EvalParams):
    """Matching bits from the compiled kernel; large shards split in two image halves (2 threads)."""
    from .kernels import match_bbox

    nd = ds.stop - ds.start
    thr = np.minimum(params.iou_thrs, 1 - 1e-10)  # the references: iou = min([t, 1 - 1e-10])
    mbits = np.empty(nd, np.uint64)
    ibits = np.empty(nd, np.uint64)
    match_g = np.empty(nd, np.int64)
    best = np.empty(nd)
    dkey = np.ascontiguousarray(dtt.key[ds])
    gkey = np.ascontiguousarray(gtt.key[gs])
    args = (dkey, np.ascontiguousarray(dtt.bbox[ds]), np.ascontiguousarray(dtt.area[ds]),
            np.ascontiguousarray(dtt.nel[ds]), gkey, np.ascontiguousarray(gtt.bbox[gs]),
            np.ascontiguousarray(gtt.area[gs]), np.ascontiguousarray(gtt.ignore[gs]),
            np.ascontiguousarray(gtt.crowd[gs]), thr, np.ascontiguousarray(params.area_rngs[:, 0]),
            np.ascontiguousarray(params.area_rngs[:, 1]))
    outs = (mbits, ibits, match_g, best)
    ng = len(gkey)
    if nd < 200_000:
        match_bbox(*args, 0, nd, 0, ng, *outs)
    else:
        # split at a group boundary: the first detection of the middle detection's group
        mid = int(np.searchsorted(dkey, dkey[nd // 2], "left"))
        gmid = int(np.searchsorted(gkey, dkey[mid], "left")) if mid < nd else ng
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(2) as ex:
            f1 = ex.submit(match_bbox, *args, 0, mid, 0, gmid, *outs)
            f2 = ex.submit(match_bbox, *args, mid, nd, gmid, ng, *outs)
            f1.result()
            f2.result()
    # ground-truth index local to the shard -> index into the whole table
    match_g = np.where(match_g >= 0, match_g + gs.start, -1)
    return mbits, ibits, match_g, best


def _match_numpy(gtt: GTTable, dtt: DetTable, ds: slice, gs: slice, params: EvalParams, g_nonig, nd: int, ng: int):
    """The vectorised NumPy reference path (any IoU type)."""
    T, A = params.n_thr, params.n_area
    lo_a = params.area_rngs[:, 0]
    hi_a = params.area_rngs[:, 1]
    matched = np.zeros((T, A, nd), bool)
    m_ig = np.zeros((T, A, nd), bool)
    match_g = np.full(nd, -1, np.int64)
    best = np.zeros(nd)
    if nd and ng:
        pd, pg, piou = _pairs(gtt, dtt, ds, gs, params, keep_all=True)
        if len(pd):
            np.maximum.at(best, pd, piou)
            keep = piou >= min(float(params.iou_thrs.min()), 1 - 1e-10)
            pd, pg, piou = pd[keep], pg[keep], piou[keep]
        if len(pd):
            _greedy(pd, pg, piou, dtt.key[ds], gtt.crowd[gs], g_nonig, params, matched, m_ig, match_g)
    # unmatched detections out of the area range (and lvis: not-exhaustive category) are ignored
    d_area = dtt.area[ds]
    d_out = (d_area[None, :] < lo_a[:, None]) | (d_area[None, :] > hi_a[:, None])  # (A, N)
    if params.style == "lvis":
        d_out = d_out | dtt.nel[ds][None, :]
    ignored = np.where(matched, m_ig, d_out[None, :, :])
    match_g = np.where(match_g >= 0, match_g + gs.start, -1)
    return _pack_bits(matched).astype(np.uint64), _pack_bits(ignored).astype(np.uint64), match_g, best


def _pack_bits(flags: np.ndarray) -> np.ndarray:
    """(T, A, N) bool -> (N,) uint64 with bit ``a * T + t`` set where ``flags[t, a]``."""
    T, A, n = flags.shape
    if n == 0:
        return np.zeros(0, np.uint64)
    rows = np.ascontiguousarray(flags.transpose(1, 0, 2)).reshape(A * T, n)      # row a * T + t
    packed = np.packbits(rows, axis=0, bitorder="little")                         # (ceil(A*T/8), n)
    out = np.zeros((8, n), np.uint8)
    out[:packed.shape[0]] = packed
    return np.ascontiguousarray(out.T).view("<u8").reshape(n).astype(np.uint64)


def _greedy(pd, pg, piou, dkey, crowd, g_nonig, params: EvalParams, matched, m_ig, match_g=None) -> None:
    """Greedy assignment over the sparse candidate pairs (sorted by detection, IoU, gt).

    Fills ``matched`` and ``m_ig`` (T, A, N_shard) in place.
    """
    T, A = params.n_thr, params.n_area
    thr = np.minimum(params.iou_thrs, 1 - 1e-10)  # the references: iou = min([t, 1 - 1e-10])
    P = len(pd)
    # candidate detections: segments of pairs
    seg_start = np.flatnonzero(np.r_[True, pd[1:] != pd[:-1]])
    seg_end = np.r_[seg_start[1:], P]
    cand = pd[seg_start]
    # rank of a candidate among the candidates of its (image, category) group
    ck = dkey[cand]
    crank = np.arange(len(cand)) - np.maximum.accumulate(
        np.where(np.r_[True, ck[1:] != ck[:-1]], np.arange(len(cand)), 0))
    order = np.argsort(crank, kind="stable")
    bounds = np.searchsorted(crank[order], np.arange(int(crank.max()) + 2))
    ng = g_nonig.shape[1]
    taken = np.zeros((T, A, ng), bool)
    pos = np.arange(P, dtype=np.int64)
    for r in range(len(bounds) - 1):
        sel = order[bounds[r]:bounds[r + 1]]
        if len(sel) == 0:
            continue
        owner, pidx = _segments(seg_start[sel], seg_end[sel])
        g = pg[pidx]
        nonig = g_nonig[:, g]                                   # (A, p)
        free = ~taken[:, :, g] | crowd[g][None, None, :]          # (T, A, p)
        ok = (piou[pidx][None, :] >= thr[:, None])[:, None, :] & free
        val = np.where(ok, nonig[None, :, :] * P + pos[pidx][None, None, :], -1)
        starts = np.r_[0, np.cumsum(seg_end[sel] - seg_start[sel])[:-1]]
        best = np.maximum.reduceat(val, starts, axis=2)          # (T, A, k)
        hit = best >= 0
        chosen = np.where(hit, best % P, 0)
        cg = pg[chosen]                                          # (T, A, k)
        dloc = cand[sel]
        tt, aa, kk = np.nonzero(hit)
        matched[tt, aa, dloc[kk]] = True
        m_ig[tt, aa, dloc[kk]] = ~g_nonig[aa, cg[tt, aa, kk]]
        taken[tt, aa, cg[tt, aa, kk]] = True
        if match_g is not None:
            h0 = hit[0, 0]
            match_g[dloc[h0]] = cg[0, 0][h0]
