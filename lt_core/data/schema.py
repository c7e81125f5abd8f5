"""Typed, validated objects that every capability works on.

All arrays use the *class index* 0..C-1 (position in the :class:`ClassTable`), never the raw
class id of a file; the table maps between the two. Objects are built by the loaders
(:mod:`lt_core.data.loaders`), which validate once; code inside lt_core trusts them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..bins import BinScheme, assign_bins, parse_bins
from ..errors import InputError

__all__ = [
    "ClassTable", "Labels", "MultiLabels", "Predictions", "Run", "Features", "ClassifierWeights",
    "ClassificationDataset", "DetectionGT", "DetectionResults", "DetectionDataset", "SPLITS", "DENSE_MAX_CELLS",
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
        Training samples per class (classification; multi-label: the *train positives*, samples
        carrying the class) or training *images* containing the class (detection, LVIS
        ``image_count``).
    train_instances : ndarray (C,) int64 or None
        Detection only: training instances per class (LVIS ``instance_count``).
    frequency : ndarray (C,) object or None
        LVIS ``frequency`` letter per class (``r``/``c``/``f``) when the file gives it.
    count_source : str
        Where ``train_count`` comes from, as a user would say it: e.g. ``"train: lvis_v1_train.json"``,
        ``"train: lvis_v1_categories.csv (image_count)"`` or ``"the evaluation split:
        lvis_val_100.json"`` when only the evaluated file's own counts exist (never call those
        train counts on screen). Empty when unknown.
    groups : ndarray (C,) object or None
        The file's own per-class group (e.g. ImageNet-LT's ``shot_group`` many / medium / few),
        when a counts file has such a column; :func:`lt_core.bins.choose_bin_scheme` uses it.
    group_column : str
        The name of that column.
    notes : tuple of str
        What the loader converted or dropped, in words (shown next to the part on the Data page).
    """

    ids: np.ndarray
    names: np.ndarray
    train_count: np.ndarray
    train_instances: np.ndarray | None = None
    frequency: np.ndarray | None = None
    source: str = ""
    count_source: str = ""
    groups: np.ndarray | None = None
    group_column: str = ""
    notes: tuple = ()

    def __post_init__(self) -> None:
        self.ids = np.asarray(self.ids, dtype=np.int64)
        self.names = np.asarray([str(n) for n in self.names], dtype=object)
        self.train_count = np.asarray(self.train_count, dtype=np.int64)
        c = len(self.ids)
        if len(self.names) != c or len(self.train_count) != c:
            raise InputError(f"class table columns have different lengths ({c} ids, "
                             f"{len(self.names)} names, {len(self.train_count)} counts)", self.source)
        if len(np.unique(self.ids)) != c:
            import pandas as pd

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
        import pandas as pd

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
        import pandas as pd

        df = pd.DataFrame({"class_id": self.ids, "name": self.names, "train_count": self.train_count})
        if self.train_instances is not None:
            df["train_instances"] = self.train_instances
        if self.frequency is not None:
            df["frequency"] = self.frequency
        if scheme is not None:
            df["bin"] = self.bins(scheme)
        return df

    def with_counts(self, counts: np.ndarray) -> "ClassTable":
        """A copy with other train counts (e.g. counted from a train label file).

        The file's own groups are dropped: they described the other counts.
        """
        return ClassTable(self.ids, self.names, counts, self.train_instances, self.frequency, self.source,
                          self.count_source, notes=tuple(self.notes))


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
    notes : tuple of str
        What the loader converted or dropped on the way (e.g. "412 rows carried several labels:
        the first label was kept"), shown next to the split.
    texts : ndarray (N,) object or None
        The sample's text where the file has a text column (``text`` / ``sentence`` / ``comment``
        in CSV / TSV / Parquet, the comment of a GoEmotions TSV); None where a row has none.
        Content for the examples behind a number (:mod:`lt_core.examples`), never a feature.
    image_root : str or None
        The folder the sample ids are relative paths in, when the loader knows it (an image-folder
        tree is its own root); list files (ImageNet-LT / Places-LT) get theirs from the user
        (:attr:`ClassificationDataset.image_root`).
    file_rows : ndarray (N,) int64 or None
        Where the loader kept only some rows of the file: the 0-based position in the file of each
        kept row (None: every row, in file order). Row-aligned files of the same split (features)
        that hold all ``file_n_rows`` rows are subset with it.
    file_n_rows : int or None
        Rows in the file before anything was dropped (None: ``len(y)``).
    """

    y: np.ndarray
    split: str
    sample_ids: np.ndarray | None = None
    source: str = ""
    notes: tuple = ()
    file_rows: np.ndarray | None = None
    file_n_rows: int | None = None
    texts: np.ndarray | None = field(default=None, kw_only=True)
    image_root: str | None = field(default=None, kw_only=True)

    multi_label = False

    def __len__(self) -> int:
        return len(self.y)

    def counts(self, n_classes: int) -> np.ndarray:
        """Samples per class, shape (C,)."""
        return np.bincount(self.y, minlength=n_classes).astype(np.int64)


#: Largest N x C indicator matrix :meth:`MultiLabels.dense` builds in one piece (bool: 1 byte a cell).
DENSE_MAX_CELLS = 100_000_000


@dataclass
class MultiLabels:
    """Multi-label ground truth of one split: each sample carries a set of classes (0, 1 or more).

    Stored in compressed sparse rows (CSR), so memory is that of the labels, not of N x C: sample
    i carries the classes ``indices[indptr[i]:indptr[i + 1]]`` (sorted, unique). A dense N x C
    bool indicator (:meth:`dense`) is built on demand and cached up to :data:`DENSE_MAX_CELLS`
    cells (1e8 = 100 MB); larger problems are processed in row blocks (:meth:`dense_rows`), as
    the mergeable metric states do (:mod:`lt_core.metrics.multilabel`).

    Attributes
    ----------
    indptr : ndarray (N + 1,) int64
    indices : ndarray (nnz,) int32
        Class indices 0..C-1 (positions in the :class:`ClassTable`).
    n_classes : int
        C.
    split : str
    sample_ids : ndarray (N,) object or None
    source : str
    notes : tuple of str
        What the loader converted or dropped (duplicate labels in a row, rows without labels).
    texts, image_root
        The samples' texts and image folder, as :class:`Labels` has them (the examples' content).
    """

    indptr: np.ndarray
    indices: np.ndarray
    n_classes: int
    split: str
    sample_ids: np.ndarray | None = None
    source: str = ""
    notes: tuple = ()
    texts: np.ndarray | None = field(default=None, kw_only=True)
    image_root: str | None = field(default=None, kw_only=True)

    multi_label = True

    def __post_init__(self) -> None:
        self.indptr = np.asarray(self.indptr, dtype=np.int64)
        self.indices = np.asarray(self.indices, dtype=np.int32)
        self.n_classes = int(self.n_classes)
        if self.indptr.ndim != 1 or len(self.indptr) < 1 or self.indptr[0] != 0 or self.indptr[-1] != len(self.indices) \
                or (np.diff(self.indptr) < 0).any():
            raise InputError("malformed multi-label rows (indptr)", self.source, "labels")
        if len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= self.n_classes):
            raise InputError(f"class indices must be in 0..{self.n_classes - 1}", self.source, "labels")
        self._dense: np.ndarray | None = None

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def from_dense(cls, Y, split: str, sample_ids=None, source: str = "", notes: tuple = ()) -> "MultiLabels":
        """From an (N, C) 0/1 indicator matrix (bool, integer or float 0/1)."""
        Y = np.asarray(Y)
        if Y.ndim != 2:
            raise InputError(f"expected an N x C indicator matrix, got shape {Y.shape}", source, "labels")
        B = Y if Y.dtype == bool else Y != 0
        rows, cols = np.nonzero(B)
        indptr = np.zeros(Y.shape[0] + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=Y.shape[0]), out=indptr[1:])
        out = cls(indptr, cols.astype(np.int32), Y.shape[1], split, sample_ids, source, notes)
        if Y.shape[0] * Y.shape[1] <= DENSE_MAX_CELLS:
            out._dense = np.ascontiguousarray(B)
        return out

    @classmethod
    def from_pairs(cls, rows, cols, n_samples: int, n_classes: int, split: str, sample_ids=None, source: str = "",
                   notes: tuple = ()) -> "MultiLabels":
        """From (sample, class) pairs in any order; duplicates are kept once."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        if len(rows):
            key = np.unique(rows * int(n_classes) + cols)
            rows, cols = key // int(n_classes), key % int(n_classes)
        indptr = np.zeros(int(n_samples) + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=int(n_samples)), out=indptr[1:])
        return cls(indptr, cols.astype(np.int32), n_classes, split, sample_ids, source, notes)

    # -- what it holds ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_samples(self) -> int:
        return len(self)

    @property
    def nnz(self) -> int:
        """Number of (sample, label) pairs."""
        return int(len(self.indices))

    def labels_per_sample(self) -> np.ndarray:
        """Number of labels of each sample, (N,) int64."""
        return np.diff(self.indptr)

    def counts(self, n_classes: int | None = None) -> np.ndarray:
        """Samples carrying each class (its positives), shape (C,)."""
        return np.bincount(self.indices, minlength=int(n_classes or self.n_classes)).astype(np.int64)

    @property
    def cardinality(self) -> float:
        """Label cardinality: mean number of labels per sample (Tsoumakas & Katakis 2007)."""
        return float(self.nnz / len(self)) if len(self) else float("nan")

    @property
    def density(self) -> float:
        """Label density: cardinality / C."""
        return self.cardinality / self.n_classes if self.n_classes else float("nan")

    @property
    def n_multi(self) -> int:
        """Samples carrying more than one label."""
        return int((self.labels_per_sample() > 1).sum())

    @property
    def n_empty(self) -> int:
        """Samples carrying no label."""
        return int((self.labels_per_sample() == 0).sum())

    @property
    def y(self) -> np.ndarray:
        """Not defined for multi-label targets: raises an :class:`InputError` that says how many
        samples carry several labels and what the choices are (a single-label analysis stops here)."""
        raise InputError(
            f"the {self.split} labels are multi-label ({self.n_multi:,} of {len(self):,} samples carry several "
            f"labels, {self.n_empty:,} none): this is a single-label analysis", self.source, "labels",
            hint="use the multi-label analysis, or reload the labels keeping the first label of each sample "
                 f"({self.n_multi:,} changed) or dropping the multi-label samples ({self.n_multi:,} dropped)")

    def dense(self) -> np.ndarray:
        """The (N, C) bool indicator matrix (cached; at most :data:`DENSE_MAX_CELLS` cells)."""
        if self._dense is None:
            cells = len(self) * self.n_classes
            if cells > DENSE_MAX_CELLS:
                raise InputError(f"{len(self):,} x {self.n_classes:,} labels are {cells / 1e9:.1f} G cells as a dense "
                                 "matrix", self.source, "labels",
                                 hint="process them in row blocks (MultiLabels.dense_rows, the metric states' update)")
            self._dense = self.dense_rows(0, len(self))
        return self._dense

    def dense_rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as an (n, C) bool indicator block."""
        if self._dense is not None:
            return self._dense[start:stop]
        a, b = self.indptr[start], self.indptr[stop]
        rows = np.repeat(np.arange(stop - start), np.diff(self.indptr[start:stop + 1]))
        out = np.zeros((stop - start, self.n_classes), bool)
        out[rows, self.indices[a:b]] = True
        return out

    def label_lists(self) -> list[np.ndarray]:
        """The class indices of each sample (a list of N small arrays)."""
        return np.split(self.indices, self.indptr[1:-1])

    def take(self, rows) -> "MultiLabels":
        """The samples ``rows`` (an index array or a boolean mask), in that order."""
        r = np.asarray(rows)
        if r.dtype == bool:
            r = np.flatnonzero(r)
        lens = np.diff(self.indptr)[r]
        indptr = np.zeros(len(r) + 1, np.int64)
        np.cumsum(lens, out=indptr[1:])
        starts = self.indptr[r]
        pos = np.repeat(starts - indptr[:-1], lens) + np.arange(indptr[-1])
        out = MultiLabels(indptr, self.indices[pos], self.n_classes, self.split,
                          None if self.sample_ids is None else np.asarray(self.sample_ids)[r], self.source, self.notes)
        if self._dense is not None:
            out._dense = self._dense[r]
        return out


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
        For multi-label runs "probs" are independent per-class probabilities (sigmoid outputs).
    thresholds : ndarray (C,) float64 or None
        Multi-label runs only: per-class decision thresholds on these scores' own scale
        (predict class c when ``score >= thresholds[c]``), e.g. tuned on val; None = the
        probability 0.5 (logit 0) unless the analysis chooses another.
    """

    split: str
    kind: ScoreKind
    scores: np.ndarray | None = None
    labels: np.ndarray | None = None
    sample_ids: np.ndarray | None = None
    source: str = ""
    notes: tuple = ()
    thresholds: np.ndarray | None = None

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
        S = self.scores
        out = np.empty(S.shape, dtype=np.result_type(S.dtype, np.float32))
        step = max(1, (1 << 18) // max(1, S.shape[1]))  # row blocks of ~1 MB: each stays in cache
        for i in range(0, S.shape[0], step):
            z = out[i:i + step]
            np.subtract(S[i:i + step], S[i:i + step].max(axis=1, keepdims=True), out=z)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
        return out

    def label_probabilities(self) -> np.ndarray | None:
        """Independent per-class probabilities of a multi-label (one-vs-rest, sigmoid) model,
        (N, C) float32: the sigmoid of logits, or the probabilities themselves; None for hard labels."""
        if self.scores is None:
            return None
        if self.kind == "probs":
            return self.scores
        z = np.negative(self.scores, dtype=np.float32)
        np.exp(z, out=z)
        z += 1.0
        np.reciprocal(z, out=z)
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
    """Frozen features of one split for head retraining: X (N, D) float32 (``notes``: conversions)."""

    X: np.ndarray
    split: str
    sample_ids: np.ndarray | None = None
    source: str = ""
    notes: tuple = ()

    @property
    def dim(self) -> int:
        return int(self.X.shape[1])


@dataclass
class ClassifierWeights:
    """The original linear classifier: W (C, D), b (C,) (b may be zeros; ``notes``: conversions)."""

    W: np.ndarray
    b: np.ndarray
    source: str = ""
    notes: tuple = ()

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
    #: the recipe it was built from (:class:`lt_core.data.parts.ClassificationParts`), if any
    parts: Any = None
    #: loaded parts by content key, reused by the next :func:`lt_core.data.parts.assemble_classification`
    loaded: dict = field(default_factory=dict, repr=False)

    kind = "classification"

    @property
    def splits(self) -> list[str]:
        return [s for s in SPLITS if s in self.labels]

    @property
    def multi_label(self) -> bool:
        """True when the labels are multi-label (:class:`MultiLabels`): a sample carries a set of classes."""
        return any(getattr(lab, "multi_label", False) for lab in self.labels.values())

    @property
    def label_kind(self) -> str:
        """``"multi-label"`` or ``"single-label"`` (said on every page)."""
        return "multi-label" if self.multi_label else "single-label"

    def add_run(self, run: Run) -> None:
        """Add (or replace) a run after checking it fits the labels and classes.

        A run without predictions for any split is refused: it is not a model to compare.
        """
        if not run.preds:
            raise InputError(f"run '{run.name}' has no predictions for any split", run.source or None,
                             hint="give its val and/or test scores")
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
        out = {
            "kind": self.kind, "name": self.name, "generated": self.generated,
            "multi_label": self.multi_label,
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
        if self.multi_label:
            out["label_cardinality"] = {s: float(getattr(l, "cardinality", 1.0)) for s, l in self.labels.items()}
        return out


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
    raw : dict or None
        The parsed JSON (for exports that add fields, and for reference tools in tests); None
        from the compiled reader of ``eval-det`` (:func:`lt_core.detection.fastjson.load_gt_fast`).
    ann_ignore : ndarray (A,) bool or None
        The annotations' LVIS ``ignore`` flag (truth value, missing = False) when read without
        ``raw``; else None (it is read from ``raw``).
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
    has_image_count: bool = False  # the file's categories carry their own (train) ``image_count``
    ann_ignore: np.ndarray | None = None

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
    #: the recipe it was built from (:class:`lt_core.data.parts.DetectionParts`), if any
    parts: Any = None

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
