"""Precision-recall curves per class and averaged per frequency bin.

The interpolated curves are columns of the evaluation's precision table (the 101 recall
points of COCO / LVIS AP, so their mean over recall is the class's AP at that IoU); the raw
curves are the cumulative true / false positives in score order that the table was read from.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..bins import BinScheme, parse_bins
from .accumulate import class_order
from .evaluator import DetectionEvaluation

__all__ = ["pr_curve", "raw_pr_curve", "pr_curves_by_bin", "iou_index", "class_bins"]


def iou_index(ev: DetectionEvaluation, iou: float) -> int:
    """Index of an IoU threshold (0.50, 0.55, ..., 0.95) in the evaluation's grid."""
    i = np.flatnonzero(np.isclose(ev.params.iou_thrs, iou))
    if not len(i):
        raise ValueError(f"IoU {iou} is not one of the thresholds {np.round(ev.params.iou_thrs, 2).tolist()}")
    return int(i[0])


def pr_curve(ev: DetectionEvaluation, k: int, iou: float = 0.5, area: int = 0) -> pd.DataFrame:
    """Interpolated precision at the 101 recall points for class index ``k``.

    Returns columns ``recall``, ``precision`` (empty when the class has no ground truth).
    """
    t = iou_index(ev, iou)
    q = ev.acc.precision[t, :, k, area, ev.params.headline_m]
    if (q < 0).all():
        return pd.DataFrame({"recall": [], "precision": []})
    return pd.DataFrame({"recall": ev.params.rec_thrs, "precision": q})


def raw_pr_curve(ev: DetectionEvaluation, k: int, iou: float = 0.5, area: int = 0) -> pd.DataFrame:
    """Precision and recall after each detection of class ``k`` in score order.

    Columns: ``score``, ``recall``, ``precision``, ``tp`` (cumulative true positives); ignored
    detections (crowd / not-exhaustive / out of area range) are left out, as in AP.
    """
    st = ev.state
    order, starts = class_order(st)
    o = order[starts[k]:starts[k + 1]]
    if ev.params.style == "coco":
        o = o[st.rank[o] < ev.params.headline_dets]
    t = iou_index(ev, iou)
    m, ig = st.flags(t, area)
    m, ig = m[o], ig[o]
    keep = ~ig
    tp = np.cumsum(m[keep])
    fp = np.cumsum(~m[keep])
    n = int(st.gt_count[k, area])
    with np.errstate(invalid="ignore", divide="ignore"):
        rec = tp / n if n else np.full(len(tp), np.nan)
        prec = tp / np.maximum(tp + fp, 1)
    return pd.DataFrame({"score": st.score[o][keep], "recall": rec, "precision": prec, "tp": tp})


def class_bins(ev_or_table, scheme: str | BinScheme) -> np.ndarray:
    """Bin per class (C,): LVIS letters with the lvis scheme, else TRAIN image counts
    (:func:`lt_core.detection.evaluator.detection_bins`)."""
    from .evaluator import detection_bins
    if isinstance(ev_or_table, DetectionEvaluation):
        return detection_bins(ev_or_table.columns, scheme)
    tab = ev_or_table
    cols = {"image_count": tab["image_count"].to_numpy()}
    if "frequency" in tab:
        cols["frequency"] = tab["frequency"].to_numpy()
    return detection_bins(cols, scheme)


def pr_curves_by_bin(ev: DetectionEvaluation, scheme: str | BinScheme = "lvis", iou: float = 0.5,
                     area: int = 0) -> pd.DataFrame:
    """Mean interpolated precision per frequency bin (classes without ground truth left out).

    Returns long format: ``bin``, ``recall``, ``precision``, ``n_classes``.
    """
    sch = parse_bins(scheme)
    t = iou_index(ev, iou)
    P = ev.acc.precision[t, :, :, area, ev.params.headline_m]  # (R, C)
    bins = class_bins(ev, sch)
    rows = []
    for b in sch.order(bins):
        cols = np.flatnonzero((bins == b) & (P[0] > -1))
        if not len(cols):
            continue
        rows.append(pd.DataFrame({"bin": b, "recall": ev.params.rec_thrs, "precision": P[:, cols].mean(axis=1),
                                  "n_classes": len(cols)}))
    if not rows:
        return pd.DataFrame(columns=["bin", "recall", "precision", "n_classes"])
    return pd.concat(rows, ignore_index=True)
