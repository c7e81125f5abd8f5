"""COCO / LVIS detection evaluation on Dask, exact: match per image partition, shuffle by category.

1. The ground truth is prepared once on the client (:func:`lt_core.detection.prepare_gt`) and
   shipped to every worker once (``client.scatter(broadcast=True)``). Its per-image part of the
   state (non-ignored ground truths per image, class and area range: ``gt_count`` and the
   bootstrap's per-image counts) is computed on the client from the ground truth alone.
2. Map, one task per partition of a ``detections`` dataset (every detection of an image in one
   partition): the partition's rows in file order, the ground truth of its images
   (:func:`subset_gt`), then :func:`lt_core.detection.prepare_dets` and
   :func:`lt_core.detection.match_shard`, exactly the single-process code on those images. The
   per-detection match table (score, class, image, rank, matched / ignored bits) is cut into K
   blocks of classes.
3. Shuffle by category: block k of every partition goes to one worker, which orders its rows as
   the single-process state orders them (image, class, rank), accumulates its classes with
   :func:`lt_core.detection.accumulate` (AP needs every score of a class: nothing approximated)
   and, with a bootstrap, draws the same image weights from the same seed and runs the
   single-process replicate kernel on its classes.
4. The client assembles the precision / recall tables and the replicate APs, and builds the
   report with :func:`lt_core.detection.finish` and the CIs with
   :func:`lt_core.detection.bootstrap_ci` / :func:`~lt_core.detection.paired_bootstrap` from
   them, so every number equals the single-process one (and hence pycocotools / lvis-api's).

Memory: a map task holds one partition and the ground truth; a reduce task one block of classes
(about total / K detections); the match table waits between the two in the workers' memory,
spilled to disk by Dask above its memory target.
"""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..errors import InputError
from .engine import ProgressArg, map_buckets
from .layout import (Dataset, Partition, PartitionError, float_column, image_partition, int_column, is_dataset,
                     open_dataset, read_parquet_columns)

__all__ = ["evaluate_detections", "detections_dataset", "subset_gt", "DaskDetectionRun"]

_TARGET_BUCKET_DETS = 4_000_000  # detections per reduce block


@dataclass
class DaskDetectionRun:
    """What :func:`evaluate_detections` returns: the evaluation (``ev.state`` carries the
    ground-truth part of the state only, the per-detection arrays staying on the workers, unless
    ``gather_state``), the
    bootstrap intervals (or None), the replicate per-class APs (B, C) for paired comparisons,
    and the partitions / reduce blocks used."""

    ev: object
    boot: object = None
    replicates: tuple | None = None
    n_partitions: int = 0
    n_blocks: int = 0
    n_detections: int = 0


@contextmanager
def detections_dataset(dt, gt=None) -> Iterator[Dataset]:
    """``dt`` as a detections Dataset: a converted folder as it is, a results JSON converted into
    a temporary folder (checked against ``gt``) that is removed afterwards."""
    if isinstance(dt, Dataset):
        yield dt
        return
    if is_dataset(dt):
        yield open_dataset(dt, ("detections",))
        return
    from .classification import temp_root
    from .convert import write_detections_dataset

    tmp = tempfile.mkdtemp(prefix="tailscope-dask-dets-", dir=temp_root())
    try:
        yield write_detections_dataset(tmp, dt, gt=gt)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def subset_gt(gtt, images: np.ndarray):
    """The :class:`~lt_core.detection.GTTable` of the images ``images`` (sorted image indices)."""
    from ..detection.prepare import GTTable

    sel = np.asarray(images, np.int64)
    C = gtt.n_classes
    m = np.isin(gtt.img, sel)
    new_img = np.searchsorted(sel, gtt.img[m])
    key = new_img * C + gtt.cat[m]

    def keys(k):
        if k is None:
            return None
        im = k // C
        ok = np.isin(im, sel)
        return np.searchsorted(sel, im[ok]) * C + k[ok] % C

    segm = None
    if gtt.segm is not None:
        idx = np.flatnonzero(m)
        segm = [gtt.segm[i] for i in idx]
    return GTTable(img_ids=gtt.img_ids[sel], img_hw=gtt.img_hw[sel], class_ids=gtt.class_ids, img=new_img,
                   cat=gtt.cat[m], bbox=gtt.bbox[m], area=gtt.area[m], crowd=gtt.crowd[m], ignore=gtt.ignore[m],
                   ann_id=gtt.ann_id[m], key=key, pos_keys=np.unique(key), neg_keys=keys(gtt.neg_keys),
                   nel_keys=keys(gtt.nel_keys), segm=segm, source=gtt.source)


