"""Single-label classification metrics on Dask: partition -> ConfusionState, merged, computed.

Each task reads one partition of a ``scores`` dataset and returns the
:class:`~lt_core.metrics.ConfusionState` of its rows (integer counts: confusion matrix, top-k
rank histogram, per-class calibration histogram with fixed-point confidence sums). States are
merged pairwise on the workers; :func:`lt_core.metrics.report_from_state` computes the report
and the bootstrap CIs from the merged state on the client, exactly as the single-process
:func:`lt_core.metrics.classification_report` does from its own state, so every number (the
CIs too, for the same seed) is bit for bit the same.

The score kind (logits or probabilities) is what the single-process loader decides from every
row: recorded at conversion, and decided again over the rows evaluated when labels select a
subset of them.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from typing import Iterator

import numpy as np

from ..errors import InputError
from .engine import ProgressArg, map_merge
from .layout import Dataset, Partition, is_dataset, open_dataset, read_parquet_columns, read_scores_partition

__all__ = ["classification_state", "evaluate_classification", "scores_dataset", "aligned_label_slices",
           "temp_root"]


def temp_root() -> str:
    """Where on-the-fly conversions go: ``TAILSCOPE_DASK_TMP`` or the system's temporary folder.

    With a remote cluster this folder must be shared with every worker (same path)."""
    return os.environ.get("TAILSCOPE_DASK_TMP") or tempfile.gettempdir()


@contextmanager
def scores_dataset(preds, classes=None, labels=None, *, rows: int | None = None) -> Iterator[Dataset]:
    """``preds`` as a scores Dataset: a converted folder as it is, a ``.npy`` / ``.npz`` converted
    into a temporary folder (with ``labels`` stored in it) that is removed afterwards."""
    if isinstance(preds, Dataset):
        yield preds
        return
    if is_dataset(preds):
        yield open_dataset(preds, ("scores",))
        return
    from .convert import write_scores_dataset

    tmp = tempfile.mkdtemp(prefix="tailscope-dask-scores-", dir=temp_root())
    try:
        yield write_scores_dataset(tmp, preds, classes, labels, rows=rows)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------------------------
# worker side
# ------------------------------------------------------------------------------------------------
def _partition_state(part: Partition, lab, n_classes: int, values: str, kind: str, with_scores: bool, max_k: int,
                     with_labels: bool):
    from ..metrics.state import ConfusionState, update

    d = read_scores_partition(part, n_classes, values, with_labels and lab is None)
    if lab is None:
        y, sel = d["label"], None
    else:
        sel, y = lab
    state = ConfusionState.empty(n_classes, with_scores=with_scores, max_k=max_k)
    if len(y) == 0:
        return state
    if values == "scores":
        S = d["scores"] if sel is None else d["scores"][sel]
        try:
            return update(state, y, None, scores=S, kind=kind)
        except InputError as e:
            raise InputError(e.message, part.path, "scores", e.hint) from None
    p = d["pred"] if sel is None else d["pred"][sel]
    return update(state, y, p)


def _merge_states(a, b):
    return a.merge(b)


def _kind_stats(part: Partition, lab, n_classes: int):
    d = read_scores_partition(part, n_classes, "scores", False)
    S = d["scores"] if lab is None else d["scores"][lab[0]]
    if not S.size:
        return (np.inf, -np.inf, True)
    return (float(S.min()), float(S.max()), bool(np.allclose(S.sum(axis=1), 1.0, atol=1e-3)))


def _merge_kind(a, b):
    return (min(a[0], b[0]), max(a[1], b[1]), a[2] and b[2])


# ------------------------------------------------------------------------------------------------
# client side
# ------------------------------------------------------------------------------------------------
def aligned_label_slices(ds: Dataset, labels) -> tuple[list[tuple[np.ndarray, np.ndarray]], bool]:
    """Per partition, (local rows, class indices) of the labelled samples, and whether every row
    of the dataset is labelled (once).

    Rows are aligned as :func:`lt_core.data.load_predictions` aligns them: by sample id when the
    dataset and the labels both have ids, else by order (then the counts must agree).
    """
    y = np.asarray(labels.y, dtype=np.int64)
    bounds = np.array([p.first_row for p in ds.partitions] + [ds.n_rows], dtype=np.int64)
    if ds.has_sample_ids and labels.sample_ids is not None:
        import pandas as pd

        ids = np.concatenate([read_parquet_columns(p, ["sample_id"]).column("sample_id").to_numpy(zero_copy_only=False)
                              .astype(str).astype(object) for p in ds.partitions])
        pos = pd.Index(ids)
        if not pos.is_unique:
            raise InputError("duplicate sample ids in the predictions", str(ds.root), "sample_id")
        take = pos.get_indexer(np.asarray(labels.sample_ids, dtype=object).astype(str))
        if (take < 0).any():
            missing = np.asarray(labels.sample_ids)[take < 0][:3].tolist()
            raise InputError(f"{int((take < 0).sum())} labelled samples have no prediction, e.g. {missing}",
                             str(ds.root), "sample_id")
        order = np.argsort(take, kind="stable")
        t_sorted = take[order]
        cut = np.searchsorted(t_sorted, bounds)
        out = [(t_sorted[cut[i]:cut[i + 1]] - bounds[i], y[order[cut[i]:cut[i + 1]]]) for i in range(ds.n_partitions)]
        return out, len(np.unique(take)) == ds.n_rows
    if len(y) != ds.n_rows:
        raise InputError(f"{ds.n_rows:,} predictions but {len(y):,} labels ({labels.source})", str(ds.root),
                         hint="predictions are aligned by order unless both files carry sample ids")
    return [(np.arange(bounds[i + 1] - bounds[i]), y[bounds[i]:bounds[i + 1]]) for i in range(ds.n_partitions)], True


def classification_state(client, preds, classes, labels=None, *, top_k: tuple[int, ...] = (1, 5),
                         kind: str | None = None, progress: ProgressArg = True):
    """The merged :class:`~lt_core.metrics.ConfusionState` of a scores dataset, on Dask.

    Parameters
    ----------
    client : distributed.Client
    preds : Dataset, dataset folder, or .npy / .npz path (converted to a temporary folder)
    classes : ClassTable
        Column j of the scores = class index j; must be the table the dataset was converted with.
    labels : Labels, optional
        True labels read on the client (aligned to the dataset's rows by id or by order, and
        sent to the workers one partition's slice each); default: the dataset's ``label`` column.
    top_k : tuple of int
        As :func:`lt_core.metrics.classification_report` (the state keeps ranks < max k).
    kind : {"logits", "probs"}, optional
        The scores' kind when the caller knows it (the app's loaded predictions); default: the
        one decided over every evaluated row, as the single-process loader decides it.
    progress : bool or callable(done, total)

    Returns
    -------
    (ConfusionState, score kind)
    """
    converted_here = not (isinstance(preds, Dataset) or is_dataset(preds))
    with scores_dataset(preds, classes, labels) as ds:
        ds.check_classes(classes.ids, "the class table")
        c = classes.n_classes
        if ds.n_classes != c:
            raise InputError(f"the dataset has {ds.n_classes} score columns, the class table {c} classes",
                             str(ds.root), "n_classes")
        in_ds = labels is None or converted_here  # a file converted here holds the labels, aligned
        if in_ds and not ds.has_labels:
            raise InputError("the dataset holds no labels: give a label file, or convert with --labels",
                             str(ds.root), "label")
        with_scores = ds.values == "scores"
        max_k = max([k for k in top_k if k <= c] or [1])
        given_kind = kind
        kind = given_kind or ds.score_kind
        slices = None
        if not in_ds:
            sl, full = aligned_label_slices(ds, labels)
            slices = client.scatter(sl) if sl else []
            if with_scores and not full and given_kind is None:
                # the labels pick a subset of the rows: decide logits / probabilities on that subset, as the
                # single-process loader does after aligning
                lo, hi, ok = map_merge(client, _kind_stats, ds.partitions, _merge_kind, label="kind", progress=False,
                                       per_item=slices, extra=(c,))
                kind = "probs" if (lo >= 0 and hi <= 1 and ok) else "logits"
        from ..metrics.state import ConfusionState

        state = map_merge(client, _partition_state, ds.partitions, _merge_states, label="eval-cls", progress=progress,
                          per_item=slices if slices is not None else [None] * ds.n_partitions,
                          extra=(c, ds.values, kind, with_scores, max_k, in_ds),
                          empty=lambda: ConfusionState.empty(c, with_scores=with_scores, max_k=max_k))
        return state, kind


def evaluate_classification(client, preds, classes, scheme, labels=None, *, bootstrap: int = 0, seed: int = 0,
                            ci: float = 0.95, top_k: tuple[int, ...] = (1, 5), bootstrap_f1: bool = True,
                            progress: ProgressArg = True):
    """:func:`lt_core.metrics.classification_report` of a scores dataset, computed on Dask.

    Same parameters as :func:`classification_state` plus the report's (``scheme``,
    ``bootstrap``, ``seed``, ``ci``, ``bootstrap_f1``). The bootstrap runs on the client from
    the merged per-class counts (it never touches the samples), so the CIs equal the
    single-process ones for the same seed.

    Returns
    -------
    ClassificationReport (``extra["score_kind"]``: logits / probs / labels)
    """
    from ..metrics import report_from_state

    state, kind = classification_state(client, preds, classes, labels, top_k=top_k, progress=progress)
    rep = report_from_state(state, classes, scheme, bootstrap=bootstrap, seed=seed, ci=ci, top_k=top_k,
                            bootstrap_f1=bootstrap_f1)
    rep.extra["score_kind"] = kind
    return rep
