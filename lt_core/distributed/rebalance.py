"""Re-balancing statistics on Dask: class counts (re-weighting) and repeat factors (RFS).

* Class counts: each partition's labels are counted (``bincount``), the counts summed; the
  weights are then computed on the client by :func:`lt_core.rebalance.weights_table`.
* Repeat factor sampling (Gupta et al. 2019): a first map counts, per partition of whole images,
  the images and the images per category (:class:`lt_core.rebalance.RFSCounts`); the merged
  counts give r(c) = max(1, sqrt(t / f(c))) on the client; a second map, with r broadcast to
  every worker, gives each image its factor (max over its categories). Counts are integers and
  the image factor a max, so the result equals :func:`lt_core.rebalance.repeat_factors` exactly.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from .engine import ProgressArg, map_gather, map_merge
from .layout import Dataset, image_partition, int_column, is_dataset, open_dataset, read_parquet_columns

__all__ = ["class_counts", "class_weights_table", "repeat_factors", "gt_memory_partitions"]


# ------------------------------------------------------------------------------------------------
# class counts
# ------------------------------------------------------------------------------------------------
def _count_task(part, lab, n_classes: int):
    from ..rebalance.weights import count_init, count_update

    if lab is None:
        from .layout import read_scores_partition

        y = read_scores_partition(part, n_classes, "none", True)["label"]
    else:
        y = lab
    return count_update(count_init(n_classes), y)


def _add(a, b):
    return a + b


def class_counts(client, labels, n_classes: int | None = None, *, progress: ProgressArg = True) -> np.ndarray:
    """Samples per class, (C,) int64, counted on the workers.

    Parameters
    ----------
    labels : Dataset or folder (``labels`` / ``scores`` with labels) or Labels
        A Labels object (read on the client) is sent to the workers in slices.
    n_classes : int
        C (default: the dataset's).
    """
    if isinstance(labels, Dataset) or is_dataset(labels):
        ds = labels if isinstance(labels, Dataset) else open_dataset(labels, ("labels", "scores"))
        if not ds.has_labels:
            raise InputError("the dataset holds no labels", str(ds.root), "label")
        c = int(n_classes or ds.n_classes)
        return map_merge(client, _count_task, ds.partitions, _add, label="class-counts", progress=progress,
                         per_item=[None] * ds.n_partitions, extra=(c,), empty=lambda: np.zeros(c, np.int64))
    y = np.asarray(labels.y, dtype=np.int64)
    if n_classes is None:
        raise InputError("give the number of classes", field="n_classes")
    c = int(n_classes)
    step = max(1, -(-len(y) // 64))
    slices = client.scatter([y[i:i + step] for i in range(0, len(y), step)]) if len(y) else []
    return map_merge(client, _count_task, [None] * len(slices), _add, label="class-counts", progress=progress,
                     per_item=slices, extra=(c,), empty=lambda: np.zeros(c, np.int64))


def class_weights_table(client, labels, scheme: str = "effective-number", beta: float = 0.999, *, classes,
                        progress: ProgressArg = True):
    """:func:`lt_core.rebalance.weights_table` of the counts of ``labels``, counted on Dask."""
    from ..rebalance import weights_table

    counts = class_counts(client, labels, classes.n_classes, progress=progress)
    return weights_table(counts, scheme, beta, class_ids=classes.ids, names=classes.names), counts


# ------------------------------------------------------------------------------------------------
# repeat factors
# ------------------------------------------------------------------------------------------------
def gt_memory_partitions(gt, n_partitions: int) -> list[dict]:
    """A loaded DetectionGT split into ``n_partitions`` partitions of whole images (by image id)."""
    img = np.asarray(gt.image_ids, np.int64)
    ai = np.asarray(gt.ann_image_id, np.int64)
    ac = np.asarray(gt.ann_category_id, np.int64)
    ip, ap = image_partition(img, n_partitions), image_partition(ai, n_partitions)
    out = []
    for p in range(max(1, int(n_partitions))):
        ii = np.flatnonzero(ip == p)
        aa = np.flatnonzero(ap == p)
        out.append({"image_index": ii, "image_id": img[ii], "ann_image_id": ai[aa], "ann_category_id": ac[aa],
                    "source": f"{gt.source or 'ground truth'} (partition {p})"})
    return out


def _gt_arrays(part, mem) -> dict:
    if mem is not None:
        return mem
    it = read_parquet_columns(part, ["image_index", "image_id"], images=True)
    at = read_parquet_columns(part, ["image_id", "category_id"])
    return {"image_index": int_column(it, "image_index", part.images, 0), "image_id": int_column(it, "image_id", part.images),
            "ann_image_id": int_column(at, "image_id", part.path), "ann_category_id": int_column(at, "category_id", part.path),
            "source": part.path}


def _rfs_count_task(part, mem, category_ids: np.ndarray):
    from ..rebalance.rfs import RFSCounts, repeat_factors_from_arrays

    d = _gt_arrays(part, mem)
    st = RFSCounts(category_ids)
    if len(d["image_id"]) == 0:
        if len(d["ann_image_id"]):
            raise InputError("annotations of images that are not in the partition's image list", d["source"],
                             "image_id")
        return st
    rf = repeat_factors_from_arrays(d["image_id"], d["ann_image_id"], d["ann_category_id"], category_ids,
                                    source=d["source"])
    return RFSCounts(category_ids, rf.n_images, rf.image_count)


def _rfs_merge(a, b):
    return a.merge(b)


def _rfs_image_task(part, mem, category_ids: np.ndarray, category_factors: np.ndarray):
    d = _gt_arrays(part, mem)
    img = d["image_id"]
    imf = np.ones(len(img), dtype=np.float64)
    if len(img) and len(d["ann_image_id"]):
        isort = np.argsort(img)
        ii = isort[np.searchsorted(img, d["ann_image_id"], sorter=isort)]
        csort = np.argsort(category_ids)
        cc = csort[np.searchsorted(category_ids, d["ann_category_id"], sorter=csort)]
        key = np.unique(ii * len(category_ids) + cc)
        pi, pc = key // len(category_ids), key % len(category_ids)
        starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
        imf[pi[starts]] = np.maximum.reduceat(category_factors[pc], starts)
    return d["image_index"], img, imf


def repeat_factors(client, gt, threshold: float = 0.001, *, frequency: str = "annotations",
                   n_train_images: int | None = None, n_partitions: int | None = None,
                   progress: ProgressArg = True):
    """:func:`lt_core.rebalance.repeat_factors` computed on Dask (the same numbers).

    Parameters
    ----------
    client : distributed.Client
    gt : DetectionGT (split here into partitions of whole images and scattered) or an
        ``annotations`` dataset / folder (``tailscope convert gt``: each worker reads its partitions)
    threshold : float       t (LVIS: 0.001)
    frequency : {"annotations", "image_count"}   f(c) from the images of the file, or from the
        categories' ``image_count`` over ``n_train_images``
    n_partitions : int, optional   partitions of a loaded DetectionGT (default: 4 per worker)

    Returns
    -------
    RepeatFactors (``image_categories`` is None: the pairs stay on the workers)
    """
    from ..rebalance.rfs import RepeatFactors, category_repeat_factors

    if frequency not in ("annotations", "image_count"):
        raise InputError(f"unknown frequency source '{frequency}'", field="frequency", hint="annotations or image_count")
    if isinstance(gt, Dataset) or is_dataset(gt):
        ds = gt if isinstance(gt, Dataset) else open_dataset(gt, ("annotations",))
        import pyarrow.parquet as pq

        cat = pq.read_table(ds.root / "categories.parquet")
        category_ids = cat.column("category_id").to_numpy().astype(np.int64)
        names = np.asarray([str(x) for x in cat.column("name").to_pylist()], dtype=object)
        image_count = cat.column("image_count").to_numpy().astype(np.int64)
        parts, mems = ds.partitions, [None] * ds.n_partitions
        source = str(ds.root)
    else:
        category_ids = np.asarray(gt.categories.ids, np.int64)
        names = np.asarray(gt.categories.names, dtype=object)
        image_count = np.asarray(gt.categories.train_count, np.int64)
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        mem = gt_memory_partitions(gt, n_partitions or 4 * n_workers)
        parts, mems = [None] * len(mem), client.scatter(mem)
        source = getattr(gt, "source", "")
    counts = map_merge(client, _rfs_count_task, parts, _rfs_merge, label="rfs-counts", progress=progress,
                       per_item=mems, extra=(category_ids,))
    if counts.n_images == 0:
        raise InputError("no images: repeat factors need at least one training image", source, "images")
    count, n_img = counts.image_count, counts.n_images
    if frequency == "image_count":
        count = image_count
        n_img = int(n_train_images) if n_train_images is not None else counts.n_images
        if n_img < max(1, int(count.max())):
            raise InputError(f"n_train_images = {n_img} is below the largest image_count {int(count.max())}",
                             source, "n_train_images")
    frac = count / n_img
    cr = category_repeat_factors(frac, threshold)
    cr_f = client.scatter(cr, broadcast=True)
    per = map_gather(client, _rfs_image_task, parts, label="rfs-images", progress=progress,
                     per_item=mems, extra=(category_ids, cr_f))
    n_all = sum(len(p[0]) for p in per)
    image_ids = np.zeros(n_all, np.int64)
    imf = np.ones(n_all, np.float64)
    seen = np.zeros(n_all, bool)
    for idx, ids, f in per:
        if len(idx) and (idx.max() >= n_all or seen[idx].any()):
            raise InputError("image positions (image_index) repeat or skip across partitions", source, "image_index")
        seen[idx] = True
        image_ids[idx], imf[idx] = ids, f
    return RepeatFactors(float(threshold), int(n_img), image_ids, imf, category_ids, names, count.astype(np.int64),
                         frac, cr, image_categories=None)

