"""Ground truth and detections in the sorted columnar form the matcher works on.

Everything the reference tools do before matching is reproduced here, vectorised:

* pycocotools ``COCO.loadRes`` / ``COCOeval._prepare``: detection area = ``w * h`` for box results
  (mask area for mask-only results); crowd ground truth is ``ignore``; per (image, category) the
  detections are sorted by score (stable: file order breaks ties) and cut to ``maxDets[-1]``.
* lvis-api ``LVISResults`` / ``LVISEval._prepare``: at most ``max_dets`` detections per image
  across categories (highest scores, stable); a detection is kept only when its category is in
  the image's positive set (has ground truth there) or in ``neg_category_ids``; an unmatched
  detection of a ``not_exhaustive_category_ids`` category is ignored later.

Images are ordered by id (both references sort ``imgIds``), and detections of categories that
are not in the ground truth are dropped (both references filter by ``catIds``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data.schema import DetectionGT, DetectionResults
from ..errors import InputError
from .params import EvalParams

__all__ = ["GTTable", "DetTable", "prepare_gt", "prepare_dets", "map_ids"]


def map_ids(sorted_ids: np.ndarray, order: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Index of each id in the table whose ids sorted are ``sorted_ids`` (-1 when unknown).

    ``order`` maps positions in ``sorted_ids`` back to table indices. A dense lookup table
    serves when the ids span a small range (the usual case: O(1) per id instead of a search).
    """
    ids = np.asarray(ids, dtype=np.int64)
    if len(sorted_ids) == 0:
        return np.full(ids.shape, -1, np.int64)
    lo, hi = int(sorted_ids[0]), int(sorted_ids[-1])
    if len(ids) > 4 * len(sorted_ids) and hi - lo < max(8 * len(ids), 1 << 20):
        table = np.full(hi - lo + 1, -1, np.int64)
        table[sorted_ids - lo] = order
        from ._jit import use_kernels
        if use_kernels():  # one pass, no full-size temporaries
            from .kernels import lookup_ids
            return lookup_ids(np.ascontiguousarray(ids), lo, table)
        off = ids - lo
        inside = (off >= 0) & (off <= hi - lo)
        if inside.all():
            return table[off]
        out = np.full(ids.shape, -1, np.int64)
        out[inside] = table[off[inside]]
        return out
    pos = np.searchsorted(sorted_ids, ids)
    pos_c = np.minimum(pos, len(sorted_ids) - 1)
    ok = sorted_ids[pos_c] == ids
    return np.where(ok, order[pos_c], -1).astype(np.int64)


@dataclass
class GTTable:
    """Ground truth sorted by (image, category, file order).

    Attributes
    ----------
    img_ids : ndarray (I,) int64        image ids, sorted (the references' ``imgIds``)
    img_hw : ndarray (I, 2) float64     height, width per image
    class_ids : ndarray (C,) int64      category id per class index (the ClassTable order)
    img, cat : ndarray (G,) int64       image index, class index per annotation
    bbox : ndarray (G, 4) float64       x, y, w, h in pixels
    area : ndarray (G,) float64         the file's ``area`` (pixels^2), used for area ranges
    crowd : ndarray (G,) bool           ``iscrowd`` (coco style only; lvis ignores it)
    ignore : ndarray (G,) bool          coco: ``iscrowd``; lvis: the annotation's ``ignore``
    ann_id : ndarray (G,) int64
    key : ndarray (G,) int64            ``img * C + cat``
    neg_keys, nel_keys : ndarray int64 sorted, or None   lvis negative / not-exhaustive sets
    pos_keys : ndarray int64 sorted     (image, category) pairs with ground truth
    segm : list or None                 raw segmentation per annotation (sorted order), segm only
    """

    img_ids: np.ndarray
    img_hw: np.ndarray
    class_ids: np.ndarray
    img: np.ndarray
    cat: np.ndarray
    bbox: np.ndarray
    area: np.ndarray
    crowd: np.ndarray
    ignore: np.ndarray
    ann_id: np.ndarray
    key: np.ndarray
    pos_keys: np.ndarray
    neg_keys: np.ndarray | None = None
    nel_keys: np.ndarray | None = None
    segm: list | None = None
    source: str = ""
    _cls_sorted: np.ndarray = field(default=None, repr=False)
    _cls_order: np.ndarray = field(default=None, repr=False)
    _allowed: np.ndarray = field(default=None, repr=False)

    @property
    def n_classes(self) -> int:
        return len(self.class_ids)

    @property
    def n_images(self) -> int:
        return len(self.img_ids)

    def class_index(self, ids: np.ndarray) -> np.ndarray:
        """Class index per category id (-1 when the id is not a ground-truth category)."""
        if self._cls_sorted is None:
            self._cls_order = np.argsort(self.class_ids, kind="stable")
            self._cls_sorted = self.class_ids[self._cls_order]
        return map_ids(self._cls_sorted, self._cls_order, ids)

    def allowed_keys(self) -> np.ndarray:
        """lvis: sorted keys of (image, category) pairs that are evaluated (positive or negative)."""
        if self._allowed is None:
            self._allowed = np.union1d(self.pos_keys, self.neg_keys if self.neg_keys is not None else [])
        return self._allowed

    def image_index(self, ids: np.ndarray) -> np.ndarray:
        """Index into ``img_ids`` per image id (-1 when unknown)."""
        return map_ids(self.img_ids, np.arange(len(self.img_ids)), ids)