# ------------------------------------------------------------------------------------------------
# worker side
# ------------------------------------------------------------------------------------------------
_FIELDS = ("score", "cat", "img", "rank", "matched", "ignored")
_FULL = _FIELDS + ("det_index", "match_ann", "iou")  # the rest of the per-detection state (gather_state)


def _read_results(part: Partition, segm: bool, has_bbox: bool):
    from ..data.schema import DetectionResults

    cols = ["det_index", "image_id", "category_id", "score", "x", "y", "w", "h"] + \
        (["segm_h", "segm_w", "segm_counts"] if segm else [])
    tab = read_parquet_columns(part, cols)
    p = part.path
    di = int_column(tab, "det_index", p, 0)
    order = np.argsort(di, kind="stable")
    if len(di) > 1 and (np.diff(di[order]) == 0).any():
        raise PartitionError("repeated det_index values", p, "det_index")
    img = int_column(tab, "image_id", p)[order]
    cat = int_column(tab, "category_id", p)[order]
    score = float_column(tab, "score", p)[order]
    bbox = np.stack([float_column(tab, k, p) for k in ("x", "y", "w", "h")], axis=1)[order]
    if ((bbox[:, 2] <= 0) | (bbox[:, 3] <= 0)).any():
        raise PartitionError("boxes must have width and height > 0", p, "w")
    seg = None
    if segm:
        h = int_column(tab, "segm_h", p, 0)[order]
        w = int_column(tab, "segm_w", p, 0)[order]
        c = tab.column("segm_counts")
        if c.null_count:
            raise PartitionError("missing RLE counts", p, "segm_counts")
        counts = c.to_numpy(zero_copy_only=False)[order]
        seg = [{"size": [int(a), int(b)], "counts": str(s)} for a, b, s in zip(h, w, counts)]
    res = DetectionResults("results", img, cat, bbox, score, seg, p)
    if segm:
        res.has_bbox = bool(has_bbox)  # decided over the whole file at conversion, as the single-process reader
    return res, di[order]


def _match_task(part: Partition, gtt, params, n_partitions: int, bounds: np.ndarray, segm: bool, has_bbox: bool,
                full: bool = False):
    from ..detection.matching import match_shard
    from ..detection.prepare import prepare_dets

    res, det_index = _read_results(part, segm, has_bbox)
    if len(res):
        unk = gtt.class_index(res.category_id) < 0
        if unk.any():
            raise PartitionError(f"{int(unk.sum())} detections have category ids not in the ground truth, e.g. "
                                 f"{np.unique(res.category_id[unk])[:5].tolist()}", part.path, "category_id")
        ii = gtt.image_index(res.image_id)
        if (ii < 0).any():
            raise PartitionError(f"{int((ii < 0).sum())} detections are on image ids not in the ground truth, e.g. "
                                 f"{np.unique(res.image_id[ii < 0])[:5].tolist()}", part.path, "image_id",
                                 hint="results must correspond to the ground-truth file")
        wrong = image_partition(res.image_id, n_partitions) != part.index
        if wrong.any():
            raise PartitionError(f"image {int(res.image_id[wrong][0])} belongs to another partition (the dataset's "
                                 "partitioning is image_partition(image_id, n_partitions))", part.path, "image_id")
    mine = np.flatnonzero(image_partition(gtt.img_ids, n_partitions) == part.index)
    sub = subset_gt(gtt, mine)
    dtt = prepare_dets(sub, res, params)
    st = match_shard(sub, dtt, 0, sub.n_images, params)
    st.det_index = det_index[st.det_index]  # positions in the partition -> in the results file
    side = np.array([len(res), dtt.n_unknown_category, dtt.n_dropped_limit, dtt.n_dropped_federated], np.int64)
    o = np.argsort(st.cat, kind="stable")
    cut = np.searchsorted(st.cat[o], bounds)
    fields = _FULL if full else _FIELDS
    pieces = []
    for k in range(len(bounds) - 1):
        s = o[cut[k]:cut[k + 1]]
        pieces.append({f: getattr(st, f)[s] for f in fields})
    return side, pieces


def _add(a, b):
    return a + b


