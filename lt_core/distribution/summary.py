"""Per-class and per-bin tables of a dataset's class distribution, train next to val / test."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..bins import BinScheme, parse_bins
from ..data.schema import ClassificationDataset, ClassTable
from .stats import effective_number, gini, head_share, imbalance_ratio

__all__ = ["DistributionSummary", "distribution_summary", "split_counts"]


@dataclass
class DistributionSummary:
    """The class distribution of a dataset under a bin scheme.

    Attributes
    ----------
    per_class : DataFrame
        One row per class sorted by train count (head first, ties by class index): ``rank``,
        ``class_id``, ``name``, ``bin``, ``train_count`` and ``<split>_count`` for the other
        splits, ``train_share``, ``effective_number`` (for ``beta``).
    bins : DataFrame
        Indexed by bin (head first): ``n_classes``, ``share_classes``, ``min_train``, ``max_train``
        and per split ``<split>_samples``, ``<split>_share``.
    stats : dict
        ``n_classes``, ``train_samples``, ``imbalance_ratio``, ``gini``, ``top20_share`` (share of
        train samples in the 20% most frequent classes), ``zero_train_classes``, and for each other
        split ``<split>_imbalance_ratio`` and ``<split>_gini``.
    scheme : BinScheme
    beta : float
    """

    per_class: pd.DataFrame
    bins: pd.DataFrame
    stats: dict
    scheme: BinScheme
    beta: float


def split_counts(ds: ClassificationDataset) -> dict[str, np.ndarray]:
    """{split: samples per class (C,)}; ``train`` is the class table's train count."""
    c = ds.classes.n_classes
    out = {"train": ds.classes.train_count.astype(np.int64)}
    for s, lab in ds.labels.items():
        if s != "train":
            out[s] = lab.counts(c)
    return out


def distribution_summary(classes: ClassTable, scheme: str | BinScheme,
                         counts: dict[str, np.ndarray] | None = None, beta: float = 0.999) -> DistributionSummary:
    """Tables and statistics of the class distribution.

    Parameters
    ----------
    classes : ClassTable
        ``train_count`` defines the bins and the ``train`` column.
    scheme : str or BinScheme
    counts : dict, optional
        {split: (C,) counts} for the other splits (e.g. from :func:`split_counts`).
    beta : float
        For the effective number of samples (Cui et al. 2019).
    """
    sch = parse_bins(scheme)
    counts = dict(counts or {})
    train = classes.train_count.astype(np.int64)
    counts["train"] = train
    splits = ["train"] + [s for s in counts if s != "train"]
    bins = classes.bins(sch)
    order = np.lexsort((np.arange(classes.n_classes), -train))
    pc = pd.DataFrame({"rank": np.arange(1, classes.n_classes + 1), "class_id": classes.ids[order],
                       "name": classes.names[order], "bin": bins[order]})
    for s in splits:
        pc[f"{s}_count"] = np.asarray(counts[s], dtype=np.int64)[order]
    tot = train.sum()
    pc["train_share"] = pc["train_count"] / tot if tot else np.nan
    pc["effective_number"] = effective_number(pc["train_count"].to_numpy(), beta)
    rows = []
    for name in sch.order(bins):
        m = bins == name
        row = {"bin": name, "n_classes": int(m.sum()), "share_classes": float(m.mean()),
               "min_train": int(train[m].min()), "max_train": int(train[m].max())}
        for s in splits:
            cs = np.asarray(counts[s])
            row[f"{s}_samples"] = int(cs[m].sum())
            row[f"{s}_share"] = float(cs[m].sum() / cs.sum()) if cs.sum() else float("nan")
        rows.append(row)
    stats = {"n_classes": classes.n_classes, "train_samples": int(tot),
             "imbalance_ratio": imbalance_ratio(train), "gini": gini(train),
             "top20_share": head_share(train, 0.2), "zero_train_classes": int((train == 0).sum())}
    for s in splits[1:]:
        stats[f"{s}_samples"] = int(np.sum(counts[s]))
        stats[f"{s}_imbalance_ratio"] = imbalance_ratio(counts[s])
        stats[f"{s}_gini"] = gini(counts[s])
    return DistributionSummary(pc, pd.DataFrame(rows).set_index("bin"), stats, sch, float(beta))
