"""Detection selections: the boxes behind a class's AP, a stealing pair, a PR-curve point.

Built on the matching of :mod:`lt_core.detection`, never a second matcher:

* **outcomes** — :func:`lt_core.detection.detection_outcomes` (the TIDE error table, Bolya et al.
  2020, tidecv's rules at IoU 0.5): every kept prediction is a true positive or one false-positive
  kind — ``duplicate`` (its object was already matched), ``wrong_class`` (IoU >= 0.5 with an object
  of another class), ``localization`` (its class, IoU in [0.1, 0.5)), ``both``, ``background`` —
  or ``ignored`` (a crowd region / a class not evaluated in the image); every ground truth that no
  prediction matched is ``missed`` here (COCO's false negative; TIDE counts as "Miss" only the
  ones no Cls / Loc error points at, ``tide_miss`` says which);
* **operating points** — the evaluator's :class:`~lt_core.detection.MatchState` (pycocotools /
  lvis-api matching at every IoU threshold): the detections of a class at or above a score, true or
  false positive at the chosen IoU, and the ground truth they leave unmatched;
* **stealing** — :func:`lt_core.detection.stealing_analysis`: a victim class's boxes that a
  detection of the stealer class covers while none of its own does.

Every selection is a :class:`~lt_core.examples.Selection` whose rows have the columns of
:func:`box_table`, worst first: false positives by score (highest first), then missed ground truth
of the rarest classes first (larger boxes first), then true positives least confident first.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..bins import BinScheme, parse_bins
from ..errors import InputError
from .selection import Selection

__all__ = ["box_table", "boxes_of_class", "boxes_by_tide_error", "stealing_pair", "detections_at_threshold",
           "pr_point_threshold", "worst_boxes_per_class", "TIDE_OUTCOME",
           "FP_KINDS", "OUTCOME_LABELS", "BOX_COLUMNS", "DETECTION_ORDER", "LEGEND_ITEMS"]

DEFAULT_CAP = 200
#: the false-positive kinds of the outcome table
FP_KINDS = ("duplicate", "wrong_class", "localization", "both", "background")
#: outcome -> words
OUTCOME_LABELS = {"tp": "true positive", "duplicate": "duplicate", "wrong_class": "wrong class",
                  "localization": "poor localisation", "both": "wrong class and box", "background": "background",
                  "ignored": "ignored", "missed": "missed ground truth", "fp": "false positive"}
#: the colour key of a drawn detection example (outcome -> words), in the order a reader scans it
LEGEND_ITEMS = (("gt", "ground truth"), ("tp", "true positive"), ("duplicate", "duplicate"),
                ("wrong_class", "wrong class"), ("localization", "poor localisation"), ("both", "wrong class and box"),
                ("background", "background"), ("missed", "missed ground truth"))
BOX_COLUMNS = ["image_id", "det_index", "ann_id", "category_id", "category", "bin", "true_category_id",
               "true_category", "true_bin", "score", "iou", "outcome", "tide_miss", "tide_error", "x", "y", "w", "h",
               "ann_x", "ann_y", "ann_w", "ann_h"]
#: TIDE's error names (the bars of its chart) -> the outcome each one is
TIDE_OUTCOME = {"Cls": "wrong_class", "Loc": "localization", "Both": "both", "Dupe": "duplicate",
                "Bkg": "background", "Miss": "missed"}
DETECTION_ORDER = "highest-scoring false positives first, then missed boxes of the rarest classes"


def _bins_of(classes, scheme) -> np.ndarray:
    from ..detection.evaluator import detection_bins

    cols = {"image_count": np.asarray(classes.train_count)}
    if classes.frequency is not None:
        cols["frequency"] = classes.frequency
    return detection_bins(cols, parse_bins(scheme))


def box_table(gt, results, scheme: str | BinScheme = "lvis", outcomes: pd.DataFrame | None = None,
              **outcome_kw) -> pd.DataFrame:
    """One row per kept prediction and per unmatched ground-truth box, with what it is.

    Parameters
    ----------
    gt : DetectionGT
    results : DetectionResults
    scheme : str
        Frequency bins (``lvis``: the LVIS letters / train image counts).
    outcomes : DataFrame, optional
        :func:`lt_core.detection.detection_outcomes` of these files (computed when not given, with
        ``outcome_kw``: ``style``, ``pos_thr``, ``bg_thr``, ``max_dets``).

    Returns
    -------
    DataFrame with :data:`BOX_COLUMNS`: ``det_index`` is the prediction's position in the results
    file (-1 for a ground-truth row), ``ann_id`` the ground truth concerned (its match, the object a
    wrong-class / poor-localisation box is about, a missed box; -1 if none), ``category`` the
    predicted class (a missed box: its own), ``true_category`` the class of ``ann_id``, ``iou`` the
    prediction's IoU with that box (without one: its best IoU with a box of its own class), ``x, y,
    w, h`` the row's box and ``ann_*`` the ground-truth box. Missed rows: every non-crowd ground truth no
    prediction matched (``tide_miss``: no wrong-class / poor-localisation box points at it either).
    """
    if outcomes is None:
        from ..detection import detection_outcomes

        outcomes = detection_outcomes(gt, results, **outcome_kw)
    cls = gt.categories
    bins = _bins_of(cls, scheme)
    o = outcomes
    ann_ids = np.asarray(gt.ann_id, np.int64)
    a_sort = np.argsort(ann_ids, kind="stable")

    def ann_pos(ids):
        ids = np.asarray(ids, np.int64)
        p = np.minimum(np.searchsorted(ann_ids[a_sort], ids), max(len(ann_ids) - 1, 0))
        ok = (ids >= 0) & (len(ann_ids) > 0)
        ok &= ann_ids[a_sort][p] == ids if len(ann_ids) else False
        return np.where(ok, a_sort[p], -1)

    preds = o[o["det_index"] >= 0]
    det = preds["det_index"].to_numpy(np.int64)
    # every unmatched non-crowd ground truth (COCO's false negatives at IoU 0.5)
    crowd = np.asarray(gt.ann_iscrowd, bool)
    matched = set(preds.loc[preds["outcome"] == "tp", "ann_id"].to_numpy(np.int64).tolist())
    tide_missed = set(o.loc[o["outcome"] == "missed", "ann_id"].to_numpy(np.int64).tolist())
    g_sel = np.flatnonzero(~crowd)  # LVIS has no crowd boxes: every box counts
    g_sel = g_sel[~np.isin(ann_ids[g_sel], np.fromiter(matched, np.int64, len(matched)))]
    ci_det = cls.index_of(preds["category_id"].to_numpy(np.int64)) if len(preds) else np.zeros(0, np.int64)
    a_about = ann_pos(preds["ann_id"].to_numpy(np.int64))
    g_cat_all = cls.index_of(np.asarray(gt.ann_category_id, np.int64)) if len(ann_ids) else np.zeros(0, np.int64)
    t_ci = np.where(a_about >= 0, g_cat_all[np.maximum(a_about, 0)], -1)
    bbox = np.asarray(results.bbox, np.float64).reshape(-1, 4)
    g_box = np.asarray(gt.ann_bbox, np.float64).reshape(-1, 4)
    names = np.asarray(cls.names, dtype=object)
    ids = np.asarray(cls.ids, np.int64)

    def ann_box(pos):
        out = np.full((len(pos), 4), np.nan)
        ok = pos >= 0
        out[ok] = g_box[pos[ok]]
        return out

    ab = ann_box(a_about)
    # IoU with the box the prediction is about (its match, the object of a wrong-class box ...), pycocotools'
    # arithmetic; without one, the outcome table's (its best IoU with a box of its own class)
    from ..detection.matching import bbox_iou_pairs

    own = preds["iou"].to_numpy(np.float64)
    with_ann = a_about >= 0
    iou = own.copy()
    if with_ann.any():
        iou[with_ann] = bbox_iou_pairs(bbox[det[with_ann]], ab[with_ann], np.zeros(int(with_ann.sum()), bool))
    p_part = pd.DataFrame({
        "image_id": preds["image_id"].to_numpy(np.int64), "det_index": det,
        "ann_id": preds["ann_id"].to_numpy(np.int64), "category_id": ids[ci_det], "category": names[ci_det],
        "bin": bins[ci_det], "true_category_id": np.where(t_ci >= 0, ids[np.maximum(t_ci, 0)], -1),
        "true_category": np.where(t_ci >= 0, names[np.maximum(t_ci, 0)], None),
        "true_bin": np.where(t_ci >= 0, bins[np.maximum(t_ci, 0)], None),
        "score": preds["score"].to_numpy(np.float64), "iou": iou,
        "outcome": preds["outcome"].to_numpy(dtype=object), "tide_miss": False,
        "tide_error": (preds["tide_error"].to_numpy(dtype=object) if "tide_error" in preds else ""),
        "x": bbox[det, 0], "y": bbox[det, 1], "w": bbox[det, 2], "h": bbox[det, 3],
        "ann_x": ab[:, 0], "ann_y": ab[:, 1], "ann_w": ab[:, 2], "ann_h": ab[:, 3],
    })
    gc = g_cat_all[g_sel]
    gb = g_box[g_sel]
    m_part = pd.DataFrame({
        "image_id": np.asarray(gt.ann_image_id, np.int64)[g_sel], "det_index": -1, "ann_id": ann_ids[g_sel],
        "category_id": ids[gc], "category": names[gc], "bin": bins[gc], "true_category_id": ids[gc],
        "true_category": names[gc], "true_bin": bins[gc], "score": np.nan, "iou": np.nan, "outcome": "missed",
        "tide_miss": np.isin(ann_ids[g_sel], np.fromiter(tide_missed, np.int64, len(tide_missed))),
        "tide_error": np.where(np.isin(ann_ids[g_sel], np.fromiter(tide_missed, np.int64, len(tide_missed))),
                               "Miss", ""),
        "x": gb[:, 0], "y": gb[:, 1], "w": gb[:, 2], "h": gb[:, 3],
        "ann_x": gb[:, 0], "ann_y": gb[:, 1], "ann_w": gb[:, 2], "ann_h": gb[:, 3],
    })
    out = pd.concat([p_part, m_part], ignore_index=True) if len(m_part) else p_part
    out.attrs["train_count"] = dict(zip(ids.tolist(), np.asarray(cls.train_count).tolist()))
    return out[BOX_COLUMNS]


def _worst_first(df: pd.DataFrame, train_count: dict) -> pd.DataFrame:
    """False positives by score (high first), then missed boxes of the rarest classes (large first),
    then true positives least confident first, then ignored; ties by image, position."""
    out = df["outcome"].to_numpy(dtype=object)
    group = np.select([np.isin(out, FP_KINDS + ("fp",)), out == "missed", out == "tp"], [0, 1, 2], 3)
    score = df["score"].to_numpy(np.float64)
    tc = df["category_id"].map(train_count).to_numpy(np.float64) if train_count else np.zeros(len(df))
    area = (df["w"] * df["h"]).to_numpy(np.float64)
    k1 = np.where(group == 0, -np.nan_to_num(score, nan=-1.0), np.where(group == 1, tc, np.where(
        group == 2, np.nan_to_num(score, nan=2.0), -np.nan_to_num(score, nan=-1.0))))
    k2 = np.where(group == 1, -area, 0.0)
    order = np.lexsort((df["ann_id"].to_numpy(), df["det_index"].to_numpy(), df["image_id"].to_numpy(), k2, k1, group))
    return df.iloc[order]


def _select(table: pd.DataFrame, mask: np.ndarray, title: str, cap: int | None, note: str = DETECTION_ORDER
            ) -> Selection:
    if cap is not None and int(cap) < 0:
        raise InputError(f"cap must be >= 0, got {cap}", field="cap")
    sub = _worst_first(table[mask], table.attrs.get("train_count", {}))
    total = len(sub)
    if cap is not None:
        sub = sub.head(int(cap))
    rows = sub.reset_index(drop=True)
    rows.attrs = {}
    return Selection(title, rows, total, "detection", note)


def _outcome_set(outcomes) -> tuple[str, ...]:
    if outcomes is None or outcomes == "all":
        return ("tp", *FP_KINDS, "missed")
    if outcomes in ("errors", "fp+missed"):
        return (*FP_KINDS, "missed")
    if outcomes in ("fp", "false positives"):
        return FP_KINDS
    if isinstance(outcomes, str):
        outcomes = (outcomes,)
    bad = [o for o in outcomes if o not in OUTCOME_LABELS or o == "fp"]
    if bad:
        raise InputError(f"unknown outcome {bad[0]!r}", field="outcome",
                         hint="tp, duplicate, wrong_class, localization, both, background, ignored, missed")
    return tuple(outcomes)


def boxes_of_class(table: pd.DataFrame, classes, class_id: int | None = None, outcomes="errors",
                   role: str = "predicted", cap: int | None = DEFAULT_CAP, bins=None,
                   tide_miss_only: bool = False) -> Selection:
    """The boxes of one class (or of every class) with the given outcomes, worst first.

    Parameters
    ----------
    table : DataFrame
        :func:`box_table`.
    class_id : int, optional
        The category; None: every category.
    outcomes : "errors", "fp", "all", one outcome or a sequence of them
        ``errors`` = every false-positive kind and the missed boxes.
    role : {"predicted", "true"}
        ``predicted``: the class's own detections (and its missed boxes); ``true``: the boxes about
        the class's objects (its true positives, missed boxes, and the detections of other classes
        or of bad boxes on them: ``true_category_id``).
    bins : str or sequence of str, optional
        Only the categories of these frequency bins (the ``bin`` column).
    tide_miss_only : bool
        Missed boxes: only TIDE's "Miss" (no wrong-class / poor-localisation box points at them).
    """
    want = _outcome_set(outcomes)
    mask = table["outcome"].isin(want).to_numpy()
    if tide_miss_only:
        mask = mask & ((table["outcome"] != "missed").to_numpy() | table["tide_miss"].to_numpy(bool))
    name = "every class"
    if bins is not None:
        bl = (bins,) if isinstance(bins, str) else tuple(bins)
        mask = mask & table["bin"].isin(bl).to_numpy()
        name = f"the {'/'.join(bl)} classes"
    if class_id is not None:
        k = int(classes.index_of([class_id], field="category id")[0])
        name = str(classes.names[k])
        col = {"predicted": "category_id", "true": "true_category_id"}.get(role)
        if col is None:
            raise InputError(f"role must be 'predicted' or 'true', got {role!r}", field="role")
        mask = mask & (table[col].to_numpy(np.int64) == int(classes.ids[k]))
    what = ("errors" if outcomes == "errors" else "false positives" if outcomes in ("fp", "false positives")
            else "all boxes" if outcomes in (None, "all") else ", ".join(OUTCOME_LABELS[o] for o in want))
    prefix = "" if role == "predicted" or class_id is None else "on the objects of "
    return _select(table, mask, f"{prefix}{name}: {what}", cap)


def boxes_by_tide_error(table: pd.DataFrame, classes, error: str, bins=None, class_id: int | None = None,
                        cap: int | None = DEFAULT_CAP) -> Selection:
    """The boxes behind one bar of the TIDE chart: every prediction (or missed box) of that error type.

    As tidecv counts them — so their number is the chart's ``n_<type>`` — predictions ignored by the
    evaluation (LVIS: a class not verified in the image) keep their error type: they come after
    the evaluated ones (outcome ``ignored``).
    """
    if error not in TIDE_OUTCOME:
        raise InputError(f"unknown TIDE error {error!r}", field="error", hint=", ".join(TIDE_OUTCOME))
    mask = (table["tide_error"] == error).to_numpy()
    name = "every class"
    if bins is not None:
        bl = (bins,) if isinstance(bins, str) else tuple(bins)
        mask = mask & table["bin"].isin(bl).to_numpy()
        name = f"the {'/'.join(bl)} classes"
    if class_id is not None:
        k = int(classes.index_of([class_id], field="category id")[0])
        mask = mask & (table["category_id"].to_numpy(np.int64) == int(classes.ids[k]))
        name = str(classes.names[k])
    sel = _select(table, mask, f"{name}: TIDE {error} ({OUTCOME_LABELS[TIDE_OUTCOME[error]]})", cap)
    n_ign = int((table.loc[mask, "outcome"] == "ignored").sum())
    if n_ign:
        sel.order += f"; {n_ign:,} of them ignored by the evaluation (listed last)"
    return sel


def stealing_pair(stealing, table: pd.DataFrame, gt, results, victim_id: int, stealer_id: int | None,
                  cap: int | None = DEFAULT_CAP) -> Selection:
    """The victim's boxes that the stealer class covers and its own detections miss (``stealer_id``
    None: every stolen box of the victim, whoever steals it).

    One row per stolen box: the missed ground truth (``det_index`` -1, its box) and, as
    ``stealer_det`` / ``stealer_score`` / ``stealer_iou`` / ``stealer_box``, the highest-scoring
    detection of the stealer class over it (:func:`lt_core.detection.stealing_analysis`). Order:
    the most confident stealers first.
    """
    pg = stealing.per_gt
    sid = pg["stealer_id"].to_numpy(np.int64)
    m = (pg["category_id"].to_numpy(np.int64) == int(victim_id)) & ~pg["found"].to_numpy(bool) \
        & ((sid == int(stealer_id)) if stealer_id is not None else (sid >= 0))
    ann = pg.loc[m, "ann_id"].to_numpy(np.int64)
    sdet = pg.loc[m, "stealer_det"].to_numpy(np.int64) if "stealer_det" in pg else np.full(len(ann), -1)
    cls = gt.categories
    k_v = int(cls.index_of([victim_id], field="category id")[0])
    s_idx = cls.index_of(sid[m], field="category id") if m.any() else np.zeros(0, np.int64)
    g_ids = np.asarray(gt.ann_id, np.int64)
    pos = np.searchsorted(g_ids[np.argsort(g_ids)], ann)
    gpos = np.argsort(g_ids)[pos]
    g_box = np.asarray(gt.ann_bbox, np.float64).reshape(-1, 4)[gpos]
    bins = _bins_of(cls, "lvis")
    d_box = np.asarray(results.bbox, np.float64).reshape(-1, 4)
    sb = np.where((sdet >= 0)[:, None], d_box[np.maximum(sdet, 0)], np.nan)
    from ..detection.matching import bbox_iou_pairs

    siou = np.where(sdet >= 0, bbox_iou_pairs(sb, g_box, np.zeros(len(ann), bool)), np.nan)
    rows = pd.DataFrame({
        "image_id": np.asarray(gt.ann_image_id, np.int64)[gpos], "det_index": -1, "ann_id": ann,
        "category_id": int(victim_id), "category": str(cls.names[k_v]), "bin": bins[k_v],
        "true_category_id": int(victim_id), "true_category": str(cls.names[k_v]), "true_bin": bins[k_v],
        "score": np.nan, "iou": np.nan, "outcome": "missed", "tide_miss": False, "tide_error": "",
        "x": g_box[:, 0], "y": g_box[:, 1], "w": g_box[:, 2], "h": g_box[:, 3],
        "ann_x": g_box[:, 0], "ann_y": g_box[:, 1], "ann_w": g_box[:, 2], "ann_h": g_box[:, 3],
        "stealer_id": sid[m], "stealer": np.asarray(cls.names, dtype=object)[s_idx], "stealer_det": sdet,
        "stealer_score": pg.loc[m, "stealer_score"].to_numpy(np.float64), "stealer_iou": siou,
        "stealer_x": sb[:, 0], "stealer_y": sb[:, 1], "stealer_w": sb[:, 2], "stealer_h": sb[:, 3],
    })
    o = np.lexsort((rows["ann_id"].to_numpy(), -np.nan_to_num(rows["stealer_score"].to_numpy(), nan=-1.0)))
    rows = rows.iloc[o].reset_index(drop=True)
    total = len(rows)
    if cap is not None:
        rows = rows.head(int(cap))
    who = str(cls.names[int(cls.index_of([stealer_id], field="category id")[0])]) if stealer_id is not None \
        else "other classes"
    return Selection(f"{cls.names[k_v]} boxes taken by {who}", rows, total, "detection",
                     "the most confident stealers first")


def detections_at_threshold(ev, gt, class_id: int, threshold: float, iou: float = 0.5, area: int = 0,
                            include_missed: bool = True, cap: int | None = DEFAULT_CAP,
                            scheme: str | BinScheme = "lvis", results=None) -> Selection:
    """The detections of a class at or above a score, as the evaluator matched them.

    A point of the class's PR curve (or an operating threshold): the detections that make it —
    true positives and false positives at ``iou`` (pycocotools / lvis-api matching: the evaluator's
    :class:`~lt_core.detection.MatchState`; crowd / not-exhaustive / out-of-range ones are left
    out, as in AP) — and, at IoU 0.5, the class's ground truth none of them matched.

    Parameters
    ----------
    ev : DetectionEvaluation
    gt : DetectionGT
    threshold : float
        Score threshold (detections with ``score >= threshold``).
    results : DetectionResults, optional
        For the boxes (``x, y, w, h``); without it they are NaN.
    """
    from ..detection.curves import iou_index

    st = ev.state
    cls = gt.categories
    k = int(cls.index_of([class_id], field="category id")[0])
    t = iou_index(ev, iou)
    matched, ignored = st.flags(t, area)
    keep = (st.cat == k) & ~ignored & (st.score >= float(threshold))
    if ev.params.style == "coco":
        keep &= st.rank < ev.params.headline_dets
    idx = np.flatnonzero(keep)
    bins = _bins_of(cls, scheme)
    det = st.det_index[idx]
    box = np.full((len(idx), 4), np.nan)
    if results is not None:
        box = np.asarray(results.bbox, np.float64).reshape(-1, 4)[det]
    tp = matched[idx]
    ann = np.where(tp & np.isclose(iou, 0.5), st.match_ann[idx], -1)
    name = str(cls.names[k])
    d_part = pd.DataFrame({
        "image_id": st.img[idx], "det_index": det, "ann_id": ann, "category_id": int(cls.ids[k]), "category": name,
        "bin": bins[k], "true_category_id": np.where(tp, int(cls.ids[k]), -1),
        "true_category": np.where(tp, name, None), "true_bin": np.where(tp, bins[k], None),
        "score": st.score[idx], "iou": st.iou[idx], "outcome": np.where(tp, "tp", "fp").astype(object),
        "tide_miss": False, "tide_error": "", "x": box[:, 0], "y": box[:, 1], "w": box[:, 2], "h": box[:, 3],
        "ann_x": np.nan, "ann_y": np.nan, "ann_w": np.nan, "ann_h": np.nan})
    parts = [d_part]
    note = ""
    if include_missed and np.isclose(iou, 0.5) and area == 0:
        hit = set(st.match_ann[idx][tp].tolist())
        crowd = np.asarray(gt.ann_iscrowd, bool)
        g_cat = cls.index_of(np.asarray(gt.ann_category_id, np.int64)) if len(gt.ann_id) else np.zeros(0, int)
        gsel = np.flatnonzero((g_cat == k) & ~crowd)
        gsel = gsel[~np.isin(np.asarray(gt.ann_id, np.int64)[gsel], np.fromiter(hit, np.int64, len(hit)))]
        covered = np.isin(np.asarray(gt.ann_image_id, np.int64)[gsel], np.asarray(st.image_ids, np.int64))
        gsel = gsel[covered]
        gb = np.asarray(gt.ann_bbox, np.float64).reshape(-1, 4)[gsel]
        parts.append(pd.DataFrame({
            "image_id": np.asarray(gt.ann_image_id, np.int64)[gsel], "det_index": -1,
            "ann_id": np.asarray(gt.ann_id, np.int64)[gsel], "category_id": int(cls.ids[k]), "category": name,
            "bin": bins[k], "true_category_id": int(cls.ids[k]), "true_category": name, "true_bin": bins[k],
            "score": np.nan, "iou": np.nan, "outcome": "missed", "tide_miss": False, "tide_error": "",
            "x": gb[:, 0], "y": gb[:, 1], "w": gb[:, 2], "h": gb[:, 3],
            "ann_x": gb[:, 0], "ann_y": gb[:, 1], "ann_w": gb[:, 2], "ann_h": gb[:, 3]}))
    elif include_missed:
        note = " (missed boxes are listed at IoU 0.5, area all)"
    table = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else d_part
    table.attrs["train_count"] = {int(cls.ids[k]): int(cls.train_count[k])}
    return _select(table, np.ones(len(table), bool), f"{name} at score ≥ {threshold:.3g} (IoU {iou:.2f}){note}", cap)


def pr_point_threshold(ev, class_id: int, recall: float, iou: float = 0.5, area: int = 0) -> float:
    """The score threshold of a PR-curve point: the lowest score the class's detections need to
    reach ``recall`` (the score of the first detection, in score order, at which recall >= it)."""
    from ..detection.curves import raw_pr_curve

    k = int(ev.state.class_ids.tolist().index(int(class_id))) if int(class_id) in ev.state.class_ids else None
    if k is None:
        raise InputError(f"category {class_id} is not in the evaluation", field="category id")
    raw = raw_pr_curve(ev, k, iou, area)
    if not len(raw):
        raise InputError("the class has no detections to make a PR curve", field="category id")
    rec = raw["recall"].to_numpy(np.float64)
    hit = np.flatnonzero(rec >= float(recall) - 1e-12)
    i = int(hit[0]) if len(hit) else len(raw) - 1
    return float(raw["score"].iloc[i])



def worst_boxes_per_class(table: pd.DataFrame, classes, n: int, outcomes="errors") -> pd.DataFrame:
    """The ``n`` worst boxes of every category (``eval-det --examples N``), categories in table order.

    A box belongs to the category it was predicted as (a missed box: its own); within a category the
    order is :func:`boxes_of_class`'s (false positives by score, then missed boxes, larger first).

    Returns
    -------
    DataFrame: ``rank`` (1..n), ``class_tp``, ``class_fp``, ``class_missed`` (the category's counts)
    and the :data:`BOX_COLUMNS`.
    """
    if int(n) < 1:
        raise InputError(f"n must be >= 1, got {n}", field="examples")
    want = _outcome_set(outcomes)
    t = table[table["outcome"].isin(want)]
    ordered = _worst_first(t, table.attrs.get("train_count", {}))
    cat = ordered["category_id"].to_numpy(np.int64)
    pos = classes.index_of(cat, field="category id") if len(cat) else np.zeros(0, np.int64)
    grp = np.argsort(pos, kind="stable")
    ps = pos[grp]
    rank = np.arange(len(grp)) - np.searchsorted(ps, ps, side="left") + 1
    keep = rank <= int(n)
    out = ordered.iloc[grp[keep]].copy()
    allc = classes.index_of(table["category_id"].to_numpy(np.int64), field="category id") if len(table) else \
        np.zeros(0, np.int64)
    o = table["outcome"].to_numpy(dtype=object)
    C = classes.n_classes
    n_tp = np.bincount(allc[o == "tp"], minlength=C)
    n_fp = np.bincount(allc[np.isin(o, FP_KINDS)], minlength=C)
    n_miss = np.bincount(allc[o == "missed"], minlength=C)
    c = ps[keep]
    out.insert(0, "rank", rank[keep])
    out.insert(1, "class_tp", n_tp[c])
    out.insert(2, "class_fp", n_fp[c])
    out.insert(3, "class_missed", n_miss[c])
    out = out.reset_index(drop=True)
    out.attrs = {}
    return out
