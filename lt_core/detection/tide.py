"""Where the AP goes: the TIDE error breakdown (Bolya et al., ECCV 2020), per class and per bin.

Semantics are those of the ``tidecv`` package (``TIDE.evaluate`` + ``get_main_errors`` /
``get_special_errors``), reproduced step for step so that the numbers are equal:

* per image, predictions sorted by score (stable) and cut to ``max_dets`` (COCO 100, LVIS 300)
  *across classes*; class-aware greedy matching at one IoU (``pos_thr`` 0.5): each prediction takes
  the unmatched ground truth of its class with the highest IoU (the first of equal IoUs);
* crowd boxes are ignore regions: an unmatched prediction of their class whose IoU over its own
  area exceeds ``pos_thr`` is ignored (not in AP, still classified below);
* every unmatched (or ignored) prediction gets one error, tested in this order: **Loc**
  (``bg_thr <= `` best IoU with its class's ground truth ``<= pos_thr``), **Cls** (IoU >= pos with
  a ground truth of another class), **Dupe** (IoU >= pos with an already matched ground truth of
  its class), **Bkg** (IoU <= ``bg_thr`` with everything), else **Both**; a ground truth that no
  prediction matched and no Cls / Loc error points at is **Miss**;
* AP is tidecv's own AP at ``pos_thr`` (101 recall points, like COCO's AP50 but computed by
  TIDE's matching); the ΔAP of an error type is ``max(mAP with only those errors fixed - mAP, 0)``,
  where fixing turns a Cls / Loc prediction into a true positive (the highest-scoring one per
  ground truth; the others are removed), removes Dupe / Bkg / Both predictions, and removes a
  missed ground truth from the count. The special errors: ``FalsePos`` (every false positive
  scored 0) and ``FalseNeg`` (every missed ground truth removed).
* the mean is over the classes that have ground truth or predictions (tidecv's rule; a class
  with only false positives counts with AP 0).

Per class and per frequency bin: the same quantities with the mean restricted to the class or
to the bin's classes (bins from ``image_count``, i.e. train counts where the class table has them).

LVIS (federated) rules, as tidecv's ``datasets.LVIS`` emulates them: a prediction of a category
that is neither in the image's ground truth nor in its ``neg_category_ids`` — or that is in its
``not_exhaustive_category_ids`` — is ignored unless it is matched (a whole-image ignore region of
that class); at most 300 predictions per image. Unlike ``LVISEval`` such predictions are ignored
rather than dropped, so they still receive an error type (tidecv's behaviour).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._jit import use_kernels

__all__ = ["TideResult", "tide_errors", "detection_outcomes", "TIDE_ERRORS", "SPECIAL_ERRORS", "OUTCOMES"]

#: main error types in tidecv's order (its short names)
TIDE_ERRORS = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")
SPECIAL_ERRORS = ("FalsePos", "FalseNeg")
_CODE = {1: "Cls", 2: "Loc", 3: "Both", 4: "Dupe", 5: "Bkg"}
#: outcome labels of :func:`detection_outcomes`
OUTCOMES = {"tp": "true positive", "wrong_class": "Cls: right box, wrong class",
            "localization": "Loc: right class, box IoU in [bg, pos]", "both": "Both: wrong class and box",
            "duplicate": "Dupe: its object was already matched", "background": "Bkg: no object there",
            "ignored": "ignored (crowd region / not evaluated in this image)", "missed": "Miss: ground truth not found"}
_OUTCOME_OF = {0: "tp", 1: "wrong_class", 2: "localization", 3: "both", 4: "duplicate", 5: "background"}
_X_RANGE = np.array([x / 100 for x in range(101)])  # tidecv's recall points (not np.linspace)


@dataclass
class TideResult:
    """Output of :func:`tide_errors`.

    Attributes
    ----------
    ap : float                  tidecv's mAP at ``pos_thr`` (x 100, as tidecv prints it)
    main : dict[str, float]     ΔAP (x 100) per main error type (``TIDE_ERRORS``)
    special : dict[str, float]  ΔAP (x 100) of ``FalsePos`` / ``FalseNeg``
    per_class : DataFrame       category_id, name, image_count, bin, n_gt, AP, dAP_<type> per main
                                and special type, n_<type> (error counts)
    per_bin : DataFrame         bin, n_classes, AP, dAP_<type>, n_<type>
    outcomes : DataFrame        :func:`detection_outcomes` (one row per prediction and missed box)
    params : dict               pos_thr, bg_thr, max_dets, style
    """

    ap: float
    main: dict
    special: dict
    per_class: object
    per_bin: object
    outcomes: object
    params: dict

    def to_json(self) -> dict:
        bins = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
                for r in self.per_bin.to_dict("records")]
        return {"AP": self.ap, "main": self.main, "special": self.special, "per_bin": bins, **self.params}


def _prepare(gt, results, style: str, max_dets: int):
    """Arrays in tidecv's processing order: images in file order, predictions by score per image."""
    cls = gt.categories
    C = cls.n_classes
    img_ids = np.asarray(gt.image_ids, np.int64)
    I = len(img_ids)
    srt = np.argsort(img_ids, kind="stable")
    sid = img_ids[srt]

    def img_index(x):
        pos = np.minimum(np.searchsorted(sid, x), len(sid) - 1)
        ok = sid[pos] == x
        return np.where(ok, srt[pos], -1)

    # ground truth: non-crowd (coco) / every annotation (lvis) per image in file order
    a_img = img_index(np.asarray(gt.ann_image_id, np.int64))
    a_cls = cls.index_of(gt.ann_category_id) if len(gt.ann_id) else np.zeros(0, np.int64)
    crowd = np.asarray(gt.ann_iscrowd, bool) if style == "coco" else np.zeros(len(a_img), bool)
    ann_pos = np.arange(len(a_img))
    g_sel = np.flatnonzero(~crowd)
    g_sel = g_sel[np.lexsort((ann_pos[g_sel], a_img[g_sel]))]
    c_sel = np.flatnonzero(crowd)
    c_sel = c_sel[np.lexsort((ann_pos[c_sel], a_img[c_sel]))]
    g_ptr = np.searchsorted(a_img[g_sel], np.arange(I + 1)).astype(np.int64)
    c_ptr = np.searchsorted(a_img[c_sel], np.arange(I + 1)).astype(np.int64)
    bbox = np.asarray(gt.ann_bbox, np.float64).reshape(-1, 4)
    # predictions: per image (GT file order), score desc (stable in file order), first max_dets
    p_img = img_index(np.asarray(results.image_id, np.int64))
    p_cls = cls.index_of(results.category_id)
    score = np.asarray(results.score, np.float64)
    keep = np.flatnonzero(p_img >= 0)
    o = keep[np.lexsort((keep, -score[keep], p_img[keep]))]
    r = np.arange(len(o)) - np.searchsorted(p_img[o], p_img[o], "left")
    o = o[r < max_dets]
    p_ptr = np.searchsorted(p_img[o], np.arange(I + 1)).astype(np.int64)
    all_ignored = np.zeros(len(o), bool)
    if style == "lvis":
        # whole-image ignore regions of the classes that are neither present nor verified absent,
        # and of the not-exhaustively annotated ones (tidecv datasets.LVIS)
        key = p_img[o] * C + p_cls[o]
        pos_keys = np.unique(a_img * C + a_cls)
        inv = np.empty(I, np.int64)
        inv[:] = np.arange(I)

        def keys(lists):
            if lists is None:
                return np.zeros(0, np.int64)
            lens = np.array([len(x) for x in lists], np.int64)
            if lens.sum() == 0:
                return np.zeros(0, np.int64)
            flat = cls.index_of(np.concatenate([np.asarray(x, np.int64) for x in lists if len(x)]))
            return np.unique(np.repeat(np.arange(I), lens) * C + flat)

        allowed = np.union1d(pos_keys, keys(gt.neg_category_ids))
        nel = keys(gt.not_exhaustive_category_ids)
        all_ignored = ~np.isin(key, allowed) | np.isin(key, nel)
    return dict(I=I, C=C, img_ids=img_ids, g_sel=g_sel, c_sel=c_sel, g_ptr=g_ptr, c_ptr=c_ptr, bbox=bbox,
                a_cls=a_cls, p_sel=o, p_ptr=p_ptr, p_cls=p_cls, score=score, all_ignored=all_ignored,
                p_box=np.asarray(results.bbox, np.float64).reshape(-1, 4))


