"""Per-class operating thresholds for deployment: best-F1 and target-precision score cut-offs.

For each class, detections in score order (the same order, matching and ignore flags as AP
at IoU 0.5, area all) give precision and recall after each cut-off. A cut-off can only sit
between two different scores (``keep score >= threshold`` keeps all ties), so only the last
detection of each run of equal scores is a candidate. The best-F1 threshold maximises
2PR / (P + R) (highest threshold among equals); the target-precision threshold is the lowest
score whose precision still reaches the target (highest recall at that precision).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..io import write_json
from .accumulate import class_order
from .curves import iou_index
from .evaluator import DetectionEvaluation

__all__ = ["operating_thresholds", "thresholds_to_json", "write_thresholds"]


def operating_thresholds(ev: DetectionEvaluation, target_precision: float = 0.5, iou: float = 0.5) -> pd.DataFrame:
    """Per-class score thresholds and the precision / recall they give.

    Parameters
    ----------
    ev : DetectionEvaluation
    target_precision : float in (0, 1]
    iou : float   IoU threshold of a true positive (0.50 ... 0.95)

    Returns
    -------
    DataFrame, one row per class: ``category_id``, ``name``, ``n_gt``, ``n_det``,
    ``f1_threshold``, ``f1_precision``, ``f1_recall``, ``f1``, ``target_threshold``,
    ``target_precision``, ``target_recall`` (NaN where no detection / no ground truth allows it).
    """
    if not 0 < target_precision <= 1:
        raise ValueError("target_precision must be in (0, 1]")
    st = ev.state
    t = iou_index(ev, iou)
    m_all, ig_all = st.flags(t, 0)
    order, starts = class_order(st)
    C = len(st.class_ids)
    out = {k: np.full(C, np.nan) for k in ("f1_threshold", "f1_precision", "f1_recall", "f1",
                                           "target_threshold", "target_precision", "target_recall")}
    n_det = np.zeros(C, np.int64)
    for k in range(C):
        o = order[starts[k]:starts[k + 1]]
        if ev.params.style == "coco":
            o = o[st.rank[o] < ev.params.headline_dets]
        o = o[~ig_all[o]]
        n_det[k] = len(o)
        n = int(st.gt_count[k, 0])
        if n == 0 or len(o) == 0:
            continue
        s = st.score[o]
        tp = np.cumsum(m_all[o])
        fp = np.arange(1, len(o) + 1) - tp
        last = np.r_[s[1:] != s[:-1], True]          # cut-off candidates: end of a run of ties
        tp, fp, s = tp[last], fp[last], s[last]
        prec = tp / (tp + fp)
        rec = tp / n
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
        i = int(np.argmax(f1))
        if f1[i] > 0:
            out["f1_threshold"][k], out["f1_precision"][k], out["f1_recall"][k], out["f1"][k] = s[i], prec[i], rec[i], f1[i]
        ok = np.flatnonzero(prec >= target_precision)
        if len(ok):
            j = int(ok[-1])
            out["target_threshold"][k], out["target_precision"][k], out["target_recall"][k] = s[j], prec[j], rec[j]
    pc = ev.per_class
    return pd.DataFrame({"category_id": pc["category_id"].to_numpy(), "name": pc["name"].to_numpy(),
                         "image_count": pc["image_count"].to_numpy(), "n_gt": st.gt_count[:, 0], "n_det": n_det,
                         **out})


def thresholds_to_json(df: pd.DataFrame, which: str = "f1") -> dict:
    """``{category_id: threshold}`` (str keys, as JSON needs) for classes that have one.

    ``which`` is ``"f1"`` or ``"target"``. Classes without a threshold are left out: a
    deployment should keep its default for them.
    """
    col = {"f1": "f1_threshold", "target": "target_threshold"}[which]
    v = df[["category_id", col]].dropna()
    return {str(int(c)): float(t) for c, t in zip(v["category_id"], v[col])}


def write_thresholds(path, df: pd.DataFrame, which: str = "f1"):
    """Write :func:`thresholds_to_json` atomically."""
    return write_json(path, thresholds_to_json(df, which))
