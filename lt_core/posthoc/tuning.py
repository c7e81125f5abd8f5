"""Choosing tau on a validation split, and everything a tau change shows.

Selection discipline: :func:`tune_tau` sees only the split it is given; :func:`tune_and_report`
takes all labels, tunes on ``val`` and reports on ``test``; it touches the test labels for tuning
only when there is no val split AND ``allow_test=True`` (then ``tuned_on_test`` is set so the app
can warn).

Metric definitions match :mod:`lt_core.metrics` and scikit-learn: bin accuracy = mean per-class
recall over the classes of the bin that have samples (Kang et al. 2020; Liu et al. 2019);
balanced accuracy = ``sklearn.metrics.balanced_accuracy_score``; macro-F1 =
``sklearn.metrics.f1_score(average="macro")`` (classes present in truth or predictions).
All come from mergeable per-class counts (:class:`SweepState`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from ..bins import NO_DATA, BinScheme, parse_bins
from ..errors import InputError
from .adjust import log_prior, tau_norm_scores
from .fast import AdjustIndex, build_adjust_index

__all__ = ["OBJECTIVES", "DEFAULT_TAUS", "SweepState", "sweep_update", "sweep_merge", "sweep_table",
           "TauEvaluator", "TauPoint", "TuneResult", "tune_tau", "select_tau", "tune_and_report",
           "tuning_split", "tau_norm_predictor"]

OBJECTIVES = ("balanced_accuracy", "macro_f1", "few_accuracy")
DEFAULT_TAUS = np.round(np.linspace(0.0, 2.0, 41), 10)   # 41 values over [0, 2], step 0.05


# --------------------------------------------------------------------------- mergeable counts
@dataclass
class SweepState:
    """Per-class counts for each tau of a sweep (mergeable over shards of samples).

    Attributes
    ----------
    taus : ndarray (T,)
    support : ndarray (C,) int64       true samples per class
    correct : ndarray (T, C) int64     correct predictions per class, per tau
    predicted : ndarray (T, C) int64   predictions per class, per tau
    """

    taus: np.ndarray
    support: np.ndarray
    correct: np.ndarray
    predicted: np.ndarray

    @classmethod
    def empty(cls, taus, n_classes: int) -> "SweepState":
        t = np.asarray(taus, dtype=np.float64).ravel()
        return cls(t, np.zeros(n_classes, np.int64), np.zeros((t.size, n_classes), np.int64),
                   np.zeros((t.size, n_classes), np.int64))


def _counts(y: np.ndarray, pred: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray]:
    ok = pred == y
    return np.bincount(y[ok], minlength=c), np.bincount(pred, minlength=c)


def sweep_update(state: SweepState, y: np.ndarray, preds: np.ndarray) -> SweepState:
    """Add one shard: ``y`` (n,) true classes, ``preds`` (T, n) predictions per tau."""
    y = np.asarray(y, dtype=np.int64)
    P = np.asarray(preds, dtype=np.int64).reshape(len(state.taus), -1)
    c = len(state.support)
    cor = state.correct.copy()
    prd = state.predicted.copy()
    for i in range(len(state.taus)):
        a, b = _counts(y, P[i], c)
        cor[i] += a
        prd[i] += b
    return SweepState(state.taus, state.support + np.bincount(y, minlength=c), cor, prd)


def sweep_merge(a: SweepState, b: SweepState) -> SweepState:
    """Counts of two shards together (same taus and classes)."""
    if not np.array_equal(a.taus, b.taus) or len(a.support) != len(b.support):
        raise InputError("cannot merge sweeps over different taus or classes", field="taus")
    return SweepState(a.taus, a.support + b.support, a.correct + b.correct, a.predicted + b.predicted)


def _bin_codes(train_counts: np.ndarray, scheme: str | BinScheme) -> tuple[list[str], np.ndarray]:
    sch = parse_bins(scheme)
    b = sch.assign(np.asarray(train_counts))
    names = sch.order(b)
    lut = {n: i for i, n in enumerate(names)}
    return names, np.array([lut[x] for x in b], dtype=np.int64)


def _metrics_from_counts(support: np.ndarray, correct: np.ndarray, predicted: np.ndarray,
                         codes: np.ndarray, n_bins: int) -> dict:
    """Rows of counts (T, C) -> metrics arrays (T,) and per-bin (T, B)."""
    support = support.astype(np.float64)
    has = support > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(has, correct / np.where(has, support, 1), np.nan)
        denom = support + predicted
        f1 = np.where(denom > 0, 2 * correct / np.where(denom > 0, denom, 1), np.nan)
    n = support.sum()
    out = {
        "accuracy": correct.sum(-1) / n if n else np.full(correct.shape[:-1], np.nan),
        "balanced_accuracy": np.nanmean(recall, -1) if has.any() else np.full(correct.shape[:-1], np.nan),
        "macro_f1": _nanmean(f1),
        "recall": recall,
    }
    T = correct.shape[0] if correct.ndim == 2 else 1
    rec2 = np.atleast_2d(recall)
    bins = np.full((T, n_bins), np.nan)
    for k in range(n_bins):
        m = (codes == k) & has
        if m.any():
            bins[:, k] = rec2[:, m].mean(1)
    out["bins"] = bins if correct.ndim == 2 else bins[0]
    return out


def _nanmean(a: np.ndarray) -> np.ndarray:
    cnt = np.sum(~np.isnan(a), -1)
    s = np.nansum(a, -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, s / np.maximum(cnt, 1), np.nan)


def sweep_table(state: SweepState, train_counts: np.ndarray, scheme: str | BinScheme) -> pd.DataFrame:
    """One row per tau: ``tau, accuracy, balanced_accuracy, macro_f1`` and one column per bin
    (``acc <bin>``, mean per-class recall of the bin, head first)."""
    names, codes = _bin_codes(train_counts, scheme)
    m = _metrics_from_counts(state.support, state.correct, state.predicted, codes, len(names))
    df = pd.DataFrame({"tau": state.taus, "accuracy": m["accuracy"],
                       "balanced_accuracy": m["balanced_accuracy"], "macro_f1": m["macro_f1"]})
    for k, n in enumerate(names):
        df[f"acc {n}"] = m["bins"][:, k]
    return df


# --------------------------------------------------------------------------- one tau, fast
@dataclass
class TauPoint:
    """Everything the page shows for one tau on one split.

    Attributes
    ----------
    tau : float
    pred : ndarray (N,) int64            predicted class per sample
    recall : ndarray (C,) float64        per-class recall (NaN without samples)
    predicted : ndarray (C,) int64       predictions per class
    bins : dict                          {bin: mean per-class recall}
    accuracy, balanced_accuracy, macro_f1 : float
    """

    tau: float
    pred: np.ndarray
    recall: np.ndarray
    predicted: np.ndarray
    bins: dict
    accuracy: float
    balanced_accuracy: float
    macro_f1: float


class TauEvaluator:
    """Precomputed state for one run on one split: ``at(tau)`` is a few milliseconds.

    Parameters
    ----------
    scores : array (N, C)
        Logits (or log-probabilities, ``is_log_probs``) of the run on this split.
    y : array (N,) int
        True class indices of this split.
    train_counts : array (C,)
        Defines the prior and the bins.
    scheme : str or BinScheme
    tau_range : (float, float)
        Range of the slider; exact fast path inside it.
    pseudo_count : float
        Added to every train count for the prior (needed when a class has none).
    predict : callable, optional
        ``predict(tau) -> (N,)`` to use instead of logit adjustment (e.g. tau-normalisation).
    """

    def __init__(self, scores: np.ndarray | None, y: np.ndarray, train_counts: np.ndarray,
                 scheme: str | BinScheme, tau_range: tuple[float, float] = (0.0, 2.0),
                 pseudo_count: float = 0.0, predict: Callable[[float], np.ndarray] | None = None):
        self.y = np.asarray(y, dtype=np.int64)
        self.train_counts = np.asarray(train_counts)
        self.n_classes = len(self.train_counts)
        self.bin_names, self.codes = _bin_codes(self.train_counts, scheme)
        self.support = np.bincount(self.y, minlength=self.n_classes)
        self.index: AdjustIndex | None = None
        if predict is None:
            if scores is None:
                raise InputError("need scores or a predict function", field="scores")
            lp = log_prior(self.train_counts, pseudo_count)
            if len(scores) != len(self.y):
                raise InputError(f"{len(scores)} score rows but {len(self.y)} labels", field="scores")
            self.index = build_adjust_index(scores, lp, *tau_range)
            predict = self.index.predict
        self._predict = predict

    def predict(self, tau: float) -> np.ndarray:
        """Predicted classes at ``tau``, shape (N,)."""
        return self._predict(float(tau))

    def at(self, tau: float) -> TauPoint:
        """Predictions and all metrics at ``tau``."""
        pred = self.predict(tau)
        cor, prd = _counts(self.y, pred, self.n_classes)
        m = _metrics_from_counts(self.support, cor, prd, self.codes, len(self.bin_names))
        return TauPoint(float(tau), pred, m["recall"], prd, dict(zip(self.bin_names, m["bins"].tolist())),
                        float(m["accuracy"]), float(m["balanced_accuracy"]), float(m["macro_f1"]))

    def bin_table(self, before: TauPoint, after: TauPoint) -> pd.DataFrame:
        """Per bin (head first): n_classes, n_samples, accuracy before / after, delta, and the
        share of predictions going to the bin before / after."""
        rows = []
        n = max(len(self.y), 1)
        for k, b in enumerate(self.bin_names):
            m = self.codes == k
            rows.append({"bin": b, "n_classes": int(m.sum()), "n_samples": int(self.support[m].sum()),
                         "accuracy_before": before.bins[b], "accuracy_after": after.bins[b],
                         "delta": after.bins[b] - before.bins[b],
                         "predicted_share_before": before.predicted[m].sum() / n,
                         "predicted_share_after": after.predicted[m].sum() / n})
        return pd.DataFrame(rows)

    def class_table(self, before: TauPoint, after: TauPoint, names=None, ids=None) -> pd.DataFrame:
        """Per class, tail first: train_count, bin, support, recall before / after, delta, predicted before / after."""
        C = self.n_classes
        df = pd.DataFrame({"class_id": np.arange(C) if ids is None else np.asarray(ids),
                           "name": np.asarray([str(i) for i in range(C)] if names is None else names, dtype=object),
                           "train_count": self.train_counts, "bin": np.asarray(self.bin_names, dtype=object)[self.codes],
                           "support": self.support, "recall_before": before.recall, "recall_after": after.recall,
                           "delta": after.recall - before.recall, "predicted_before": before.predicted,
                           "predicted_after": after.predicted})
        return df.sort_values(["train_count", "class_id"], kind="stable").reset_index(drop=True)

    def sweep(self, taus=DEFAULT_TAUS) -> SweepState:
        """Counts for every tau of ``taus`` on this split."""
        st = SweepState.empty(taus, self.n_classes)
        preds = np.stack([self.predict(t) for t in st.taus])
        return sweep_update(st, self.y, preds)


def tau_norm_predictor(X: np.ndarray, W: np.ndarray) -> Callable[[float], np.ndarray]:
    """``predict(tau)`` of the tau-normalised classifier (Kang et al. 2020) on features ``X``."""
    X32 = np.asarray(X, dtype=np.float32)
    W = np.asarray(W)

    def predict(tau: float) -> np.ndarray:
        return tau_norm_scores(X32, W, tau).argmax(1).astype(np.int64)

    return predict


# --------------------------------------------------------------------------- selection
@dataclass
class TuneResult:
    """A tau chosen on one split.

    Attributes
    ----------
    tau : float
    objective : str
    split : str                 the split it was tuned on ("val", or "test" with a warning)
    tuned_on_test : bool
    table : DataFrame           the sweep on that split (:func:`sweep_table`) + ``feasible``
    max_head_drop : float       bound on the head-bin accuracy drop (few_accuracy objective)
    head_bin, tail_bin : str
    """

    tau: float
    objective: str
    split: str
    tuned_on_test: bool
    table: pd.DataFrame
    max_head_drop: float
    head_bin: str
    tail_bin: str
    test_table: pd.DataFrame | None = None
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"tau": self.tau, "objective": self.objective, "tuned_on": self.split,
                "tuned_on_test": self.tuned_on_test, "max_head_drop": self.max_head_drop,
                "head_bin": self.head_bin, "tail_bin": self.tail_bin, "notes": list(self.notes)}


def _head_tail(table: pd.DataFrame) -> tuple[str, str]:
    bins = [c[4:] for c in table.columns if c.startswith("acc ") and c[4:] != NO_DATA]
    bins = [b for b in bins if table[f"acc {b}"].notna().any()]
    if not bins:
        raise InputError("no bin has samples on the tuning split", field="labels")
    return bins[0], bins[-1]


def select_tau(table: pd.DataFrame, objective: str = "balanced_accuracy", max_head_drop: float = 0.05,
               base_tau: float = 0.0) -> tuple[float, pd.DataFrame]:
    """Pick tau from a sweep table.

    ``balanced_accuracy`` / ``macro_f1``: the tau with the highest value (the smallest tau on
    ties). ``few_accuracy``: the highest tail-bin accuracy among taus whose head-bin accuracy is at
    most ``max_head_drop`` below its value at ``base_tau`` (the unadjusted model); ties -> smallest tau.

    Returns
    -------
    (tau, table with a boolean ``feasible`` column)
    """
    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective '{objective}'", field="objective", hint=f"use one of {OBJECTIVES}")
    t = table.copy()
    if objective == "few_accuracy":
        head, tail = _head_tail(t)
        base = t.loc[np.isclose(t["tau"], base_tau), f"acc {head}"]
        if base.empty:
            raise InputError(f"the sweep must include tau={base_tau} to bound the head drop", field="taus")
        t["feasible"] = t[f"acc {head}"] >= base.iloc[0] - max_head_drop - 1e-12
        score = np.where(t["feasible"], t[f"acc {tail}"].fillna(-np.inf), -np.inf)
    else:
        t["feasible"] = True
        score = t[objective].fillna(-np.inf).to_numpy()
    i = int(np.argmax(score))
    return float(t["tau"].iloc[i]), t


def tune_tau(scores: np.ndarray | None, y: np.ndarray, train_counts: np.ndarray, scheme: str | BinScheme,
             objective: str = "balanced_accuracy", taus=DEFAULT_TAUS, max_head_drop: float = 0.05,
             split: str = "val", pseudo_count: float = 0.0, evaluator: TauEvaluator | None = None) -> TuneResult:
    """Sweep tau on ONE split and choose it for ``objective``.

    Parameters
    ----------
    scores : array (N, C) or None
        Logits (log-probabilities for probability input) of that split; ignored with ``evaluator``.
    y : array (N,)
        True classes of the same split.
    train_counts : array (C,)
    scheme : bins for the few / many accuracies.
    objective : {"balanced_accuracy", "macro_f1", "few_accuracy"}
    taus : array (T,)
        Must contain 0 for ``few_accuracy`` (the head-drop reference).
    max_head_drop : float
        Allowed drop of head-bin accuracy (absolute, 0.05 = 5 points) for ``few_accuracy``.
    split : str
        Name of the split (recorded; ``"test"`` marks the result as tuned on test).
    """
    taus = np.asarray(taus, dtype=np.float64).ravel()
    if taus.size == 0 or not np.isfinite(taus).all():
        raise InputError("need a non-empty list of finite taus", field="taus")
    if evaluator is None:
        evaluator = TauEvaluator(scores, y, train_counts, scheme, (float(taus.min()), float(taus.max())),
                                 pseudo_count)
    table = sweep_table(evaluator.sweep(taus), train_counts, scheme)
    tau, table = select_tau(table, objective, max_head_drop)
    head, tail = _head_tail(table)
    return TuneResult(tau, objective, split, split == "test", table, max_head_drop, head, tail)


def tuning_split(available: list[str] | tuple[str, ...], allow_test: bool = False) -> str:
    """The split to tune on: ``val`` when present; ``test`` only when allowed (the caller warns)."""
    if "val" in available:
        return "val"
    if allow_test and "test" in available:
        return "test"
    raise InputError("no validation split to tune on", field="val",
                     hint="load val labels and val scores, or explicitly allow tuning on test "
                          "(the numbers are then optimistic)")


def tune_and_report(scores: dict[str, np.ndarray], labels: dict[str, np.ndarray], train_counts: np.ndarray,
                    scheme: str | BinScheme, objective: str = "balanced_accuracy", taus=DEFAULT_TAUS,
                    max_head_drop: float = 0.05, allow_test: bool = False, pseudo_count: float = 0.0) -> TuneResult:
    """Tune on val, report the whole sweep on test (``test_table``).

    ``scores`` / ``labels`` map split -> array. The test labels are read only to build
    ``test_table`` after tau is chosen, unless there is no val split and ``allow_test``.
    """
    split = tuning_split([s for s in labels if s in scores], allow_test)
    res = tune_tau(scores[split], labels[split], train_counts, scheme, objective, taus, max_head_drop,
                   split, pseudo_count)
    if "test" in scores and "test" in labels:
        ev = TauEvaluator(scores["test"], labels["test"], train_counts, scheme,
                          (float(np.min(taus)), float(np.max(taus))), pseudo_count)
        res.test_table = sweep_table(ev.sweep(taus), train_counts, scheme)
    if res.tuned_on_test:
        res.notes.append("tuned on test: no validation split, the test numbers are optimistic")
    return res
