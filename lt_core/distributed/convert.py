"""``convert``: a user's files -> the partitioned Parquet layout of :mod:`lt_core.distributed.layout`.

Every converter streams: it holds one block of rows (``.npy`` memory-mapped, ``.npz`` members
streamed) or one chunk of a results JSON at a time, whatever the input's size, and writes into a
folder it is given (the CLI gives the temporary folder of :func:`lt_core.io.atomic_dir`, so the
dataset appears complete or not at all). Values are stored as the single-process loaders would
hold them (scores as float32, class indices through the same class table), and what the
single-process path decides over the whole file (logits or probabilities) is decided here over
every row and recorded in the manifest, so an evaluation of the dataset equals one of the file.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InputError
from .layout import (DEFAULT_PARTITION_BYTES, FORMAT_VERSION, MANIFEST, MAX_PARTITION_ROWS, Dataset, open_dataset,
                     part_name)

__all__ = ["convert_scores", "convert_labels", "convert_gt", "convert_detections", "write_scores_dataset",
           "write_labels_dataset", "write_detections_dataset",
           "write_annotations_dataset", "rows_per_partition", "gt_partitions"]

_BLOCK_BYTES = 16 << 20          # rows read and written per block (one Parquet row group)
Progress = Callable[[int, int], None]


def rows_per_partition(row_bytes: int, requested: int | None = None) -> int:
    """Rows per partition: ``requested``, else ~64 MiB of values (at most 4 M rows)."""
    if requested is not None:
        if int(requested) < 1:
            raise InputError(f"rows per partition must be >= 1, got {requested}", field="--rows-per-partition")
        return int(requested)
    return int(max(1, min(MAX_PARTITION_ROWS, DEFAULT_PARTITION_BYTES // max(1, int(row_bytes)))))


def _write_manifest(folder: Path, meta: dict) -> None:
    (folder / MANIFEST).write_text(json.dumps(meta, indent=1) + "\n")


class _KindStats:
    """What ``_score_kind`` of the loaders looks at, accumulated over blocks: min, max, row sums."""

    def __init__(self):
        self.lo, self.hi, self.rows_sum_to_one = np.inf, -np.inf, True

    def add(self, s: np.ndarray) -> None:
        if not s.size:
            return
        self.lo = min(self.lo, float(s.min()))
        self.hi = max(self.hi, float(s.max()))
        if self.rows_sum_to_one:
            self.rows_sum_to_one = bool(np.allclose(s.sum(axis=1), 1.0, atol=1e-3))

    @property
    def kind(self) -> str:
        return "probs" if (self.lo >= 0 and self.hi <= 1 and self.rows_sum_to_one) else "logits"


def _check_block_finite(block: np.ndarray, first_row: int, src: str, field: str) -> None:
    fin = np.isfinite(block)
    if not fin.all():
        r = int(np.flatnonzero(~fin.all(axis=1) if block.ndim == 2 else ~fin)[0])
        what = "NaN" if np.isnan(block).any() else "inf"
        raise InputError(f"{what}/non-finite values (first at row {first_row + r + 1})", src, field,
                         hint="scores and features must be finite numbers")


def write_scores_dataset(folder, preds, classes=None, labels=None, *, rows: int | None = None,
                         progress: Progress | None = None) -> Dataset:
    """Write a ``scores`` dataset of ``preds`` (a .npy / .npz path) into the existing ``folder``.

    Parameters
    ----------
    folder : path
        An empty folder (e.g. the temporary folder of :func:`lt_core.io.atomic_dir`).
    preds : path
        N x C scores (column j = class index j) or N predicted class ids (``.npy`` / ``.npz``).
    classes : ClassTable, optional
        Needed for predicted ids (mapped to class indices) and with ``labels``; checks C.
    labels : Labels or MultiLabels, optional
        True labels (class indices of ``classes``) stored in each partition's ``label`` column
        (``labels``, a list of class indices per row, for multi-label targets);
        rows are aligned as :func:`lt_core.data.load_predictions` aligns them (by sample id when
        both files have ids, else by order), so partition rows follow the label file.
    rows : int, optional
        Rows per partition (default ~64 MiB of values).
    progress : callable(rows_done, rows_total), optional

    Returns
    -------
    Dataset
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..data.loaders import _align
    from .arrays import open_array

    folder = Path(folder)
    arr = open_array(preds)
    src = arr.source
    if arr.is_scores:
        C = int(arr.shape[1])
        if classes is not None and C != classes.n_classes:
            raise InputError(f"{C} score columns but the dataset has {classes.n_classes} classes", src, "scores",
                             hint="column j must be the score of class index j")
        values, row_bytes = "scores", C * 4
    else:
        if classes is None:
            raise InputError("predicted class ids need the class table (train counts or train labels) to be "
                             "mapped to class indices", src, arr.key)
        C = classes.n_classes
        values, row_bytes = "pred", 8
    take = None
    if labels is not None:
        if classes is None:
            raise InputError("labels need the class table they were read with", field="classes")
        take = _align(arr.ids, arr.n_rows, labels, Path(arr.path))
    n_out = len(labels) if labels is not None else arr.n_rows
    sample_ids = None
    if labels is not None and labels.sample_ids is not None:
        sample_ids = np.asarray(labels.sample_ids, dtype=object)
    elif labels is None and arr.ids is not None:
        sample_ids = arr.ids
    rpp = rows_per_partition(row_bytes, rows)
    block = max(1, min(rpp, _BLOCK_BYTES // max(1, row_bytes)))
    fields = [pa.field("row", pa.int64())]
    if sample_ids is not None:
        fields.append(pa.field("sample_id", pa.string()))
    multi = labels is not None and bool(getattr(labels, "multi_label", False))
    if multi:
        fields.append(pa.field("labels", pa.list_(pa.int32())))
    elif labels is not None:
        fields.append(pa.field("label", pa.int32()))
    fields.append(pa.field("scores", pa.list_(pa.float32(), C)) if values == "scores" else pa.field("pred", pa.int64()))
    schema = pa.schema(fields)
    stats = _KindStats()
    parts = []
    done = 0
    with arr.reader() as next_rows:
        for pi, lo in enumerate(range(0, n_out, rpp)):
            hi = min(n_out, lo + rpp)
            name = part_name(pi)
            with pq.ParquetWriter(folder / name, schema, compression="snappy", use_dictionary=False,
                                  write_statistics=["row", "label"]) as w:
                for b0 in range(lo, hi, block):
                    b1 = min(hi, b0 + block)
                    raw = next_rows(b1 - b0) if take is None else arr.take(take[b0:b1])
                    cols = {"row": pa.array(np.arange(b0, b1, dtype=np.int64))}
                    if sample_ids is not None:
                        cols["sample_id"] = pa.array(sample_ids[b0:b1].astype(str).tolist(), pa.string())
                    if multi:
                        off = labels.indptr[b0:b1 + 1]
                        cols["labels"] = pa.ListArray.from_arrays(pa.array((off - off[0]).astype(np.int32)),
                                                                  pa.array(labels.indices[off[0]:off[-1]]))
                    elif labels is not None:
                        cols["label"] = pa.array(np.asarray(labels.y[b0:b1], dtype=np.int32))
                    if values == "scores":
                        s = np.ascontiguousarray(raw, dtype=np.float32)
                        _check_block_finite(s, b0, src, "scores")
                        stats.add(s)
                        cols["scores"] = pa.FixedSizeListArray.from_arrays(pa.array(s.reshape(-1)), C)
                    else:
                        if raw.dtype.kind == "u" and raw.size and int(raw.max()) > np.iinfo(np.int64).max:
                            raise InputError("predicted class ids beyond the 64-bit integer range", src, arr.key)
                        cols["pred"] = pa.array(classes.index_of(raw.astype(np.int64), src, arr.key).astype(np.int64))
                    w.write_table(pa.table(cols, schema=schema))
                    done += b1 - b0
                    if progress is not None:
                        progress(done, n_out)
            parts.append({"file": name, "rows": hi - lo, "first_row": lo})
    meta = {
        "format": "tailscope", "kind": "scores", "version": FORMAT_VERSION, "n_rows": int(n_out), "n_classes": int(C),
        "values": values, "score_kind": stats.kind if values == "scores" else "labels",
        "multilabel_score_kind": (("probs" if stats.lo >= 0 and stats.hi <= 1 else "logits") if values == "scores"
                                  else None),
        "has_labels": labels is not None, "multi_label": multi, "has_sample_ids": sample_ids is not None,
        "class_ids": None if classes is None else [int(i) for i in classes.ids],
        "class_names": None if classes is None else [str(n) for n in classes.names],
        "source": {"preds": os.path.basename(str(preds)), "preds_bytes": Path(preds).stat().st_size, "key": arr.key,
                   "labels": getattr(labels, "source", None) if labels is not None else None},
        "rows_per_partition": rpp, "partitions": parts,
    }
    _write_manifest(folder, meta)
    return open_dataset(folder)


def write_labels_dataset(folder, labels, classes, *, rows: int | None = None) -> Dataset:
    """Write a ``labels`` dataset (``row``, optional ``sample_id``, ``label``) into ``folder``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    n = len(labels)
    if n == 0:
        raise InputError("no labels (0 rows)", labels.source or None)
    rpp = rows_per_partition(8, rows)
    ids = None if labels.sample_ids is None else np.asarray(labels.sample_ids, dtype=object)
    parts = []
    for pi, lo in enumerate(range(0, n, rpp)):
        hi = min(n, lo + rpp)
        cols = {"row": pa.array(np.arange(lo, hi, dtype=np.int64))}
        if ids is not None:
            cols["sample_id"] = pa.array(ids[lo:hi].astype(str).tolist(), pa.string())
        cols["label"] = pa.array(np.asarray(labels.y[lo:hi], dtype=np.int32))
        pq.write_table(pa.table(cols), folder / part_name(pi), compression="snappy")
        parts.append({"file": part_name(pi), "rows": hi - lo, "first_row": lo})
    meta = {"format": "tailscope", "kind": "labels", "version": FORMAT_VERSION, "n_rows": int(n),
            "n_classes": int(classes.n_classes), "has_labels": True, "has_sample_ids": ids is not None,
            "split": labels.split, "class_ids": [int(i) for i in classes.ids],
            "class_names": [str(x) for x in classes.names],
            "train_count": [int(x) for x in classes.train_count],
            "source": {"labels": labels.source}, "rows_per_partition": rpp, "partitions": parts}
    _write_manifest(folder, meta)
    return open_dataset(folder)


def convert_scores(preds, out, classes=None, labels=None, *, rows: int | None = None,
                   progress: Progress | None = None) -> Dataset:
    """:func:`write_scores_dataset` into the folder ``out``, written as a whole (atomically)."""
    from ..io import atomic_dir

    with atomic_dir(out) as tmp:
        write_scores_dataset(tmp, preds, classes, labels, rows=rows, progress=progress)
    return open_dataset(out)


def convert_labels(labels, classes, out, *, rows: int | None = None) -> Dataset:
    """:func:`write_labels_dataset` into the folder ``out``, written as a whole (atomically)."""
    from ..io import atomic_dir

    with atomic_dir(out) as tmp:
        write_labels_dataset(tmp, labels, classes, rows=rows)
    return open_dataset(out)


# ------------------------------------------------------------------------------------------------
# ground truth: images + annotations partitioned by image, categories
# ------------------------------------------------------------------------------------------------
DEFAULT_ANNOTATIONS_PER_PARTITION = 2_000_000


def gt_partitions(gt, n_partitions: int | None = None, rows: int | None = None) -> int:
    """Partitions of a ground truth: ``n_partitions``, else ~``rows`` (2 M) annotations each."""
    if n_partitions is not None:
        return max(1, int(n_partitions))
    per = int(rows) if rows else DEFAULT_ANNOTATIONS_PER_PARTITION
    return max(1, -(-len(gt.ann_id) // max(1, per)))


def write_annotations_dataset(folder, gt, *, n_partitions: int | None = None, rows: int | None = None) -> Dataset:
    """Write a COCO / LVIS ground truth (:class:`~lt_core.data.DetectionGT`) as an ``annotations``
    dataset into ``folder``: ``categories.parquet``, ``images/part-*.parquet`` and
    ``annotations/part-*.parquet``, images (and their annotations) partitioned by
    :func:`~lt_core.distributed.layout.image_partition` of the image id.

    Images keep their file position (``image_index``) and annotations theirs (``ann_index``), so
    per-image outputs are assembled in file order, as the single-process code lists them.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .layout import image_partition

    folder = Path(folder)
    (folder / "images").mkdir()
    (folder / "annotations").mkdir()
    P = gt_partitions(gt, n_partitions, rows)
    cls = gt.categories
    cat = {"category_id": pa.array(np.asarray(cls.ids, np.int64)), "name": pa.array([str(n) for n in cls.names]),
           "image_count": pa.array(np.asarray(cls.train_count, np.int64))}
    if cls.train_instances is not None:
        cat["instance_count"] = pa.array(np.asarray(cls.train_instances, np.int64))
    if cls.frequency is not None:
        cat["frequency"] = pa.array([str(f) for f in cls.frequency])
    pq.write_table(pa.table(cat), folder / "categories.parquet")
    img_ids = np.asarray(gt.image_ids, np.int64)
    ip = image_partition(img_ids, P)
    ap = image_partition(np.asarray(gt.ann_image_id, np.int64), P)
    lvis = gt.neg_category_ids is not None
    raw_anns = (gt.raw or {}).get("annotations") if isinstance(gt.raw, dict) else None
    has_ignore = lvis and raw_anns is not None and any("ignore" in a for a in raw_anns[:1000])
    seg = gt.has_segmentation and raw_anns is not None and len(raw_anns) == len(gt.ann_id)
    i_order = np.argsort(ip, kind="stable")
    i_cut = np.searchsorted(ip[i_order], np.arange(P + 1))
    a_order = np.argsort(ap, kind="stable")
    a_cut = np.searchsorted(ap[a_order], np.arange(P + 1))
    hw = np.asarray(gt.image_sizes, np.float64).reshape(-1, 2)
    parts = []
    for p in range(P):
        ii = i_order[i_cut[p]:i_cut[p + 1]]
        cols = {"image_index": pa.array(ii.astype(np.int64)), "image_id": pa.array(img_ids[ii]),
                "height": pa.array(hw[ii, 0]), "width": pa.array(hw[ii, 1])}
        if lvis:
            nel = gt.not_exhaustive_category_ids
            cols["neg_category_ids"] = pa.array([np.asarray(gt.neg_category_ids[i], np.int64).tolist() for i in ii],
                                                pa.list_(pa.int64()))
            cols["not_exhaustive_category_ids"] = pa.array(
                [[] if nel is None else np.asarray(nel[i], np.int64).tolist() for i in ii], pa.list_(pa.int64()))
        iname = f"images/{part_name(p)}"
        pq.write_table(pa.table(cols), folder / iname)
        aa = a_order[a_cut[p]:a_cut[p + 1]]
        bb = np.asarray(gt.ann_bbox, np.float64).reshape(-1, 4)[aa]
        acols = {"ann_index": pa.array(aa.astype(np.int64)), "id": pa.array(np.asarray(gt.ann_id, np.int64)[aa]),
                 "image_id": pa.array(np.asarray(gt.ann_image_id, np.int64)[aa]),
                 "category_id": pa.array(np.asarray(gt.ann_category_id, np.int64)[aa]),
                 "x": pa.array(bb[:, 0]), "y": pa.array(bb[:, 1]), "w": pa.array(bb[:, 2]), "h": pa.array(bb[:, 3]),
                 "area": pa.array(np.asarray(gt.ann_area, np.float64)[aa]),
                 "iscrowd": pa.array(np.asarray(gt.ann_iscrowd, bool)[aa])}
        if has_ignore:
            acols["ignore"] = pa.array([bool(raw_anns[i].get("ignore", 0)) for i in aa])
        if seg:
            acols["segmentation"] = pa.array([json.dumps(raw_anns[i].get("segmentation"), separators=(",", ":"))
                                              for i in aa], pa.string())
        aname = f"annotations/{part_name(p)}"
        pq.write_table(pa.table(acols), folder / aname, compression="snappy")
        parts.append({"file": aname, "rows": int(len(aa)), "images": iname, "images_rows": int(len(ii))})
    meta = {"format": "tailscope", "kind": "annotations", "version": FORMAT_VERSION, "n_rows": int(len(gt.ann_id)),
            "n_images": int(len(img_ids)), "n_classes": int(cls.n_classes),
            "class_ids": [int(i) for i in cls.ids], "lvis": bool(lvis), "has_segmentation": bool(seg),
            "has_ignore": bool(has_ignore), "partitioning": "image_partition(image_id, n_partitions) (splitmix64)",
            "n_partitions": P, "source": {"gt": os.path.basename(str(gt.source or ""))}, "partitions": parts}
    _write_manifest(folder, meta)
    return open_dataset(folder)


def convert_gt(gt, out, *, n_partitions: int | None = None, rows: int | None = None) -> Dataset:
    """:func:`write_annotations_dataset` into the folder ``out``, written as a whole (atomically)."""
    from ..io import atomic_dir

    with atomic_dir(out) as tmp:
        write_annotations_dataset(tmp, gt, n_partitions=n_partitions, rows=rows)
    return open_dataset(out)


# ------------------------------------------------------------------------------------------------
# detections: a COCO results JSON -> partitions by image
# ------------------------------------------------------------------------------------------------
DEFAULT_DETECTIONS_PER_PARTITION = 1_000_000
_DET_BUFFER_BYTES = 256 << 20   # rows buffered over all partitions before a row group is written


def _det_schema(segm: bool):
    import pyarrow as pa

    f = [("det_index", pa.int64()), ("image_id", pa.int64()), ("category_id", pa.int64()), ("score", pa.float64()),
         ("x", pa.float64()), ("y", pa.float64()), ("w", pa.float64()), ("h", pa.float64())]
    if segm:
        f += [("segm_h", pa.int32()), ("segm_w", pa.int32()), ("segm_counts", pa.string())]
    return pa.schema(f)


def write_detections_dataset(folder, dt, *, gt=None, n_partitions: int | None = None, rows: int | None = None,
                             chunk_bytes: int | None = None, progress: Progress | None = None) -> Dataset:
    """Stream a COCO results JSON (any layout of records; ``.json`` / ``.json.gz``) into a
    ``detections`` dataset in ``folder``: every detection of an image in one partition
    (:func:`~lt_core.distributed.layout.image_partition` of its image id), file order kept
    (``det_index``), boxes as x / y / w / h, masks as RLE size + counts.

    Parameters
    ----------
    dt : path or DetectionResults   the results file (read once, one chunk at a time), or results
                         already loaded
    gt : DetectionGT, optional   checks image and category ids as the single-process reader does
    n_partitions : int, optional default: ~``rows`` (1,000,000) detections per partition,
                                 estimated from the file size and the first chunk
    chunk_bytes : int, optional  bytes read at a time (64 MiB)
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..detection.fastjson import _validate
    from .jsonchunks import CHUNK_BYTES, _ENTRY, iter_result_chunks
    from .layout import image_partition

    folder = Path(folder)
    cb = int(chunk_bytes or CHUNK_BYTES)
    if isinstance(dt, (str, os.PathLike)):
        src = str(dt)
        size = Path(dt).stat().st_size
        with open(dt, "rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
        chunks = iter_result_chunks(dt, cb)
    else:  # loaded DetectionResults (the app's): the same partitions, written from memory
        src, gz = str(dt.source or dt.name), False
        size = cb * max(1, -(-len(dt) // 500_000))
        chunks = _result_chunks(dt, 500_000)
    P = None
    writers: dict = {}
    bufs: dict = {}
    rows_in: dict = {}
    segm = None
    derived_all, has_bbox = True, False
    n = 0
    flush_rows = 8192

    def flush(p):
        parts_ = bufs.pop(p, None)
        if not parts_:
            return
        tab = pa.concat_tables(parts_)
        if p not in writers:
            writers[p] = pq.ParquetWriter(folder / part_name(p), tab.schema, compression="snappy", use_dictionary=False,
                                          write_statistics=["det_index", "image_id", "category_id"])
        writers[p].write_table(tab)

    try:
        for ch in chunks:
            try:
                _validate(ch.image_id, ch.category_id, ch.bbox, ch.score, gt, src)
            except InputError as e:
                raise InputError(_ENTRY.sub(lambda m: f"entry {int(m.group(1)) + ch.first}", e.message), e.source,
                                 e.field, e.hint) from None
            if segm is None:
                segm = ch.segmentation is not None
                if P is None:
                    per = int(rows) if rows else DEFAULT_DETECTIONS_PER_PARTITION
                    total = len(ch) * max(1.0, (size * (5.0 if gz else 1.0)) / cb)
                    P = int(n_partitions) if n_partitions else max(1, int(np.ceil(total / per)))
                    flush_rows = int(max(4096, min(262_144, _DET_BUFFER_BYTES // 100 // P)))
            elif segm != (ch.segmentation is not None):
                raise InputError(f"records from entry {ch.first:,} on differ from the earlier ones in having masks "
                                 "('segmentation')", src, "segmentation", hint="every detection has a mask, or none")
            k = len(ch)
            cols = {"det_index": pa.array(np.arange(ch.first, ch.first + k, dtype=np.int64)),
                    "image_id": pa.array(ch.image_id), "category_id": pa.array(ch.category_id),
                    "score": pa.array(ch.score), "x": pa.array(ch.bbox[:, 0]), "y": pa.array(ch.bbox[:, 1]),
                    "w": pa.array(ch.bbox[:, 2]), "h": pa.array(ch.bbox[:, 3])}
            if segm:
                from pycocotools import mask as mask_utils

                rles = ch.segmentation
                counts = [r["counts"] if isinstance(r["counts"], str) else
                          mask_utils.frPyObjects(r, *r["size"])["counts"].decode("ascii") for r in rles]
                cols["segm_h"] = pa.array([int(r["size"][0]) for r in rles], pa.int32())
                cols["segm_w"] = pa.array([int(r["size"][1]) for r in rles], pa.int32())
                cols["segm_counts"] = pa.array(counts, pa.string())
                derived_all &= bool(ch.derived_bbox)
                if not ch.derived_bbox:
                    enc = [{"size": r["size"], "counts": c.encode("ascii")} for r, c in zip(rles, counts)]
                    derived = np.asarray(mask_utils.toBbox(enc), dtype=np.float64).reshape(-1, 4)
                    has_bbox |= not np.array_equal(derived, ch.bbox)
            tab = pa.table(cols, schema=_det_schema(segm))
            part = image_partition(ch.image_id, P)
            order = np.argsort(part, kind="stable")
            cut = np.searchsorted(part[order], np.arange(P + 1))
            for p in np.flatnonzero(np.diff(cut)):
                sel = order[cut[p]:cut[p + 1]]
                bufs.setdefault(int(p), []).append(tab.take(pa.array(sel)))
                rows_in[int(p)] = rows_in.get(int(p), 0) + len(sel)
                if sum(t.num_rows for t in bufs[int(p)]) >= flush_rows:
                    flush(int(p))
            n += k
            if progress is not None:
                progress(n, n)
        for p in list(bufs):
            flush(p)
    finally:
        for w in writers.values():
            w.close()
    schema = _det_schema(bool(segm))
    parts = []
    for p in range(P):
        if p not in writers:  # a partition without detections still exists: its images have ground truth
            pq.write_table(schema.empty_table(), folder / part_name(p))
        parts.append({"file": part_name(p), "rows": int(rows_in.get(p, 0))})
    meta = {"format": "tailscope", "kind": "detections", "version": FORMAT_VERSION, "n_rows": int(n),
            "n_partitions": int(P), "partitioning": "image_partition(image_id, n_partitions) (splitmix64)",
            "has_segmentation": bool(segm), "bbox_from_masks": bool(segm and derived_all),
            "has_bbox": bool(not segm or (has_bbox and not derived_all)),
            "source": {"dt": os.path.basename(src), "dt_bytes": size}, "partitions": parts}
    _write_manifest(folder, meta)
    return open_dataset(folder)


def _result_chunks(res, rows: int):
    from .jsonchunks import ResultChunk

    n = len(res)
    if n == 0:
        raise InputError("the results list is empty", str(res.source or res.name))
    for lo in range(0, n, rows):
        hi = min(n, lo + rows)
        seg = None if res.segmentation is None else list(res.segmentation[lo:hi])
        yield ResultChunk(lo, np.asarray(res.image_id[lo:hi], np.int64), np.asarray(res.category_id[lo:hi], np.int64),
                          np.asarray(res.bbox[lo:hi], np.float64).reshape(-1, 4),
                          np.asarray(res.score[lo:hi], np.float64), seg, False)


def convert_detections(dt, out, *, gt=None, n_partitions: int | None = None, rows: int | None = None,
                       chunk_bytes: int | None = None, progress: Progress | None = None) -> Dataset:
    """:func:`write_detections_dataset` into the folder ``out``, written as a whole (atomically)."""
    from ..io import atomic_dir

    with atomic_dir(out) as tmp:
        write_detections_dataset(tmp, dt, gt=gt, n_partitions=n_partitions, rows=rows, chunk_bytes=chunk_bytes,
                                 progress=progress)
    return open_dataset(out)
