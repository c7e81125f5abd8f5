"""Typed, validated objects that every capability works on.

All arrays use the *class index* 0..C-1 (position in the :class:`ClassTable`), never the raw
class id of a file; the table maps between the two. Objects are built by the loaders
(:mod:`lt_core.data.loaders`), which validate once; code inside lt_core trusts them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ..bins import BinScheme, assign_bins, parse_bins
from ..errors import InputError

__all__ = [
    "ClassTable", "Labels", "Predictions", "Run", "Features", "ClassifierWeights",
    "ClassificationDataset", "DetectionGT", "DetectionResults", "DetectionDataset", "SPLITS",
]

SPLITS = ("train", "val", "test")
ScoreKind = Literal["logits", "probs", "labels"]


@dataclass
class ClassTable:
    """The classes of a dataset.

    Attributes
    ----------
    ids : ndarray (C,) int64
        Class ids as the files spell them (category ids for detection).
    names : ndarray (C,) object
        Class names.
    train_count : ndarray (C,) int64
        Training samples per class (classification) or training *images* containing the class
        (detection, LVIS ``image_count``).
    train_instances : ndarray (C,) int64 or None
        Detection only: training instances per class (LVIS ``instance_count``).
    frequency : ndarray (C,) object or None
        LVIS ``frequency`` letter per class (``r``/``c``/``f``) when the file gives it.
    """

    ids: np.ndarray
    names: np.ndarray
    train_count: np.ndarray
    train_instances: np.ndarray | None = None
    frequency: np.ndarray | None = None
    source: str = ""

    def __post_init__(self) -> None:
        self.ids = np.asarray(self.ids, dtype=np.int64)
        self.names = np.asarray([str(n) for n in self.names], dtype=object)
        self.train_count = np.asarray(self.train_count, dtype=np.int64)
        c = len(self.ids)
        if len(self.names) != c or len(self.train_count) != c:
            raise InputError(f"class table columns have different lengths ({c} ids, "
                             f"{len(self.names)} names, {len(self.train_count)} counts)", self.source)
        if len(np.unique(self.ids)) != c:
            dup = pd.Series(self.ids).value_counts()
            raise InputError(f"duplicate class ids: {dup[dup > 1].index.tolist()[:10]}", self.source, "id")
        if (self.train_count < 0).any():
            raise InputError("negative train counts", self.source, "count")
        self._index = {int(i): k for k, i in enumerate(self.ids)}

    @property
    def n_classes(self) -> int:
        """Number of classes C."""
        return len(self.ids)

    @property
    def imbalance_ratio(self) -> float:
        """max / min train count over classes with at least one sample (inf if none)."""
        pos = self.train_count[self.train_count > 0]
        return float(pos.max() / pos.min()) if len(pos) else float("inf")

    def index_of(self, ids, source: str = "", field: str = "class id") -> np.ndarray:
        """Class indices (0..C-1) for raw class ids; unknown ids raise :class:`InputError`.

        Ids must be integers: booleans and non-integral floats are refused, never truncated.
        """
        raw = np.asarray(ids)
        if raw.dtype.kind == "b":
            raise InputError("class ids must be integers, got true/false values", source, field)
        if raw.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                bad = ~np.isfinite(raw) | (raw != np.round(raw))
            if bad.any():
                raise InputError(f"class ids must be integers, got {raw.ravel()[np.flatnonzero(bad.ravel())[0]]!r}",
                                 source, field)
        elif raw.dtype.kind not in "iu" and raw.size:
            try:
                raw = raw.astype(np.int64)
            except (TypeError, ValueError, OverflowError):
                raise InputError(f"class ids must be integers, got {raw.dtype} values", source, field) from None
        arr = raw.astype(np.int64, copy=False).ravel()
        if self.ids.size and np.array_equal(self.ids, np.arange(self.n_classes)):
            bad = (arr < 0) | (arr >= self.n_classes)
            if bad.any():
                raise InputError(f"unknown class ids {np.unique(arr[bad])[:10].tolist()} "
                                 f"(expected 0..{self.n_classes - 1})", source, field)
            return arr
        sorter = np.argsort(self.ids)
        pos = np.searchsorted(self.ids, arr, sorter=sorter)
        pos = np.clip(pos, 0, self.n_classes - 1)
        idx = sorter[pos]
        bad = self.ids[idx] != arr
        if bad.any():
            raise InputError(f"unknown class ids {np.unique(arr[bad])[:10].tolist()} "
                             f"(the class table has {self.n_classes} ids)", source, field)
        return idx

    def index_of_names(self, names, source: str = "", field: str = "label") -> np.ndarray:
        """Class indices for class names (exact match); unknown names raise :class:`InputError`."""
        lut = {n: k for k, n in enumerate(self.names)}
        vals = pd.Series(np.asarray(names, dtype=object)).astype(str)
        idx = vals.map(lut)
        if idx.isna().any():
            unknown = vals[idx.isna()].unique()[:10].tolist()
            raise InputError(f"unknown class names {unknown}", source, field,
                             hint="names must match the class table exactly")
        if len(lut) != self.n_classes:  # duplicate names in the table: a name must say which class it is
            dup = pd.Series(self.names).value_counts()
            used = sorted(set(vals.unique()) & set(dup[dup > 1].index))
            if used:
                raise InputError(f"the class name{'s' if len(used) > 1 else ''} {used[:5]} belong{'' if len(used) > 1 else 's'} "
                                 f"to several classes of the class table ({self.source}); labels by name are "
                                 "ambiguous", source, field, hint="use class ids instead of names")
        return idx.to_numpy(dtype=np.int64)

    def bins(self, scheme: str | BinScheme) -> np.ndarray:
        """Bin name per class (C,) from the TRAIN counts."""
        return assign_bins(self.train_count, scheme)

    def to_frame(self, scheme: str | BinScheme | None = None) -> pd.DataFrame:
        """One row per class: class_id, name, train_count [, train_instances, frequency, bin]."""
        df = pd.DataFrame({"class_id": self.ids, "name": self.names, "train_count": self.train_count})
        if self.train_instances is not None:
            df["train_instances"] = self.train_instances
        if self.frequency is not None:
            df["frequency"] = self.frequency
        if scheme is not None:
            df["bin"] = self.bins(scheme)
        return df

    def with_counts(self, counts: np.ndarray) -> "ClassTable":
        """A copy with other train counts (e.g. counted from a train label file)."""
        return ClassTable(self.ids, self.names, counts, self.train_instances, self.frequency, self.source)


@dataclass
class Labels:
    """Ground-truth classification labels of one split.

    Attributes
    ----------
    y : ndarray (N,) int64
        Class index (0..C-1) per sample.
    split : str
        ``train``, ``val`` or ``test``.
    sample_ids : ndarray (N,) object or None
        Sample keys (file paths, ids) where the file has them.
    texts : ndarray (N,) object or None
        The sample's text where the file has a text column (``text`` / ``sentence`` / ``comment``
        in CSV / TSV / Parquet, the comment of a GoEmotions TSV); None where a row has none.
        Content for the examples behind a number (:mod:`lt_core.examples`), never a feature.
    image_root : str or None
        The folder the sample ids are relative paths in, when the loader knows it (an image-folder
        tree is its own root); list files (ImageNet-LT / Places-LT) get theirs from the user
        (:attr:`ClassificationDataset.image_root`).
    """

    y: np.ndarray
    split: str
    sample_ids: np.ndarray | None = None
    source: str = ""
    texts: np.ndarray | None = field(default=None, kw_only=True)
    image_root: str | None = field(default=None, kw_only=True)

    def __len__(self) -> int:
        return len(self.y)

    def counts(self, n_classes: int) -> np.ndarray:
        """Samples per class, shape (C,)."""
        return np.bincount(self.y, minlength=n_classes).astype(np.int64)


@dataclass
class Predictions:
    """One model's outputs on one split.

    Attributes
    ----------
    scores : ndarray (N, C) float32 or None
        Logits or probabilities; column j is class index j.
    labels : ndarray (N,) int64
        Predicted class index per sample (argmax of the scores when scores are given).
    kind : {"logits", "probs", "labels"}
    """

    split: str
    kind: ScoreKind
    scores: np.ndarray | None = None
    labels: np.ndarray | None = None
    sample_ids: np.ndarray | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.labels is None and self.scores is not None:
            self.labels = np.asarray(self.scores).argmax(axis=1).astype(np.int64)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def predicted(self) -> np.ndarray:
        """Predicted class index per sample, shape (N,)."""
        return self.labels

    def probabilities(self) -> np.ndarray | None:
        """Softmax of logits (or the probabilities themselves); None for hard labels."""
        if self.scores is None:
            return None
        if self.kind == "probs":
            return self.scores
        z = self.scores - self.scores.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z


@dataclass
class Run:
    """A named model: its predictions per split (a dataset holds several runs to compare)."""

    name: str
    preds: dict[str, Predictions] = field(default_factory=dict)
    source: str = ""
    description: str = ""

    @property
    def splits(self) -> list[str]:
        return [s for s in SPLITS if s in self.preds] + [s for s in self.preds if s not in SPLITS]


@dataclass
class Features:
    """Frozen features of one split for head retraining: X (N, D) float32."""

    X: np.ndarray
    split: str
    sample_ids: np.ndarray | None = None
    source: str = ""

    @property
    def dim(self) -> int:
        return int(self.X.shape[1])


@dataclass
class ClassifierWeights:
    """The original linear classifier: W (C, D), b (C,) (b may be zeros)."""

    W: np.ndarray
    b: np.ndarray
    source: str = ""

    def logits(self, X: np.ndarray) -> np.ndarray:
        """X (N, D) -> logits (N, C) float32."""
        return (np.asarray(X, dtype=np.float32) @ self.W.T.astype(np.float32) + self.b.astype(np.float32))


@dataclass
class ClassificationDataset:
    """Everything Tailscope knows about one classification problem.

    ``classes.train_count`` defines the bins. ``labels`` / ``features`` are keyed by split,
    ``runs`` by run name.
    """

    name: str
    classes: ClassTable
    labels: dict[str, Labels] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    features: dict[str, Features] = field(default_factory=dict)
    classifier: ClassifierWeights | None = None
    generated: bool = False
    description: str = ""
    attribution: str = ""
    default_bins: str = "imagenet-lt"
    #: the folder the samples' relative paths (ImageNet-LT / Places-LT lists) start from, given by the
    #: user for the examples' images (:mod:`lt_core.examples`); image-folder labels carry their own
    image_root: str | None = field(default=None, kw_only=True)

    kind = "classification"

    @property
    def splits(self) -> list[str]:
        return [s for s in SPLITS if s in self.labels]

    def add_run(self, run: Run) -> None:
        """Add (or replace) a run after checking it fits the labels and classes."""
        for split, p in run.preds.items():
            if p.scores is not None and p.scores.shape[1] != self.classes.n_classes:
                raise InputError(f"run '{run.name}' has {p.scores.shape[1]} score columns, the dataset "
                                 f"has {self.classes.n_classes} classes", p.source, "scores")
            if split in self.labels and len(p) != len(self.labels[split]):
                raise InputError(f"run '{run.name}' has {len(p)} {split} predictions, the {split} labels "
                                 f"have {len(self.labels[split])} samples", p.source)
        self.runs[run.name] = run

    def summary(self, scheme: str | BinScheme = "imagenet-lt") -> dict:
        """Plain-dict summary: classes, samples per split, imbalance ratio, bins, runs."""
        sch = parse_bins(scheme)
        b = self.classes.bins(sch)
        return {
            "kind": self.kind, "name": self.name, "generated": self.generated,
            "classes": self.classes.n_classes,
            "samples": {s: len(l) for s, l in self.labels.items()},
            "train_total": int(self.classes.train_count.sum()),
            "imbalance_ratio": self.classes.imbalance_ratio,
            "bins": {n: int((b == n).sum()) for n in sch.order(b)},
            "bin_scheme": sch.spec,
            "runs": {r.name: r.splits for r in self.runs.values()},
            "features": {s: list(f.X.shape) for s, f in self.features.items()},
            "classifier": None if self.classifier is None else list(self.classifier.W.shape),
        }


@dataclass
class DetectionGT:
    """COCO / LVIS ground truth in columnar form.

    Attributes
    ----------
    image_ids : ndarray (I,) int64
    image_sizes : ndarray (I, 2) float64   height, width
    neg_category_ids, not_exhaustive_category_ids : list of ndarray or None
        LVIS per-image lists of category ids (None for COCO data).
    ann_image_id, ann_category_id : ndarray (A,) int64
    ann_bbox : ndarray (A, 4) float64       x, y, w, h
    ann_area : ndarray (A,) float64
    ann_iscrowd : ndarray (A,) bool
    ann_id : ndarray (A,) int64
    categories : ClassTable
        ``train_count`` = LVIS ``image_count`` when present, else images with the class in
        this file; ``train_instances`` = ``instance_count`` (else instances in this file).
    raw : dict
        The parsed JSON (for exports that add fields, and for reference tools in tests).
    """

    image_ids: np.ndarray
    image_sizes: np.ndarray
    ann_id: np.ndarray
    ann_image_id: np.ndarray
    ann_category_id: np.ndarray
    ann_bbox: np.ndarray
    ann_area: np.ndarray
    ann_iscrowd: np.ndarray
    categories: ClassTable
    neg_category_ids: list | None = None
    not_exhaustive_category_ids: list | None = None
    has_segmentation: bool = False
    raw: dict | None = None
    source: str = ""

    @property
    def is_lvis(self) -> bool:
        """True when images carry LVIS federated fields or categories carry ``frequency``."""
        return self.neg_category_ids is not None or self.categories.frequency is not None

    @property
    def n_images(self) -> int:
        return len(self.image_ids)

    def images_per_category(self) -> np.ndarray:
        """Images containing each category in this file, shape (C,)."""
        ci = self.categories.index_of(self.ann_category_id)
        pairs = np.unique(np.stack([self.ann_image_id, ci]), axis=1) if len(ci) else np.zeros((2, 0), int)
        return np.bincount(pairs[1], minlength=self.categories.n_classes).astype(np.int64)


@dataclass
class DetectionResults:
    """Detections in COCO results form, columnar.

    ``bbox`` (N, 4) x, y, w, h; ``score`` (N,); ``segmentation`` list of RLE dicts or None.
    """

    name: str
    image_id: np.ndarray
    category_id: np.ndarray
    bbox: np.ndarray
    score: np.ndarray
    segmentation: list | None = None
    source: str = ""

    def __len__(self) -> int:
        return len(self.score)


@dataclass
class DetectionDataset:
    """Detection ground truth plus one or more named result files."""

    name: str
    gt: DetectionGT
    results: dict[str, DetectionResults] = field(default_factory=dict)
    generated: bool = False
    description: str = ""
    attribution: str = ""
    default_bins: str = "lvis"
    #: the folder the images' ``file_name`` (COCO) / ``coco_url`` (LVIS v1) paths are in, given by the
    #: user for the examples' images (:mod:`lt_core.examples`); None: boxes on a plain canvas
    image_root: str | None = field(default=None, kw_only=True)

    kind = "detection"

    @property
    def classes(self) -> ClassTable:
        return self.gt.categories

    def summary(self, scheme: str | BinScheme = "lvis") -> dict:
        sch = parse_bins(scheme)
        b = self.classes.bins(sch)
        return {
            "kind": self.kind, "name": self.name, "generated": self.generated,
            "style": "lvis" if self.gt.is_lvis else "coco",
            "classes": self.classes.n_classes, "images": self.gt.n_images,
            "annotations": int(len(self.gt.ann_id)),
            "imbalance_ratio": self.classes.imbalance_ratio,
            "bins": {n: int((b == n).sum()) for n in sch.order(b)}, "bin_scheme": sch.spec,
            "results": {k: len(v) for k, v in self.results.items()},
        }
