"""Multi-label label statistics: cardinality, density, and which head labels ride along with a tail label.

:class:`CooccurrenceState` is a mergeable integer state (``update`` / ``merge``):

* ``counts[i, j]`` — samples carrying both class i and class j (the diagonal: samples carrying i);
* ``with_group[i, g]`` — samples carrying class i and at least one OTHER class of group g (the
  frequency bins), e.g. "how many grief comments also carry a head emotion".

Label cardinality (mean labels per sample) and density (cardinality / C) follow Tsoumakas &
Katakis 2007. :func:`tail_head_cooccurrence` reads, for each tail class t, the head classes h
with the largest ``P(h | t) = counts[t, h] / counts[t, t]`` and their lift
``P(h | t) / P(h)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..bins import NO_DATA, BinScheme, parse_bins
from ..data.schema import ClassTable, MultiLabels
from ..errors import InputError

__all__ = ["CooccurrenceState", "label_statistics", "tail_head_cooccurrence", "cooccurrence_state"]


def _csr(labels, n_classes: int):
    from scipy import sparse

    if isinstance(labels, MultiLabels):
        data = np.ones(labels.nnz, np.int64)
        return sparse.csr_matrix((data, labels.indices, labels.indptr), shape=(len(labels), n_classes))
    Y = np.asarray(labels)
    if Y.ndim != 2 or Y.shape[1] != n_classes:
        raise InputError(f"expected an (N, {n_classes}) 0/1 label matrix, got shape {Y.shape}", field="labels")
    return sparse.csr_matrix(Y.astype(bool).astype(np.int64))


@dataclass
class CooccurrenceState:
    """Mergeable co-occurrence counts (see the module docstring).

    Attributes
    ----------
    counts : ndarray (C, C) int64
    with_group : ndarray (C, G) int64
    groups : ndarray (C,) int64      group (bin) code per class
    n_samples : int
    label_hist : ndarray (C + 1,) int64   samples with 0, 1, 2, ... labels
    """

    counts: np.ndarray
    with_group: np.ndarray
    groups: np.ndarray
    n_samples: int
    label_hist: np.ndarray

    @classmethod
    def empty(cls, n_classes: int, groups=None) -> "CooccurrenceState":
        c = int(n_classes)
        g = np.zeros(c, np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
        ng = int(g.max()) + 1 if c else 0
        return cls(np.zeros((c, c), np.int64), np.zeros((c, ng), np.int64), g, 0, np.zeros(c + 1, np.int64))

    @property
    def n_classes(self) -> int:
        return int(self.counts.shape[0])

    def update(self, labels) -> "CooccurrenceState":
        """Add a shard of samples (MultiLabels or an (n, C) 0/1 matrix)."""
        from scipy import sparse

        c = self.n_classes
        Ysp = _csr(labels, c)
        co = (Ysp.T @ Ysp).toarray().astype(np.int64)
        ng = self.with_group.shape[1]
        G = sparse.csr_matrix((np.ones(c, np.int64), (np.arange(c), self.groups)), shape=(c, ng))
        cnt = (Ysp @ G).toarray()                             # (n, G): labels of each group per sample
        any_g = sparse.csr_matrix((cnt > 0).astype(np.int64))
        one_g = sparse.csr_matrix((cnt == 1).astype(np.int64))
        member = np.zeros((c, ng), np.int64)
        member[np.arange(c), self.groups] = 1
        # carrying i and another label of g: any label of g, minus (i in g and i the only one)
        wg = (Ysp.T @ any_g).toarray() - (Ysp.T @ one_g).toarray() * member
        per = np.asarray(Ysp.sum(axis=1)).ravel().astype(np.int64)
        hist = np.bincount(per, minlength=c + 1)[: c + 1]
        return CooccurrenceState(self.counts + co, self.with_group + wg, self.groups, self.n_samples + Ysp.shape[0],
                                 self.label_hist + hist)

    def merge(self, other: "CooccurrenceState") -> "CooccurrenceState":
        if other.counts.shape != self.counts.shape or not np.array_equal(other.groups, self.groups):
            raise InputError("cannot merge co-occurrence states of different classes or groups")
        return CooccurrenceState(self.counts + other.counts, self.with_group + other.with_group, self.groups,
                                 self.n_samples + other.n_samples, self.label_hist + other.label_hist)

    @property
    def positives(self) -> np.ndarray:
        """Samples carrying each class, (C,)."""
        return np.diagonal(self.counts).copy()

    def conditional(self) -> np.ndarray:
        """``P(j | i)`` = counts[i, j] / counts[i, i], (C, C) (0 where class i has no sample)."""
        d = self.positives.astype(np.float64)[:, None]
        return np.divide(self.counts, d, out=np.zeros(self.counts.shape), where=d > 0)


def cooccurrence_state(labels, classes: ClassTable, scheme: str | BinScheme) -> CooccurrenceState:
    """One pass over a split's labels, grouped by the bins of ``scheme`` (by train positives)."""
    sch = parse_bins(scheme)
    bins = classes.bins(sch)
    names = sch.order(bins)
    code = np.array([names.index(b) for b in bins], dtype=np.int64)
    return CooccurrenceState.empty(classes.n_classes, code).update(labels)


