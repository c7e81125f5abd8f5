"""Multi-label classification metrics per class, per frequency bin and overall, from mergeable states.

Two states, both exact when shards are merged:

* :class:`~lt_core.metrics.ranking.RankState` — the sorted scores per class: average precision
  and ROC-AUC (exact to ``sklearn.metrics.average_precision_score`` / ``roc_auc_score``);
* :class:`MultiLabelCounts` — integer counts at fixed per-class thresholds: true / false
  positives and false negatives per class, and a histogram of the samples' (2 |t ∩ p|, |t| + |p|)
  pairs (overall and per class group), from which every F1 of ``sklearn.metrics.f1_score``
  (``average`` None / "micro" / "macro" / "weighted" / "samples", ``zero_division``) and
  ``hamming_loss`` follow exactly.

Semantics (the tests compare with scikit-learn on the same data):

- a sample is predicted positive for class c when its probability reaches the threshold,
  ``p >= t_c`` (one global threshold or one per class; default 0.5); for logits the decision is
  ``z >= log(t_c / (1 - t_c))``, the same decision as ``sigmoid(z) >= t_c`` in exact arithmetic;
- per class precision / recall / F1: ``precision_recall_fscore_support(average=None,
  zero_division=0)``; ``macro_f1`` averages over every class (sklearn's label set for indicator
  targets), ``micro_f1`` pools the counts, ``samples_f1`` averages the per-sample F1;
- ``mAP``: the mean AP over the classes with at least one positive on the split (the usual
  multi-label convention; sklearn's ``average="macro"`` also averages the others, as AP 0 —
  ``ap_macro_sklearn`` gives that number); ``roc_auc``: mean over the classes where it is defined;
- bins come from TRAIN positives (samples carrying the class); a bin's ``mAP`` averages its
  classes with positives, its ``macro_f1`` / ``micro_f1`` / ``samples_f1`` are sklearn's on the
  bin's columns;
- ``label_cardinality`` (mean labels per sample) and ``label_density`` (cardinality / C) of the
  truth (Tsoumakas & Katakis 2007), ``predicted_cardinality`` of the decisions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..bins import NO_DATA, BinScheme, parse_bins
from ..data.schema import ClassTable
from ..errors import InputError
from .ranking import RankState, _as_indicator, _as_scores, micro_average_precision

__all__ = ["MultiLabelCounts", "MultiLabelReport", "multilabel_report", "multilabel_report_from_states",
           "decisions", "thresholds_vector", "probability_threshold_to_logit", "ML_OVERALL_KEYS", "runs_ml_bin_table",
           "runs_ml_overall_table", "ml_class_deltas", "ml_tail_confusions"]

ML_OVERALL_KEYS = ("mAP", "macro_f1", "micro_f1", "samples_f1", "weighted_f1", "macro_precision", "macro_recall",
                   "micro_precision", "micro_recall", "hamming_loss", "roc_auc", "label_cardinality",
                   "label_density", "predicted_cardinality")


def thresholds_vector(threshold, n_classes: int) -> np.ndarray:
    """One threshold per class (C,) float64 in [0, 1] from a number or a (C,) array."""
    t = np.asarray(threshold, dtype=np.float64)
    if t.ndim == 0:
        t = np.full(int(n_classes), float(t))
    t = t.ravel()
    if t.size != n_classes:
        raise InputError(f"{t.size} thresholds for {n_classes} classes", field="threshold")
    bad = np.isnan(t) | (t < 0) | ((t > 1) & ~np.isposinf(t))
    if bad.any():
        raise InputError(f"thresholds are probabilities in [0, 1] (+inf: never predict), got {t[bad][:3].tolist()}",
                         field="threshold")
    return t


def probability_threshold_to_logit(t: np.ndarray) -> np.ndarray:
    """``log(t / (1 - t))`` in float64 (t = 0 -> -inf, t = 1 -> +inf; +inf stays +inf)."""
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.log(t) - np.log1p(-t)
    z = np.where(t >= 1, np.inf, np.where(t <= 0, -np.inf, z))
    return z


def decisions(scores, threshold=0.5, kind: str = "probs") -> np.ndarray:
    """Multi-label decisions (N, C) bool: ``p >= t_c`` (probabilities) or ``z >= logit(t_c)`` (logits).

    The comparison is made in float64 (the thresholds are float64), so a float32 score and its
    threshold compare exactly as numbers.
    """
    S = np.asarray(scores)
    if S.ndim != 2:
        raise InputError(f"expected (N, C) scores, got shape {S.shape}", field="scores")
    t = thresholds_vector(threshold, S.shape[1])
    if kind == "logits":
        t = probability_threshold_to_logit(t)
    elif kind != "probs":
        raise InputError(f"kind must be probs or logits, got {kind}", field="kind")
    return S >= t[None, :]


@dataclass
class MultiLabelCounts:
    """Mergeable integer counts of multi-label decisions at fixed thresholds.

    Attributes
    ----------
    tp, fp, fn : ndarray (C,) int64
    n_samples : int
    groups : ndarray (C,) int64
        A group code per class (the frequency bins, 0..G-1); the per-sample histograms are kept
        for every group and for all classes together (code G).
    sample_pairs : ndarray (K,) int64 and sample_counts : ndarray (K,) int64
        Histogram of the per-sample pairs (group, 2 |t ∩ p|, |t| + |p|), sparse: code =
        (group * (C + 1) + 2|t∩p| / 2) * (2C + 1) + (|t| + |p|).
    truth_labels, predicted_labels : int
        Sums of |t| and |p| over samples.
    """

    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    groups: np.ndarray
    n_samples: int = 0
    sample_pairs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    sample_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @classmethod
    def empty(cls, n_classes: int, groups=None) -> "MultiLabelCounts":
        c = int(n_classes)
        g = np.zeros(c, np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
        if g.shape != (c,) or (c and g.min() < 0):
            raise InputError(f"expected one group code >= 0 per class ({c})", field="groups")
        z = np.zeros(c, np.int64)
        return cls(z.copy(), z.copy(), z.copy(), g)

    @property
    def n_classes(self) -> int:
        return len(self.tp)

    @property
    def n_groups(self) -> int:
        return int(self.groups.max()) + 1 if len(self.groups) else 0

    @property
    def support(self) -> np.ndarray:
        return self.tp + self.fn

    @property
    def predicted(self) -> np.ndarray:
        return self.tp + self.fp

    def update(self, Y, D) -> "MultiLabelCounts":
        """Add a shard: ``Y`` (n, C) 0/1 truth (or MultiLabels), ``D`` (n, C) bool decisions."""
        c = self.n_classes
        Yb = _as_indicator(Y, c)
        Db = np.asarray(D)
        if Db.shape != Yb.shape:
            raise InputError(f"decisions of shape {Db.shape} for labels of shape {Yb.shape}", field="decisions")
        Db = Db.astype(bool, copy=False)
        # per sample and group: |t ∩ p| and |t| + |p|, columns reordered so every group is one slice
        ng = self.n_groups
        order = np.argsort(self.groups, kind="stable")
        starts = np.searchsorted(self.groups[order], np.arange(ng))
        if not np.array_equal(order, np.arange(c)):
            Yb, Db = Yb[:, order], Db[:, order]
            back = np.argsort(order)
        else:
            back = None
        T = Yb & Db
        tp = np.count_nonzero(T, axis=0).astype(np.int64)
        npos = np.count_nonzero(Yb, axis=0).astype(np.int64)
        npred = np.count_nonzero(Db, axis=0).astype(np.int64)
        if back is not None:
            tp, npos, npred = tp[back], npos[back], npred[back]
        acc = np.uint16 if c < 2 ** 15 else np.int64  # per-row group sums <= 2C; uint16 reduceat is ~40x faster

        def group_sums(M: np.ndarray) -> np.ndarray:
            if c == 0 or ng == 0:
                return np.zeros((len(M), ng), np.int64)
            return np.add.reduceat(M.view(np.uint8), starts, axis=1, dtype=acc).astype(np.int64)

        inter = group_sums(T)
        size = group_sums(Yb) + group_sums(Db)
        inter = np.concatenate([inter, inter.sum(1, keepdims=True)], axis=1)
        size = np.concatenate([size, size.sum(1, keepdims=True)], axis=1)
        g_idx = np.broadcast_to(np.arange(ng + 1), inter.shape)
        codes = (g_idx * (c + 1) + inter) * (2 * c + 1) + size
        u, cnt = np.unique(codes.ravel(), return_counts=True)
        pairs, counts = _merge_hist(self.sample_pairs, self.sample_counts, u, cnt.astype(np.int64))
        return MultiLabelCounts(self.tp + tp, self.fp + (npred - tp), self.fn + (npos - tp), self.groups,
                                self.n_samples + len(Yb), pairs, counts)

    def merge(self, other: "MultiLabelCounts") -> "MultiLabelCounts":
        """Counts of both shards (exact: integers)."""
        if other.n_classes != self.n_classes or not np.array_equal(other.groups, self.groups):
            raise InputError("cannot merge counts of different classes or class groups")
        pairs, counts = _merge_hist(self.sample_pairs, self.sample_counts, other.sample_pairs, other.sample_counts)
        return MultiLabelCounts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.groups,
                                self.n_samples + other.n_samples, pairs, counts)

    # -- compute ------------------------------------------------------------------------------
    def per_class(self) -> pd.DataFrame:
        """precision, recall, f1 (zero_division = 0), support, predicted per class."""
        tp, fp, fn = (a.astype(np.float64) for a in (self.tp, self.fp, self.fn))
        return pd.DataFrame({"precision": _div(tp, tp + fp), "recall": _div(tp, tp + fn),
                             "f1": _div(2 * tp, 2 * tp + fp + fn), "support": self.support,
                             "predicted": self.predicted})

    def samples_f1(self, group: int | None = None, zero_division: float = 0.0) -> float:
        """``f1_score(average="samples")`` over all classes (``group=None``) or one group's columns."""
        g = self.n_groups if group is None else int(group)
        c = self.n_classes
        code = self.sample_pairs
        gg = code // ((c + 1) * (2 * c + 1))
        m = gg == g
        rest = code[m] % ((c + 1) * (2 * c + 1))
        inter, size = rest // (2 * c + 1), rest % (2 * c + 1)
        cnt = self.sample_counts[m]
        n = cnt.sum()
        if n == 0:
            return float("nan")
        f = np.where(size > 0, 2.0 * inter / np.maximum(size, 1), float(zero_division))
        return float(np.sum(cnt * f) / n)

    def averages(self, mask: np.ndarray | None = None, zero_division: float = 0.0) -> dict:
        """micro / macro / weighted F1, precision and recall over the classes of ``mask``."""
        m = np.ones(self.n_classes, bool) if mask is None else np.asarray(mask, bool)
        tp, fp, fn = (a[m].astype(np.float64) for a in (self.tp, self.fp, self.fn))
        if not m.any():
            return {k: float("nan") for k in ("macro_f1", "micro_f1", "weighted_f1", "macro_precision",
                                               "macro_recall", "micro_precision", "micro_recall")}
        zd = float(zero_division)
        f1 = _div(2 * tp, 2 * tp + fp + fn, zd)
        sup = tp + fn
        stp, sfp, sfn = tp.sum(), fp.sum(), fn.sum()
        return {
            "macro_f1": float(f1.mean()),
            "micro_f1": float(_div(2 * stp, 2 * stp + sfp + sfn, zd)),
            "weighted_f1": float(np.sum(f1 * sup) / sup.sum()) if sup.sum() > 0 else 0.0,
            "macro_precision": float(_div(tp, tp + fp, zd).mean()),
            "macro_recall": float(_div(tp, tp + fn, zd).mean()),
            "micro_precision": float(_div(stp, stp + sfp, zd)),
            "micro_recall": float(_div(stp, stp + sfn, zd)),
        }

    def hamming_loss(self) -> float:
        """``sklearn.metrics.hamming_loss``: wrong (sample, class) decisions / (N C)."""
        cells = self.n_samples * self.n_classes
        return float((self.fp.sum() + self.fn.sum()) / cells) if cells else float("nan")


