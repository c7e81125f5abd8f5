"""Multi-label classification metrics on Dask, exact: counts merged, rankings shuffled by class.

Each partition of a multi-label ``scores`` dataset (``labels`` = list of class indices per row)
gives

* its :class:`~lt_core.metrics.MultiLabelCounts` at the thresholds (integer counts: merged
  pairwise on the workers), and
* its :class:`~lt_core.metrics.ranking.RankState` (every class's scores and positives' scores,
  sorted), cut into K blocks of classes.

AP and ROC-AUC need every score of a class, so block k of every partition goes to one worker
(the shuffle by class), which merges them into the RankState of its classes and computes their
AP / AUC with the single-process code. The report is then built on the client by
:func:`lt_core.metrics.multilabel_report_from_states` from the merged counts and the per-class
AP / AUC, so every number equals :func:`lt_core.metrics.multilabel_report`'s. Memory per worker:
one partition in the map, N x C / K scores in a reduce.

The bootstrap of multi-label metrics resamples whole samples across all classes at once (a
(B, N) weight matrix applied to every class): it is not offered on Dask.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from .engine import ProgressArg, map_buckets
from .layout import Dataset, Partition, read_multilabel_partition

__all__ = ["evaluate_multilabel", "MergedRanking"]

_TARGET_BLOCK_BYTES = 256 << 20   # scores per reduce block (K = total / this, at least one per worker)


class MergedRanking:
    """What :func:`multilabel_report_from_states` reads of a RankState, computed per class block on
    the workers: ``n_classes``, ``per_class() -> (AP, ROC-AUC)``, ``support()``."""

    def __init__(self, ap: np.ndarray, auc: np.ndarray, support: np.ndarray):
        self.n_classes = len(ap)
        self._ap, self._auc, self._support = ap, auc, support

    def per_class(self) -> tuple[np.ndarray, np.ndarray]:
        return self._ap, self._auc

    def support(self) -> np.ndarray:
        return self._support


def _ml_map(part: Partition, n_classes: int, kind: str, threshold, groups: np.ndarray, bounds: np.ndarray):
    from ..metrics.multilabel import MultiLabelCounts, decisions
    from ..metrics.ranking import RankState

    d = read_multilabel_partition(part, n_classes)
    Y, S = d["Y"], d["scores"]
    counts = MultiLabelCounts.empty(n_classes, groups).update(Y, decisions(S, threshold, kind))
    rank = RankState.empty(n_classes).update(Y, S)
    pieces = []
    if rank.blocks:
        V = rank.blocks[0]
        pos, ip = rank.pos_blocks[0]
        for a, b in zip(bounds[:-1], bounds[1:]):
            pieces.append((V[a:b], pos[ip[a]:ip[b]], ip[a:b + 1] - ip[a]))
    else:
        pieces = [None] * (len(bounds) - 1)
    return counts, pieces


def _ml_merge(a, b):
    return a.merge(b)


def _ml_reduce(k: int, pieces: list, bounds: np.ndarray):
    from ..metrics.ranking import RankState

    c = int(bounds[k + 1] - bounds[k])
    st = RankState(c, [p[0] for p in pieces if p is not None], [(p[1], p[2]) for p in pieces if p is not None])
    ap, auc = st.per_class()
    return ap, auc, st.support()


def evaluate_multilabel(client, preds, classes, scheme, labels=None, *, threshold=0.5, bootstrap: int = 0,
                        zero_division: float = 0.0, progress: ProgressArg = True):
    """:func:`lt_core.metrics.multilabel_report` of a multi-label scores dataset, on Dask.

    Parameters
    ----------
    client : distributed.Client
    preds : Dataset, dataset folder (converted with multi-label ``--labels``), or a .npy / .npz
        path (then ``labels``, a MultiLabels, is stored with it in a temporary folder)
    classes : ClassTable    bins from its train counts (train positives)
    scheme : str or BinScheme
    threshold : float or (C,) array    decision threshold(s) on the probability scale
    bootstrap : int         must be 0 (see the module docstring)

    Returns
    -------
    MultiLabelReport (``extra["kind"]``: probs / logits, decided over every score)
    """
    from ..metrics.multilabel import _bin_codes, multilabel_report_from_states, thresholds_vector
    from .classification import scores_dataset
    from .layout import is_dataset

    if bootstrap:
        raise InputError("the multi-label bootstrap resamples whole samples across every class at once and is not "
                         "offered on Dask", field="--bootstrap", hint="run without --dask for the CIs, or drop "
                                                                     "--bootstrap")
    if not (isinstance(preds, Dataset) or is_dataset(preds)) and labels is None:
        raise InputError("give the multi-label targets", field="labels")
    with scores_dataset(preds, classes, labels) as ds:
        if not (ds.has_labels and ds.multi_label):
            raise InputError("the dataset holds no multi-label targets: convert the scores with the multi-label "
                             "--labels", str(ds.root), "labels")
        ds.check_classes(classes.ids, "the class table")
        c = classes.n_classes
        if ds.values != "scores" or ds.n_classes != c:
            raise InputError(f"multi-label evaluation needs N x {c} scores", str(ds.root), "scores")
        kind = ds.meta.get("multilabel_score_kind") or "logits"
        thresholds_vector(threshold, c)  # checked on the client
        _, _, code = _bin_codes(classes, scheme)
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        k = int(min(c, max(n_workers, -(-(ds.n_rows * c * 4) // _TARGET_BLOCK_BYTES))))
        bounds = np.linspace(0, c, k + 1).round().astype(np.int64)
        counts, per_block = map_buckets(client, _ml_map, ds.partitions, k, _ml_reduce, label="eval-cls multi-label",
                                        side_merge=_ml_merge, progress=progress,
                                        extra=(c, kind, threshold, code, bounds), reduce_extra=(bounds,))
    ap = np.concatenate([b[0] for b in per_block])
    auc = np.concatenate([b[1] for b in per_block])
    support = np.concatenate([b[2] for b in per_block])
    rep = multilabel_report_from_states(MergedRanking(ap, auc, support), counts, classes, scheme, threshold=threshold,
                                        zero_division=zero_division)
    rep.extra["kind"] = kind
    return rep