def _keys_from_lists(lists, img_index: np.ndarray, gtt: GTTable) -> np.ndarray:
    """Sorted unique ``img * C + cat`` keys from per-image category-id lists."""
    C = gtt.n_classes
    lens = np.array([0 if l is None else len(l) for l in lists], dtype=np.int64)
    if lens.sum() == 0:
        return np.zeros(0, np.int64)
    flat = np.concatenate([np.asarray(l, dtype=np.int64).ravel() for l in lists if l is not None and len(l)])
    imgs = np.repeat(img_index, lens)
    ci = gtt.class_index(flat)
    ok = ci >= 0
    return np.unique(imgs[ok] * C + ci[ok])


def prepare_gt(gt: DetectionGT, params: EvalParams) -> GTTable:
    """Sort and index the ground truth for ``params.style``.

    Raises :class:`InputError` for segm evaluation without masks in the ground truth.
    """
    src = gt.source or "ground truth"
    class_ids = np.asarray(gt.categories.ids, dtype=np.int64)
    img_ids_file = np.asarray(gt.image_ids, dtype=np.int64)
    order_img = np.argsort(img_ids_file, kind="stable")
    img_ids = img_ids_file[order_img]
    if len(img_ids) > 1 and np.any(img_ids[1:] == img_ids[:-1]):
        raise InputError("duplicate image ids", src, "images.id")
    hw = np.asarray(gt.image_sizes, dtype=np.float64).reshape(-1, 2)[order_img] if len(img_ids) else np.zeros((0, 2))
    gtt = GTTable(img_ids=img_ids, img_hw=hw, class_ids=class_ids,
                  img=np.zeros(0, np.int64), cat=np.zeros(0, np.int64), bbox=np.zeros((0, 4)),
                  area=np.zeros(0), crowd=np.zeros(0, bool), ignore=np.zeros(0, bool),
                  ann_id=np.zeros(0, np.int64), key=np.zeros(0, np.int64), pos_keys=np.zeros(0, np.int64),
                  source=src)
    a_img = gtt.image_index(gt.ann_image_id)
    if np.any(a_img < 0):
        bad = np.asarray(gt.ann_image_id)[a_img < 0][:5].tolist()
        raise InputError(f"annotations refer to images not in 'images': {bad}", src, "annotations.image_id")
    a_cat = gtt.class_index(gt.ann_category_id)
    if np.any(a_cat < 0):
        bad = np.asarray(gt.ann_category_id)[a_cat < 0][:5].tolist()
        raise InputError(f"annotations refer to unknown categories: {bad}", src, "annotations.category_id")
    C = len(class_ids)
    key = a_img * C + a_cat
    srt = np.argsort(key, kind="stable")  # file order breaks ties, as the references' lists
    crowd = np.asarray(gt.ann_iscrowd, dtype=bool)[srt]
    if params.style == "coco":
        ignore = crowd.copy()
    else:
        ignore = np.zeros(len(srt), bool)
        raw_anns = (gt.raw or {}).get("annotations") if isinstance(gt.raw, dict) else None
        if raw_anns is not None and len(raw_anns) == len(srt):
            ig = np.fromiter((bool(a.get("ignore", 0)) for a in raw_anns), dtype=bool, count=len(raw_anns))
            ignore = ig[srt]
        crowd = np.zeros(len(srt), bool)  # LVISEval passes iscrowd = 0 for every box
    gtt.img, gtt.cat, gtt.key = a_img[srt], a_cat[srt], key[srt]
    gtt.bbox = np.asarray(gt.ann_bbox, dtype=np.float64).reshape(-1, 4)[srt]
    gtt.area = np.asarray(gt.ann_area, dtype=np.float64)[srt]
    gtt.crowd, gtt.ignore = crowd, ignore
    gtt.ann_id = np.asarray(gt.ann_id, dtype=np.int64)[srt]
    gtt.pos_keys = np.unique(gtt.key)
    if params.style == "lvis":
        neg = gt.neg_category_ids
        nel = gt.not_exhaustive_category_ids
        if neg is None:
            raise InputError("lvis-style evaluation needs 'neg_category_ids' on every image", src,
                             "images.neg_category_ids", hint="evaluate COCO-style ground truth with the COCO protocol")
        # lists are aligned with gt.image_ids (file order) -> indices in the sorted table
        inv = np.empty(len(order_img), np.int64)
        inv[order_img] = np.arange(len(order_img))
        gtt.neg_keys = _keys_from_lists(neg, inv, gtt)
        gtt.nel_keys = _keys_from_lists(nel if nel is not None else [None] * len(inv), inv, gtt)
    if params.iou_type == "segm":
        raw_anns = (gt.raw or {}).get("annotations") if isinstance(gt.raw, dict) else None
        if raw_anns is None or len(raw_anns) != len(srt) or not all("segmentation" in a for a in raw_anns[:50]):
            raise InputError("segm evaluation needs 'segmentation' on every ground-truth annotation", src,
                             "annotations.segmentation", hint="evaluate boxes (bbox) instead")
        gtt.segm = [raw_anns[i].get("segmentation") for i in srt]
    return gtt