def _merge_hist(ka, ca, kb, cb):
    keys = np.concatenate([ka, kb])
    vals = np.concatenate([ca, cb])
    if not len(keys):
        return keys.astype(np.int64), vals.astype(np.int64)
    u, inv = np.unique(keys, return_inverse=True)
    return u.astype(np.int64), np.bincount(inv, weights=vals, minlength=len(u)).astype(np.int64)


def _div(a, b, zero: float = 0.0):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.full(np.broadcast(a, b).shape, float(zero))
    np.divide(a, b, out=out, where=b > 0)
    return out if out.ndim else float(out)


@dataclass
class MultiLabelReport:
    """All multi-label metrics of one run on one split.

    Attributes
    ----------
    overall : dict
        ``mAP``, ``macro_f1``, ``micro_f1``, ``samples_f1``, ``weighted_f1``, ``macro_precision``,
        ``macro_recall``, ``micro_precision``, ``micro_recall``, ``hamming_loss``, ``roc_auc``,
        ``ap_macro_sklearn``, ``label_cardinality``, ``label_density``, ``predicted_cardinality``,
        ``n_samples``, ``n_classes_with_positives``; with a bootstrap ``{metric}_ci_low`` /
        ``{metric}_ci_high`` for mAP and the F1s.
    bins : DataFrame
        Indexed by bin (head first): ``mAP``, ``n_classes`` (classes with positives, the ones
        averaged), ``ci_low``, ``ci_high`` (mAP interval), ``macro_f1``, ``micro_f1``,
        ``samples_f1``, ``roc_auc``, ``n_positives``, ``n_classes_in_bin``, ``train_positives``;
        with a bootstrap ``macro_f1_ci_low`` / ``macro_f1_ci_high``.
    per_class : DataFrame
        ``class_id``, ``name``, ``train_count``, ``bin``, ``support`` (positives on the split),
        ``ap``, ``roc_auc``, ``precision``, ``recall``, ``f1``, ``predicted``, ``threshold``.
    """

    overall: dict
    bins: pd.DataFrame
    per_class: pd.DataFrame
    scheme: BinScheme
    rank: RankState
    counts: MultiLabelCounts
    threshold: object = 0.5
    bootstrap: int = 0
    seed: int = 0
    ci: float = 0.95
    extra: dict = field(default_factory=dict)

    multi_label = True

    def to_dict(self) -> dict:
        """The ``eval-cls`` multi-label JSON (NaN -> None).

        ``overall`` {mAP, macro_f1, micro_f1, samples_f1, weighted_f1, micro_precision,
        micro_recall, hamming_loss, roc_auc, label_cardinality, label_density}, ``bins`` {name:
        {mAP, n_classes, ci_low, ci_high, macro_f1, micro_f1, samples_f1, n_positives}},
        ``per_class`` [{class_id, name, train_count, bin, support, ap, roc_auc, precision, recall, f1}].
        """
        o = self.overall
        overall = {k: _num(o.get(k)) for k in ("mAP", "macro_f1", "micro_f1", "samples_f1", "weighted_f1",
                                                "micro_precision", "micro_recall", "hamming_loss", "roc_auc",
                                                "label_cardinality", "label_density")}
        for k in list(o):
            if k.endswith(("_ci_low", "_ci_high")):
                overall[k] = _num(o[k])
        bins = {}
        for name, r in self.bins.iterrows():
            d = {"mAP": _num(r["mAP"]), "n_classes": int(r["n_classes"]), "ci_low": _num(r["ci_low"]),
                 "ci_high": _num(r["ci_high"]), "macro_f1": _num(r["macro_f1"]), "micro_f1": _num(r["micro_f1"]),
                 "samples_f1": _num(r["samples_f1"]), "n_positives": int(r["n_positives"])}
            if "macro_f1_ci_low" in r:
                d["macro_f1_ci_low"], d["macro_f1_ci_high"] = _num(r["macro_f1_ci_low"]), _num(r["macro_f1_ci_high"])
            bins[str(name)] = d
        per_class = [{"class_id": int(r.class_id), "name": str(r.name), "train_count": int(r.train_count),
                      "bin": str(r.bin), "support": int(r.support), "ap": _num(r.ap), "roc_auc": _num(r.roc_auc),
                      "precision": _num(r.precision), "recall": _num(r.recall), "f1": _num(r.f1)}
                     for r in self.per_class.itertuples(index=False)]
        thr = self.threshold
        return {"multi_label": True,
                "threshold": float(thr) if np.ndim(thr) == 0 else "per-class",
                "overall": overall, "bins": bins, "per_class": per_class}