def label_statistics(labels) -> dict:
    """``n_samples``, ``label_cardinality``, ``label_density``, ``multi_share`` (samples with
    several labels), ``empty_share`` (no label), ``max_labels`` of a split's multi-label targets."""
    if not isinstance(labels, MultiLabels):
        labels = MultiLabels.from_dense(np.asarray(labels), "split")
    per = labels.labels_per_sample()
    n = len(labels)
    return {"n_samples": n, "label_cardinality": labels.cardinality, "label_density": labels.density,
            "multi_share": float((per > 1).mean()) if n else float("nan"),
            "empty_share": float((per == 0).mean()) if n else float("nan"),
            "max_labels": int(per.max()) if n else 0, "n_labels": labels.nnz}


def tail_head_cooccurrence(state: CooccurrenceState, classes: ClassTable, scheme: str | BinScheme,
                           k: int = 3, tail_bin: str | None = None, head_bin: str | None = None) -> pd.DataFrame:
    """Which head labels ride along with each tail label.

    Parameters
    ----------
    state : CooccurrenceState
        Built by :func:`cooccurrence_state` with the same ``scheme``.
    k : int
        Head labels listed per tail label.
    tail_bin, head_bin : str, optional
        Default: the tail-most and head-most bins with training data.

    Returns
    -------
    DataFrame
        One row per (tail class, rank), rarest tail class first: ``class_id``, ``name``, ``bin``,
        ``train_count``, ``samples`` (carrying it on this split), ``with_head_share`` (share of
        them carrying at least one head label), ``rank``, ``head_id``, ``head_name``,
        ``head_train_count``, ``count``, ``share`` (= P(head | tail)), ``lift`` (share / P(head)).
    """
    sch = parse_bins(scheme)
    bins = classes.bins(sch)
    names = sch.order(bins)
    present = [n for n in names if n != NO_DATA]
    cols = ["class_id", "name", "bin", "train_count", "samples", "with_head_share", "rank", "head_id", "head_name",
            "head_train_count", "count", "share", "lift"]
    if len(present) < 2:
        return pd.DataFrame(columns=cols)
    tail_bin = tail_bin or present[-1]
    head_bin = head_bin or present[0]
    g_head = names.index(head_bin)
    pos = state.positives
    prior = pos / state.n_samples if state.n_samples else np.zeros(len(pos))
    cond = state.conditional()
    head = np.flatnonzero(bins == head_bin)
    rows = []
    order = np.lexsort((np.arange(classes.n_classes), classes.train_count))  # rarest first
    for t in order:
        if bins[t] != tail_bin or pos[t] == 0:
            continue
        share_any = state.with_group[t, g_head] / pos[t]
        sh = cond[t, head]
        top = head[np.argsort(-sh, kind="stable")[:k]]
        for r, h in enumerate(top, 1):
            if state.counts[t, h] == 0:
                break
            rows.append({"class_id": int(classes.ids[t]), "name": classes.names[t], "bin": bins[t],
                         "train_count": int(classes.train_count[t]), "samples": int(pos[t]),
                         "with_head_share": float(share_any), "rank": r, "head_id": int(classes.ids[h]),
                         "head_name": classes.names[h], "head_train_count": int(classes.train_count[h]),
                         "count": int(state.counts[t, h]), "share": float(cond[t, h]),
                         "lift": float(cond[t, h] / prior[h]) if prior[h] > 0 else float("nan")})
        if state.counts[t, head].sum() == 0:
            rows.append({"class_id": int(classes.ids[t]), "name": classes.names[t], "bin": bins[t],
                         "train_count": int(classes.train_count[t]), "samples": int(pos[t]),
                         "with_head_share": float(share_any), "rank": 0, "head_id": -1, "head_name": "(none)",
                         "head_train_count": 0, "count": 0, "share": 0.0, "lift": float("nan")})
    return pd.DataFrame(rows, columns=cols)
