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
        Frozen features (N x D) for head retraining; row i belongs to label row i.
    classifier : path, optional
        The original classifier weights (C x D, bias C).
    multi_label : {"error", "auto", "multi", "first", "drop"}
        Multi-label targets (:mod:`lt_core.data.multilabel`): stop with the choices (default),
        make a multi-label dataset when any label file is multi-label ("auto") or always
        ("multi"), or a single-label one keeping the first label / dropping such rows (counted).
        In a multi-label dataset every split is :class:`~lt_core.data.schema.MultiLabels`, the
        train counts are train positives and scores in [0, 1] are read as per-class probabilities.
    """
    from .multilabel import as_multilabels, multilabel_score_kind

    label_paths = tuple(p for p in (test_labels, val_labels) if p is not None)
    classes, train = resolve_classes(train_labels, train_counts, class_names, label_paths, multi_label)
    labels: dict[str, Labels] = {}
    if train is not None:
        labels["train"] = train
    for split, path in (("val", val_labels), ("test", test_labels)):
        if path is not None:
            labels[split], _ = L.load_labels(path, classes, split=split, multi_label=multi_label)
    if any(getattr(lab, "multi_label", False) for lab in labels.values()):  # one kind for every split
        labels = {s: as_multilabels(lab, classes.n_classes) for s, lab in labels.items()}
    ds = ClassificationDataset(name, classes, labels)
    for run_name, per_split in (runs or {}).items():
        if not str(run_name).strip():
            raise InputError("a run needs a name", field="run name")
        run = Run(str(run_name), source=", ".join(str(p) for p in per_split.values()))
        for split, path in per_split.items():
            run.preds[split] = L.load_predictions(path, classes, split, labels.get(split))
            p = run.preds[split]
            if ds.multi_label:
                if p.scores is None:
                    raise InputError("holds one predicted class per sample; a multi-label run needs N x C scores "
                                     "(per-class probabilities or logits)", str(path), "scores")
                p.kind = multilabel_score_kind(p.scores)  # independent per-class probabilities, or logits
        ds.add_run(run)
    dim = None
    for split, path in (features or {}).items():
        f = L.load_features(path, split)
        if split in labels and len(f.X) != len(labels[split]):
            raise InputError(f"{len(f.X)} feature rows but {len(labels[split])} {split} labels", str(path))
        if dim is not None and f.dim != dim:
            raise InputError(f"feature dimension {f.dim} differs from the other splits' {dim}", str(path))
        dim = f.dim
        ds.features[split] = f
    if classifier is not None:
        clf = L.load_classifier(classifier)
        if clf.W.shape[0] != classes.n_classes:
            raise InputError(f"classifier has {clf.W.shape[0]} rows but the dataset has {classes.n_classes} classes",
                             str(classifier), "weight")
        if dim is not None and clf.W.shape[1] != dim:
            raise InputError(f"classifier input dimension {clf.W.shape[1]} but features have {dim}",
                             str(classifier), "weight")
        ds.classifier = clf
    return ds


def build_detection_dataset(gt: PathLike, results: Mapping[str, PathLike] | None = None,
                            name: str | None = None) -> DetectionDataset:
    """Load COCO / LVIS ground truth and any number of named COCO results files."""
    from ..detection import load_results_fast  # a low-memory reader; same checks as load_detection_results

    g = L.load_detection_gt(gt)
    ds = DetectionDataset(name or Path(gt).name, g)
    for rname, path in (results or {}).items():
        ds.results[str(rname)] = load_results_fast(path, g, str(rname))
    return ds
