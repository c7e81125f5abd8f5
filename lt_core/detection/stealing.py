"""Which class steals the tail: ground truth covered by a detection of another class.

For every (non-crowd) ground-truth box, class-agnostic matching looks at all detections of
the same image with IoU >= ``iou`` (0.5) and score >= ``min_score``: the box is *found* when
one of them has its own class, and *covered by another class* when one of them has a different
class; the *stealer* is the highest-scoring such detection's class (ties: the earlier one in
the file). A box that is covered by another class and not found by its own is *stolen*.
All detections count here (no federated filtering, no per-image limit): this is a
diagnostic of confusions, not an AP.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.schema import DetectionGT, DetectionResults
from .matching import _segments, bbox_iou_pairs

__all__ = ["StealingResult", "stealing_analysis"]


@dataclass
class StealingResult:
    """Output of :func:`stealing_analysis`.

    Attributes
    ----------
    per_class : DataFrame   one row per class with ground truth: category_id, name,
        image_count, n_gt, found_share, covered_by_other_share, stolen_share, top_stealers
        (text: "name (share)" of the three largest stealers of its stolen boxes)
    pairs : DataFrame       victim / stealer class pairs: victim_id, victim, stealer_id,
        stealer, n_stolen, share (of the victim's ground truth), stealer_image_count
    per_gt : DataFrame      one row per ground-truth box: ann_id, category_id, found,
        stealer_id (-1 if none), stealer_score, stealer_det (the stealer detection's position in
        the results file, -1 if none)
    """

    per_class: pd.DataFrame
    pairs: pd.DataFrame
    per_gt: pd.DataFrame


def stealing_analysis(gt: DetectionGT, results: DetectionResults, iou: float = 0.5, min_score: float = 0.0,
                      shard_images: int = 500) -> StealingResult:
    """Class-agnostic matching of ground truth to detections of any class (see module doc)."""
    cls = gt.categories
    ids = np.asarray(cls.ids, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    sid = ids[order]

    def cidx(x):
        pos = np.minimum(np.searchsorted(sid, x), len(sid) - 1)
        return np.where(sid[pos] == x, order[pos], -1)

    img_u = np.unique(np.asarray(gt.image_ids, dtype=np.int64))

    def iidx(x):
        pos = np.minimum(np.searchsorted(img_u, x), len(img_u) - 1)
        return np.where(img_u[pos] == x, pos, -1)

    g_keep = ~np.asarray(gt.ann_iscrowd, dtype=bool)
    g_img = iidx(np.asarray(gt.ann_image_id, dtype=np.int64))[g_keep]
    g_cat = cidx(np.asarray(gt.ann_category_id, dtype=np.int64))[g_keep]
    g_box = np.asarray(gt.ann_bbox, dtype=np.float64).reshape(-1, 4)[g_keep]
    g_id = np.asarray(gt.ann_id, dtype=np.int64)[g_keep]
    go = np.lexsort((np.arange(len(g_img)), g_img))
    g_img, g_cat, g_box, g_id = g_img[go], g_cat[go], g_box[go], g_id[go]

    score = np.asarray(results.score, dtype=np.float64)
    d_ok = score >= min_score
    d_img = iidx(np.asarray(results.image_id, dtype=np.int64))
    d_cat = cidx(np.asarray(results.category_id, dtype=np.int64))
    d_ok &= (d_img >= 0) & (d_cat >= 0)
    didx = np.flatnonzero(d_ok)
    do = didx[np.lexsort((didx, d_img[didx]))]
    d_img, d_cat, d_box, d_score = d_img[do], d_cat[do], np.asarray(results.bbox, np.float64).reshape(-1, 4)[do], score[do]
    d_pos = np.arange(len(do))  # file order among kept (ties -> earlier)

    G = len(g_img)
    found = np.zeros(G, bool)
    stealer = np.full(G, -1, np.int64)
    st_score = np.full(G, np.nan)
    st_det = np.full(G, -1, np.int64)
    n_img = len(img_u)
    for lo in range(0, max(n_img, 1), shard_images):
        hi = min(n_img, lo + shard_images)
        gs = slice(*np.searchsorted(g_img, [lo, hi]))
        ds = slice(*np.searchsorted(d_img, [lo, hi]))
        if gs.stop == gs.start or ds.stop == ds.start:
            continue
        gi = g_img[gs]
        di = d_img[ds]
        a = np.searchsorted(di, gi, "left")
        b = np.searchsorted(di, gi, "right")
        pg, pd_ = _segments(a, b)                     # gt local, det local
        if not len(pg):
            continue
        ov = bbox_iou_pairs(d_box[ds][pd_], g_box[gs][pg], np.zeros(len(pg), bool))
        hit = ov >= iou
        pg, pd_ = pg[hit], pd_[hit]
        same = d_cat[ds][pd_] == g_cat[gs][pg]
        f = np.zeros(gs.stop - gs.start, bool)
        f[pg[same]] = True
        found[gs] = f
        og, od = pg[~same], pd_[~same]
        if len(og):
            # best other-class detection per gt: highest score, then earliest
            srt = np.lexsort((d_pos[ds][od], -d_score[ds][od], og))
            og, od = og[srt], od[srt]
            first = np.r_[True, og[1:] != og[:-1]]
            loc = np.arange(gs.start, gs.stop)[og[first]]
            stealer[loc] = d_cat[ds][od[first]]
            st_score[loc] = d_score[ds][od[first]]
            st_det[loc] = do[ds][od[first]]
    C = cls.n_classes
    n_gt = np.bincount(g_cat, minlength=C)
    n_found = np.bincount(g_cat[found], minlength=C)
    covered = stealer >= 0
    n_cov = np.bincount(g_cat[covered], minlength=C)
    stolen = covered & ~found
    n_stolen = np.bincount(g_cat[stolen], minlength=C)
    names = np.asarray(cls.names, dtype=object)
    img_count = np.asarray(cls.train_count, dtype=np.int64)
    # victim / stealer pairs over stolen boxes
    if stolen.any():
        key = g_cat[stolen] * C + stealer[stolen]
        u, cnt = np.unique(key, return_counts=True)
        v, s = u // C, u % C
        pairs = pd.DataFrame({"victim_id": ids[v], "victim": names[v], "stealer_id": ids[s], "stealer": names[s],
                              "n_stolen": cnt, "share": cnt / n_gt[v], "victim_image_count": img_count[v],
                              "stealer_image_count": img_count[s]})
        pairs = pairs.sort_values(["victim_id", "n_stolen"], ascending=[True, False], kind="stable")
    else:
        pairs = pd.DataFrame(columns=["victim_id", "victim", "stealer_id", "stealer", "n_stolen", "share",
                                      "victim_image_count", "stealer_image_count"])
    top = {}
    for vid, grp in pairs.groupby("victim_id", sort=False):
        top[vid] = ", ".join(f"{r.stealer} ({100 * r.share:.0f}%)" for r in grp.head(3).itertuples())
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = pd.DataFrame({
            "category_id": ids, "name": names, "image_count": img_count, "n_gt": n_gt,
            "found_share": n_found / n_gt, "covered_by_other_share": n_cov / n_gt,
            "stolen_share": n_stolen / n_gt,
            "top_stealers": [top.get(i, "") for i in ids],
        })
    per_class = per_class[per_class["n_gt"] > 0].reset_index(drop=True)
    per_gt = pd.DataFrame({"ann_id": g_id, "category_id": ids[g_cat], "found": found,
                           "stealer_id": np.where(covered, ids[np.maximum(stealer, 0)], -1), "stealer_score": st_score,
                           "stealer_det": st_det})
    return StealingResult(per_class=per_class, pairs=pairs.reset_index(drop=True), per_gt=per_gt)
