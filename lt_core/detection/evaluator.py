"""``evaluate_detections``: COCO / LVIS box and mask AP, exact to the reference packages.

Semantics: pycocotools ``COCOeval`` (style ``coco``) and lvis-api ``LVISEval`` (style ``lvis``),
see :mod:`lt_core.detection.prepare`, :mod:`~lt_core.detection.matching` and
:mod:`~lt_core.detection.accumulate`. Images are matched in shards (bounded memory); the
shards' statistics are merged and accumulated once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..errors import InputError
from .accumulate import Accumulated, accumulate, summarize_ap, summarize_ar
from .matching import MatchState, empty_state, match_shard, merge
from .params import EvalParams
from .prepare import GTTable, prepare_dets, prepare_gt

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..data.schema import DetectionGT, DetectionResults

__all__ = ["DetectionEvaluation", "evaluate_detections", "ap_by_bin", "evaluate_state", "default_style",
           "HEADLINE_KEYS", "COCO_AR_KEYS", "LVIS_AR_KEYS", "match_detections", "finish", "summary_numbers",
           "detection_bins"]

HEADLINE_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf")
#: recall keys of the COCO protocol (pycocotools' stats[6:12]) at the default maxDets 1 / 10 / 100
COCO_AR_KEYS = ("AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
#: recall keys of the LVIS protocol (lvis-api's results) at the default 300 detections per image
LVIS_AR_KEYS = ("AR@300", "ARs@300", "ARm@300", "ARl@300")
FREQ_LABELS = ("r", "c", "f")


def default_style(gt: DetectionGT) -> str:
    """``lvis`` when the ground truth carries LVIS image fields (``neg_category_ids`` /
    ``not_exhaustive_category_ids``), else ``coco`` (APr / APc / APf are still reported when
    the categories carry ``frequency``)."""
    return "lvis" if gt.neg_category_ids is not None else "coco"


@dataclass
class DetectionEvaluation:
    """Result of :func:`evaluate_detections`.

    Attributes
    ----------
    name : str                    results name
    params : EvalParams
    headline : dict[str, float]   AP, AP50, AP75, APs, APm, APl (and APr, APc, APf with
                                  ``frequency``), then the recall summary: coco ``AR1``,
                                  ``AR10``, ``AR100``, ``ARs``, ``ARm``, ``ARl`` (pycocotools'
                                  ``stats[6:12]``: AR at each sorted maxDets, ARs / ARm /
                                  ARl at the largest; keys AR1 / AR10 / AR100 by default), lvis
                                  ``AR@300``, ``ARs@300``, ``ARm@300``, ``ARl@300`` (lvis-api's
                                  ``results``; 300 = ``max_dets``); fractions in [0, 1], -1
                                  where undefined
    columns : dict of ndarray     the per-class table as arrays (see ``per_class``)
    state : MatchState            the merged sufficient statistics (for curves, thresholds, CIs)
    acc : Accumulated             precision (T, R, C, A, M) / recall tables
    notes : list of str           what was dropped and why (unknown categories, limits)
    counts_source : str           where ``image_count`` comes from (see ClassTable.count_source)
    """

    name: str
    params: EvalParams
    headline: dict
    columns: dict
    state: MatchState
    acc: Accumulated
    notes: list = field(default_factory=list)
    counts_source: str = ""
    _frame: object = field(default=None, repr=False, compare=False)

    @property
    def per_class(self) -> "pd.DataFrame":
        """One row per category: category_id, name, frequency, image_count, instance_count, AP,
        AP50, AP75, AR (recall at IoU 0.50:0.95, area all, the headline maxDets), n_gt, n_det
        (AP / AR -1 where the class has no ground truth). Built on first use (pandas)."""
        if self._frame is None:
            import pandas as pd

            self._frame = pd.DataFrame(self.columns)
        return self._frame

    def to_json(self) -> dict:
        """The ``eval-det --out`` report: headline keys, ``per_class`` and the protocol."""
        out = {k: float(v) for k, v in self.headline.items()}
        c = self.columns
        recs = []
        for i in range(len(c["category_id"])):
            f = c["frequency"][i]
            recs.append({"category_id": int(c["category_id"][i]), "name": str(c["name"][i]),
                         "frequency": None if f is None or f != f else str(f),
                         "image_count": int(c["image_count"][i]), "instance_count": int(c["instance_count"][i]),
                         "AP": float(c["AP"][i])})
        out["per_class"] = recs
        out["style"] = self.params.style
        out["iou_type"] = self.params.iou_type
        out["max_dets"] = list(self.params.max_dets)
        if self.counts_source:
            out["counts_source"] = self.counts_source
        return out


def match_detections(gt: DetectionGT | GTTable, results: DetectionResults, params: EvalParams,
                     shard_images: int = 2000,
                     progress: Callable[[float, str], None] | None = None) -> MatchState:
    """Match ``results`` against ``gt`` shard by shard; returns the merged :class:`MatchState`."""
    gtt = gt if isinstance(gt, GTTable) else prepare_gt(gt, params)
    dtt = prepare_dets(gtt, results, params)
    state = empty_state(params, gtt.class_ids)
    n = gtt.n_images
    shard_images = max(1, int(shard_images))
    for lo in range(0, max(n, 1), shard_images):
        hi = min(n, lo + shard_images)
        state = merge(state, match_shard(gtt, dtt, lo, hi, params))
        if progress is not None:
            progress(hi / max(n, 1), f"matched {hi:,} / {n:,} images")
    state.notes = _notes(dtt)
    return state


def _notes(dtt) -> list:
    notes = []
    if dtt.n_unknown_category:
        notes.append(f"{dtt.n_unknown_category:,} detections of categories not in the ground truth were ignored "
                     "(as the reference tools do)")
    if dtt.n_dropped_limit:
        notes.append(f"{dtt.n_dropped_limit:,} detections beyond the maximum number of detections were dropped")
    if dtt.n_dropped_federated:
        notes.append(f"{dtt.n_dropped_federated:,} detections of categories neither present nor verified absent "
                     "in their image were not evaluated (LVIS federated protocol)")
    return notes


def finish(state: MatchState, gt: DetectionGT, name: str = "results", *, acc: Accumulated | None = None,
           n_det: np.ndarray | None = None) -> DetectionEvaluation:
    """Accumulate a (merged) state and build the headline and per-class tables.

    ``acc`` / ``n_det`` (detections per class): tables accumulated elsewhere (the Dask path,
    :mod:`lt_core.distributed.detection`, accumulates each block of classes on a worker)."""
    params = state.params
    acc = accumulate(state) if acc is None else acc
    cls = gt.categories
    headline = summary_numbers(acc, params, cls.frequency)
    m = params.headline_m
    P = acc.precision[:, :, :, 0, m]  # (T, R, C)
    with np.errstate(invalid="ignore"):
        valid = P > -1
        cnt = valid.sum(axis=(0, 1))
        # a class with ground truth has every (IoU, recall) entry set, so its AP is np.mean over
        # one contiguous row: the same pairwise summation as np.mean(P[:, :, k][P[:, :, k] > -1])
        full = cnt == P.shape[0] * P.shape[1]
        rows = np.ascontiguousarray(P.transpose(2, 0, 1)).reshape(P.shape[2], -1)  # (C, T*R)
        ap = np.where(full, rows.mean(axis=1), -1.0)
        for k in np.flatnonzero((cnt > 0) & ~full):  # partial rows (never with the reference grids)
            v = P[:, :, k]
            ap[k] = float(np.mean(v[v > -1]))
        ap50 = _class_means(P[0])
        i75 = np.where(0.75 == params.iou_thrs)[0]
        ap75 = _class_means(P[i75[0]]) if len(i75) else np.full(P.shape[2], -1.0)
        Rc = acc.recall[:, :, 0, m]  # (T, C)
        ar = np.where((Rc > -1).any(0), np.where(Rc > -1, Rc, 0).sum(0) / np.maximum((Rc > -1).sum(0), 1), -1.0)
    n_gt = state.gt_count[:, 0]
    n_det = np.bincount(state.cat, minlength=cls.n_classes) if n_det is None else np.asarray(n_det)
    freq = cls.frequency
    train_inst = cls.train_instances if cls.train_instances is not None else np.zeros(cls.n_classes, np.int64)
    columns = {
        "category_id": np.asarray(cls.ids, dtype=np.int64),
        "name": np.asarray(cls.names, dtype=object),
        "frequency": np.asarray(freq, dtype=object) if freq is not None else np.full(cls.n_classes, None, dtype=object),
        "image_count": np.asarray(cls.train_count, dtype=np.int64),
        "instance_count": np.asarray(train_inst, dtype=np.int64),
        "AP": ap, "AP50": ap50, "AP75": ap75, "AR": ar,
        "n_gt": n_gt.astype(np.int64), "n_det": n_det.astype(np.int64),
    }
    return DetectionEvaluation(name=name, params=params, headline=headline, columns=columns, state=state,
                               acc=acc, notes=list(state.notes),
                               counts_source=str(getattr(cls, "count_source", "") or ""))


def summary_numbers(acc: Accumulated, params: EvalParams, frequency=None) -> dict:
    """The references' summary: AP family, APr / APc / APf (with ``frequency``), then AR.

    coco: pycocotools ``COCOeval.summarize`` (``stats[0:12]``; AR at maxDets 1, 10 and the last);
    lvis: lvis-api ``LVISEval.summarize`` (``AP``... ``APf``, ``AR@N``, ``ARs@N``, ``ARm@N``,
    ``ARl@N`` with N the per-image limit).
    """
    out = {
        "AP": summarize_ap(acc, params),
        "AP50": summarize_ap(acc, params, t=0.50),
        "AP75": summarize_ap(acc, params, t=0.75),
        "APs": summarize_ap(acc, params, area=1),
        "APm": summarize_ap(acc, params, area=2),
        "APl": summarize_ap(acc, params, area=3),
    }
    if frequency is not None:
        f = np.asarray(frequency, dtype=object)
        for lab in FREQ_LABELS:
            out[f"AP{lab}"] = summarize_ap(acc, params, classes=np.flatnonzero(f == lab))
    if params.style == "coco":
        # as pycocotools prints them: COCOeval.evaluate sorts maxDets; stats[6:9] at each sorted
        # value, stats[9:12] at the largest
        md = list(params.max_dets)
        for i, n in enumerate(md):
            out[f"AR{n}"] = summarize_ar(acc, params, m=md.index(n))
        last = md.index(md[-1])
        for lab, a in (("ARs", 1), ("ARm", 2), ("ARl", 3)):
            out[lab] = summarize_ar(acc, params, area=a, m=last)
    else:
        n = params.max_dets[0]
        for lab, a in (("AR", 0), ("ARs", 1), ("ARm", 2), ("ARl", 3)):
            out[f"{lab}@{n}"] = summarize_ar(acc, params, area=a, m=0)
    return out


def _class_means(P2: np.ndarray) -> np.ndarray:
    """Mean over axis 0 of the entries > -1 per column (R, C) -> (C,), -1 for empty columns
    (contiguous rows: the pairwise summation of np.mean on each column's valid entries)."""
    valid = P2 > -1
    cnt = valid.sum(0)
    full = cnt == P2.shape[0]
    out = np.where(full, np.ascontiguousarray(P2.T).mean(axis=1), -1.0)
    for k in np.flatnonzero((cnt > 0) & ~full):
        out[k] = _mean_valid(P2[:, k])
    return out


def _mean_valid(v: np.ndarray) -> float:
    w = v[v > -1]
    return -1.0 if w.size == 0 else float(np.mean(w))


def evaluate_state(state: MatchState, gt: DetectionGT, name: str = "results") -> DetectionEvaluation:
    """Alias of :func:`finish` (compute step of the update / merge / compute triple)."""
    return finish(state, gt, name)


def evaluate_detections(gt: DetectionGT, results: DetectionResults, iou_type: str = "bbox",
                        style: str | None = None, max_dets: int | None = None, shard_images: int = 2000,
                        progress: Callable[[float, str], None] | None = None,
                        gt_table: GTTable | None = None) -> DetectionEvaluation:
    """Evaluate detections against ground truth; numbers equal pycocotools / lvis-api.

    Parameters
    ----------
    gt : DetectionGT
    results : DetectionResults
    iou_type : {"bbox", "segm"}
        ``segm`` needs RLE masks in the results and segmentations in the ground truth.
    style : {"lvis", "coco"}, optional
        Default: :func:`default_style` (``lvis`` when the ground truth has LVIS fields).
    max_dets : int, optional
        coco: replaces maxDets[-1] (default 100); lvis: detections per image (default 300).
    shard_images : int
        Images matched per shard (memory is bounded by the largest shard).
    progress : callable(fraction, message), optional
    gt_table : GTTable, optional
        A prepared ground truth (reuse across result files with the same params).

    Returns
    -------
    DetectionEvaluation
    """
    style = style or default_style(gt)
    params = EvalParams.make(style, iou_type, max_dets)
    if style == "lvis" and gt.neg_category_ids is None:
        raise InputError("lvis-style evaluation needs LVIS ground truth ('neg_category_ids' per image)",
                         gt.source, "images.neg_category_ids", hint="evaluate it with the COCO protocol")
    state = match_detections(gt_table if gt_table is not None else gt, results, params, shard_images, progress)
    ev = finish(state, gt, results.name)
    return ev


def detection_bins(columns: dict, scheme) -> np.ndarray:
    """Bin per class (C,): from LVIS ``frequency`` letters with the ``lvis`` scheme when every class
    has one (so AP by bin equals APr / APc / APf), else from ``image_count``.

    ``columns``: :attr:`DetectionEvaluation.columns` (or any mapping with ``image_count`` and
    optionally ``frequency``).
    """
    from ..bins import parse_bins
    sch = parse_bins(scheme)
    freq = columns.get("frequency")
    if sch.spec == "lvis" and freq is not None and len(freq) and all(f in ("r", "c", "f") for f in freq):
        names = {"r": "rare", "c": "common", "f": "frequent"}
        return np.array([names[f] for f in freq], dtype=object)
    return sch.assign(np.asarray(columns["image_count"]))


def ap_by_bin(ev: DetectionEvaluation, scheme: str = "lvis") -> "pd.DataFrame":
    """AP per frequency bin (:func:`detection_bins`: LVIS letters, else TRAIN image counts), head
    bin first.

    AP of a bin = mean of the precision table over its classes (as APr / APc / APf), so with
    the ``lvis`` scheme and LVIS categories it equals APf / APc / APr. Columns: ``bin``,
    ``AP``, ``AP50``, ``n_classes`` (classes in the bin), ``n_evaluated`` (with ground truth).
    """
    import pandas as pd

    from ..bins import parse_bins
    sch = parse_bins(scheme)
    bins = detection_bins(ev.columns, sch)
    rows = []
    for b in sch.order(bins):
        idx = np.flatnonzero(bins == b)
        rows.append({"bin": b, "AP": summarize_ap(ev.acc, ev.params, classes=idx),
                     "AP50": summarize_ap(ev.acc, ev.params, t=0.5, classes=idx), "n_classes": len(idx),
                     "n_evaluated": int((np.asarray(ev.columns["AP"])[idx] >= 0).sum())})
    return pd.DataFrame(rows)
