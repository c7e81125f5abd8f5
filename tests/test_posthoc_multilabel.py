"""Multi-label fixes tuned on val and applied to test: per-class thresholds and the sigmoid prior
correction, on the real GoEmotions demo (every comment) and against brute force with scikit-learn."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from lt_core.data import load_multilabel_demo
from lt_core.errors import InputError
from lt_core.metrics import decisions
from lt_core.posthoc import (DEFAULT_TAUS, apply_adjustment, as_logits, compare_decisions, prior_correction_spec,
                             prior_corrected, sigmoid_log_prior, threshold_decisions, thresholds_spec, tune_prior_tau,
                             tune_thresholds)


@pytest.fixture(scope="module")
def demo():
    ds = load_multilabel_demo()
    run = ds.runs["one-vs-rest"]
    return ds, ds.labels["val"].dense(), ds.labels["test"].dense(), run.preds["val"].scores, run.preds["test"].scores


def test_per_class_thresholds_tuned_on_val_raise_the_tail_on_test(demo):
    """The issue's acceptance claim: per-class thresholds tuned on GoEmotions val raise the test
    macro-F1 of the tail bin, with a paired bootstrap interval that excludes 0."""
    ds, Yv, Yt, Zv, Zt = demo
    res = tune_thresholds(Yv, Zv, "f1")
    D0 = decisions(Zt, 0.5, "logits")
    D1 = threshold_decisions(Zt, res.thresholds)
    table = compare_decisions(Yt, Zt, D0, D1, ds.classes, "quantile:3", n_resamples=300, seed=0).set_index("bin")
    tail = table.loc["tail"]
    assert tail["f1_after"] > tail["f1_before"] + 0.1 and tail["delta_ci_low"] > 0 and tail["significant"]
    bins = ds.classes.bins("quantile:3")
    m = bins == "tail"
    assert tail["f1_before"] == pytest.approx(f1_score(Yt[:, m], D0[:, m], average="macro", zero_division=0), abs=1e-12)
    assert tail["f1_after"] == pytest.approx(f1_score(Yt[:, m], D1[:, m], average="macro", zero_division=0), abs=1e-12)
    # on the tuning split every class's F1 is the best of its precision-recall curve
    Dv = threshold_decisions(Zv, res.thresholds)
    np.testing.assert_allclose(res.f1, f1_score(Yv, Dv, average=None, zero_division=0), atol=1e-12)


def test_prior_correction_tau_is_the_best_of_the_sweep_on_val(demo):
    ds, Yv, Yt, Zv, Zt = demo
    n_train = len(ds.labels["train"])
    res = tune_prior_tau(Yv, Zv, "logits", ds.classes.train_count, n_train, ds.classes, "quantile:3", "macro_f1")
    lp = sigmoid_log_prior(ds.classes.train_count, n_train)
    brute = [f1_score(Yv, (Zv.astype(np.float64) - t * lp) >= 0, average="macro", zero_division=0) for t in DEFAULT_TAUS]
    assert res.tau == pytest.approx(float(DEFAULT_TAUS[int(np.argmax(brute))]))
    np.testing.assert_allclose(res.table["macro_f1"], brute, atol=1e-12)
    assert 0 < res.tau < 2
    D0 = decisions(Zt, 0.5, "logits")
    D1 = decisions(prior_corrected(Zt, lp, res.tau), 0.5, "logits")
    t = compare_decisions(Yt, Zt, D0, D1, ds.classes, "quantile:3", 200, 0).set_index("bin")
    assert t.loc["tail", "delta"] > 0.05 and t.loc["all", "delta"] > 0.05


def test_tail_objective_keeps_the_head_drop_bounded(demo):
    ds, Yv, _, Zv, _ = demo
    res = tune_prior_tau(Yv, Zv, "logits", ds.classes.train_count, len(ds.labels["train"]), ds.classes, "quantile:3",
                         "tail_macro_f1", max_head_drop=0.0)
    row = res.table[np.isclose(res.table["tau"], res.tau)].iloc[0]
    assert row["feasible"] and row["f1 head"] >= res.table.iloc[0]["f1 head"] - 1e-12


def test_log_prior_and_probability_inputs():
    lp = sigmoid_log_prior([1, 50, 99], 100)
    np.testing.assert_allclose(lp, np.log([0.01 / 0.99, 1.0, 0.99 / 0.01]))
    with pytest.raises(InputError, match="pseudo"):
        sigmoid_log_prior([0, 5], 10)
    assert np.isfinite(sigmoid_log_prior([0, 10], 10, pseudo_count=1)).all()
    p = np.array([[0.2, 0.9]])
    np.testing.assert_allclose(as_logits(p, "probs"), np.log(p / (1 - p)))


def test_exported_files_apply_in_two_lines(demo):
    ds, Yv, _, Zv, Zt = demo
    res = tune_thresholds(Yv, Zv, "f1")
    spec = thresholds_spec(res.thresholds, objective="f1")
    assert np.array_equal(apply_adjustment(spec, Zt), threshold_decisions(Zt, res.thresholds))
    n_train = len(ds.labels["train"])
    sp = prior_correction_spec(ds.classes.train_count, n_train, 0.55, threshold=0.5)
    lp = sigmoid_log_prior(ds.classes.train_count, n_train)
    want = decisions(prior_corrected(Zt, lp, 0.55), 0.5, "logits")
    assert np.array_equal(apply_adjustment(sp, Zt), want)
    assert sp["usage"][1] == 'pred = (logits + np.asarray(adj["offset"])) >= adj["logit_threshold"]'
