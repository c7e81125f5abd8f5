"""Seeded bootstrap confidence intervals that resample test samples *within each class*.

Resampling the ``n_c`` test samples of class ``c`` with replacement and counting the correct ones
is a draw from Binomial(n_c, recall_c); for two runs on the same samples (paired), the four
outcomes (both wrong, only b right, only a right, both right) are a Multinomial(n_c, p_c). So the
bootstrap works on the per-class counts of the mergeable states, never on the (N, C) scores, and
gives the same distribution as resampling sample indices. Intervals are percentile intervals
(Efron & Tibshirani 1993).

A percentile interval is reported only when it contains its own estimate. That is the case for the
accuracies (means of per-class recalls: unbiased), but not always for the G-mean: the geometric mean
of per-class recalls is 0 as soon as one class has zero recall, so with few test samples per class
many resamples give 0, and even without zeros the resampled G-mean is biased below the estimate
(Jensen). Its bootstrap distribution can then lie entirely below the estimate ("G-mean 73.8 %, CI
[0.0 %, 73.5 %]"), and no percentile, basic or BC interval built from it covers the estimate. The
rule: the G-mean (like every metric here) gets the percentile interval when
``ci_low <= estimate <= ci_high``; otherwise no interval (None / NaN) and a note in
``notes[metric]`` that says why (the share of resamples below the estimate, and with a class at
zero recall).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..bins import BinScheme, parse_bins
from ..data.schema import ClassTable
from ..errors import InputError
from .state import ConfusionState, _check_labels

__all__ = ["bootstrap_report", "bootstrap_bin_accuracy", "bootstrap_confusion", "PairedState", "paired_bootstrap",
           "PairedBootstrap"]


def _quantiles(x: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    a = (1.0 - ci) / 2.0
    lo, hi = np.nanquantile(x, [a, 1.0 - a], axis=0)
    return lo, hi


def _bin_masks(classes: ClassTable, scheme: BinScheme, support: np.ndarray) -> dict[str, np.ndarray]:
    bins = classes.bins(scheme)
    return {name: (bins == name) & (support > 0) for name in scheme.order(bins)}


def _check_resamples(n_resamples: int, ci: float) -> None:
    if int(n_resamples) < 1:
        raise InputError(f"the bootstrap needs at least 1 resample, got {n_resamples}", field="bootstrap")
    if not 0.0 < ci < 1.0:
        raise InputError(f"the confidence level must be in (0, 1), got {ci}", field="ci")


def bootstrap_bin_accuracy(correct: np.ndarray, support: np.ndarray, masks: dict[str, np.ndarray],
                           n_resamples: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """Bootstrap distributions of accuracy, balanced accuracy and each bin's accuracy.

    Parameters
    ----------
    correct, support : ndarray (C,) int
        Correct predictions and test samples per class.
    masks : dict
        {bin name: boolean (C,) mask of the bin's classes with test samples}.

    Returns
    -------
    dict
        {"accuracy": (B,), "balanced_accuracy": (B,), bin name: (B,)} arrays of resampled values.
    """
    rng = np.random.default_rng(seed)
    support = np.asarray(support, dtype=np.int64)
    has = support > 0
    p = np.where(has, np.asarray(correct, dtype=np.float64) / np.maximum(support, 1), 0.0)
    idx = np.flatnonzero(has)
    draws = rng.binomial(support[idx][None, :], p[idx][None, :], size=(int(n_resamples), len(idx)))
    recall = draws / support[idx][None, :]
    out = {"accuracy": draws.sum(axis=1) / support.sum() if support.sum() else np.full(n_resamples, np.nan),
           "balanced_accuracy": recall.mean(axis=1) if len(idx) else np.full(n_resamples, np.nan)}
    pos = np.full(len(support), -1)
    pos[idx] = np.arange(len(idx))
    for name, m in masks.items():
        cols = pos[m & has]
        out[name] = recall[:, cols].mean(axis=1) if len(cols) else np.full(n_resamples, np.nan)
    return out


def _resample_rows(cm: np.ndarray, n_resamples: int, rng: np.random.Generator):
    """Yield resampled (tp, predicted) per class: test samples resampled within each true class.

    The confusion counts are expanded into virtual samples (true class, predicted class), sorted
    by true class; each resample draws ``n_c`` of the class's samples with replacement, exactly as
    resampling sample indices would. Yields ``(tp, pred)`` of shape (b, C) for batches of b.
    """
    c = cm.shape[0]
    rows, cols = np.nonzero(cm)
    k = cm[rows, cols]
    y_s = np.repeat(rows, k)
    p_s = np.repeat(cols, k)
    n_row = cm.sum(axis=1)
    start = np.concatenate([[0], np.cumsum(n_row)[:-1]])
    n = len(y_s)
    base = start[y_s]
    # float32 uniforms are exact enough to pick among up to 2**20 samples of a class, and faster
    small = n_row.max(initial=0) < 2 ** 20
    size = n_row[y_s].astype(np.float32 if small else np.float64)
    batch = max(1, min(int(n_resamples), 4_000_000 // max(1, n)))
    done = 0
    while done < n_resamples:
        b = min(batch, n_resamples - done)
        u = rng.random((b, n), dtype=np.float32 if small else np.float64)
        u *= size[None, :]
        idx = base[None, :] + np.minimum(u.astype(np.int64), n_row[y_s][None, :] - 1)
        pd_ = p_s[idx]
        off = (np.arange(b) * c)[:, None]
        pred = np.bincount((pd_ + off).ravel(), minlength=b * c).reshape(b, c)
        hit = pd_ == y_s[None, :]
        tp = np.bincount((np.broadcast_to(y_s[None, :], (b, n)) + off)[hit], minlength=b * c).reshape(b, c)
        yield tp, pred
        done += b


def bootstrap_confusion(state: ConfusionState, classes: ClassTable, scheme: BinScheme, n_resamples: int,
                        seed: int) -> dict[str, np.ndarray]:
    """Bootstrap distributions of macro-F1, G-mean and each bin's macro-F1.

    Resamples the test samples within each class (from the confusion counts), so the
    predicted-class counts, hence precision and F1, vary too.

    Returns
    -------
    dict
        {"macro_f1": (B,), "gmean": (B,), "macro_f1:<bin>": (B,)}.
    """
    cm = state.confusion
    c = cm.shape[0]
    support = cm.sum(axis=1)
    bins = classes.bins(scheme)
    names = scheme.order(bins)
    rng = np.random.default_rng([int(seed), 1])  # a stream of its own: accuracy CIs do not depend on it
    res = {"macro_f1": [], "gmean": []} | {f"macro_f1:{n}": [] for n in names}
    for tp, pred in _resample_rows(cm, int(n_resamples), rng):
        b = tp.shape[0]
        denom = support[None, :] + pred
        f1 = np.divide(2.0 * tp, denom, out=np.zeros((b, c)), where=denom > 0)
        present = denom > 0
        npres = present.sum(axis=1)
        res["macro_f1"].append(np.where(npres > 0, (f1 * present).sum(axis=1) / np.maximum(npres, 1), np.nan))
        rec = np.divide(tp, support[None, :], out=np.zeros((b, c)), where=support[None, :] > 0)
        zero = (present & (rec == 0)).any(axis=1)
        logs = np.where(present, np.log(np.where(rec > 0, rec, 1.0)), 0.0)
        gm = np.exp(logs.sum(axis=1) / np.maximum(npres, 1))
        res["gmean"].append(np.where(zero, 0.0, np.where(npres > 0, gm, np.nan)))
        for n in names:
            m = (bins == n)[None, :] & present
            cnt = m.sum(axis=1)
            res[f"macro_f1:{n}"].append(np.where(cnt > 0, (f1 * m).sum(axis=1) / np.maximum(cnt, 1), np.nan))
    return {k: np.concatenate(v) if v else np.full(int(n_resamples), np.nan) for k, v in res.items()}


def _covers(est, lo: float, hi: float) -> bool:
    if est is None or not np.isfinite(est) or not (np.isfinite(lo) and np.isfinite(hi)):
        return True
    tol = 1e-12 * max(1.0, abs(float(est)))
    return lo - tol <= float(est) <= hi + tol


def _why_not(metric: str, est: float, vals: np.ndarray, ci: float) -> str:
    v = vals[np.isfinite(vals)]
    below = float((v < est).mean()) if v.size else float("nan")
    text = (f"no {ci:.0%} interval for {metric}: {below:.0%} of the resamples fall below the estimate "
            f"{100 * est:.1f}%, so the percentile interval would not contain it")
    if metric == "gmean":
        zero = float((v == 0).mean()) if v.size else float("nan")
        text += (f"; in {zero:.0%} of them a class with few test samples has zero recall, which makes the "
                 "G-mean 0 (a geometric mean of small-sample recalls is biased low under resampling)")
    return text


def bootstrap_report(state: ConfusionState, classes: ClassTable, scheme: str | BinScheme, *,
                     n_resamples: int = 1000, seed: int = 0, ci: float = 0.95, f1: bool = True,
                     estimates: dict | None = None) -> dict:
    """Percentile CIs for the overall and per-bin metrics.

    Accuracy, balanced accuracy and each bin's accuracy come from per-class binomials (fast);
    with ``f1`` also macro-F1, G-mean and each bin's macro-F1, from test samples resampled within
    each class (cost grows with the number of test samples). ECE has no interval.

    Parameters
    ----------
    estimates : dict, optional
        ``{"overall": {metric: value}, "bins": {bin: accuracy}, "bins_macro_f1": {bin: value}}``, the
        point estimates. An interval that does not contain its estimate is dropped (NaN) and
        ``notes[metric]`` says why (see the module docstring: the G-mean with few test samples).

    Returns
    -------
    dict
        ``{"overall": {metric: (lo, hi)}, "bins": {bin: (lo, hi)}, "bins_macro_f1": {bin: (lo, hi)},
        "notes": {metric: text}}``.
    """
    _check_resamples(n_resamples, ci)
    sch = parse_bins(scheme)
    support = state.support
    masks = _bin_masks(classes, sch, support)
    dist = bootstrap_bin_accuracy(state.tp, support, masks, n_resamples, seed)
    res = {"overall": {}, "bins": {}, "bins_macro_f1": {}, "notes": {}}
    est = estimates or {}

    def q(vals, scope, key, label):
        lo, hi = _quantiles(vals, ci) if np.isfinite(vals).any() else (np.nan, np.nan)
        e = est.get(scope, {}).get(key)
        if e is not None and not _covers(e, float(lo), float(hi)):
            res["notes"][label] = _why_not(label, float(e), np.asarray(vals, dtype=np.float64), ci)
            return float("nan"), float("nan")
        return float(lo), float(hi)

    for key, vals in dist.items():
        scope = "overall" if key in ("accuracy", "balanced_accuracy") else "bins"
        res[scope][key] = q(vals, scope, key, key if scope == "overall" else f"accuracy:{key}")
    if f1:
        for key, vals in bootstrap_confusion(state, classes, sch, n_resamples, seed).items():
            if key.startswith("macro_f1:"):
                b = key.split(":", 1)[1]
                res["bins_macro_f1"][b] = q(vals, "bins_macro_f1", b, key)
            else:
                res["overall"][key] = q(vals, "overall", key, key)
    return res


@dataclass
class PairedState:
    """Mergeable paired counts of two runs on the same samples.

    ``counts[c, 2 * a_correct + b_correct]`` = samples of class c with that outcome, shape (C, 4).
    """

    counts: np.ndarray

    @classmethod
    def empty(cls, n_classes: int) -> "PairedState":
        return cls(np.zeros((int(n_classes), 4), np.int64))

    def update(self, y_true, pred_a, pred_b) -> "PairedState":
        """Add a shard; returns a new state."""
        c = self.counts.shape[0]
        y = _check_labels(y_true, c, "y_true")
        a = _check_labels(pred_a, c, "pred_a")
        b = _check_labels(pred_b, c, "pred_b")
        if not len(y) == len(a) == len(b):
            raise InputError(f"paired runs need the same samples: {len(y)} labels, {len(a)} and {len(b)} "
                             "predictions", field="predictions")
        code = 2 * (a == y).astype(np.int64) + (b == y)
        return PairedState(self.counts + np.bincount(y * 4 + code, minlength=4 * c).reshape(c, 4))

    def merge(self, other: "PairedState") -> "PairedState":
        if other.counts.shape != self.counts.shape:
            raise InputError("cannot merge paired states of different class counts")
        return PairedState(self.counts + other.counts)


@dataclass
class PairedBootstrap:
    """Difference b - a of two runs with paired bootstrap CIs.

    ``table`` is indexed by ``accuracy``, ``balanced_accuracy`` and then the bin names (head first),
    with columns ``scope`` (overall / bin), ``a``, ``b``, ``delta``, ``ci_low``, ``ci_high``,
    ``significant`` (the interval excludes 0), ``n_classes``, ``n_samples``.
    """

    table: pd.DataFrame
    n_resamples: int
    seed: int
    ci: float
    state: PairedState


def paired_bootstrap(y_true, pred_a, pred_b, classes: ClassTable, scheme: str | BinScheme,
                     n_resamples: int = 1000, seed: int = 0, ci: float = 0.95,
                     state: PairedState | None = None) -> PairedBootstrap:
    """Paired bootstrap of the difference (b - a) overall and per bin.

    The same resample of test samples (within each class) is applied to both runs, so shared
    easy / hard samples cancel out. Differences of mean per-class recall (the bin accuracies) and
    of overall / balanced accuracy.

    Parameters
    ----------
    y_true, pred_a, pred_b : array (N,) int
        True classes and the two runs' predicted classes on the same samples.
    classes : ClassTable
    scheme : str or BinScheme
    n_resamples : int
    seed : int
    ci : float
    state : PairedState, optional
        Use these (e.g. merged) counts instead of the three arrays (pass None for them).

    Returns
    -------
    PairedBootstrap
    """
    _check_resamples(n_resamples, ci)
    sch = parse_bins(scheme)
    c = classes.n_classes
    if state is None:
        state = PairedState.empty(c).update(y_true, pred_a, pred_b)
    cnt = state.counts
    support = cnt.sum(axis=1)
    has = support > 0
    idx = np.flatnonzero(has)
    n = support[idx]
    rng = np.random.default_rng(seed)
    # Multinomial(n_c; p0, p1, p2, p3) drawn as: discordant k ~ Binomial(n_c, p1 + p2), then
    # n1 ~ Binomial(k, p1 / (p1 + p2)); delta correct (b - a) = n1 - n2 = 2 n1 - k. Classes where
    # the runs always agree have delta 0 in every resample and need no draws.
    disc = cnt[idx, 1] + cnt[idx, 2]
    d_correct = np.zeros((int(n_resamples), len(idx)), np.int64)
    dj = np.flatnonzero(disc > 0)
    if len(dj):
        k = rng.binomial(n[dj][None, :], (disc[dj] / n[dj])[None, :], size=(int(n_resamples), len(dj)))
        n1 = rng.binomial(k, (cnt[idx[dj], 1] / disc[dj])[None, :])
        d_correct[:, dj] = 2 * n1 - k
    d_recall = d_correct / n[None, :]
    rec_a = (cnt[:, 2] + cnt[:, 3]) / np.maximum(support, 1)
    rec_b = (cnt[:, 1] + cnt[:, 3]) / np.maximum(support, 1)
    total = support.sum()
    rows = []

    def add(name, scope, a, b, dist, ncls, nsamp):
        lo, hi = _quantiles(dist, ci) if len(dist) and np.isfinite(dist).any() else (np.nan, np.nan)
        rows.append({"name": name, "scope": scope, "a": a, "b": b, "delta": b - a, "ci_low": float(lo),
                     "ci_high": float(hi), "significant": bool(lo > 0 or hi < 0), "n_classes": int(ncls),
                     "n_samples": int(nsamp)})

    nan = np.full(int(n_resamples), np.nan)
    add("accuracy", "overall", float((cnt[:, 2] + cnt[:, 3]).sum() / total) if total else np.nan,
        float((cnt[:, 1] + cnt[:, 3]).sum() / total) if total else np.nan,
        d_correct.sum(axis=1) / total if total else nan, has.sum(), total)
    add("balanced_accuracy", "overall", float(rec_a[has].mean()) if has.any() else np.nan,
        float(rec_b[has].mean()) if has.any() else np.nan,
        d_recall.mean(axis=1) if len(idx) else nan, has.sum(), total)
    pos = np.full(c, -1)
    pos[idx] = np.arange(len(idx))
    for name, m in _bin_masks(classes, sch, support).items():
        cols = pos[m]
        add(name, "bin", float(rec_a[m].mean()) if m.any() else np.nan,
            float(rec_b[m].mean()) if m.any() else np.nan,
            d_recall[:, cols].mean(axis=1) if len(cols) else nan, m.sum(), support[m].sum())
    table = pd.DataFrame(rows).set_index("name")
    return PairedBootstrap(table, int(n_resamples), int(seed), float(ci), state)
