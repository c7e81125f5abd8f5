"""Assemble datasets from files: the one path used by the Data page, the CLI and notebooks."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import InputError
from . import loaders as L
from .schema import ClassificationDataset, ClassTable, DetectionDataset, Labels, Run

__all__ = ["build_classification_dataset", "build_detection_dataset", "resolve_classes"]

PathLike = str | Path


def resolve_classes(train_labels: PathLike | None = None, train_counts: PathLike | None = None,
                    class_names: PathLike | None = None, label_paths: tuple[PathLike, ...] = (),
                    multi_label: str = "error") -> tuple[ClassTable, Labels | None]:
    """The class table whose TRAIN counts define the bins.

    From ``train_counts`` (CSV class_id,count[,name]) if given, else counted from ``train_labels``.
    Names come from the counts file, the label file (string labels), or ``class_names`` (one per
    line). Without any train information the table is built from ``label_paths`` with zero
    train counts (every class in the "no training data" bin) — callers should say so.
    ``multi_label`` is the policy for multi-label targets (:mod:`lt_core.data.multilabel`); for
    multi-label train labels the train counts are the train positives (samples carrying the class).

    Returns
    -------
    (ClassTable, train Labels or None)
    """
    names = L.load_class_names(class_names) if class_names else None
    train = None
    if train_counts is not None:
        classes = L.load_train_counts(train_counts)
        if train_labels is not None:
            train, _ = L.load_labels(train_labels, classes, split="train", multi_label=multi_label)
    elif train_labels is not None:
        if names is not None:
            base = ClassTable(np.arange(len(names)), names, np.zeros(len(names), np.int64), source=str(class_names))
            train, classes = L.load_labels(train_labels, base, split="train", multi_label=multi_label)
        else:
            train, classes = L.load_labels(train_labels, split="train", multi_label=multi_label)
        classes = classes.with_counts(train.counts(classes.n_classes))
    else:
        if not label_paths:
            raise InputError("give train labels or train counts (the bins come from TRAIN counts)",
                             field="train", hint="a CSV with class_id,count works when train labels are not at hand")
        first = label_paths[0]
        if names is not None:
            classes = ClassTable(np.arange(len(names)), names, np.zeros(len(names), np.int64), source=str(class_names))
        else:
            _, classes = L.load_labels(first, multi_label=multi_label)
    if names is not None and train_counts is not None:
        if len(names) != classes.n_classes:
            raise InputError(f"{len(names)} class names but {classes.n_classes} classes in the counts",
                             str(class_names))
        classes = ClassTable(classes.ids, names, classes.train_count, classes.train_instances, classes.frequency,
                             classes.source)
    return classes, train


def build_classification_dataset(
    *, train_labels: PathLike | None = None, train_counts: PathLike | None = None,
    val_labels: PathLike | None = None, test_labels: PathLike | None = None,
    runs: Mapping[str, Mapping[str, PathLike]] | None = None,
    features: Mapping[str, PathLike] | None = None, classifier: PathLike | None = None,
    class_names: PathLike | None = None, name: str = "my dataset", multi_label: str = "error",
) -> ClassificationDataset:
    """Load and cross-check every file of a classification problem.

    Parameters
    ----------
    train_labels, train_counts : path
        At least one: the TRAIN counts define the bins.
    val_labels, test_labels : path, optional
        Evaluation labels (any format :func:`~lt_core.data.load_labels` reads).
    runs : {run name: {split: path}}
        Scores or predicted labels per split (e.g. ``{"resnet50": {"test": "scores.npy"}}``).
    features : {split: path}, optional
        Frozen features (N x D) for head retraining; row i belongs to label row i (or matched by
        sample id, or subset to the rows the labels kept: :func:`~lt_core.data.parts.fit_features`).
    classifier : path, optional
        The original classifier weights (C x D, bias C).
    multi_label : {"error", "auto", "multi", "first", "drop"}
        Multi-label targets (:mod:`lt_core.data.multilabel`): stop with the choices (default),
        make a multi-label dataset when any label file is multi-label ("auto") or always
        ("multi"), or a single-label one keeping the first label / dropping such rows (counted).
        In a multi-label dataset every split is :class:`~lt_core.data.schema.MultiLabels`, the
        train counts are train positives and scores in [0, 1] are read as per-class probabilities.

    The same path as the Data page: :func:`~lt_core.data.parts.assemble_classification` on a
    :class:`~lt_core.data.parts.ClassificationParts`.
    """
    from .parts import ClassificationParts, FileRef, RunPart, assemble_classification

    def ref(p):
        return None if p is None else FileRef.of(p, str(p))

    parts = ClassificationParts(name=name, train_labels=ref(train_labels), train_counts=ref(train_counts),
                                class_names=ref(class_names), val_labels=ref(val_labels), test_labels=ref(test_labels),
                                features={s: ref(p) for s, p in (features or {}).items() if p is not None},
                                classifier=ref(classifier), multi_label=multi_label)
    for run_name, per_split in (runs or {}).items():
        if not str(run_name).strip():
            raise InputError("a run needs a name", field="run name")
        parts.runs[str(run_name)] = RunPart({s: ref(p) for s, p in per_split.items()})
    return assemble_classification(parts, require_train=False)


def build_detection_dataset(gt: PathLike, results: Mapping[str, PathLike] | None = None,
                            name: str | None = None, train_frequencies: PathLike | None = None) -> DetectionDataset:
    """Load COCO / LVIS ground truth and any number of named COCO results files.

    ``train_frequencies``: the training ground truth, an LVIS category file or a counts CSV whose
    per-category train counts (and LVIS frequency letters) define the bins
    (:func:`lt_core.detection.load_detection_frequencies`, :func:`lt_core.detection.apply_frequencies`).
    """
    from ..detection import load_results_fast  # a low-memory reader; same checks as load_detection_results

    g = L.load_detection_gt(gt)
    if train_frequencies is not None:
        from ..detection.frequencies import with_train_frequencies

        g, _ = with_train_frequencies(g, train_frequencies)
    ds = DetectionDataset(name or Path(gt).name, g)
    for rname, path in (results or {}).items():
        ds.results[str(rname)] = load_results_fast(path, g, str(rname))
    return ds
