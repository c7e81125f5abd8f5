"""Detection class frequencies from training data: the counts that define the frequency bins.

Bins are defined by TRAIN images per class (LVIS: rare 1-10, common 11-100, frequent > 100
training images; Gupta et al. 2019). An evaluation file (LVIS / COCO val) rarely knows them: LVIS
val categories carry the train ``image_count`` / ``frequency``, COCO's carry nothing, and images
per class counted on the evaluated file are *evaluation-split* counts. This module reads the
train frequencies from one of:

* a training ground-truth JSON (COCO / LVIS ``instances_train*.json``): images and instances per
  category counted from its annotations (its categories' ``frequency`` kept when present);
* an LVIS category file (CSV / JSON list with ``id``, ``image_count`` [, ``instance_count``,
  ``frequency``, ``name``]), e.g. ``lvis_v1_categories.csv``;
* a counts CSV ``class_id,count[,name]`` (or ``category_id,image_count``).

:func:`apply_frequencies` returns the ground truth with those counts in its class table and
``count_source`` saying where they come from. When LVIS ``frequency`` letters are present they
decide the lvis bins (so APr / APc / APf and AP by bin always agree).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["FrequencyTable", "load_detection_frequencies", "apply_frequencies", "with_train_frequencies"]


@dataclass
class FrequencyTable:
    """Train frequencies per ground-truth category (aligned with ``gt.categories``).

    image_count : ndarray (C,) int64     training images containing the class
    instance_count : ndarray (C,) or None
    frequency : ndarray (C,) object or None   LVIS letters r / c / f
    source : str                         the file
    kind : str                           ``train_gt``, ``category_file`` or ``counts_csv``
    notes : list of str                  what did not line up (unknown / missing categories)
    """

    image_count: np.ndarray
    instance_count: np.ndarray | None
    frequency: np.ndarray | None
    source: str
    kind: str
    notes: list


def _ints(values, src, field):
    out = []
    for i, v in enumerate(values):
        if type(v) is bool or not isinstance(v, (int, np.integer)):
            if isinstance(v, (float, np.floating)) and float(v).is_integer() and field != "id":
                v = int(v)
            else:
                raise InputError(f"row {i}: {field} {str(v)[:30]!r} is not an integer", src, field)
        if v < 0 and field != "id":
            raise InputError(f"row {i}: {field} {v} is negative", src, field)
        out.append(int(v))
    return np.asarray(out, np.int64)


def _from_records(recs: list, src: str, id_key: str, count_key: str, kind: str):
    ids = _ints([r.get(id_key) for r in recs], src, id_key)
    counts = _ints([r.get(count_key) for r in recs], src, count_key)
    inst = None
    if all("instance_count" in r for r in recs):
        inst = _ints([r.get("instance_count") for r in recs], src, "instance_count")
    freq = None
    if all("frequency" in r for r in recs):
        freq = np.asarray([r.get("frequency") for r in recs], dtype=object)
        bad = [i for i, f in enumerate(freq) if f not in ("r", "c", "f")]
        if bad:
            raise InputError(f"row {bad[0]}: frequency {freq[bad[0]]!r} is not one of r, c, f", src, "frequency")
    return ids, counts, inst, freq, kind


def _read(path):
    src = str(path)
    p = Path(path)
    if p.suffix.lower() in (".json",) or p.name.lower().endswith(".json.gz"):
        from ..data.loaders import read_json

        d = read_json(p)
        if isinstance(d, dict) and "annotations" in d and "categories" in d:
            return _from_train_gt(d, src)
        recs = d.get("categories") if isinstance(d, dict) else d
        if not isinstance(recs, list) or not recs or not all(isinstance(r, dict) for r in recs):
            raise InputError("expected a training ground truth (images / annotations / categories) or a list of "
                             "categories with image_count", src)
        key = "image_count" if "image_count" in recs[0] else "count"
        return _from_records(recs, src, "id", key, "category_file")
    import pandas as pd

    try:
        df = pd.read_csv(p)
    except Exception as e:  # noqa: BLE001 - pandas raises many types for a bad CSV
        raise InputError(f"cannot read the CSV ({e})", src)
    cols = {c.lower(): c for c in df.columns}
    id_col = next((cols[c] for c in ("id", "category_id", "class_id") if c in cols), None)
    cnt_col = next((cols[c] for c in ("image_count", "count", "train_count", "images") if c in cols), None)
    if id_col is None or cnt_col is None:
        raise InputError(f"a counts CSV needs an id column (id / category_id / class_id) and a count column "
                         f"(image_count / count); found {list(df.columns)[:8]}", src)
    recs = [{"id": v, "count": c} for v, c in zip(df[id_col].tolist(), df[cnt_col].tolist())]
    for key in ("instance_count", "frequency"):
        if key in cols:
            vals = df[cols[key]].tolist()
            if not any(isinstance(v, float) and v != v for v in vals):  # a column with holes is not used
                for r, v in zip(recs, vals):
                    r[key] = v
    kind = "category_file" if cnt_col.lower() == "image_count" else "counts_csv"
    return _from_records(recs, src, "id", "count", kind)


def _from_train_gt(d: dict, src: str):
    from ..data.loaders import _gt_from_dict

    g = _gt_from_dict(d, src)
    ids = np.asarray(g.categories.ids, np.int64)
    # images and instances counted from the training annotations themselves
    ci = g.categories.index_of(g.ann_category_id) if len(g.ann_id) else np.zeros(0, np.int64)
    C = len(ids)
    if len(ci):
        pairs = np.unique(np.stack([g.ann_image_id, ci]), axis=1)
        imgs = np.bincount(pairs[1], minlength=C)
    else:
        imgs = np.zeros(C, np.int64)
    inst = np.bincount(ci, minlength=C).astype(np.int64)
    return ids, imgs.astype(np.int64), inst, g.categories.frequency, "train_gt"


def load_detection_frequencies(path, gt) -> FrequencyTable:
    """Train frequencies for the categories of ``gt`` from a train GT JSON, an LVIS category file or
    a counts CSV (see the module doc). Categories of ``gt`` missing from the file get 0 (noted);
    a file that shares no category id with ``gt`` is an :class:`InputError`."""
    src = str(path)
    if not Path(path).exists():
        raise InputError("no such file", src)
    ids, counts, inst, freq, kind = _read(path)
    cls = gt.categories
    gid = np.asarray(cls.ids, np.int64)
    order = np.argsort(ids, kind="stable")
    sid = ids[order]
    if len(np.unique(ids)) != len(ids):
        u, c = np.unique(ids, return_counts=True)
        raise InputError(f"duplicate category ids {u[c > 1][:5].tolist()}", src, "id")
    pos = np.minimum(np.searchsorted(sid, gid), max(len(sid) - 1, 0))
    found = (sid[pos] == gid) if len(sid) else np.zeros(len(gid), bool)
    if not found.any():
        raise InputError(f"none of the {len(gid):,} ground-truth category ids are in this file "
                         f"(its ids: {sid[:5].tolist()}...)", src, "id",
                         hint="give the training file of the same dataset (same category ids)")
    j = order[pos]
    notes = []
    if (~found).any():
        notes.append(f"{int((~found).sum()):,} ground-truth categories are not in {Path(src).name}: 0 training images")
    extra = len(ids) - int(found.sum())
    if extra > 0:
        notes.append(f"{extra:,} categories of {Path(src).name} are not in the ground truth (ignored)")
    img_count = np.where(found, counts[j], 0).astype(np.int64)
    inst_c = np.where(found, inst[j], 0).astype(np.int64) if inst is not None else None
    fr = None
    if freq is not None:
        fr = np.where(found, freq[j], None).astype(object)
        if (~found).any():
            fr = None  # letters for only part of the classes would split APr / APc / APf from the bins
            notes.append("frequency letters dropped: not every ground-truth category has one")
    return FrequencyTable(img_count, inst_c, fr, src, kind, notes)


def apply_frequencies(gt, table: FrequencyTable):
    """``gt`` with its class table's counts (and LVIS frequency letters) from ``table``.

    The letters of ``table`` win; without them the ground truth's own letters are kept (LVIS val
    carries the train ones). ``count_source`` becomes ``"train: <file>"``.
    """
    from ..data.schema import ClassTable

    cls = gt.categories
    freq = table.frequency if table.frequency is not None else cls.frequency
    inst = table.instance_count if table.instance_count is not None else cls.train_instances
    what = {"train_gt": "train: {} (counted from its annotations)", "category_file": "train: {} (image_count)",
            "counts_csv": "train: {}"}[table.kind].format(Path(table.source).name)
    new = ClassTable(cls.ids, cls.names, table.image_count, inst, freq, cls.source, what)
    return dataclasses.replace(gt, categories=new, has_image_count=True)


def with_train_frequencies(gt, path):
    """``gt`` with the train frequencies of ``path`` applied, and what the reading noted.

    The one path of every caller (``eval-det --frequencies``, the Data and Detection pages,
    :func:`lt_core.data.build_detection_dataset`): :func:`load_detection_frequencies` then
    :func:`apply_frequencies`.

    Returns
    -------
    (DetectionGT, tuple of str)
        The ground truth with its class table's counts (and LVIS letters) replaced, and the notes
        (e.g. categories missing from the file, counted as 0) for the caller to show.
    """
    table = load_detection_frequencies(path, gt)
    return apply_frequencies(gt, table), tuple(table.notes)
