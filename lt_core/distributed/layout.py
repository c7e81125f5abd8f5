"""The columnar on-disk layout that the Dask path reads: a folder of Parquet partitions + a manifest.

A dataset is a folder written as a whole (:func:`lt_core.io.atomic_dir`)::

    DATASET/
      tailscope_dataset.json     the manifest (JSON): kind, version, counts, class table, partitions
      part-00000.parquet         partition 0 (rows first_row .. first_row + rows - 1)
      part-00001.parquet
      ...

Kinds and their Parquet columns (plain Arrow types: ``pandas.read_parquet`` / ``pyarrow.parquet``
read every file without Tailscope; see ``docs/distributed.md``):

``scores``       ``row`` int64 (position in the source / label file), optional ``sample_id``
                 string, optional ``label`` int32 (class index = score column), and either
                 ``scores`` fixed_size_list<float32>[C] (column j = class index j) or ``pred``
                 int64 (predicted class index).
``labels``       ``row``, optional ``sample_id``, ``label`` int32 (class index).
``detections``   partitioned by image (every detection of an image in one partition):
                 ``det_index`` int64 (position in the results file: breaks score ties as the
                 references do), ``image_id`` int64, ``category_id`` int64, ``score`` float64,
                 ``x``, ``y``, ``w``, ``h`` float64, optional ``segm_h``, ``segm_w`` int32 and
                 ``segm_counts`` string (compressed COCO RLE).
``annotations``  a COCO / LVIS ground truth: ``images.parquet``, ``categories.parquet`` and
                 ``part-*.parquet`` annotations partitioned by image.

Reading a partition validates it (:class:`PartitionError`, an :class:`~lt_core.errors.InputError`
naming the partition file and the field): a worker never computes on a damaged partition.

Nothing here imports Dask.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["MANIFEST", "FORMAT_VERSION", "Partition", "Dataset", "open_dataset", "is_dataset", "PartitionError",
           "part_name", "read_scores_partition", "read_multilabel_partition", "read_parquet_columns", "image_partition", "int_column",
           "float_column", "float_matrix",
           "DEFAULT_PARTITION_BYTES", "MAX_PARTITION_ROWS"]

MANIFEST = "tailscope_dataset.json"
FORMAT_VERSION = 1
DEFAULT_PARTITION_BYTES = 64 << 20   # ~64 MiB of values per partition
MAX_PARTITION_ROWS = 4_000_000
KINDS = ("scores", "labels", "detections", "annotations")


class PartitionError(InputError):
    """A partition that cannot be used: names the partition file and the field."""


def part_name(i: int) -> str:
    """File name of partition ``i``."""
    return f"part-{i:05d}.parquet"


def image_partition(image_ids: np.ndarray, n_partitions: int) -> np.ndarray:
    """Partition of each image id (a fixed 64-bit hash, so any process assigns the same partition).

    splitmix64 of the id, modulo ``n_partitions``: images with consecutive ids spread evenly.
    """
    x = np.asarray(image_ids, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x % np.uint64(max(1, int(n_partitions)))).astype(np.int64)


@dataclass(frozen=True)
class Partition:
    """One partition file of a dataset: what a map task reads.

    Attributes
    ----------
    path : str          absolute path of the Parquet file (every worker must be able to read it)
    index : int         partition number
    first_row : int     global row of its first row (``scores`` / ``labels``; 0 otherwise)
    n_rows : int        rows it holds (checked when read)
    images : str, optional   ``annotations``: the file of the partition's images
    n_images : int           rows of that file
    """

    path: str
    index: int
    first_row: int
    n_rows: int
    images: str | None = None
    n_images: int = 0


@dataclass
class Dataset:
    """A converted dataset (the manifest, parsed).

    Attributes
    ----------
    root : Path
    kind : {"scores", "labels", "detections", "annotations"}
    n_rows : int
    partitions : list of Partition
    meta : dict      the whole manifest (class table, score kind, source, ...)
    """

    root: Path
    kind: str
    n_rows: int
    partitions: list[Partition]
    meta: dict = field(default_factory=dict)

    @property
    def n_partitions(self) -> int:
        return len(self.partitions)

    @property
    def n_classes(self) -> int | None:
        return self.meta.get("n_classes")

    @property
    def class_ids(self) -> np.ndarray | None:
        ids = self.meta.get("class_ids")
        return None if ids is None else np.asarray(ids, dtype=np.int64)

    @property
    def has_labels(self) -> bool:
        return bool(self.meta.get("has_labels"))

    @property
    def has_sample_ids(self) -> bool:
        return bool(self.meta.get("has_sample_ids"))

    @property
    def multi_label(self) -> bool:
        return bool(self.meta.get("multi_label"))

    @property
    def values(self) -> str | None:
        """``scores`` (N x C) or ``pred`` (N predicted class indices) for a scores dataset."""
        return self.meta.get("values")

    @property
    def score_kind(self) -> str | None:
        """``logits`` / ``probs`` (decided over every row at conversion) or ``labels``."""
        return self.meta.get("score_kind")

    def check_classes(self, class_ids: np.ndarray, what: str) -> None:
        """Refuse a class table other than the one the dataset was converted with."""
        mine = self.class_ids
        if mine is None:
            if self.n_classes is not None and self.n_classes != len(class_ids):
                raise InputError(f"the dataset has {self.n_classes} classes, {what} {len(class_ids)}", str(self.root),
                                 "n_classes")
            return
        if len(mine) != len(class_ids) or not np.array_equal(mine, np.asarray(class_ids, dtype=np.int64)):
            raise InputError(f"the dataset was converted with {len(mine)} classes (ids {mine[:5].tolist()}...), "
                             f"{what} has {len(class_ids)} (ids {np.asarray(class_ids)[:5].tolist()}...)",
                             str(self.root), "class_ids", hint="convert with the same class table (train counts / "
                             "train labels) as the evaluation")


def is_dataset(path) -> bool:
    """True when ``path`` is a folder holding a Tailscope dataset manifest."""
    if not isinstance(path, (str, os.PathLike)):
        return False
    try:
        return Path(path).is_dir() and (Path(path) / MANIFEST).is_file()
    except OSError:
        return False


def open_dataset(path, kind: str | tuple[str, ...] | None = None) -> Dataset:
    """Read and check a dataset's manifest (the partitions are checked when read).

    Raises :class:`InputError` for a folder without a manifest, an unknown kind or version, or
    a manifest that disagrees with the files it lists (missing partitions).
    """
    root = Path(path)
    if not root.is_dir():
        raise InputError("is not a folder (a converted dataset is a folder: see tailscope convert)", str(root))
    mf = root / MANIFEST
    if not mf.is_file():
        raise InputError(f"holds no {MANIFEST}: not a dataset written by 'tailscope convert'", str(root),
                         hint="convert the file first: python -m lt_core convert ...")
    try:
        meta = json.loads(mf.read_text())
    except (OSError, ValueError) as e:
        raise InputError(f"the manifest is not valid JSON ({' '.join(str(e).split())[:120]})", str(mf)) from None
    if not isinstance(meta, dict) or meta.get("format") != "tailscope" or meta.get("kind") not in KINDS:
        raise InputError("not a Tailscope dataset manifest", str(mf), "kind")
    if int(meta.get("version", 0)) > FORMAT_VERSION:
        raise InputError(f"written by a newer Tailscope (format version {meta.get('version')}, this one reads "
                         f"{FORMAT_VERSION})", str(mf), "version")
    want = (kind,) if isinstance(kind, str) else kind
    if want is not None and meta["kind"] not in want:
        raise InputError(f"is a '{meta['kind']}' dataset; expected {' or '.join(want)}", str(root), "kind")
    parts = []
    try:
        for i, p in enumerate(meta["partitions"]):
            img = p.get("images")
            parts.append(Partition(str((root / p["file"]).resolve()), i, int(p.get("first_row", 0)), int(p["rows"]),
                                   None if img is None else str((root / img).resolve()), int(p.get("images_rows", 0))))
        n_rows = int(meta["n_rows"])
    except (KeyError, TypeError, ValueError):
        raise InputError("the manifest's partition list is damaged", str(mf), "partitions") from None
    missing = [f for p in parts for f in (p.path, p.images) if f is not None and not os.path.isfile(f)]
    if missing:
        raise PartitionError(f"{len(missing)} partition file(s) listed in the manifest are missing", missing[0],
                             hint="the dataset folder is incomplete; convert again")
    if sum(p.n_rows for p in parts) != n_rows:
        raise InputError("the partitions' row counts do not add up to n_rows", str(mf), "partitions")
    return Dataset(root, meta["kind"], n_rows, parts, meta)


def read_parquet_columns(part: Partition, columns: list[str] | None = None, images: bool = False):
    """The Arrow table of a partition (selected columns); a damaged file is a :class:`PartitionError`.

    ``images=True`` reads the partition's images file (``annotations`` datasets)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path, n_rows = (part.images, part.n_images) if images else (part.path, part.n_rows)
    if not os.path.isfile(path):
        raise PartitionError("the partition file is not there (with a remote cluster every worker must see the "
                             "dataset folder: put it on shared storage)", path)
    try:
        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
        if columns is not None:
            miss = [c for c in columns if c not in names]
            if miss:
                raise PartitionError(f"no column '{miss[0]}' (columns: {names[:8]})", path, miss[0])
        tab = pf.read(columns=columns)
    except PartitionError:
        raise
    except (pa.ArrowException, OSError, ValueError) as e:
        raise PartitionError(f"not a readable Parquet file ({' '.join(str(e).split())[:160]})", path) from None
    if tab.num_rows != n_rows:
        raise PartitionError(f"holds {tab.num_rows:,} rows, the manifest says {n_rows:,}", path,
                             columns[0] if columns else None)
    return tab


