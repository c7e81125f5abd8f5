"""Classification metrics agree with scikit-learn / imbalanced-learn; states merge exactly."""
from __future__ import annotations

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score,
                             precision_recall_fscore_support, top_k_accuracy_score)

from lt_core.data.schema import ClassTable
from lt_core.errors import InputError
from lt_core.metrics import (ConfusionState, bin_accuracy, classification_report, merge, paired_bootstrap,
                             report_from_state, summarize_scores, update)


def _data(seed=0, n=3000, c=40, absent=(7, 33), logits=True):
    rng = np.random.default_rng(seed)
    train = np.maximum(1, (800 * np.exp(-np.arange(c) / 6))).astype(int)
    train[5] = 0  # a class with no training data
    classes = ClassTable(np.arange(100, 100 + c), [f"class {i}" for i in range(c)], train)
    y = rng.integers(0, c, n)
    for a in absent:  # classes without test samples (still predicted sometimes)
        y[y == a] = 0
    skill = 1.5 + 2.0 * np.log1p(train) / np.log1p(train.max())  # accuracy grows with train count
    S = rng.standard_normal((n, c)).astype(np.float32)
    S[np.arange(n), y] += skill[y].astype(np.float32)
    if not logits:
        S = np.exp(S - S.max(1, keepdims=True))
        S = (S / S.sum(1, keepdims=True)).astype(np.float32)
    return classes, y, S