def _reduce_task(k: int, pieces: list, gt_tab, bounds: np.ndarray, params, class_ids, gt_count, image_ids,
                 n_boot: int, seed: int, full: bool = False):
    from ..detection.accumulate import accumulate
    from ..detection.matching import MatchState

    lo, hi = int(bounds[k]), int(bounds[k + 1])
    fields = _FULL if full else _FIELDS
    cols = {f: np.concatenate([p[f] for p in pieces]) if pieces else np.zeros(0) for f in fields}
    o = np.lexsort((cols["rank"], cols["cat"], cols["img"]))  # the single-process state's order
    cols = {f: v[o] for f, v in cols.items()}
    gc = np.zeros_like(gt_count)
    gc[lo:hi] = gt_count[lo:hi]
    g_img, g_cat, g_n = gt_tab
    st = MatchState(params=params, class_ids=class_ids, score=cols["score"].astype(np.float64),
                    cat=cols["cat"].astype(np.int32), img=cols["img"].astype(np.int64),
                    rank=cols["rank"].astype(np.int32), matched=cols["matched"].astype(np.uint64),
                    ignored=cols["ignored"].astype(np.uint64), gt_count=gc, n_images=len(image_ids),
                    image_ids=image_ids, gt_img=g_img, gt_cat=g_cat, gt_n=g_n)
    acc = accumulate(st)
    n_det = np.bincount(st.cat, minlength=len(class_ids))[lo:hi]
    out = {"precision": np.ascontiguousarray(acc.precision[:, :, lo:hi]), "recall": np.ascontiguousarray(acc.recall[:, lo:hi]),
           "n_det": n_det, "max_dets": acc.max_dets}
    if n_boot:
        from ..detection.bootstrap import replicate_class_ap, resample_weights

        w = resample_weights(len(image_ids), n_boot, seed)
        ap, ap50 = replicate_class_ap(st, w, threads=1)
        out["ap"], out["ap50"] = ap[:, lo:hi], ap50[:, lo:hi]
    if full:
        out["rows"] = cols
    return out


# ------------------------------------------------------------------------------------------------
# client side
# ------------------------------------------------------------------------------------------------
def _gt_state(gtt, params):
    """The ground-truth part of the state of every image: ``gt_count`` and the per-image counts."""
    from ..data.schema import DetectionResults
    from ..detection.matching import match_shard
    from ..detection.prepare import prepare_dets

    empty = DetectionResults("none", np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0),
                             [] if params.iou_type == "segm" else None)
    return match_shard(gtt, prepare_dets(gtt, empty, params), 0, gtt.n_images, params)


class _Counts:
    def __init__(self, side):
        self.n_input, self.n_unknown_category, self.n_dropped_limit, self.n_dropped_federated = (int(x) for x in side)


