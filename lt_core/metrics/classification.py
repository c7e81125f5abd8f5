"""Classification metrics per class, per bin and overall, computed from a :class:`ConfusionState`.

Semantics match the reference tools (the tests compare on the same data):

- per class precision / recall / F1 / support: ``sklearn.metrics.precision_recall_fscore_support``
  with ``labels=range(C)`` and ``zero_division=0``;
- ``accuracy``: ``sklearn.metrics.accuracy_score``; ``balanced_accuracy``:
  ``sklearn.metrics.balanced_accuracy_score`` (mean recall over classes with test samples);
- ``macro_f1``: ``f1_score(average="macro")`` over the classes present in y_true or y_pred
  (sklearn's default label set);
- ``gmean``: ``imblearn.metrics.geometric_mean_score`` (multiclass: geometric mean of the
  recalls of the classes present in y_true or y_pred; 0 when any of them is 0);
- top-k: ``sklearn.metrics.top_k_accuracy_score`` (same tie rule);
- ``ece``: expected calibration error with 15 equal-width confidence bins (Guo et al. 2017);
- per bin ``accuracy``: the mean per-class recall over the bin's classes that have test samples,
  the many / medium / few numbers of Kang et al. 2020 (on a balanced test set this equals the
  accuracy of the bin's samples).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..bins import BinScheme, parse_bins
from ..data.schema import ClassTable
from ..errors import InputError
from .state import CONF_SCALE, ConfusionState, update

__all__ = ["ClassificationReport", "classification_report", "report_from_state", "per_class_table",
           "overall_metrics", "bin_table", "bin_accuracy", "ece_from_counts"]

OVERALL_KEYS = ("accuracy", "balanced_accuracy", "macro_f1", "gmean", "ece")


@dataclass
class ClassificationReport:
    """All classification metrics of one run on one split.

    Attributes
    ----------
    overall : dict
        ``accuracy``, ``balanced_accuracy``, ``macro_f1``, ``gmean``, ``ece`` (NaN without scores),
        ``top{k}`` for each requested k (with scores), ``n_samples``; with a bootstrap also
        ``{metric}_ci_low`` / ``{metric}_ci_high`` for accuracy, balanced accuracy, macro-F1 and gmean.
    bins : DataFrame
        Indexed by bin name (head first, ``no training data`` last): ``accuracy``, ``n_classes``
        (classes of the bin with test samples, those averaged), ``n_samples``, ``ci_low``,
        ``ci_high`` (NaN without a bootstrap), ``macro_f1``, ``ece``, ``n_classes_in_bin``,
        ``train_samples``; with a bootstrap also ``macro_f1_ci_low`` / ``macro_f1_ci_high``.
    per_class : DataFrame
        One row per class in class-table order: ``class_id``, ``name``, ``train_count``, ``bin``,
        ``support``, ``precision``, ``recall``, ``f1``, ``predicted`` (times predicted),
        ``top{k}`` accuracies (with scores).
    scheme : BinScheme
    state : ConfusionState
    bootstrap : int
        Resamples used for the CIs (0 = none); ``seed`` the seed; ``ci`` the level.
    """

    overall: dict
    bins: pd.DataFrame
    per_class: pd.DataFrame
    scheme: BinScheme
    state: ConfusionState
    bootstrap: int = 0
    seed: int = 0
    ci: float = 0.95
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The ``eval-cls`` JSON: ``overall``, ``bins`` and ``per_class`` (NaN -> None)."""
        overall = {k: _num(self.overall.get(k)) for k in OVERALL_KEYS}
        bins = {}
        for name, row in self.bins.iterrows():
            bins[str(name)] = {"accuracy": _num(row["accuracy"]), "n_classes": int(row["n_classes"]),
                               "n_samples": int(row["n_samples"]), "ci_low": _num(row["ci_low"]),
                               "ci_high": _num(row["ci_high"])}
        cols = ["class_id", "name", "train_count", "bin", "support", "precision", "recall", "f1"]
        per_class = [{"class_id": int(r.class_id), "name": str(r.name), "train_count": int(r.train_count),
                      "bin": str(r.bin), "support": int(r.support), "precision": _num(r.precision),
                      "recall": _num(r.recall), "f1": _num(r.f1)}
                     for r in self.per_class[cols].itertuples(index=False)]
        return {"overall": overall, "bins": bins, "per_class": per_class}


