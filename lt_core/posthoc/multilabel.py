"""Post-hoc fixes of multi-label (sigmoid / one-vs-rest) decisions, tuned on val, applied to test.

* Per-class thresholds (:func:`lt_core.posthoc.tune_thresholds`, which takes indicator matrices):
  one threshold per class on the run's own scores, by F1-max, a precision target or a recall
  target (the points of ``sklearn.metrics.precision_recall_curve``).
* Prior correction for sigmoid outputs: ``z'_c = z_c - tau * log(p_c / (1 - p_c))`` with
  ``p_c`` the TRAIN prior of class c (samples carrying it / train samples): the binary
  counterpart of logit adjustment (Menon et al., ICLR 2021) — at ``tau = 1`` each one-vs-rest
  logit is corrected to a balanced (p_c = 1/2) prior. ``tau`` is chosen on val from a sweep
  (default 41 values over [0, 2]) for a thresholded objective at a fixed probability threshold
  (default 0.5). A per-class shift does not change any class's ranking, so per-class AP and
  ROC-AUC are unchanged; it changes the decisions (F1s, hamming loss).

Everything is evaluated with :mod:`lt_core.metrics.multilabel` (exact to scikit-learn).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..bins import NO_DATA, BinScheme, parse_bins
from ..data.schema import ClassTable
from ..errors import InputError
from ..metrics.multilabel import (MultiLabelCounts, _bin_codes, decisions, probability_threshold_to_logit,
                                  thresholds_vector)
from ..metrics.ranking import _as_indicator
from .tuning import DEFAULT_TAUS

__all__ = ["ML_OBJECTIVES", "sigmoid_log_prior", "prior_corrected", "PriorTuneResult", "tune_prior_tau",
           "as_logits", "threshold_decisions", "compare_decisions", "prior_correction_spec", "ML_USAGE"]

ML_OBJECTIVES = ("macro_f1", "micro_f1", "samples_f1", "tail_macro_f1")
ML_USAGE = {
    "sigmoid_prior_correction": 'pred = (logits + np.asarray(adj["offset"])) >= adj["logit_threshold"]',
    "thresholds": 'pred = scores >= np.asarray(adj["thresholds"], dtype=float)',
}


def sigmoid_log_prior(train_positives, n_train: int, pseudo_count: float = 0.0) -> np.ndarray:
    """``log(p_c / (1 - p_c))`` per class, p_c = (n_c + a) / (N + 2a), (C,) float64.

    Parameters
    ----------
    train_positives : (C,) int
        Train samples carrying each class.
    n_train : int
        Train samples N.
    pseudo_count : float
        ``a``, added so a class present in no / every train sample has a finite prior.
    """
    n = np.asarray(train_positives, dtype=np.float64)
    N = float(n_train)
    a = float(pseudo_count)
    if N <= 0:
        raise InputError("the train split has no samples", field="train")
    if (n < 0).any() or (n > N).any():
        raise InputError("train positives must be in 0..N", field="count")
    p = (n + a) / (N + 2 * a)
    if ((p <= 0) | (p >= 1)).any():
        bad = int(((p <= 0) | (p >= 1)).sum())
        raise InputError(f"{bad} classes have a train prior of 0 or 1 (log-odds infinite)", field="count",
                         hint="use a pseudo count (e.g. 1)")
    return np.log(p) - np.log1p(-p)


def as_logits(scores: np.ndarray, kind: str) -> np.ndarray:
    """Per-class logits (N, C) float64: the scores themselves, or ``log(p / (1 - p))`` of probabilities."""
    S = np.asarray(scores, dtype=np.float64)
    if kind == "logits":
        return S
    if kind != "probs":
        raise InputError(f"kind must be probs or logits, got {kind}", field="kind")
    with np.errstate(divide="ignore"):
        return np.log(S) - np.log1p(-S)


def prior_corrected(logits: np.ndarray, log_prior: np.ndarray, tau: float) -> np.ndarray:
    """``z - tau * log(p / (1 - p))`` (N, C) float64."""
    return np.asarray(logits, dtype=np.float64) - float(tau) * np.asarray(log_prior, dtype=np.float64)[None, :]


def threshold_decisions(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """``scores >= thresholds`` (N, C) bool, in float64 (thresholds on the run's own scores)."""
    S = np.asarray(scores)
    t = np.asarray(thresholds, dtype=np.float64).ravel()
    if S.ndim != 2 or S.shape[1] != t.size:
        raise InputError(f"{t.size} thresholds for scores of shape {S.shape}", field="thresholds")
    return S >= t[None, :]


@dataclass
class PriorTuneResult:
    """The tau of the sigmoid prior correction chosen on one split.

    Attributes
    ----------
    tau : float
    table : DataFrame
        One row per tau: ``tau``, ``macro_f1``, ``micro_f1``, ``samples_f1``, ``hamming_loss``,
        ``predicted_cardinality``, ``f1 <bin>`` (macro-F1 of each bin), ``feasible``.
    objective, split : str
    threshold : float
        The probability threshold of the decisions.
    head_bin, tail_bin : str
    """

    tau: float
    table: pd.DataFrame
    objective: str
    split: str
    threshold: float
    head_bin: str
    tail_bin: str

    def to_dict(self) -> dict:
        return {"tau": self.tau, "objective": self.objective, "tuned_on": self.split, "threshold": self.threshold,
                "head_bin": self.head_bin, "tail_bin": self.tail_bin}


def _counts_at(Y, Z, t_logit, code) -> MultiLabelCounts:
    return MultiLabelCounts.empty(Y.shape[1], code).update(Y, Z >= t_logit[None, :])


def tune_prior_tau(Y, scores, kind: str, train_positives, n_train: int, classes: ClassTable,
                   scheme: str | BinScheme, objective: str = "macro_f1", taus=DEFAULT_TAUS, threshold: float = 0.5,
                   max_head_drop: float = 0.05, split: str = "val", pseudo_count: float = 0.0) -> PriorTuneResult:
    """Sweep tau of the prior correction on ONE (validation) split and pick the best.

    Parameters
    ----------
    Y : (N, C) 0/1 or MultiLabels
        The split's targets.
    scores, kind : the run's scores on the split and their kind ("logits" or "probs").
    train_positives, n_train : the TRAIN priors (see :func:`sigmoid_log_prior`).
    objective : {"macro_f1", "micro_f1", "samples_f1", "tail_macro_f1"}
        ``tail_macro_f1``: the tail bin's macro-F1, among taus whose head-bin macro-F1 drops at
        most ``max_head_drop`` (absolute) below tau = 0.
    threshold : float
        Probability threshold of the decisions (``sigmoid(z') >= threshold``).

    Returns
    -------
    PriorTuneResult
        The best tau (ties: the smallest), with the whole sweep.
    """
    if objective not in ML_OBJECTIVES:
        raise InputError(f"unknown objective '{objective}'", field="objective", hint=f"use one of {ML_OBJECTIVES}")
    sch = parse_bins(scheme)
    c = classes.n_classes
    Yb = _as_indicator(Y, c)
    Z = as_logits(scores, kind)
    lp = sigmoid_log_prior(train_positives, n_train, pseudo_count)
    t_logit = probability_threshold_to_logit(thresholds_vector(threshold, c))
    bins, names, code = _bin_codes(classes, sch)
    present = [n for n in names if n != NO_DATA]
    head_bin, tail_bin = present[0], present[-1]
    rows = []
    for tau in np.asarray(taus, dtype=np.float64):
        cnt = _counts_at(Yb, Z - tau * lp[None, :], t_logit, code)
        av = cnt.averages()
        row = {"tau": float(tau), "macro_f1": av["macro_f1"], "micro_f1": av["micro_f1"],
               "samples_f1": cnt.samples_f1(), "hamming_loss": cnt.hamming_loss(),
               "predicted_cardinality": float(cnt.predicted.sum() / max(cnt.n_samples, 1))}
        for g, name in enumerate(names):
            row[f"f1 {name}"] = cnt.averages(code == g)["macro_f1"]
        rows.append(row)
    table = pd.DataFrame(rows)
    if objective == "tail_macro_f1":
        base = table.iloc[int(np.argmin(np.abs(table["tau"].to_numpy())))]
        table["feasible"] = table[f"f1 {head_bin}"] >= base[f"f1 {head_bin}"] - float(max_head_drop) - 1e-12
        score = np.where(table["feasible"], table[f"f1 {tail_bin}"], -np.inf)
    else:
        table["feasible"] = True
        score = table[objective].to_numpy()
    best = int(np.argmax(score))  # first = smallest tau among ties
    return PriorTuneResult(float(table["tau"].iloc[best]), table, objective, split, float(threshold), head_bin,
                           tail_bin)


def compare_decisions(Y, scores, D_before: np.ndarray, D_after: np.ndarray, classes: ClassTable,
                      scheme: str | BinScheme, n_resamples: int = 1000, seed: int = 0, ci: float = 0.95,
                      scores_after: np.ndarray | None = None) -> pd.DataFrame:
    """Per-bin (and overall) macro-F1 before / after a fix, each with its bootstrap CI and the
    paired CI of the change (the same resamples of the samples for both).

    Returns
    -------
    DataFrame
        One row per bin (head first) then ``all``: ``bin``, ``n_classes``, ``n_positives``,
        ``f1_before``, ``f1_before_ci_low``, ``f1_before_ci_high``, ``f1_after``, ``f1_after_ci_low``,
        ``f1_after_ci_high``, ``delta``, ``delta_ci_low``, ``delta_ci_high``, ``significant``,
        ``micro_f1_before``, ``micro_f1_after``.
    """
    from ..metrics.multilabel_bootstrap import _quant, bootstrap_distributions

    sch = parse_bins(scheme)
    c = classes.n_classes
    Yb = _as_indicator(Y, c)
    S_after = scores if scores_after is None else scores_after
    _, names, code = _bin_codes(classes, sch)
    dist = bootstrap_distributions(Yb, {"before": (scores, D_before), "after": (S_after, D_after)}, classes, sch,
                                   n_resamples, seed, with_ap=False) if n_resamples else None
    cnt = {k: MultiLabelCounts.empty(c, code).update(Yb, D) for k, D in (("before", D_before), ("after", D_after))}
    rows = []
    for g, name in enumerate(names + ["all"]):
        m = np.ones(c, bool) if name == "all" else code == g
        key = "macro_f1" if name == "all" else f"macro_f1:{name}"
        mkey = "micro_f1" if name == "all" else f"micro_f1:{name}"
        row = {"bin": name, "n_classes": int(m.sum()), "n_positives": int(cnt["before"].support[m].sum())}
        for k in ("before", "after"):
            av = cnt[k].averages(m)
            row[f"f1_{k}"] = av["macro_f1"]
            row[f"micro_f1_{k}"] = av["micro_f1"]
            lo, hi = _quant(dist[k][key], ci) if dist else (np.nan, np.nan)
            row[f"f1_{k}_ci_low"], row[f"f1_{k}_ci_high"] = lo, hi
        row["delta"] = row["f1_after"] - row["f1_before"]
        if dist:
            lo, hi = _quant(dist["after"][key] - dist["before"][key], ci)
            mlo, mhi = _quant(dist["after"][mkey] - dist["before"][mkey], ci)
        else:
            lo = hi = mlo = mhi = np.nan
        row["delta_ci_low"], row["delta_ci_high"] = lo, hi
        row["significant"] = bool(lo > 0 or hi < 0)
        row["micro_delta_ci_low"], row["micro_delta_ci_high"] = mlo, mhi
        rows.append(row)
    cols = ["bin", "n_classes", "n_positives", "f1_before", "f1_before_ci_low", "f1_before_ci_high", "f1_after",
            "f1_after_ci_low", "f1_after_ci_high", "delta", "delta_ci_low", "delta_ci_high", "significant",
            "micro_f1_before", "micro_f1_after", "micro_delta_ci_low", "micro_delta_ci_high"]
    return pd.DataFrame(rows)[cols]


def prior_correction_spec(train_positives, n_train: int, tau: float, *, threshold: float = 0.5,
                          input_kind: str = "logits", pseudo_count: float = 0.0, class_ids=None, class_names=None,
                          tuning: dict | None = None) -> dict:
    """The sigmoid prior correction as an adjustment file: ``offset = -tau * log(p / (1 - p))``
    and the decision ``logits + offset >= log(t / (1 - t))`` (``logit_threshold``)."""
    from .export import FORMAT, LOAD, _classes

    lp = sigmoid_log_prior(train_positives, n_train, pseudo_count)
    off = -float(tau) * lp
    lt = float(probability_threshold_to_logit(np.array([threshold]))[0])
    spec = {"format": FORMAT, "method": "sigmoid_prior_correction", "input": input_kind, "tau": float(tau),
            "offset": off.tolist(), "threshold": float(threshold), "logit_threshold": lt,
            "prior_counts": [int(v) for v in np.asarray(train_positives)], "n_train": int(n_train),
            "pseudo_count": float(pseudo_count),
            "note": "probability input: convert first, logits = log(p / (1 - p))",
            "paper": "binary logit adjustment (Menon et al., Long-tail learning via logit adjustment, ICLR 2021)"}
    spec.update(_classes(class_ids, class_names, len(lp)))
    spec["tuning"] = tuning or {}
    spec["usage"] = [LOAD, ML_USAGE["sigmoid_prior_correction"]]
    return spec