def _run(gt, results, style, pos_thr, bg_thr, max_dets):
    from . import kernels

    d = _prepare(gt, results, style, max_dets)
    P = len(d["p_sel"])
    G = len(d["g_sel"])
    used = np.zeros(P, np.int8)
    p_iou = np.zeros(P)
    etype = np.zeros(P, np.int8)
    egt = np.full(P, -1, np.int64)
    g_used = np.zeros(G, bool)
    fn = kernels.tide_images if use_kernels() else kernels.tide_images.py_func
    fn(d["p_ptr"], np.ascontiguousarray(d["p_box"][d["p_sel"]]), d["p_cls"][d["p_sel"]].astype(np.int64),
       d["all_ignored"], d["g_ptr"], np.ascontiguousarray(d["bbox"][d["g_sel"]]),
       d["a_cls"][d["g_sel"]].astype(np.int64), d["c_ptr"], np.ascontiguousarray(d["bbox"][d["c_sel"]]),
       d["a_cls"][d["c_sel"]].astype(np.int64), float(pos_thr), float(bg_thr), used, p_iou, etype, egt, g_used)
    d.update(used=used, p_iou=p_iou, etype=etype, egt=egt, g_used=g_used)
    return d


def _errors(d):
    """tidecv's error list in its order: per image, prediction errors (score order), then misses."""
    I, P = d["I"], len(d["p_sel"])
    used, etype, egt, g_used = d["used"], d["etype"], d["egt"], d["g_used"]
    p_img = np.repeat(np.arange(I), np.diff(d["p_ptr"]))
    g_img = np.repeat(np.arange(I), np.diff(d["g_ptr"]))
    is_err = used != 1
    # BestGTMatch: a Cls / Loc error on a ground truth nobody matched makes it 'usable'; the first
    # such prediction in score order (strictly highest score) is the one a fix turns positive
    cl = np.flatnonzero(is_err & ((etype == 1) | (etype == 2)))
    cl = cl[~g_used[egt[cl]]]
    usable = np.zeros(len(g_used), bool)
    usable[egt[cl]] = True
    best = np.full(len(g_used), -1, np.int64)
    best[egt[cl][::-1]] = cl[::-1]          # the first in order wins
    missed = ~g_used & ~usable
    has_pred = np.diff(d["p_ptr"]) > 0
    miss_g = np.flatnonzero(~g_used & (~has_pred[g_img] | missed))
    # order: image, then predictions before misses, then position
    e_pred = np.flatnonzero(is_err)
    kind = np.r_[np.zeros(len(e_pred), np.int8), np.ones(len(miss_g), np.int8)]
    img = np.r_[p_img[e_pred], g_img[miss_g]]
    pos = np.r_[e_pred, miss_g]
    o = np.lexsort((pos, kind, img))
    return dict(e_pred=np.r_[e_pred, np.full(len(miss_g), -1)][o], e_gt=np.r_[np.full(len(e_pred), -1), miss_g][o],
                e_type=np.r_[etype[e_pred], np.full(len(miss_g), 6, np.int8)][o], best=best, miss_g=miss_g)


