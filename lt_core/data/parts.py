"""A dataset as the files it is made of: add, replace or remove one part without losing the others.

A :class:`ClassificationParts` is the recipe of a classification dataset — which file is the train
labels, the train counts, the class names, the val / test labels, each run's val / test scores,
the features of each split and the classifier weights — plus the runs made in the app
(Thresholds, Retrain), which have no file of their own. :func:`assemble_classification` turns a
recipe into a validated :class:`~lt_core.data.ClassificationDataset` through the loaders; given the
dataset built from the previous recipe, it re-reads only the parts whose file (or whose
dependencies) changed, so adding model B to a dataset with model A reads one file.

Every edit that would make the parts disagree (a run whose test scores no longer match the new
test labels, a classifier for another number of classes) is refused with an
:class:`~lt_core.errors.InputError` that names the part; nothing is dropped to make it fit.

:class:`DetectionParts` is the same for a detection dataset (ground truth, named results files and
any other file :func:`~lt_core.data.build_detection_dataset` takes by keyword).

Each file is a :class:`FileRef`: where it is read from and the name the user knows it by (an
upload saved under a temporary name, or a copy in a workspace, is shown by its original name).
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from ..errors import InputError
from . import loaders as L
from .schema import SPLITS, ClassificationDataset, DetectionDataset, Features, Labels, Run

__all__ = ["FileRef", "RunPart", "ClassificationParts", "DetectionParts", "assemble_classification",
           "assemble_detection", "fit_features", "BUILTIN_CLASSIFICATION", "BUILTIN_DETECTION", "PART_LABELS"]

BUILTIN_CLASSIFICATION = "goemotions-demo"
BUILTIN_DETECTION = "lvis-demo"

#: part key -> what the Data page calls it
PART_LABELS = {
    "train_labels": "train labels", "train_counts": "train counts", "class_names": "class names",
    "val_labels": "val labels", "test_labels": "test labels", "features": "features",
    "classifier": "classifier weights", "run": "run scores",
}


@dataclass(frozen=True)
class FileRef:
    """One input file.

    Attributes
    ----------
    path : str
        Where it is read from (the user's path, an upload's temporary copy, a workspace copy).
    name : str
        The name the user knows it by (shown everywhere instead of ``path``).
    size : int
        Bytes (-1 when the file does not exist).
    mtime_ns : int
        Modification time when the reference was made (a changed file is re-read).
    sha256 : str
        Content hash, where known (workspaces fill it in).
    origin : str
        ``"upload"``, ``"local path"``, ``"workspace"``...
    original : str
        Where the user's file was (a local path as given; empty for uploads).
    """

    path: str
    name: str
    size: int = -1
    mtime_ns: int = 0
    sha256: str = ""
    origin: str = ""
    original: str = ""

    @classmethod
    def of(cls, path: str | os.PathLike, name: str | None = None, origin: str = "local path",
           sha256: str = "", original: str | None = None) -> "FileRef":
        """A reference to ``path`` (size and mtime read now; a missing file gets size -1).

        ``name`` defaults to the file's base name; ``original`` to ``path`` for local files.
        """
        p = str(path)
        try:
            st = os.stat(p)
            size, mtime = (st.st_size, st.st_mtime_ns) if not os.path.isdir(p) else (0, st.st_mtime_ns)
        except OSError:
            size, mtime = -1, 0
        if original is None:
            original = p if origin == "local path" else ""
        return cls(p, name or Path(p).name or p, size, mtime, sha256, origin, original)

    @property
    def key(self) -> tuple:
        """Identity of the content: the same key means the same bytes were read."""
        return (self.path, self.size, self.mtime_ns, self.sha256)


@dataclass
class RunPart:
    """One run of a dataset: either score files per split, or a run made in the app.

    Attributes
    ----------
    files : {split: FileRef}
        Scores / predicted labels per split (a run loaded from files).
    derived : Run or None
        A run made in the app (kept in memory; a workspace stores it as NPY files).
    artifacts : list of str
        Ids of what made it (an adjustment, a threshold set, a retrained head) in a workspace.
    stored : dict
        Workspace bookkeeping for derived runs: split -> {"scores": file, "pred": file}.
    """

    files: dict[str, FileRef] = field(default_factory=dict)
    derived: Run | None = None
    description: str = ""
    artifacts: list[str] = field(default_factory=list)
    stored: dict = field(default_factory=dict)

    @property
    def splits(self) -> list[str]:
        have = self.derived.preds if self.derived is not None else self.files
        return [s for s in SPLITS if s in have]


@dataclass
class ClassificationParts:
    """The recipe of a classification dataset (see the module docstring).

    ``builtin`` names a built-in dataset (``"goemotions-demo:multi-label"`` or
    ``"goemotions-demo:single-label"``, the GoEmotions demo's two views) whose labels, features,
    classifier and runs are the base; only runs can be added to it.
    """

    name: str = "my dataset"
    builtin: str | None = None
    train_labels: FileRef | None = None
    train_counts: FileRef | None = None
    class_names: FileRef | None = None
    val_labels: FileRef | None = None
    test_labels: FileRef | None = None
    features: dict[str, FileRef] = field(default_factory=dict)
    classifier: FileRef | None = None
    runs: dict[str, RunPart] = field(default_factory=dict)
    #: what to do with labels that carry several classes (:mod:`lt_core.data.multilabel`): "error"
    #: (stop and offer the choices), "auto" / "multi" (a multi-label dataset), "first" / "drop"
    multi_label: str = "error"
    #: the folder the samples' relative paths (ImageNet-LT / Places-LT lists) start from, for the
    #: examples' images (:attr:`ClassificationDataset.image_root`); not a file of the recipe, never copied
    image_root: str | None = None

    kind = "classification"

    # ------------------------------------------------------------------ edits (each returns a copy)
    def copy(self) -> "ClassificationParts":
        """A copy whose dicts can be edited (derived runs' arrays are shared, never changed)."""
        c = replace(self, features=dict(self.features),
                    runs={k: replace(v, files=dict(v.files), artifacts=list(v.artifacts), stored=dict(v.stored))
                          for k, v in self.runs.items()})
        return c

    def files(self) -> list[tuple[str, str | None, FileRef]]:
        """Every file of the recipe as (part, split or run name, FileRef)."""
        out = []
        for part in ("train_labels", "train_counts", "class_names", "val_labels", "test_labels", "classifier"):
            ref = getattr(self, part)
            if ref is not None:
                out.append((part, None, ref))
        for split, ref in self.features.items():
            out.append(("features", split, ref))
        for name, rp in self.runs.items():
            for split, ref in rp.files.items():
                out.append(("run", f"{name}/{split}", ref))
        return out

    def with_file(self, part: str, ref: FileRef | None, split: str | None = None,
                  run: str | None = None) -> "ClassificationParts":
        """Set (or, with ``ref=None``, remove) one part.

        Parameters
        ----------
        part : str
            ``train_labels``, ``train_counts``, ``class_names``, ``val_labels``, ``test_labels``,
            ``classifier``, ``features`` (needs ``split``) or ``run`` (needs ``run`` and ``split``).
        """
        c = self.copy()
        if part in ("train_labels", "train_counts", "class_names", "val_labels", "test_labels", "classifier"):
            if c.builtin is not None:
                raise InputError(f"the {PART_LABELS[part]} of the built-in demo cannot be changed",
                                 field=PART_LABELS[part], hint="start a new dataset for your own files")
            setattr(c, part, ref)
        elif part == "features":
            if split not in SPLITS:
                raise InputError(f"features need a split (train, val or test), got {split!r}", field="split")
            if c.builtin is not None:
                raise InputError("the features of the built-in demo cannot be changed", field="features",
                                 hint="start a new dataset for your own files")
            if ref is None:
                c.features.pop(split, None)
            else:
                c.features[split] = ref
        elif part == "run":
            name = (run or "").strip()
            if not name:
                raise InputError("a run needs a name", field="run name")
            if split not in ("val", "test", "train"):
                raise InputError(f"run scores need a split (val or test), got {split!r}", field="split")
            rp = c.runs.get(name)
            if rp is not None and rp.derived is not None:
                raise InputError(f"run '{name}' was made in the app; give the new scores another run name",
                                 field="run name")
            if rp is None:
                if ref is None:
                    return c
                rp = c.runs[name] = RunPart()
            if ref is None:
                rp.files.pop(split, None)
                if not rp.files:
                    c.runs.pop(name)
            else:
                rp.files[split] = ref
        else:
            raise InputError(f"unknown part {part!r}", field="part")
        return c

    def with_derived_run(self, run: Run, artifacts: list[str] | None = None) -> "ClassificationParts":
        """Add (or replace) a run made in the app."""
        if not run.preds:
            raise InputError(f"run '{run.name}' has no predictions for any split", field="run",
                             hint="a head without val / test features cannot be evaluated")
        c = self.copy()
        old = c.runs.get(run.name)
        if old is not None and old.derived is None:
            raise InputError(f"a run loaded from files is already called '{run.name}'", field="run name",
                             hint="choose another name")
        c.runs[run.name] = RunPart(derived=run, description=run.description, artifacts=list(artifacts or []))
        return c

    def renamed_run(self, old: str, new: str) -> "ClassificationParts":
        """Rename a run (its colour follows it; files are unchanged)."""
        new = (new or "").strip()
        if old not in self.runs:
            raise InputError(f"no run called '{old}'", field="run")
        if not new:
            raise InputError("a run needs a name", field="run name")
        if new != old and new in self.runs:
            raise InputError(f"a run called '{new}' already exists", field="run name")
        c = self.copy()
        c.runs = {(new if k == old else k): v for k, v in c.runs.items()}
        rp = c.runs[new]
        if rp.derived is not None:
            rp.derived = replace(rp.derived, name=new)
        return c

    def without_run(self, name: str) -> "ClassificationParts":
        """Remove a run (the others keep their order)."""
        if name not in self.runs:
            raise InputError(f"no run called '{name}'", field="run")
        c = self.copy()
        c.runs.pop(name)
        return c


@dataclass
class DetectionParts:
    """The recipe of a detection dataset.

    ``extra`` holds any other file :func:`~lt_core.data.build_detection_dataset` takes by keyword
    (e.g. a train-frequency file), so a workspace can store and re-read it without knowing it;
    ``options`` any JSON-able settings that go with the files.
    """

    name: str = ""
    builtin: str | None = None
    gt: FileRef | None = None
    results: dict[str, FileRef] = field(default_factory=dict)
    extra: dict[str, FileRef] = field(default_factory=dict)
    options: dict = field(default_factory=dict)

    kind = "detection"

    def files(self) -> list[tuple[str, str | None, FileRef]]:
        out = [("gt", None, self.gt)] if self.gt is not None else []
        out += [("results", n, r) for n, r in self.results.items()]
        out += [(k, None, r) for k, r in self.extra.items()]
        return out


# ----------------------------------------------------------------------------------------------
# building
# ----------------------------------------------------------------------------------------------
def _names_of(parts) -> dict[str, str]:
    """{path read: the name messages and sources show}: an upload is "NAME (uploaded)"."""
    return {ref.path: f"{ref.name} (uploaded)" if ref.origin == "upload" else ref.name for _, _, ref in parts.files()}


def fit_features(f: Features, labels: Labels | None) -> Features:
    """Features of a split made to fit that split's labels, row for row (or an InputError saying why not).

    * both carry sample ids: rows are matched by id (ids without a feature row are an error;
      feature rows without a label are left out, counted in ``notes``);
    * same number of rows: row i belongs to label i;
    * the labels kept only some rows of their file (``Labels.file_rows``, e.g. the single-label rows
      of a GoEmotions TSV) and the features hold every row of that file: the kept rows are taken.
    """
    if labels is None:
        return f
    n, m = len(f.X), len(labels)
    if f.sample_ids is not None and labels.sample_ids is not None:
        import pandas as pd

        pos = pd.Index(f.sample_ids)
        if pos.is_unique:
            take = pos.get_indexer(labels.sample_ids)
            if (take >= 0).all():
                if n == m and np.array_equal(take, np.arange(n)):
                    return f
                notes = tuple(f.notes) + (f"rows matched to the {labels.split} labels by sample id",)
                if n > m:
                    notes += (f"left out {n - m:,} of {n:,} feature rows whose ids are not in the "
                              f"{labels.split} labels",)
                return Features(f.X[take], f.split, np.asarray(labels.sample_ids), f.source, notes)
            missing = np.asarray(labels.sample_ids)[take < 0][:3].tolist()
            raise InputError(f"{int((take < 0).sum()):,} {labels.split} labels have no feature row, e.g. {missing}",
                             f.source, "id", hint="the features need a row for every labelled sample")
    if n == m:
        return f
    file_rows, file_n_rows = getattr(labels, "file_rows", None), getattr(labels, "file_n_rows", None)
    if file_rows is not None and file_n_rows == n:
        notes = tuple(f.notes) + (f"kept the {m:,} rows of the {n:,} that the {labels.split} labels kept "
                                  f"({n - m:,} left out with their labels)",)
        return Features(f.X[file_rows], f.split, labels.sample_ids, f.source, notes)
    why = f"{n:,} feature rows but {m:,} {labels.split} labels"
    if file_n_rows is not None and file_n_rows != m:
        hint = (f"the {labels.split} label file has {file_n_rows:,} rows, of which {m:,} were kept "
                f"({'; '.join(labels.notes) or 'see its notes'}): give features with one row per file row "
                f"({file_n_rows:,}, in the file's order) or one per kept row ({m:,})")
    else:
        hint = "row i of the features must belong to row i of the labels (or both files carry sample ids)"
    raise InputError(why, f.source, hint=hint)


def _builtin_classification(name: str, builtins: Mapping[str, Callable] | None) -> ClassificationDataset:
    if builtins and name in builtins:
        return builtins[name]()
    base, _, view = name.partition(":")
    if base == BUILTIN_CLASSIFICATION:
        from .demo import load_classification_demo

        return load_classification_demo(view or "single-label")
    raise InputError(f"unknown built-in dataset '{name}'", field="builtin")


def assemble_classification(parts: ClassificationParts, previous: ClassificationDataset | None = None,
                            builtins: Mapping[str, Callable[[], ClassificationDataset]] | None = None,
                            require_train: bool = True) -> ClassificationDataset:
    """Build a validated dataset from its parts, re-reading only what changed since ``previous``.

    Parameters
    ----------
    parts : ClassificationParts
    previous : ClassificationDataset, optional
        The dataset built from an earlier recipe; its loaded parts are reused where the file and
        what the part depends on (the class table, the split's labels) are unchanged.
    builtins : {name: () -> ClassificationDataset}, optional
        Loaders of built-in datasets (the app passes its cached demo).
    require_train : bool
        Refuse a recipe without train labels or train counts (the bins come from them). With
        False, the class table is read from the test / val labels with zero train counts (every
        class in the "no training data" bin; the class table's notes say so).

    Returns
    -------
    ClassificationDataset
        With ``parts`` set to the recipe and ``loaded`` holding the loaded parts for the next call.

    Raises
    ------
    InputError
        A file cannot be read, or the parts disagree (the message names the part).
    """
    old = previous.loaded if previous is not None else {}
    new: dict = {}

    def cached(key, make):
        if key in old:
            new[key] = old[key]
        else:
            new[key] = make()
        return new[key]

    with L.shown_as(_names_of(parts)):
        if parts.builtin is not None:
            base = _builtin_classification(parts.builtin, builtins)
            classes = base.classes
            labels = dict(base.labels)
            features = dict(base.features)
            clf = base.classifier
            ckey = ("builtin", parts.builtin, id(base))
            lkeys = {s_: (ckey, s_) for s_ in labels}
            ds = ClassificationDataset(parts.name or base.name, classes, labels, {}, features, clf,
                                       base.generated, base.description, base.attribution, base.default_bins)
            for r in base.runs.values():
                ds.runs[r.name] = r
        else:
            cls_refs = tuple(None if r is None else r.key for r in (parts.train_labels, parts.train_counts,
                                                                     parts.class_names))
            policy = parts.multi_label
            no_train = parts.train_labels is None and parts.train_counts is None
            eval_refs = tuple(r for r in (parts.test_labels, parts.val_labels) if r is not None)
            if no_train and (require_train or not eval_refs):
                raise InputError("give train labels or train counts (the bins come from TRAIN counts)",
                                 field="train labels",
                                 hint="a CSV with class_id,count works when train labels are not at hand")
            ckey = ("classes", policy) + cls_refs + ((eval_refs[0].key,) if no_train else ())

            def make_classes():
                from .assemble import resolve_classes

                classes, train = resolve_classes(
                    None if parts.train_labels is None else parts.train_labels.path,
                    None if parts.train_counts is None else parts.train_counts.path,
                    None if parts.class_names is None else parts.class_names.path,
                    tuple(r.path for r in eval_refs), policy)
                if no_train:
                    classes.notes = tuple(classes.notes) + (
                        "no train labels or counts: every class is in the 'no training data' bin",)
                return classes, train

            classes, train = cached(ckey, make_classes)
            labels: dict[str, Labels] = {}
            lkeys: dict[str, tuple] = {}
            if train is not None:
                labels["train"], lkeys["train"] = train, (ckey, "train")
            for split, ref in (("val", parts.val_labels), ("test", parts.test_labels)):
                if ref is not None:
                    lkeys[split] = ("labels", split, ref.key, ckey)
                    labels[split] = cached(lkeys[split],
                                           lambda ref=ref, split=split: L.load_labels(ref.path, classes, split=split,
                                                                                      multi_label=policy)[0])
            if any(getattr(lab, "multi_label", False) for lab in labels.values()):  # one kind for every split
                from .multilabel import as_multilabels

                for s_ in list(labels):
                    lkeys[s_] = lkeys[s_] + ("as-multi",)
                    labels[s_] = cached(lkeys[s_], lambda lab=labels[s_]: as_multilabels(lab, classes.n_classes))
            ds = ClassificationDataset(parts.name, classes, labels)
            dim = None
            for split in SPLITS:
                ref = parts.features.get(split)
                if ref is None:
                    continue
                lab = labels.get(split)
                raw = cached(("features", split, ref.key), lambda ref=ref, split=split: L.load_features(ref.path, split))
                f = cached(("features-fit", split, ref.key, lkeys.get(split)),
                           lambda raw=raw, lab=lab: fit_features(raw, lab))
                if dim is not None and f.dim != dim:
                    raise InputError(f"feature dimension {f.dim} differs from the other splits' {dim}", ref.name,
                                     hint="all splits' features come from the same backbone")
                dim = f.dim
                ds.features[split] = f
            if parts.classifier is not None:
                ref = parts.classifier
                clf = cached(("classifier", ref.key), lambda: L.load_classifier(ref.path))
                if clf.W.shape[0] != classes.n_classes:
                    raise InputError(f"classifier has {clf.W.shape[0]:,} rows but the dataset has "
                                     f"{classes.n_classes:,} classes", ref.name, "weight")
                if dim is not None and clf.W.shape[1] != dim:
                    raise InputError(f"classifier input dimension {clf.W.shape[1]:,} but the features have {dim:,}",
                                     ref.name, "weight")
                ds.classifier = clf
        # runs, in the recipe's order (colours follow the order)
        for name, rp in parts.runs.items():
            try:
                if rp.derived is not None:
                    run = rp.derived if rp.derived.name == name else replace(rp.derived, name=name)
                else:
                    run = Run(name, source=", ".join(ref.name for ref in rp.files.values()),
                              description=rp.description)
                    for split, ref in rp.files.items():
                        lab = ds.labels.get(split)
                        run.preds[split] = cached(("pred", split, ref.key, ckey, lkeys.get(split)),
                                                  lambda ref=ref, split=split, lab=lab: _prediction(
                                                      ref, ds, split, lab))
                ds.add_run(run)
            except InputError as e:
                raise InputError(f"run '{name}' does not fit: {e.message}", e.source, e.field,
                                 hint=e.hint or "remove the run, or give scores that match the labels") from None
    ds.parts = parts
    ds.loaded = new
    ds.image_root = parts.image_root  # the examples' image folder, kept with the recipe
    return ds


def _prediction(ref: FileRef, ds: ClassificationDataset, split: str, lab):
    """One run's split read for ``ds``: in a multi-label dataset, N x C scores read per class."""
    p = L.load_predictions(ref.path, ds.classes, split, None if getattr(lab, "multi_label", False) else lab)
    if ds.multi_label:
        from .multilabel import multilabel_score_kind

        if p.scores is None:
            raise InputError("holds one predicted class per sample; a multi-label run needs N x C scores "
                             "(per-class probabilities or logits)", ref.name, "scores")
        if lab is not None and len(p) != len(lab):
            raise InputError(f"{len(p):,} score rows but {len(lab):,} {split} samples", ref.name, "scores")
        p = replace(p, kind=multilabel_score_kind(p.scores),
                    notes=tuple(n for n in p.notes if not n.startswith("read as")) + (
                        "read as independent per-class scores (multi-label)",))
    return p


def assemble_detection(parts: DetectionParts, builtins: Mapping[str, Callable[[], DetectionDataset]] | None = None
                       ) -> DetectionDataset:
    """Build a detection dataset from its parts (through :func:`~lt_core.data.build_detection_dataset`)."""
    from .assemble import build_detection_dataset

    if parts.builtin is not None:
        if builtins and parts.builtin in builtins:
            ds = builtins[parts.builtin]()
        elif parts.builtin == BUILTIN_DETECTION:
            from .demo import load_detection_demo

            ds = load_detection_demo()
        else:
            raise InputError(f"unknown built-in dataset '{parts.builtin}'", field="builtin")
        ds = copy.copy(ds)
        ds.results = dict(ds.results)
    else:
        if parts.gt is None:
            raise InputError("a detection dataset needs a ground-truth file", field="ground truth")
        with L.shown_as(_names_of(parts)):
            ds = build_detection_dataset(parts.gt.path, {n: r.path for n, r in parts.results.items()},
                                         parts.name or parts.gt.name,
                                         **{k: r.path for k, r in parts.extra.items()})
    ds.parts = parts
    ds.image_root = parts.options.get("image_root")  # the examples' image folder (COCO file_name layout)
    return ds