def evaluate_detections(client, gt, dt, iou_type: str = "bbox", style: str | None = None, max_dets: int | None = None,
                        *, n_boot: int = 0, seed: int = 0, scheme: str | None = "lvis", level: float = 0.95,
                        min_images: int = 5, name: str = "results", n_blocks: int | None = None,
                        gather_state: bool = False, progress: ProgressArg = True) -> DaskDetectionRun:
    """:func:`lt_core.detection.evaluate_detections` (and :func:`~lt_core.detection.bootstrap_ci`)
    computed on Dask; the same numbers.

    Parameters
    ----------
    client : distributed.Client
    gt : DetectionGT            loaded on the client (``lt_core.data.load_detection_gt``)
    dt : Dataset, ``detections`` folder (``tailscope convert detections``) or a results JSON
        (converted to a temporary folder first)
    iou_type, style, max_dets : as the single-process evaluator
    n_boot, seed, scheme, level, min_images : the image bootstrap (``n_boot=0``: none)
    n_blocks : int, optional    class blocks of the shuffle (default: ~4 M detections each, at
                                least two per worker, at most C)
    gather_state : bool         also bring every detection's state to the client (``ev.state`` is
                                then the single-process MatchState: curves, thresholds, TIDE-style
                                outcome tables work on it); memory as one process

    Returns
    -------
    DaskDetectionRun
    """
    from ..detection import default_style, finish
    from ..detection.accumulate import Accumulated
    from ..detection.evaluator import _notes
    from ..detection.params import EvalParams
    from ..detection.prepare import prepare_gt

    style = style or default_style(gt)
    params = EvalParams.make(style, iou_type, max_dets)
    if style == "lvis" and gt.neg_category_ids is None:
        raise InputError("lvis-style evaluation needs LVIS ground truth ('neg_category_ids' per image)", gt.source,
                         "images.neg_category_ids", hint="use --style coco")
    with detections_dataset(dt, gt) as ds:
        segm = bool(ds.meta.get("has_segmentation"))
        if iou_type == "segm" and not segm:
            raise InputError("segm evaluation needs RLE 'segmentation' in the results", str(ds.root), "segmentation",
                             hint="use --iou-type bbox")
        gtt = prepare_gt(gt, params)
        C = gtt.n_classes
        gst = _gt_state(gtt, params)
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        K = int(n_blocks or min(C, max(2 * n_workers, -(-ds.n_rows // _TARGET_BUCKET_DETS))))
        K = max(1, min(K, C))
        bounds = np.linspace(0, C, K + 1).round().astype(np.int64)
        order = np.argsort(gst.gt_cat, kind="stable")
        gcut = np.searchsorted(gst.gt_cat[order], bounds)
        gt_tabs = [(gst.gt_img[order[a:b]], gst.gt_cat[order[a:b]], gst.gt_n[order[a:b]])
                   for a, b in zip(gcut[:-1], gcut[1:])]
        gtt_f = client.scatter(gtt, broadcast=True)
        side, blocks = map_buckets(
            client, _match_task, ds.partitions, K, _reduce_task, label="eval-det", side_merge=_add, progress=progress,
            extra=(gtt_f, params, ds.n_partitions, bounds, segm, bool(ds.meta.get("has_bbox", True)), bool(gather_state)),
            reduce_extra=(bounds, params, gtt.class_ids, gst.gt_count, gst.image_ids, int(n_boot), int(seed),
                          bool(gather_state)),
            per_bucket=client.scatter(gt_tabs))
        client.cancel(gtt_f)
    T, R, A = params.n_thr, len(params.rec_thrs), params.n_area
    M = len(blocks[0]["max_dets"])
    precision = (-np.ones((A, M, T, R, C))).transpose(2, 3, 4, 0, 1)
    recall = (-np.ones((A, M, T, C))).transpose(2, 3, 0, 1)
    n_det = np.zeros(C, np.int64)
    for k, b in enumerate(blocks):
        lo, hi = bounds[k], bounds[k + 1]
        precision[:, :, lo:hi] = b["precision"]
        recall[:, lo:hi] = b["recall"]
        n_det[lo:hi] = b["n_det"]
    acc = Accumulated(precision=precision, recall=recall, max_dets=tuple(blocks[0]["max_dets"]),
                      cat_order=np.argsort(gtt.class_ids, kind="stable"))
    gst.notes = _notes(_Counts(side if side is not None else np.zeros(4, np.int64)))
    state = gst
    if gather_state:
        from ..detection.matching import MatchState

        cols = {f: np.concatenate([b["rows"][f] for b in blocks]) for f in _FULL}
        o = np.lexsort((cols["rank"], cols["cat"], cols["img"]))  # the single-process state's order
        cols = {f: v[o] for f, v in cols.items()}
        state = MatchState(params=params, class_ids=gst.class_ids, score=cols["score"].astype(np.float64),
                           cat=cols["cat"].astype(np.int32), img=cols["img"].astype(np.int64),
                           rank=cols["rank"].astype(np.int32), matched=cols["matched"].astype(np.uint64),
                           ignored=cols["ignored"].astype(np.uint64), gt_count=gst.gt_count, n_images=gst.n_images,
                           image_ids=gst.image_ids, notes=gst.notes, det_index=cols["det_index"].astype(np.int64),
                           match_ann=cols["match_ann"].astype(np.int64), iou=cols["iou"].astype(np.float64),
                           gt_img=gst.gt_img, gt_cat=gst.gt_cat, gt_n=gst.gt_n)
    ev = finish(state, gt, name, acc=acc, n_det=n_det)
    run = DaskDetectionRun(ev, n_partitions=ds.n_partitions, n_blocks=K, n_detections=ds.n_rows)
    if n_boot:
        from ..detection.bootstrap import bootstrap_ci

        ap = np.concatenate([b["ap"] for b in blocks], axis=1)
        ap50 = np.concatenate([b["ap50"] for b in blocks], axis=1)
        run.replicates = (ap, ap50)
        run.boot = bootstrap_ci(ev, n_boot, seed, scheme, level, min_images, replicates=(ap, ap50))
    return run