def _num(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if not np.isfinite(x) else x


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.zeros(np.broadcast(a, b).shape)
    np.divide(a, b, out=out, where=b > 0)
    return out


def _prf(state: ConfusionState) -> tuple[np.ndarray, ...]:
    cm = state.confusion
    tp = np.diagonal(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    precision = _div(tp, predicted)
    recall = _div(tp, support)
    f1 = _div(2 * tp, support + predicted)  # = 2PR / (P + R), 0 where undefined (sklearn)
    return tp, support, predicted, precision, recall, f1


def ece_from_counts(count: np.ndarray, correct: np.ndarray, conf_fixed: np.ndarray) -> float:
    """Expected calibration error from (M,) per-confidence-bin counts (Guo et al. 2017).

    ``ECE = sum_b |sum correct_b - sum conf_b| / n``; NaN when there are no samples.
    """
    n = count.sum()
    if n == 0:
        return float("nan")
    return float(np.abs(correct - conf_fixed / CONF_SCALE).sum() / n)


def overall_metrics(state: ConfusionState, top_k: tuple[int, ...] = (1, 5)) -> dict:
    """Overall metrics of a state: accuracy, balanced_accuracy, macro_f1, gmean, ece, top-k."""
    return _overall(state, _prf(state), top_k)


def _overall(state: ConfusionState, prf: tuple[np.ndarray, ...], top_k: tuple[int, ...]) -> dict:
    tp, support, predicted, precision, recall, f1 = prf
    n = support.sum()
    present = (support > 0) | (predicted > 0)  # sklearn / imblearn default label set
    has = support > 0
    out = {
        "accuracy": float(tp.sum() / n) if n else float("nan"),
        "balanced_accuracy": float(recall[has].mean()) if has.any() else float("nan"),
        "macro_f1": float(f1[present].mean()) if present.any() else float("nan"),
        "gmean": _gmean(recall[present]),
        "ece": float("nan"),
        "n_samples": int(n),
    }
    if state.has_scores:
        out["ece"] = ece_from_counts(state.cal_count.sum(0), state.cal_correct.sum(0), state.cal_conf.sum(0))
        cum = state.rank_hist.sum(0).cumsum()
        for k in top_k:
            if k <= state.max_k:
                out[f"top{k}"] = float(cum[k - 1] / n) if n else float("nan")
    return out


def _gmean(r: np.ndarray) -> float:
    if len(r) == 0:
        return float("nan")
    if (r == 0).any():
        return 0.0
    return float(np.exp(np.log(r).mean()))


def per_class_table(state: ConfusionState, classes: ClassTable, scheme: str | BinScheme,
                    top_k: tuple[int, ...] = (1, 5)) -> pd.DataFrame:
    """One row per class: class_id, name, train_count, bin, support, precision, recall, f1, ..."""
    _check_classes(state, classes)
    return _per_class(state, classes, classes.bins(scheme), _prf(state), top_k)


def _per_class(state: ConfusionState, classes: ClassTable, bins: np.ndarray, prf: tuple[np.ndarray, ...],
               top_k: tuple[int, ...]) -> pd.DataFrame:
    tp, support, predicted, precision, recall, f1 = prf
    df = pd.DataFrame({
        "class_id": classes.ids, "name": classes.names, "train_count": classes.train_count,
        "bin": bins, "support": support, "precision": precision, "recall": recall,
        "f1": f1, "predicted": predicted, "correct": tp.astype(np.int64),
    })
    if state.has_scores:
        cum = state.rank_hist.cumsum(axis=1)
        for k in top_k:
            if k <= state.max_k:
                df[f"top{k}"] = _div(cum[:, k - 1], support)
    return df


def _check_classes(state: ConfusionState, classes: ClassTable) -> None:
    if classes.n_classes != state.n_classes:
        raise InputError(f"the class table has {classes.n_classes} classes, the predictions "
                         f"{state.n_classes}", field="classes")


def bin_table(state: ConfusionState, classes: ClassTable, scheme: str | BinScheme) -> pd.DataFrame:
    """Per-bin metrics (head first): accuracy, n_classes, n_samples, ci_low, ci_high, macro_f1, ece."""
    _check_classes(state, classes)
    sch = parse_bins(scheme)
    return _bin_table(state, classes, sch, classes.bins(sch), _prf(state))


def _bin_table(state: ConfusionState, classes: ClassTable, sch: BinScheme, bins: np.ndarray,
               prf: tuple[np.ndarray, ...]) -> pd.DataFrame:
    tp, support, predicted, precision, recall, f1 = prf
    rows = []
    for name in sch.order(bins):
        m = bins == name
        has = m & (support > 0)
        row = {"bin": name,
               "accuracy": float(recall[has].mean()) if has.any() else float("nan"),
               "n_classes": int(has.sum()), "n_samples": int(support[m].sum()),
               "ci_low": float("nan"), "ci_high": float("nan"),
               "macro_f1": float(f1[m & ((support > 0) | (predicted > 0))].mean())
               if (m & ((support > 0) | (predicted > 0))).any() else float("nan"),
               "ece": float("nan"), "n_classes_in_bin": int(m.sum()),
               "train_samples": int(classes.train_count[m].sum())}
        if state.has_scores:
            row["ece"] = ece_from_counts(state.cal_count[m].sum(0), state.cal_correct[m].sum(0),
                                         state.cal_conf[m].sum(0))
        rows.append(row)
    return pd.DataFrame(rows).set_index("bin")


def report_from_state(state: ConfusionState, classes: ClassTable, scheme: str | BinScheme, *,
                      bootstrap: int = 0, seed: int = 0, ci: float = 0.95,
                      top_k: tuple[int, ...] = (1, 5), bootstrap_f1: bool = True) -> ClassificationReport:
    """``compute(state)``: the full :class:`ClassificationReport` of a (merged) state.

    ``bootstrap_f1=False`` keeps the intervals to the accuracy metrics (per-class binomials,
    fast); otherwise macro-F1 and G-mean get intervals too (resampling every test sample).
    """
    sch = parse_bins(scheme)
    _check_classes(state, classes)
    prf = _prf(state)  # once: each sums the C x C confusion matrix
    assigned = classes.bins(sch)
    overall = _overall(state, prf, top_k)
    bins = _bin_table(state, classes, sch, assigned, prf)
    per_class = _per_class(state, classes, assigned, prf, top_k)
    rep = ClassificationReport(overall, bins, per_class, sch, state, int(bootstrap), int(seed), float(ci))
    if bootstrap:
        from .bootstrap import bootstrap_report
        estimates = {"overall": {k: rep.overall.get(k) for k in ("accuracy", "balanced_accuracy", "macro_f1", "gmean")},
                     "bins": rep.bins["accuracy"].to_dict(), "bins_macro_f1": rep.bins["macro_f1"].to_dict()}
        boot = bootstrap_report(state, classes, sch, n_resamples=bootstrap, seed=seed, ci=ci, f1=bootstrap_f1,
                                estimates=estimates)
        rep.extra["ci_notes"] = dict(boot["notes"])
        for metric, (lo, hi) in boot["overall"].items():
            rep.overall[f"{metric}_ci_low"], rep.overall[f"{metric}_ci_high"] = lo, hi
        for name, (lo, hi) in boot["bins"].items():
            rep.bins.loc[name, "ci_low"], rep.bins.loc[name, "ci_high"] = lo, hi
        if boot["bins_macro_f1"]:
            rep.bins["macro_f1_ci_low"] = np.nan
            rep.bins["macro_f1_ci_high"] = np.nan
            for name, (lo, hi) in boot["bins_macro_f1"].items():
                rep.bins.loc[name, "macro_f1_ci_low"], rep.bins.loc[name, "macro_f1_ci_high"] = lo, hi
    return rep


def classification_report(y_true, y_pred, classes: ClassTable, scheme: str | BinScheme, *, scores=None,
                          bootstrap: int = 0, seed: int = 0, top_k: tuple[int, ...] = (1, 5),
                          kind: str = "auto", ci: float = 0.95, bootstrap_f1: bool = True) -> ClassificationReport:
    """Per-class, per-bin and overall metrics of one run.

    Parameters
    ----------
    y_true, y_pred : array (N,) int
        True and predicted class indices (0..C-1). ``y_pred`` may be None when ``scores`` is given.
    classes : ClassTable
        Bins come from its ``train_count``.
    scheme : str or BinScheme
        ``imagenet-lt``, ``lvis``, ``quantile:K`` or ``custom:A,B``.
    scores : array (N, C) float, optional
        Probabilities or logits (softmaxed when rows are not probabilities); enables ECE and top-k.
    bootstrap : int
        Seeded bootstrap resamples (within each class) for the CIs; 0 = none.
    seed : int
    top_k : tuple of int
    kind : {"auto", "logits", "probs"}
    ci : float
        Confidence level of the percentile intervals.
    bootstrap_f1 : bool
        Also bootstrap macro-F1 and G-mean (overall and per bin); slower on large test sets.

    Returns
    -------
    ClassificationReport
    """
    c = classes.n_classes
    max_k = max([k for k in top_k if k <= c] or [1])
    state = ConfusionState.empty(c, with_scores=scores is not None, max_k=max_k)
    state = update(state, y_true, y_pred, scores=scores, kind=kind)
    return report_from_state(state, classes, scheme, bootstrap=bootstrap, seed=seed, ci=ci, top_k=top_k,
                             bootstrap_f1=bootstrap_f1)


def bin_accuracy(y_true, y_pred, train_counts, scheme: str | BinScheme) -> dict[str, float]:
    """Mean per-class recall in each bin (head first), from two bincounts: fast enough for sweeps.

    Parameters
    ----------
    y_true, y_pred : array (N,) int
        Class indices.
    train_counts : array (C,) int
        Training samples per class (defines the bins).
    scheme : str or BinScheme

    Returns
    -------
    dict
        {bin name: accuracy}; bins without test samples give NaN.
    """
    sch = parse_bins(scheme)
    tc = np.asarray(train_counts)
    c = len(tc)
    y = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    support = np.bincount(y, minlength=c)
    correct = np.bincount(y[y == p], minlength=c)
    recall = _div(correct, support)
    bins = sch.assign(tc)
    out = {}
    for name in sch.order(bins):
        m = (bins == name) & (support > 0)
        out[name] = float(recall[m].mean()) if m.any() else float("nan")
    return out