def int_column(tab, name: str, path: str, lo: int | None = None, hi: int | None = None) -> np.ndarray:
    """An integer column as int64, checked: integer type, no missing values, within lo..hi."""
    import pyarrow as pa

    col = tab.column(name)
    if not pa.types.is_integer(col.type):
        raise PartitionError(f"must hold integers, found {col.type}", path, name)
    if col.null_count:
        raise PartitionError(f"{col.null_count:,} missing values", path, name)
    v = col.to_numpy().astype(np.int64, copy=False)
    if v.size and ((lo is not None and v.min() < lo) or (hi is not None and v.max() > hi)):
        bad = int(np.flatnonzero((v < (lo if lo is not None else v.min())) | (v > (hi if hi is not None else v.max())))[0])
        raise PartitionError(f"value {int(v[bad])} in row {bad:,} is outside {lo}..{hi}", path, name)
    return v


def float_column(tab, name: str, path: str) -> np.ndarray:
    """A numeric column as float64, checked: numbers, no missing values, finite."""
    import pyarrow as pa

    col = tab.column(name)
    if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)):
        raise PartitionError(f"must hold numbers, found {col.type}", path, name)
    if col.null_count:
        raise PartitionError(f"{col.null_count:,} missing values", path, name)
    v = col.to_numpy().astype(np.float64, copy=False)
    fin = np.isfinite(v)
    if not fin.all():
        raise PartitionError(f"non-finite value in row {int(np.flatnonzero(~fin)[0]):,}", path, name)
    return v