def _ece_reference(probs: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    """Guo et al. 2017 (gpleiss/temperature_scaling `_ECELoss`), in NumPy."""
    conf = probs.max(1)
    acc = probs.argmax(1) == y
    edges = np.linspace(0, 1, n_bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.mean() > 0:
            ece += abs(conf[m].mean() - acc[m].mean()) * m.mean()
    return ece


def _softmax(S):
    z = np.exp(S - S.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


@pytest.mark.parametrize("logits", [True, False])
def test_matches_sklearn_and_imblearn(logits):
    classes, y, S = _data(logits=logits)
    c = classes.n_classes
    rep = classification_report(y, None, classes, "imagenet-lt", scores=S)
    p = S.argmax(1)
    labels = np.arange(c)
    pr, rc, f1, sup = precision_recall_fscore_support(y, p, labels=labels, zero_division=0)
    pc = rep.per_class
    np.testing.assert_allclose(pc["precision"], pr, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pc["recall"], rc, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pc["f1"], f1, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(pc["support"], sup)
    np.testing.assert_array_equal(rep.state.confusion, confusion_matrix(y, p, labels=labels))
    o = rep.overall
    assert o["accuracy"] == pytest.approx(accuracy_score(y, p), abs=1e-12)
    with pytest.warns(UserWarning):  # sklearn warns: predicted classes 7, 33 are not in y_true
        ba = balanced_accuracy_score(y, p)
    assert o["balanced_accuracy"] == pytest.approx(ba, abs=1e-12)
    assert o["macro_f1"] == pytest.approx(f1_score(y, p, average="macro", zero_division=0), abs=1e-12)
    assert o["gmean"] == pytest.approx(geometric_mean_score(y, p), abs=1e-12)
    for k in (1, 5):
        ref = top_k_accuracy_score(y, S, k=k, labels=labels)
        assert o[f"top{k}"] == pytest.approx(ref, abs=1e-12)
    probs = S if not logits else _softmax(S.astype(np.float64))
    assert o["ece"] == pytest.approx(_ece_reference(probs, y), abs=1e-6)
    # per-class top-5 = sklearn on the class's samples
    for j in (0, 3, 20):
        m = y == j
        assert pc["top5"][j] == pytest.approx(top_k_accuracy_score(y[m], S[m], k=5, labels=labels), abs=1e-12)


def test_gmean_positive_case_and_known_values():
    classes = ClassTable(np.arange(3), ["a", "b", "c"], [200, 30, 5])
    y = np.array([0, 1, 2, 0, 1, 2, 0])
    p = np.array([0, 1, 2, 0, 0, 2, 1])
    rep = classification_report(y, p, classes, "imagenet-lt")
    assert rep.overall["gmean"] == pytest.approx(geometric_mean_score(y, p), abs=1e-12)
    assert rep.overall["gmean"] > 0
    assert np.isnan(rep.overall["ece"])  # no scores, no calibration
    assert rep.bins.loc["many", "accuracy"] == pytest.approx(2 / 3)


def test_top_k_ties_follow_sklearn():
    rng = np.random.default_rng(3)
    n, c = 600, 12
    y = rng.integers(0, c, n)
    S = rng.integers(0, 4, size=(n, c)).astype(np.float32)  # many exact ties
    summ = summarize_scores(S, y, "probs", max_k=6)
    for k in (1, 2, 3, 5):
        assert np.mean(summ.rank < k) == pytest.approx(top_k_accuracy_score(y, S, k=k, labels=np.arange(c)))
    np.testing.assert_array_equal(summ.pred, S.argmax(1))


def test_shards_merge_exactly():
    classes, y, S = _data(seed=1)
    c = classes.n_classes
    full = classification_report(y, None, classes, "lvis", scores=S)
    parts = np.array_split(np.random.default_rng(0).permutation(len(y)), 4)
    states = [update(ConfusionState.empty(c, with_scores=True), y[i], scores=S[i], kind="logits") for i in parts]
    merged = merge(merge(states[0], states[1]), merge(states[2], states[3]))
    rep = report_from_state(merged, classes, "lvis")
    for a, b in [(full.state.confusion, merged.confusion), (full.state.rank_hist, merged.rank_hist),
                 (full.state.cal_conf, merged.cal_conf), (full.state.cal_count, merged.cal_count)]:
        np.testing.assert_array_equal(a, b)
    assert rep.overall == full.overall  # exactly equal, not approximately
    assert rep.bins.equals(full.bins)
    assert rep.per_class.equals(full.per_class)


def test_bins_are_mean_per_class_recall_and_bin_accuracy_agrees():
    classes, y, S = _data(seed=2)
    p = S.argmax(1)
    rep = classification_report(y, p, classes, "imagenet-lt")
    pc = rep.per_class
    fast = bin_accuracy(y, p, classes.train_count, "imagenet-lt")
    assert list(fast) == list(rep.bins.index)
    assert list(rep.bins.index) == ["many", "medium", "few", "no training data"]
    for name, acc in fast.items():
        sel = (pc["bin"] == name) & (pc["support"] > 0)
        assert acc == pytest.approx(pc.loc[sel, "recall"].mean(), abs=1e-12)
        assert rep.bins.loc[name, "accuracy"] == pytest.approx(acc, abs=1e-12)
        assert rep.bins.loc[name, "n_samples"] == pc.loc[pc["bin"] == name, "support"].sum()
    # macro-F1 of a bin = sklearn's macro F1 restricted to that bin's classes (present ones)
    many = np.flatnonzero(classes.bins("imagenet-lt") == "many")
    assert rep.bins.loc["many", "macro_f1"] == pytest.approx(
        f1_score(y, p, labels=many, average="macro", zero_division=0), abs=1e-12)


def test_to_dict_is_the_eval_cls_contract():
    classes, y, S = _data(seed=4, n=800)
    d = classification_report(y, None, classes, "quantile:3", scores=S, bootstrap=50, seed=1).to_dict()
    assert set(d) == {"overall", "bins", "per_class"}
    assert set(d["overall"]) == {"accuracy", "balanced_accuracy", "macro_f1", "gmean", "ece"}
    for b in d["bins"].values():
        assert set(b) == {"accuracy", "n_classes", "n_samples", "ci_low", "ci_high"}
        assert b["ci_low"] <= b["accuracy"] <= b["ci_high"]
    row = d["per_class"][0]
    assert set(row) == {"class_id", "name", "train_count", "bin", "support", "precision", "recall", "f1"}
    assert row["class_id"] == 100 and row["name"] == "class 0"
    assert d["per_class"][5]["bin"] == "no training data"


def test_bootstrap_matches_resampling_sample_indices():
    """The binomial shortcut has the distribution of resampling samples within each class."""
    classes, y, S = _data(seed=5, n=1500, c=20, absent=())
    p = S.argmax(1)
    rep = classification_report(y, p, classes, "quantile:3", bootstrap=2000, seed=0)
    rng = np.random.default_rng(1)
    idx_by_class = [np.flatnonzero(y == j) for j in range(classes.n_classes)]
    tail = classes.bins("quantile:3") == "tail"
    vals = []
    for _ in range(2000):
        rec = []
        for j in np.flatnonzero(tail):
            ii = rng.choice(idx_by_class[j], size=len(idx_by_class[j]), replace=True)
            rec.append(np.mean(p[ii] == j))
        vals.append(np.mean(rec))
    lo, hi = np.quantile(vals, [0.025, 0.975])
    assert rep.bins.loc["tail", "ci_low"] == pytest.approx(lo, abs=0.012)
    assert rep.bins.loc["tail", "ci_high"] == pytest.approx(hi, abs=0.012)
    # seeded: same seed, same interval; another seed, another one
    again = classification_report(y, p, classes, "quantile:3", bootstrap=2000, seed=0)
    other = classification_report(y, p, classes, "quantile:3", bootstrap=2000, seed=7)
    assert again.bins["ci_low"].equals(rep.bins["ci_low"])
    assert not other.bins["ci_low"].equals(rep.bins["ci_low"])


def test_paired_bootstrap():
    classes, y, S = _data(seed=6, n=2000, c=20, absent=())
    a = S.argmax(1)
    same = paired_bootstrap(y, a, a, classes, "imagenet-lt", n_resamples=200, seed=0).table
    assert (same["delta"] == 0).all() and (same["ci_low"] == 0).all() and (same["ci_high"] == 0).all()
    assert not same["significant"].any()
    rng = np.random.default_rng(0)
    b = np.where(rng.random(len(y)) < 0.3, y, a)  # b fixes 30% of the samples
    pb = paired_bootstrap(y, a, b, classes, "imagenet-lt", n_resamples=1000, seed=0).table
    assert pb.loc["accuracy", "delta"] == pytest.approx(np.mean(b == y) - np.mean(a == y))
    assert pb.loc["accuracy", "significant"] and pb.loc["accuracy", "ci_low"] > 0
    ra = classification_report(y, a, classes, "imagenet-lt").bins["accuracy"]
    rb = classification_report(y, b, classes, "imagenet-lt").bins["accuracy"]
    for name in ra.index:
        assert pb.loc[name, "delta"] == pytest.approx(rb[name] - ra[name], abs=1e-12)
    # paired resampling of sample indices gives the same spread
    idx_by_class = [np.flatnonzero(y == j) for j in range(classes.n_classes)]
    diffs = []
    for _ in range(1000):
        ii = np.concatenate([rng.choice(ix, len(ix)) for ix in idx_by_class])
        diffs.append(np.mean(b[ii] == y[ii]) - np.mean(a[ii] == y[ii]))
    assert pb.loc["accuracy", "ci_low"] == pytest.approx(np.quantile(diffs, 0.025), abs=0.006)
    assert pb.loc["accuracy", "ci_high"] == pytest.approx(np.quantile(diffs, 0.975), abs=0.006)


def test_bad_input_is_an_input_error():
    classes, y, S = _data(seed=7, n=100)
    with pytest.raises(InputError, match="class indices"):
        classification_report(y, np.full(len(y), 999), classes, "imagenet-lt")
    with pytest.raises(InputError, match="shape"):
        classification_report(y, None, classes, "imagenet-lt", scores=S[:, :5])
    with pytest.raises(InputError, match="predictions"):
        classification_report(y, y[:-1], classes, "imagenet-lt")
    with pytest.raises(InputError, match="labels or scores"):
        classification_report(y, None, classes, "imagenet-lt")
    with pytest.raises(InputError):
        merge(ConfusionState.empty(3), ConfusionState.empty(4))


def test_macro_f1_and_gmean_intervals_match_index_resampling():
    classes, y, S = _data(seed=8, n=1200, c=15, absent=())
    p = S.argmax(1)
    rep = classification_report(y, p, classes, "quantile:3", bootstrap=2000, seed=0)
    fast = classification_report(y, p, classes, "quantile:3", bootstrap=2000, seed=0, bootstrap_f1=False)
    # the accuracy intervals do not depend on whether F1 intervals are drawn too
    assert fast.bins["ci_low"].equals(rep.bins["ci_low"]) and "macro_f1_ci_low" not in fast.overall
    rng = np.random.default_rng(2)
    idx_by_class = [np.flatnonzero(y == j) for j in range(classes.n_classes)]
    tail = np.flatnonzero(classes.bins("quantile:3") == "tail")
    mf, tf = [], []
    c = classes.n_classes
    for _ in range(1500):  # sklearn's f1_score on index resamples, from a confusion matrix for speed
        ii = np.concatenate([rng.choice(ix, len(ix)) for ix in idx_by_class])
        cm = confusion_matrix(y[ii], p[ii], labels=np.arange(c))
        f1 = 2 * np.diag(cm) / np.maximum(cm.sum(0) + cm.sum(1), 1)
        present = (cm.sum(0) + cm.sum(1)) > 0
        mf.append(f1[present].mean())
        tf.append(f1[tail][present[tail]].mean())
    # the shortcut above is sklearn's macro F1 (checked on the last resample)
    assert mf[-1] == pytest.approx(f1_score(y[ii], p[ii], average="macro", zero_division=0), abs=1e-12)
    assert tf[-1] == pytest.approx(f1_score(y[ii], p[ii], labels=tail, average="macro", zero_division=0), abs=1e-12)
    lo, hi = np.quantile(mf, [0.025, 0.975])
    assert rep.overall["macro_f1_ci_low"] == pytest.approx(lo, abs=0.01)
    assert rep.overall["macro_f1_ci_high"] == pytest.approx(hi, abs=0.01)
    lo, hi = np.quantile(tf, [0.025, 0.975])
    assert rep.bins.loc["tail", "macro_f1_ci_low"] == pytest.approx(lo, abs=0.015)
    assert rep.bins.loc["tail", "macro_f1_ci_high"] == pytest.approx(hi, abs=0.015)
    assert rep.overall["gmean_ci_low"] <= rep.overall["gmean"] <= rep.overall["gmean_ci_high"]


def test_ece_is_of_the_scores_even_with_other_predictions():
    classes, y, S = _data(seed=9, n=1500)
    other = np.roll(S.argmax(1), 1)  # a different decision rule
    rep = classification_report(y, other, classes, "imagenet-lt", scores=S)
    assert rep.overall["ece"] == pytest.approx(_ece_reference(_softmax(S.astype(np.float64)), y), abs=1e-6)
    assert rep.overall["accuracy"] == pytest.approx(np.mean(other == y))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_scores_are_refused(bad):
    classes, y, S = _data(seed=10, n=200)
    S[17, 3] = bad
    with pytest.raises(InputError, match="row 17"):
        classification_report(y, None, classes, "imagenet-lt", scores=S)
    P = _softmax(S.astype(np.float64))
    with pytest.raises(InputError, match="row 17"):
        classification_report(y, None, classes, "imagenet-lt", scores=np.where(np.isfinite(S), P, bad), kind="probs")
