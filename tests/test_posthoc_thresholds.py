"""Per-class thresholds against scikit-learn's precision-recall curve and metrics."""
import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_recall_curve, precision_score, recall_score

from lt_core.errors import InputError
from lt_core.posthoc import (ThresholdCounts, apply_thresholds, binary_threshold, one_hot, predict_with_bias,
                             threshold_counts, tune_thresholds)


@pytest.fixture(scope="module")
def multilabel():
    rng = np.random.default_rng(0)
    N, C = 1500, 9
    rate = np.linspace(0.4, 0.01, C)                       # long-tailed label frequencies
    Y = rng.random((N, C)) < rate
    S = np.clip(Y * rng.normal(0.6, 0.2, (N, C)) + ~Y * rng.normal(0.35, 0.2, (N, C)), 0, 1)
    S = np.round(S, 2)                                     # many tied scores
    return Y, S


def _sk_points(y, s):
    p, r, t = precision_recall_curve(y, s)
    return p[:-1], r[:-1], t                               # drop the (1, 0) end point without threshold


def test_f1_thresholds_match_sklearn_curve(multilabel):
    Y, S = multilabel
    res = tune_thresholds(Y, S, "f1")
    for c in range(Y.shape[1]):
        p, r, t = _sk_points(Y[:, c], S[:, c])
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(p + r > 0, 2 * p * r / (p + r), 0)
        assert res.f1[c] == pytest.approx(f.max(), abs=1e-12)
        best = t[np.isclose(f, f.max(), rtol=0, atol=1e-12)]
        assert res.thresholds[c] == best.max()             # highest threshold among the best
        pred = S[:, c] >= res.thresholds[c]
        assert res.f1[c] == pytest.approx(f1_score(Y[:, c], pred), abs=1e-12)
        assert res.precision[c] == pytest.approx(precision_score(Y[:, c], pred), abs=1e-12)
        assert res.recall[c] == pytest.approx(recall_score(Y[:, c], pred), abs=1e-12)


@pytest.mark.parametrize("target", [0.5, 0.7, 0.9])
def test_precision_and_recall_targets_match_sklearn_curve(multilabel, target):
    Y, S = multilabel
    rp = tune_thresholds(Y, S, "precision", target)
    rr = tune_thresholds(Y, S, "recall", target)
    for c in range(Y.shape[1]):
        p, r, t = _sk_points(Y[:, c], S[:, c])
        ok = p >= target
        if ok.any():
            assert rp.reached[c]
            assert rp.recall[c] == pytest.approx(r[ok].max(), abs=1e-12)
            assert rp.thresholds[c] == t[ok & np.isclose(r, r[ok].max(), rtol=0, atol=1e-12)].max()
            assert precision_score(Y[:, c], S[:, c] >= rp.thresholds[c]) >= target
        else:
            assert not rp.reached[c] and rp.precision[c] == pytest.approx(p.max())
        okr = r >= target
        assert rr.reached[c] and rr.thresholds[c] == t[okr].max()
        assert recall_score(Y[:, c], S[:, c] >= rr.thresholds[c]) >= target
    per_class = np.linspace(0.3, 0.9, Y.shape[1])
    rpc = tune_thresholds(Y, S, "recall", per_class)
    np.testing.assert_array_equal(rpc.targets, per_class)
    assert (rpc.recall >= per_class - 1e-12).all()


def test_one_vs_rest_binary_and_bias_decisions():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 800)
    P = rng.dirichlet(np.ones(4), 800)
    P[np.arange(800), y] += 0.3
    res = tune_thresholds(y, P, "f1")
    np.testing.assert_array_equal(res.support, np.bincount(y, minlength=4))
    full = tune_thresholds(one_hot(y, 4), P, "f1")
    np.testing.assert_array_equal(res.thresholds, full.thresholds)
    np.testing.assert_array_equal(predict_with_bias(P, -res.thresholds), (P - res.thresholds).argmax(1))
    yb = (y == 2).astype(int)
    assert binary_threshold(yb, P[:, 2]) == res.thresholds[2]
    # a class without positives is never predicted
    r0 = tune_thresholds(np.zeros((10, 2), int), rng.random((10, 2)))
    assert np.isinf(r0.thresholds).all() and not apply_thresholds(rng.random((5, 2)), r0.thresholds).any()


def test_threshold_counts_merge_and_match_sklearn(multilabel):
    Y, S = multilabel
    thr = tune_thresholds(Y, S, "f1").thresholds
    whole = threshold_counts(Y, S, thr)
    a = threshold_counts(Y[:600], S[:600], thr)
    b = threshold_counts(Y[600:], S[600:], thr)
    m = a.merge(b)
    for f in ("tp", "fp", "fn"):
        np.testing.assert_array_equal(getattr(m, f), getattr(whole, f))
    df = m.compute()
    D = apply_thresholds(S, thr)
    np.testing.assert_allclose(df.f1, f1_score(Y, D, average=None), atol=1e-12)
    np.testing.assert_allclose(df.recall, recall_score(Y, D, average=None), atol=1e-12)
    assert isinstance(ThresholdCounts.empty(3).update(np.array([0, 2]), np.eye(3, dtype=bool)[:2]), ThresholdCounts)


def test_bad_input():
    with pytest.raises(InputError, match="target"):
        tune_thresholds(np.array([0, 1]), np.ones((2, 2)), "precision")
    with pytest.raises(InputError, match="objective"):
        tune_thresholds(np.array([0, 1]), np.ones((2, 2)), "auc")
    with pytest.raises(InputError, match="NaN"):
        tune_thresholds(np.array([0, 1]), np.array([[np.nan, 1], [0, 1]]))
    with pytest.raises(InputError, match="0/1"):
        tune_thresholds(np.array([[0, 2]]), np.ones((1, 2)))