def _class_ap(C, cls_, score, correct, order, n_gt):
    """tidecv AP x 100 per class (C,), and which classes are non-empty."""
    from . import kernels

    o = np.lexsort((order, -score, cls_))
    starts = np.searchsorted(cls_[o], np.arange(C + 1)).astype(np.int64)
    fn = kernels.tide_class_ap if use_kernels() else kernels.tide_class_ap.py_func
    ap = fn(starts, correct[o].astype(np.bool_), n_gt.astype(np.int64), _X_RANGE)
    nonempty = (np.diff(starts) > 0) | (n_gt > 0)
    return ap, nonempty


def _variants(d, e):
    """Per-class AP of the original data and of each fixed variant: {name: (ap (C,), nonempty (C,))}."""
    C = d["C"]
    used, p_cls_all = d["used"], d["p_cls"][d["p_sel"]]
    score = d["score"][d["p_sel"]]
    g_cls = d["a_cls"][d["g_sel"]]
    P = len(used)
    n_gt = np.bincount(g_cls, minlength=C)
    in_objs = (n_gt > 0) | (np.bincount(p_cls_all[used != -1], minlength=C) > 0)
    seq = np.arange(P)
    out = {}
    pts = used != -1
    out["orig"] = _class_ap(C, p_cls_all[pts], score[pts], used[pts] == 1, seq[pts], n_gt)
    ne = len(e["e_type"])
    tp = np.flatnonzero(used == 1)
    ep, et, eg = e["e_pred"], e["e_type"], e["e_gt"]
    is_p = ep >= 0
    epi = np.maximum(ep, 0)
    orig_ok = is_p & (used[epi] == 0)     # an ignored prediction's error has no original point
    egt = d["egt"][epi]
    fixable = is_p & ((et == 1) | (et == 2)) & (egt >= 0)
    fix_ok = fixable & (e["best"][np.maximum(egt, 0)] == ep) & ~d["g_used"][np.maximum(egt, 0)]

    def build(fix_type):
        fixed = et == fix_type
        c, s, cor, od = [], [], [], []
        # errors first, in order: the fixed version where fixed, else the original
        m_orig = ~fixed & orig_ok
        c.append(p_cls_all[epi[m_orig]]); s.append(score[epi[m_orig]]); cor.append(np.zeros(m_orig.sum(), bool))
        od.append(np.flatnonzero(m_orig))
        m_fix = fixed & fix_ok
        if fix_type in (1, 2):
            cc = g_cls[egt[m_fix]] if fix_type == 1 else p_cls_all[epi[m_fix]]
            c.append(cc); s.append(score[epi[m_fix]]); cor.append(np.ones(m_fix.sum(), bool))
            od.append(np.flatnonzero(m_fix))
        # then the true positives, in their original order
        c.append(p_cls_all[tp]); s.append(score[tp]); cor.append(np.ones(len(tp), bool)); od.append(ne + tp)
        ng = n_gt.copy()
        if fix_type == 6:
            ng -= np.bincount(g_cls[eg[fixed]], minlength=C)
        ap, nonempty = _class_ap(C, np.concatenate(c), np.concatenate(s), np.concatenate(cor), np.concatenate(od), ng)
        return ap, nonempty & in_objs

    for t, name in zip((1, 2, 3, 4, 5, 6), ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")):
        out[name] = build(t)
    # FalsePos: every false positive at score 0, true positives at 1
    m_orig = orig_ok
    c = np.r_[p_cls_all[epi[m_orig]], p_cls_all[tp]]
    s = np.r_[np.zeros(m_orig.sum()), np.ones(len(tp))]
    cor = np.r_[np.zeros(m_orig.sum(), bool), np.ones(len(tp), bool)]
    od = np.r_[np.flatnonzero(m_orig), ne + tp]
    ap, nonempty = _class_ap(C, c, s, cor, od, n_gt)
    out["FalsePos"] = (ap, nonempty & in_objs)
    # FalseNeg: every unmatched ground truth removed from the count
    c = np.r_[p_cls_all[epi[m_orig]], p_cls_all[tp]]
    s = np.r_[score[epi[m_orig]], score[tp]]
    cor = np.r_[np.zeros(m_orig.sum(), bool), np.ones(len(tp), bool)]
    ng = n_gt - np.bincount(g_cls[~d["g_used"]], minlength=C)
    ap, nonempty = _class_ap(C, c, s, cor, od, ng)
    out["FalseNeg"] = (ap, nonempty & in_objs)
    out["orig"] = (out["orig"][0], out["orig"][1] & in_objs)
    return out


def _group_map(ap, nonempty, idx=None):
    sel = nonempty if idx is None else nonempty & idx
    return float(ap[sel].mean()) if sel.any() else 0.0


def tide_errors(gt, results, style: str | None = None, pos_thr: float = 0.5, bg_thr: float = 0.1,
                max_dets: int | None = None, scheme: str = "lvis") -> TideResult:
    """TIDE error breakdown of ``results`` on ``gt``, overall, per class and per frequency bin.

    Parameters
    ----------
    gt : DetectionGT
    results : DetectionResults
    style : {"coco", "lvis"}, optional   default: lvis when the ground truth has LVIS fields
    pos_thr, bg_thr : float   tidecv's foreground / background IoU thresholds (0.5 / 0.1)
    max_dets : int, optional  predictions kept per image across classes (tidecv: COCO 100, LVIS 300)
    scheme : str              frequency bins of ``per_bin`` (from the class table's counts)

    Returns
    -------
    TideResult   equal to ``tidecv.TIDE`` (``evaluate`` at ``pos_thr``, ``get_main_errors``,
                 ``get_special_errors``) on COCO data; see the module doc for LVIS.
    """
    import pandas as pd

    from ..bins import parse_bins

    style = style or ("lvis" if gt.neg_category_ids is not None else "coco")
    md = int(max_dets or (300 if style == "lvis" else 100))
    d = _run(gt, results, style, pos_thr, bg_thr, md)
    e = _errors(d)
    v = _variants(d, e)
    C = d["C"]
    ap0, ne0 = v["orig"]
    ap = _group_map(ap0, ne0)
    main = {k: max(_group_map(*v[k]) - ap, 0.0) for k in TIDE_ERRORS}
    special = {k: _group_map(*v[k]) - ap for k in SPECIAL_ERRORS}
    cls = gt.categories
    sch = parse_bins(scheme)
    from .evaluator import detection_bins
    bins = detection_bins({"image_count": np.asarray(cls.train_count), "frequency": cls.frequency}, sch)
    counts = {}
    g_cls = d["a_cls"][d["g_sel"]]
    p_cls = d["p_cls"][d["p_sel"]]
    for code, name in _CODE.items():
        counts[name] = np.bincount(p_cls[e["e_pred"][(e["e_type"] == code) & (e["e_pred"] >= 0)]], minlength=C)
    counts["Miss"] = np.bincount(g_cls[e["e_gt"][e["e_type"] == 6]], minlength=C)
    pc = {"category_id": np.asarray(cls.ids), "name": np.asarray(cls.names), "image_count": np.asarray(cls.train_count),
          "bin": bins, "n_gt": np.bincount(g_cls, minlength=C), "AP": np.where(ne0, ap0, np.nan)}
    for k in TIDE_ERRORS + SPECIAL_ERRORS:
        fa, fne = v[k]
        dk = np.where(fne, fa, 0.0) - np.where(ne0, ap0, 0.0)
        pc[f"dAP_{k}"] = np.where(ne0 | fne, np.maximum(dk, 0.0) if k in TIDE_ERRORS else dk, np.nan)
    for k in TIDE_ERRORS:
        pc[f"n_{k}"] = counts[k]
    per_class = pd.DataFrame(pc)
    rows = []
    for b in sch.order(bins):
        idx = bins == b
        a = _group_map(ap0, ne0, idx)
        row = {"bin": b, "n_classes": int((idx & ne0).sum()), "AP": a}
        for k in TIDE_ERRORS:
            row[f"dAP_{k}"] = max(_group_map(*v[k], idx) - a, 0.0)
        for k in SPECIAL_ERRORS:
            row[f"dAP_{k}"] = _group_map(*v[k], idx) - a
        for k in TIDE_ERRORS:
            row[f"n_{k}"] = int(counts[k][idx].sum())
        rows.append(row)
    outcomes = _outcomes(gt, results, d, e)
    return TideResult(ap=ap, main=main, special=special, per_class=per_class, per_bin=pd.DataFrame(rows),
                      outcomes=outcomes, params={"pos_thr": pos_thr, "bg_thr": bg_thr, "max_dets": md, "style": style})


def _outcomes(gt, results, d, e):
    import pandas as pd

    cls = gt.categories
    ids = np.asarray(cls.ids)
    sel = d["p_sel"]
    used, etype = d["used"], d["etype"]
    outcome = np.array([_OUTCOME_OF[int(t)] for t in range(6)], dtype=object)[etype]
    outcome = np.where(used == 1, "tp", np.where(used == -1, "ignored", outcome))
    g_ann = np.asarray(gt.ann_id, np.int64)[d["g_sel"]]
    p_img = np.repeat(np.arange(d["I"]), np.diff(d["p_ptr"]))
    # the ground truth a prediction is about: its match (tp), the box of a Cls / Loc error
    about = np.where(d["egt"] >= 0, g_ann[np.maximum(d["egt"], 0)], -1)
    mg = e["miss_g"]
    g_img = np.repeat(np.arange(d["I"]), np.diff(d["g_ptr"]))
    frame = pd.DataFrame({
        "image_id": np.r_[d["img_ids"][p_img], d["img_ids"][g_img[mg]]],
        "det_index": np.r_[sel, np.full(len(mg), -1)],
        "ann_id": np.r_[about, g_ann[mg]],
        "category_id": np.r_[ids[d["p_cls"][sel]], ids[d["a_cls"][d["g_sel"]][mg]]],
        "score": np.r_[d["score"][sel], np.full(len(mg), np.nan)],
        "iou": np.r_[d["p_iou"], np.full(len(mg), np.nan)],
        "outcome": np.r_[outcome, np.full(len(mg), "missed", dtype=object)],
        # the error type tidecv counts (per class / bin ``n_<type>``): ignored predictions keep theirs
        "tide_error": np.r_[np.where(used == 1, "", np.array(["", *(_CODE[c] for c in range(1, 6))],
                                                              dtype=object)[etype]),
                            np.full(len(mg), "Miss", dtype=object)],
    })
    return frame


def detection_outcomes(gt, results, style: str | None = None, pos_thr: float = 0.5, bg_thr: float = 0.1,
                       max_dets: int | None = None):
    """The outcome of every prediction and every missed ground-truth box, as TIDE classifies them.

    One row per prediction kept (per image, the ``max_dets`` highest scores) and one per missed
    ground truth, with columns:

    ``image_id``      image
    ``det_index``     position of the prediction in the results file (-1 for a missed box)
    ``ann_id``        the ground truth concerned: a Cls / Loc error's box, a missed box (-1 if none)
    ``category_id``   predicted class (missed: the box's class)
    ``score``         prediction score (NaN for missed)
    ``iou``           the prediction's largest IoU with a ground truth of its class (NaN for missed)
    ``outcome``       ``tp``, ``duplicate``, ``wrong_class``, ``background``, ``localization``,
                      ``both``, ``ignored`` or ``missed`` (see :data:`OUTCOMES`)
    ``tide_error``    the error type tidecv counts for it (``Cls``, ``Loc``, ``Both``, ``Dupe``,
                      ``Bkg``, ``Miss``; empty for a true positive): an ignored prediction keeps its
                      type here, as the per-class and per-bin ``n_<type>`` counts do

    Selection behind a number (issue "examples"): e.g. ``df[df.outcome == "wrong_class"]``
    sorted by ``score`` gives the most confident wrong-class boxes. Matching rules: see the module
    doc (tidecv's, at ``pos_thr``).
    """
    style = style or ("lvis" if gt.neg_category_ids is not None else "coco")
    md = int(max_dets or (300 if style == "lvis" else 100))
    d = _run(gt, results, style, pos_thr, bg_thr, md)
    return _outcomes(gt, results, d, _errors(d))