@dataclass
class DetTable:
    """Detections kept for matching, sorted by (image, category, score desc, file order).

    Attributes
    ----------
    img, cat : ndarray (N,) int64   image index (into GTTable.img_ids), class index
    bbox : ndarray (N, 4) float64
    score : ndarray (N,) float64
    area : ndarray (N,) float64     pixels^2 (w*h for box results; mask area for mask-only results)
    rank : ndarray (N,) int64       position in its (image, category) list, best score first
    nel : ndarray (N,) bool         lvis: category is not exhaustively annotated in the image
    key : ndarray (N,) int64        ``img * C + cat``
    segm : list or None             RLE per detection (segm only)
    index : ndarray (N,) int64      position of each detection in the results file
    n_input, n_unknown_category, n_dropped_limit, n_dropped_federated : int   bookkeeping
    """

    img: np.ndarray
    cat: np.ndarray
    bbox: np.ndarray
    score: np.ndarray
    area: np.ndarray
    rank: np.ndarray
    nel: np.ndarray
    key: np.ndarray
    segm: list | None = None
    index: np.ndarray | None = None
    n_input: int = 0
    n_unknown_category: int = 0
    n_dropped_limit: int = 0
    n_dropped_federated: int = 0


def _rank_in_groups(keys_sorted: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within runs of equal consecutive keys."""
    n = len(keys_sorted)
    if n == 0:
        return np.zeros(0, np.int64)
    start = np.ones(n, bool)
    start[1:] = keys_sorted[1:] != keys_sorted[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    return np.arange(n) - first


def prepare_dets(gtt: GTTable, res: DetectionResults, params: EvalParams) -> DetTable:
    """Filter, cut and sort detections exactly as the reference protocol does.

    Raises :class:`InputError` when a detection refers to an image that is not in the ground
    truth (both references refuse such files).
    """
    src = res.source or res.name or "results"
    n = len(res)
    img_ids = np.asarray(res.image_id, dtype=np.int64)
    img = gtt.image_index(img_ids)
    if np.any(img < 0):
        bad = np.unique(img_ids[img < 0])[:5].tolist()
        raise InputError(f"detections refer to images that are not in the ground truth: {bad}", src, "image_id",
                         hint="evaluate against the ground-truth file these detections were made for")
    score = np.asarray(res.score, dtype=np.float64)
    cat = gtt.class_index(res.category_id)
    idx = np.arange(n, dtype=np.int64)
    n_limit = 0
    if params.per_image_limit >= 0 and n and np.bincount(img).max() > params.per_image_limit:
        # LVISResults.limit_dets_per_image: per image, sorted(score, reverse=True) is stable
        o = np.lexsort((idx, -score, img))
        r = _rank_in_groups(img[o])
        keep = np.zeros(n, bool)
        keep[o[r < params.per_image_limit]] = True
        n_limit = int(n - keep.sum())
        idx = idx[keep[idx]]
    C = gtt.n_classes
    n_fed = 0
    from ._jit import use_kernels
    universe = gtt.n_images * C
    if params.style == "lvis" and use_kernels() and universe <= 256_000_000:
        # federated filter in one pass (it keeps a fraction of the detections), then sort those
        from .kernels import federated_keep
        allowed = np.zeros(universe, bool)
        allowed[gtt.allowed_keys()] = True
        sub = len(idx) < n
        ci, ii = (cat[idx], img[idx]) if sub else (cat, img)
        n_unknown = int(np.count_nonzero(ci < 0))
        pos, key = federated_keep(ii, ci, C, allowed)
        del allowed
        n_fed = len(idx) - n_unknown - len(pos)
        idx = idx[pos] if sub else pos
    else:
        known = cat[idx] >= 0
        n_unknown = int((~known).sum())
        if n_unknown:
            idx = idx[known]
        key = img[idx] * C + cat[idx]
        if params.style == "lvis":
            # federated filter first (it keeps a fraction of the detections), then sort what is left
            ok = _in_keys(key, gtt.allowed_keys(), universe)
            n_fed = int((~ok).sum())
            idx, key = idx[ok], key[ok]
    # sort by (image, category, score desc); ties keep file order (lexsort is stable)
    o = np.lexsort((-score[idx], key))
    idx, key = idx[o], key[o]
    rank = _rank_in_groups(key)
    if params.per_group_limit >= 0:
        keep = rank < params.per_group_limit
        n_limit += int((~keep).sum())
        idx, key, rank = idx[keep], key[keep], rank[keep]
    bbox = np.asarray(res.bbox, dtype=np.float64).reshape(-1, 4)[idx]
    segm = None
    if params.iou_type == "segm":
        if res.segmentation is None:
            raise InputError("segm evaluation needs RLE 'segmentation' in the results", src, "segmentation",
                             hint="evaluate boxes (bbox) instead")
        segm = [res.segmentation[i] for i in idx]
    area = _det_area(res, idx, bbox, segm, params)
    nel = _isin_sorted(key, gtt.nel_keys) if params.style == "lvis" else np.zeros(len(idx), bool)
    return DetTable(img=img[idx], cat=cat[idx], bbox=bbox, score=score[idx], area=area, rank=rank, nel=nel,
                    key=key, segm=segm, index=idx, n_input=n, n_unknown_category=n_unknown, n_dropped_limit=n_limit,
                    n_dropped_federated=n_fed)


def _det_area(res: DetectionResults, idx: np.ndarray, bbox: np.ndarray, segm, params: EvalParams) -> np.ndarray:
    """Detection area as the references compute it.

    Both ``COCO.loadRes`` and ``LVISResults`` look at the *first* result: when it has a box,
    every area is ``w * h``; otherwise (mask-only results) it is the RLE mask area.
    """
    if segm is None:
        return bbox[:, 2] * bbox[:, 3]
    if not segm:
        return np.zeros(0)
    from pycocotools import mask as mask_utils
    has_box = getattr(res, "has_bbox", None)
    if has_box is None:
        # the loader fills boxes of mask-only files from the RLE; a file's own boxes differ from that
        rles = [_rle_bytes(s) for s in res.segmentation]
        derived = np.asarray(mask_utils.toBbox(rles), dtype=np.float64).reshape(-1, 4)
        has_box = not np.array_equal(derived, np.asarray(res.bbox, dtype=np.float64).reshape(-1, 4))
    if has_box:
        return bbox[:, 2] * bbox[:, 3]
    return rle_area([_rle_bytes(s) for s in segm])


def rle_area(rles: list) -> np.ndarray:
    """Mask areas (pixels) of RLEs; pycocotools' ``area`` of a list overflows past 255 items."""
    from pycocotools import mask as mask_utils
    out = [np.asarray(mask_utils.area(rles[i:i + 200]), dtype=np.float64).reshape(-1)
           for i in range(0, len(rles), 200)]
    return np.concatenate(out) if out else np.zeros(0)


def _rle_bytes(s: dict) -> dict:
    c = s.get("counts")
    if isinstance(c, str):
        return {"size": s["size"], "counts": c.encode("ascii")}
    return s


def _in_keys(a: np.ndarray, sorted_b: np.ndarray, universe: int) -> np.ndarray:
    """``isin(a, sorted_b)`` for keys in ``[0, universe)``: a lookup table when it is small."""
    if universe <= 64_000_000 and len(a) > 4 * len(sorted_b):
        table = np.zeros(universe, bool)
        table[sorted_b] = True
        return table[a]
    return _isin_sorted(a, sorted_b)


def _isin_sorted(a: np.ndarray, sorted_b: np.ndarray | None) -> np.ndarray:
    if sorted_b is None or len(sorted_b) == 0 or len(a) == 0:
        return np.zeros(len(a), bool)
    pos = np.minimum(np.searchsorted(sorted_b, a), len(sorted_b) - 1)
    return sorted_b[pos] == a