def _num(x):
    if x is None:
        return None
    x = float(x)
    return None if not np.isfinite(x) else x


def _bin_codes(classes: ClassTable, sch: str | BinScheme) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(bin per class, bin names head first, bin code per class) under a scheme."""
    sch = parse_bins(sch)
    bins = classes.bins(sch)
    names = sch.order(bins)
    code = np.array([names.index(b) for b in bins], dtype=np.int64) if len(bins) else np.zeros(0, np.int64)
    return bins, names, code


def multilabel_report_from_states(rank: RankState, counts: MultiLabelCounts, classes: ClassTable,
                                  scheme: str | BinScheme, *, threshold=0.5, zero_division: float = 0.0,
                                  micro_ap: bool = False) -> MultiLabelReport:
    """``compute``: the full :class:`MultiLabelReport` of (merged) states.

    ``counts`` must have been built with the bins of ``scheme`` as its groups
    (:func:`multilabel_report` does so); ``micro_ap`` adds sklearn's ``average="micro"`` AP
    (a sort of all N x C scores).
    """
    sch = parse_bins(scheme)
    c = classes.n_classes
    if rank.n_classes != c or counts.n_classes != c:
        raise InputError(f"the class table has {c} classes, the states {rank.n_classes} / {counts.n_classes}",
                         field="classes")
    bins, names, code = _bin_codes(classes, sch)
    if not np.array_equal(code, counts.groups):
        raise InputError("the counts were grouped by other bins than the scheme's", field="groups")
    ap, auc = rank.per_class()
    support = counts.support
    has = support > 0
    pc = counts.per_class()
    t = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (c,)).copy()  # as the decisions were made
    per_class = pd.DataFrame({"class_id": classes.ids, "name": classes.names, "train_count": classes.train_count,
                              "bin": bins, "support": support, "ap": ap, "roc_auc": auc,
                              "precision": pc["precision"].to_numpy(), "recall": pc["recall"].to_numpy(),
                              "f1": pc["f1"].to_numpy(), "predicted": counts.predicted, "threshold": t})
    n = counts.n_samples
    truth = int(support.sum())
    overall = {"mAP": float(np.mean(ap[has])) if has.any() else float("nan"),
               **counts.averages(None, zero_division),
               "samples_f1": counts.samples_f1(None, zero_division),
               "hamming_loss": counts.hamming_loss(),
               "roc_auc": float(np.nanmean(auc)) if np.isfinite(auc).any() else float("nan"),
               "ap_macro_sklearn": float(np.mean(np.where(has, ap, 0.0))) if c else float("nan"),
               "label_cardinality": truth / n if n else float("nan"),
               "label_density": truth / n / c if n and c else float("nan"),
               "predicted_cardinality": int(counts.predicted.sum()) / n if n else float("nan"),
               "n_samples": int(n), "n_classes_with_positives": int(has.sum())}
    if micro_ap:
        overall["micro_ap"] = micro_average_precision(rank)
    rows = []
    for g, name in enumerate(names):
        m = code == g
        mh = m & has
        av = counts.averages(m, zero_division)
        rows.append({"bin": name, "mAP": float(np.mean(ap[mh])) if mh.any() else float("nan"),
                     "n_classes": int(mh.sum()), "ci_low": float("nan"), "ci_high": float("nan"),
                     "macro_f1": av["macro_f1"], "micro_f1": av["micro_f1"],
                     "samples_f1": counts.samples_f1(g, zero_division),
                     "roc_auc": float(np.nanmean(auc[m])) if np.isfinite(auc[m]).any() else float("nan"),
                     "n_positives": int(support[m].sum()), "n_classes_in_bin": int(m.sum()),
                     "train_positives": int(classes.train_count[m].sum())})
    bins_df = pd.DataFrame(rows).set_index("bin")
    return MultiLabelReport(overall, bins_df, per_class, sch, rank, counts, threshold)


def multilabel_report(Y, scores, classes: ClassTable, scheme: str | BinScheme, *, kind: str = "auto",
                      threshold=0.5, bootstrap: int = 0, seed: int = 0, ci: float = 0.95,
                      zero_division: float = 0.0, micro_ap: bool = False, rank: RankState | None = None,
                      decided: np.ndarray | None = None) -> MultiLabelReport:
    """Per-class, per-bin and overall multi-label metrics of one run.

    Parameters
    ----------
    Y : array (N, C) 0/1 or MultiLabels
        Targets.
    scores : array (N, C) float
        Per-class probabilities (sigmoid outputs) or logits; AP and ROC-AUC rank them as given.
    classes : ClassTable
        Bins come from its ``train_count`` (train positives).
    scheme : str or BinScheme
    kind : {"auto", "probs", "logits"}
        How ``threshold`` applies: to probabilities, or to logits through log(t / (1 - t));
        ``auto``: probabilities when every score is in [0, 1].
    threshold : float or array (C,)
        Decision threshold(s) on the probability scale (default 0.5).
    bootstrap : int
        Seeded bootstrap resamples of the SAMPLES (each resample weights a sample across all its
        classes) for CIs of mAP and the F1s, overall and per bin; 0 = none.
    rank : RankState, optional
        A precomputed (e.g. merged or cached) ranking state of these scores (skips the sort).
    decided : (N, C) bool, optional
        The decisions to count instead of thresholding (e.g. per-class thresholds on the run's own
        scores, :func:`lt_core.posthoc.threshold_decisions`); ``threshold`` is then only recorded.

    Returns
    -------
    MultiLabelReport
    """
    sch = parse_bins(scheme)
    c = classes.n_classes
    Yb = _as_indicator(Y, c)
    S = _as_scores(scores, len(Yb), c)
    if kind == "auto":
        kind = "probs" if S.size == 0 or (float(S.min()) >= 0 and float(S.max()) <= 1) else "logits"
    D = decisions(S, threshold, kind) if decided is None else np.asarray(decided, dtype=bool)
    if D.shape != S.shape:
        raise InputError(f"decisions of shape {D.shape} for scores of shape {S.shape}", field="decisions")
    _, _, code = _bin_codes(classes, sch)
    if rank is None:
        rank = RankState.empty(c).update(Yb, S)
    counts = MultiLabelCounts.empty(c, code).update(Yb, D)
    rep = multilabel_report_from_states(rank, counts, classes, sch, threshold=threshold,
                                        zero_division=zero_division, micro_ap=micro_ap)
    rep.extra["kind"] = kind
    if bootstrap:
        from .multilabel_bootstrap import bootstrap_multilabel

        boot = bootstrap_multilabel(Yb, S, D, classes, sch, n_resamples=int(bootstrap), seed=seed, ci=ci,
                                    zero_division=zero_division)
        for k, (lo, hi) in boot["overall"].items():
            rep.overall[f"{k}_ci_low"], rep.overall[f"{k}_ci_high"] = lo, hi
        for m in ("macro_f1", "micro_f1", "samples_f1"):
            rep.bins[f"{m}_ci_low"] = np.nan
            rep.bins[f"{m}_ci_high"] = np.nan
        for name, d in boot["bins"].items():
            rep.bins.loc[name, "ci_low"], rep.bins.loc[name, "ci_high"] = d["mAP"]
            for m in ("macro_f1", "micro_f1", "samples_f1"):
                rep.bins.loc[name, f"{m}_ci_low"], rep.bins.loc[name, f"{m}_ci_high"] = d[m]
        rep.bootstrap, rep.seed, rep.ci = int(bootstrap), int(seed), float(ci)
    return rep


def runs_ml_bin_table(reports: dict[str, MultiLabelReport]) -> pd.DataFrame:
    """Long table, one row per (run, bin): mAP, ci_low, ci_high, macro_f1, micro_f1, samples_f1, ..."""
    frames = []
    for run, rep in reports.items():
        df = rep.bins.reset_index()
        df.insert(0, "run", run)
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def runs_ml_overall_table(reports: dict[str, MultiLabelReport]) -> pd.DataFrame:
    """One row per run with the overall multi-label metrics (and their CIs where bootstrapped)."""
    return pd.DataFrame([{"run": r, **rep.overall} for r, rep in reports.items()])


def ml_class_deltas(reports: dict[str, MultiLabelReport], reference: str, metric: str = "ap",
                    min_support: int = 5) -> pd.DataFrame:
    """Per-class change of ``metric`` (``ap``, ``f1``, ...) of every run against ``reference``, tail first.

    Columns: ``class_id``, ``name``, ``bin``, ``train_count``, ``support``, ``low_support``,
    ``<metric> <run>`` and ``delta <run>``; as :func:`lt_core.metrics.class_deltas`.
    """
    if reference not in reports:
        raise InputError(f"unknown reference run '{reference}'", field="reference")
    ref = reports[reference]
    pc = ref.per_class
    df = pc[["class_id", "name", "bin", "train_count", "support"]].copy()
    df["low_support"] = df["support"] < min_support
    others = [r for r in reports if r != reference]
    df[f"{metric} {reference}"] = pc[metric].to_numpy()
    for r in others:
        df[f"{metric} {r}"] = reports[r].per_class[metric].to_numpy()
    for r in others:
        df[f"delta {r}"] = df[f"{metric} {r}"] - df[f"{metric} {reference}"]
    order = {n: i for i, n in enumerate(ref.scheme.order(df["bin"].to_numpy()))}
    df["_b"] = -df["bin"].map(lambda b: order.get(b, len(order)) if b != NO_DATA else len(order))
    df["_d"] = -df[[f"delta {r}" for r in others]].abs().max(axis=1) if others else 0.0
    df = df.sort_values(["_b", "_d", "train_count"], kind="stable").drop(columns=["_b", "_d"])
    return df.reset_index(drop=True)


def ml_tail_confusions(Y, D, classes: ClassTable, scheme: str | BinScheme, k: int = 3) -> pd.DataFrame:
    """Where a tail class's mistakes go, multi-label style (the counterpart of
    :func:`lt_core.metrics.top_confusions`): for each class of the tail-most bin, its missed
    positives (false negatives) and the head labels the model predicted on those samples instead.

    Returns
    -------
    DataFrame
        One row per (tail class, rank), rarest first: ``class_id``, ``name``, ``bin``, ``train_count``,
        ``support``, ``recall``, ``missed``, ``missed_with_head`` (share of the missed samples given a
        head label), ``false_positives``, ``fp_with_head`` (share of its false positives on samples
        carrying a head label), ``rank``, ``predicted_id``, ``predicted_name``, ``predicted_train_count``,
        ``count`` (missed samples predicted as it), ``share`` (of the class's positives).
    """
    sch = parse_bins(scheme)
    c = classes.n_classes
    Yb = _as_indicator(Y, c)
    Db = np.asarray(D, dtype=bool)
    bins = classes.bins(sch)
    present = [n for n in sch.order(bins) if n != NO_DATA]
    cols = ["class_id", "name", "bin", "train_count", "support", "recall", "missed", "missed_with_head",
            "false_positives", "fp_with_head", "rank", "predicted_id", "predicted_name", "predicted_train_count",
            "count", "share"]
    if len(present) < 2:
        return pd.DataFrame(columns=cols)
    tail, head = present[-1], present[0]
    hm = bins == head
    Yf, Df = Yb.astype(np.float64), Db.astype(np.float64)
    FN = Yf * (1 - Df)
    FP = Df * (1 - Yf)
    stolen = FN.T @ Df                      # (C, C): missed positives of i predicted as j
    head_pred = Db[:, hm].any(1).astype(np.float64)
    head_true = Yb[:, hm].any(1).astype(np.float64)
    rows = []
    for t in np.lexsort((np.arange(c), classes.train_count)):
        if bins[t] != tail:
            continue
        sup = int(Yb[:, t].sum())
        if sup == 0:
            continue
        missed = int(FN[:, t].sum())
        nfp = int(FP[:, t].sum())
        base = {"class_id": int(classes.ids[t]), "name": classes.names[t], "bin": bins[t],
                "train_count": int(classes.train_count[t]), "support": sup, "recall": (sup - missed) / sup,
                "missed": missed, "missed_with_head": float(FN[:, t] @ head_pred / missed) if missed else float("nan"),
                "false_positives": nfp, "fp_with_head": float(FP[:, t] @ head_true / nfp) if nfp else float("nan")}
        r = stolen[t].copy()
        r[t] = 0
        top = np.argsort(-r, kind="stable")[:k]
        got = False
        for rank, j in enumerate(top, 1):
            if r[j] == 0:
                break
            got = True
            rows.append({**base, "rank": rank, "predicted_id": int(classes.ids[j]), "predicted_name": classes.names[j],
                         "predicted_train_count": int(classes.train_count[j]), "count": int(r[j]),
                         "share": float(r[j] / sup)})
        if not got:
            rows.append({**base, "rank": 0, "predicted_id": -1, "predicted_name": "(nothing else)",
                         "predicted_train_count": 0, "count": 0, "share": 0.0})
    return pd.DataFrame(rows, columns=cols)