def float_matrix(tab, name: str, n_cols: int, part: Partition) -> np.ndarray:
    """A fixed_size_list<float32>[C] column as an (n, C) float32 array (zero copy), validated."""
    import pyarrow as pa

    col = tab.column(name).combine_chunks()
    t = col.type
    if not (pa.types.is_fixed_size_list(t) and t.list_size == n_cols and pa.types.is_floating(t.value_type)):
        raise PartitionError(f"must be fixed_size_list<float32>[{n_cols}], found {t}", part.path, name)
    if col.null_count or col.values.null_count:
        raise PartitionError("has missing values", part.path, name)
    vals = col.values.slice(col.offset * n_cols, len(col) * n_cols)
    arr = vals.to_numpy(zero_copy_only=False).astype(np.float32, copy=False).reshape(len(col), n_cols)
    fin = np.isfinite(arr)
    if not fin.all():
        bad = int(np.flatnonzero(~fin.all(axis=1))[0])
        raise PartitionError(f"NaN or infinite score in row {bad:,} of the partition", part.path, name,
                             hint="scores must be finite logits or probabilities")
    return arr


def read_scores_partition(part: Partition, n_classes: int, values: str, with_labels: bool,
                          with_sample_ids: bool = False) -> dict:
    """A ``scores`` / ``labels`` partition as arrays, every field checked.

    Returns
    -------
    dict
        ``row`` (n,) int64; ``label`` (n,) int64 class indices (with_labels); ``scores`` (n, C)
        float32 or ``pred`` (n,) int64 (per ``values``; none for a labels dataset); ``sample_id``
        (n,) object (with_sample_ids).
    """
    cols = ["row"] + (["label"] if with_labels else []) + ([values] if values in ("scores", "pred") else []) \
        + (["sample_id"] if with_sample_ids else [])
    tab = read_parquet_columns(part, cols)
    out = {"row": int_column(tab, "row", part.path, part.first_row, part.first_row + part.n_rows - 1)}
    if with_labels:
        out["label"] = int_column(tab, "label", part.path, 0, n_classes - 1)
    if values == "scores":
        out["scores"] = float_matrix(tab, "scores", n_classes, part)
    elif values == "pred":
        out["pred"] = int_column(tab, "pred", part.path, 0, n_classes - 1)
    if with_sample_ids:
        out["sample_id"] = tab.column("sample_id").to_numpy(zero_copy_only=False).astype(str).astype(object)
    return out


def read_multilabel_partition(part: Partition, n_classes: int) -> dict:
    """A multi-label ``scores`` partition: ``scores`` (n, C) float32 and ``Y`` (n, C) bool, checked."""
    import pyarrow as pa

    tab = read_parquet_columns(part, ["row", "labels", "scores"])
    col = tab.column("labels").combine_chunks()
    if not (pa.types.is_list(col.type) and pa.types.is_integer(col.type.value_type)):
        raise PartitionError(f"must be list<int32> (class indices per row), found {col.type}", part.path, "labels")
    if col.null_count or col.values.null_count:
        raise PartitionError("has missing values", part.path, "labels")
    off = col.offsets.to_numpy().astype(np.int64)
    vals = col.values.to_numpy().astype(np.int64)[off[0]:off[-1]]
    off = off - off[0]
    if vals.size and (vals.min() < 0 or vals.max() >= n_classes):
        bad = int(np.searchsorted(off, int(np.flatnonzero((vals < 0) | (vals >= n_classes))[0]), "right") - 1)
        raise PartitionError(f"class index outside 0..{n_classes - 1} in row {bad:,}", part.path, "labels")
    Y = np.zeros((len(col), n_classes), bool)
    Y[np.repeat(np.arange(len(col)), np.diff(off)), vals] = True
    return {"row": int_column(tab, "row", part.path, part.first_row, part.first_row + part.n_rows - 1),
            "Y": Y, "scores": float_matrix(tab, "scores", n_classes, part)}
