"""Multi-label metrics equal scikit-learn (average_precision_score, roc_auc_score, f1_score with each
average, hamming_loss) to 1e-12 on random data (ties included) and on the real GoEmotions test split,
overall and per bin; shards merged give exactly the whole; the bootstrap is the bootstrap."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import (average_precision_score, f1_score, hamming_loss, precision_score, recall_score,
                             roc_auc_score)

from lt_core.data import ClassTable, load_multilabel_demo
from lt_core.distribution import cooccurrence_state
from lt_core.metrics import (MultiLabelCounts, RankState, decisions, ml_tail_confusions, multilabel_report,
                             multilabel_report_from_states, paired_bootstrap_multilabel)
from lt_core.metrics.multilabel import _bin_codes
from lt_core.metrics.multilabel_bootstrap import _ClassAP, bootstrap_distributions, resample_weights

TOL = 1e-12
AVERAGES = ("micro", "macro", "weighted", "samples")


def _random(seed: int, n: int = 1500, c: int = 17, ties: int | None = 1, dtype=np.float32):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.005, 0.45, c)
    p[0] = 0.0  # a class without positives
    Y = rng.random((n, c)) < p
    Y[:, 1] = True if seed % 2 else Y[:, 1]  # sometimes a class with no negatives
    S = rng.normal(size=(n, c)) + 1.5 * Y
    if ties is not None:
        S = np.round(S, ties)  # many tied scores
    return Y, S.astype(dtype)


def _classes(Y, seed=0):
    c = Y.shape[1]
    rng = np.random.default_rng(seed)
    return ClassTable(np.arange(c), [f"c{i}" for i in range(c)], rng.integers(1, 2000, c))


def _sk(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


@pytest.mark.parametrize("seed,ties,dtype", [(0, 1, np.float32), (1, 2, np.float32), (2, None, np.float32),
                                              (3, 0, np.float64), (4, None, np.float64)])
def test_ap_and_roc_auc_per_class_equal_sklearn(seed, ties, dtype):
    Y, S = _random(seed, ties=ties, dtype=dtype)
    ap, auc = RankState.empty(Y.shape[1]).update(Y, S).per_class()
    has = Y.any(0)
    np.testing.assert_allclose(ap[has], _sk(average_precision_score, Y[:, has], S[:, has], average=None), atol=TOL)
    defined = has & ~Y.all(0)
    np.testing.assert_allclose(auc[defined], _sk(roc_auc_score, Y[:, defined], S[:, defined], average=None), atol=TOL)
    assert np.isnan(ap[~has]).all() and np.isnan(auc[~defined]).all()


@pytest.mark.parametrize("seed", [0, 1, 5])
@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_report_equals_sklearn_overall_and_per_bin(seed, threshold):
    Y, S = _random(seed)
    P = 1.0 / (1.0 + np.exp(-S.astype(np.float64)))
    classes = _classes(Y, seed)
    rep = multilabel_report(Y, P, classes, "quantile:3", threshold=threshold)
    D = P >= threshold
    o = rep.overall
    for avg in AVERAGES:
        assert abs(o[f"{avg}_f1"] - _sk(f1_score, Y, D, average=avg, zero_division=0)) < TOL, avg
    assert abs(o["macro_precision"] - _sk(precision_score, Y, D, average="macro", zero_division=0)) < TOL
    assert abs(o["micro_recall"] - _sk(recall_score, Y, D, average="micro", zero_division=0)) < TOL
    assert abs(o["hamming_loss"] - hamming_loss(Y, D)) < TOL
    has = Y.any(0)
    assert abs(o["mAP"] - _sk(average_precision_score, Y[:, has], P[:, has], average="macro")) < TOL
    assert abs(o["ap_macro_sklearn"] - _sk(average_precision_score, Y, P, average="macro")) < TOL
    pc = rep.per_class
    np.testing.assert_allclose(pc["f1"], _sk(f1_score, Y, D, average=None, zero_division=0), atol=TOL)
    np.testing.assert_allclose(pc["precision"], _sk(precision_score, Y, D, average=None, zero_division=0), atol=TOL)
    np.testing.assert_allclose(pc["recall"], _sk(recall_score, Y, D, average=None, zero_division=0), atol=TOL)
    bins = classes.bins("quantile:3")
    for name, row in rep.bins.iterrows():
        m = bins == name
        for avg in ("macro", "micro", "samples"):
            assert abs(row[f"{avg}_f1"] - _sk(f1_score, Y[:, m], D[:, m], average=avg, zero_division=0)) < TOL
        mh = m & has
        assert abs(row["mAP"] - _sk(average_precision_score, Y[:, mh], P[:, mh], average="macro")) < TOL
        assert row["n_classes"] == mh.sum() and row["n_positives"] == Y[:, m].sum()


def test_logit_scores_decide_as_their_sigmoid_and_rank_as_given():
    Y, S = _random(7, ties=None)
    classes = _classes(Y)
    rep_z = multilabel_report(Y, S, classes, "quantile:3", kind="logits", threshold=0.7)
    D = S.astype(np.float64) >= np.log(0.7 / 0.3)
    assert abs(rep_z.overall["macro_f1"] - _sk(f1_score, Y, D, average="macro", zero_division=0)) < TOL
    has = Y.any(0)
    assert abs(rep_z.overall["mAP"] - _sk(average_precision_score, Y[:, has], S[:, has], average="macro")) < TOL
    # per-class thresholds, one global threshold, and zero_division=1 (sklearn's samples average)
    t = np.linspace(0.2, 0.8, Y.shape[1])
    rep_t = multilabel_report(Y, S, classes, "quantile:3", kind="logits", threshold=t)
    Dt = decisions(S, t, "logits")
    assert abs(rep_t.overall["samples_f1"] - _sk(f1_score, Y, Dt, average="samples", zero_division=0)) < TOL
    Y0 = Y.copy()
    Y0[:30] = False
    rep_1 = multilabel_report(Y0, S, classes, "quantile:3", kind="logits", threshold=0.99, zero_division=1.0)
    D1 = decisions(S, 0.99, "logits")
    assert abs(rep_1.overall["samples_f1"] - _sk(f1_score, Y0, D1, average="samples", zero_division=1.0)) < TOL


def test_goemotions_test_split_equals_sklearn():
    ds = load_multilabel_demo()
    Y = ds.labels["test"].dense()
    Z = ds.runs["one-vs-rest"].preds["test"].scores
    P = ds.runs["one-vs-rest"].preds["test"].label_probabilities()
    rep = multilabel_report(ds.labels["test"], P, ds.classes, "quantile:3")
    D = P >= 0.5
    np.testing.assert_allclose(rep.per_class["ap"], average_precision_score(Y, P, average=None), atol=TOL)
    np.testing.assert_allclose(rep.per_class["roc_auc"], roc_auc_score(Y, P, average=None), atol=TOL)
    for avg in AVERAGES:
        assert abs(rep.overall[f"{avg}_f1"] - f1_score(Y, D, average=avg, zero_division=0)) < TOL
    assert abs(rep.overall["hamming_loss"] - hamming_loss(Y, D)) < TOL
    assert abs(rep.overall["mAP"] - average_precision_score(Y, P, average="macro")) < TOL
    # the logits rank without the float32 sigmoid's saturation ties: AP of the logits equals sklearn on the logits
    ap_z, auc_z = RankState.empty(28).update(Y, Z).per_class()
    np.testing.assert_allclose(ap_z, average_precision_score(Y, Z, average=None), atol=TOL)
    np.testing.assert_allclose(auc_z, roc_auc_score(Y, Z, average=None), atol=TOL)
    bins = ds.classes.bins("quantile:3")
    for name, row in rep.bins.iterrows():
        m = bins == name
        assert abs(row["mAP"] - average_precision_score(Y[:, m], P[:, m], average="macro")) < TOL
        assert abs(row["macro_f1"] - f1_score(Y[:, m], D[:, m], average="macro", zero_division=0)) < TOL


@pytest.mark.parametrize("n_shards", [2, 3, 7])
def test_shards_merged_give_exactly_the_whole(n_shards):
    Y, S = _random(11, n=2000, ties=1)
    classes = _classes(Y)
    _, _, code = _bin_codes(classes, classes_scheme := "quantile:3")
    D = S >= 0.5
    whole_r = RankState.empty(Y.shape[1]).update(Y, S)
    whole_c = MultiLabelCounts.empty(Y.shape[1], code).update(Y, D)
    parts = np.array_split(np.random.default_rng(0).permutation(len(Y)), n_shards)
    rs = [RankState.empty(Y.shape[1]).update(Y[p], S[p]) for p in parts]
    cs = [MultiLabelCounts.empty(Y.shape[1], code).update(Y[p], D[p]) for p in parts]
    r, c = rs[0], cs[0]
    for a, b in zip(rs[1:], cs[1:]):
        r, c = r.merge(a), c.merge(b)
    ap_w, auc_w = whole_r.per_class()
    ap_m, auc_m = r.per_class()
    assert np.array_equal(ap_w, ap_m, equal_nan=True) and np.array_equal(auc_w, auc_m, equal_nan=True)
    for k in ("tp", "fp", "fn", "sample_pairs", "sample_counts"):
        assert np.array_equal(getattr(whole_c, k), getattr(c, k)), k
    rep_w = multilabel_report_from_states(whole_r, whole_c, classes, classes_scheme)
    rep_m = multilabel_report_from_states(r, c, classes, classes_scheme)
    assert rep_w.overall == rep_m.overall
    # shards may be merged in any order and updated on top of each other
    r2 = RankState.empty(Y.shape[1])
    for p in parts[::-1]:
        r2 = r2.update(Y[p], S[p])
    assert np.array_equal(r2.per_class()[0], ap_w, equal_nan=True)


def test_micro_ap_equals_sklearn():
    from lt_core.metrics import micro_average_precision

    Y, S = _random(3, ties=1)
    st = RankState.empty(Y.shape[1]).update(Y, S)
    assert abs(micro_average_precision(st) - average_precision_score(Y, S, average="micro")) < TOL


def test_nan_scores_and_bad_shapes_are_input_errors():
    from lt_core.errors import InputError

    Y, S = _random(0, n=50)
    S = S.copy()
    S[3, 2] = np.nan
    with pytest.raises(InputError, match="NaN"):
        RankState.empty(Y.shape[1]).update(Y, S)
    with pytest.raises(InputError):
        multilabel_report(Y[:, :-1], S, _classes(Y), "quantile:3")


# ---------------------------------------------------------------- bootstrap
def test_resampled_ap_equals_sklearn_on_the_duplicated_rows():
    Y, S = _random(2, n=400, ties=1)
    W = next(resample_weights(len(Y), 5, seed=3))
    for c in range(2, 8):
        ap = _ClassAP(Y[:, c], S[:, c])(W)
        for b in range(len(W)):
            rows = np.repeat(np.arange(len(Y)), W[b])
            want = _sk(average_precision_score, Y[rows, c], S[rows, c]) if Y[rows, c].any() else np.nan
            assert np.allclose(ap[b], want, atol=TOL, equal_nan=True)


def test_resampled_f1s_equal_sklearn_on_the_duplicated_rows():
    Y, S = _random(4, n=300, ties=1)
    classes = _classes(Y)
    D = S >= 0.5
    dist = bootstrap_distributions(Y, {"r": (S, D)}, classes, "quantile:3", n_resamples=3, seed=9)["r"]
    W = next(resample_weights(len(Y), 3, seed=9))
    bins = classes.bins("quantile:3")
    for b in range(3):
        rows = np.repeat(np.arange(len(Y)), W[b])
        for avg in ("macro", "micro", "samples"):
            assert abs(dist[f"{avg}_f1"][b] - _sk(f1_score, Y[rows], D[rows], average=avg, zero_division=0)) < TOL
        m = bins == "tail"
        assert abs(dist["macro_f1:tail"][b] - _sk(f1_score, Y[rows][:, m], D[rows][:, m], average="macro",
                                                  zero_division=0)) < TOL


def test_bootstrap_cis_are_seeded_and_cover_the_point():
    Y, S = _random(5, n=800)
    classes = _classes(Y)
    a = multilabel_report(Y, S, classes, "quantile:3", kind="logits", bootstrap=200, seed=1)
    b = multilabel_report(Y, S, classes, "quantile:3", kind="logits", bootstrap=200, seed=1)
    c = multilabel_report(Y, S, classes, "quantile:3", kind="logits", bootstrap=200, seed=2)
    assert a.bins[["ci_low", "ci_high"]].equals(b.bins[["ci_low", "ci_high"]])
    assert not a.bins[["ci_low", "ci_high"]].equals(c.bins[["ci_low", "ci_high"]])
    o = a.overall
    assert o["macro_f1_ci_low"] <= o["macro_f1"] <= o["macro_f1_ci_high"]
    assert (a.bins["macro_f1_ci_low"] <= a.bins["macro_f1"]).all()


def test_paired_bootstrap_of_a_run_with_itself_is_zero_and_a_real_gain_is_significant():
    ds = load_multilabel_demo()
    Y = ds.labels["test"].dense()
    P = ds.runs["one-vs-rest"].preds["test"].label_probabilities()
    same = paired_bootstrap_multilabel(Y, (P, P >= 0.5), (P, P >= 0.5), ds.classes, "quantile:3", 100, 0)
    assert (same["delta"] == 0).all() and (same["ci_low"] == 0).all() and not same["significant"].any()
    better = paired_bootstrap_multilabel(Y, (P, P >= 0.5), (P, P >= 0.25), ds.classes, "quantile:3", 200, 0)
    assert better.loc["macro_f1", "significant"] and better.loc["macro_f1", "delta"] > 0
    assert better.loc["mAP", "delta"] == 0   # the ranking is the same


# ---------------------------------------------------------------- label statistics
def test_cooccurrence_and_tail_confusions_against_numpy():
    Y, S = _random(6, n=600)
    classes = _classes(Y)
    st = cooccurrence_state(Y, classes, "quantile:3")
    assert np.array_equal(st.counts, Y.T.astype(np.int64) @ Y.astype(np.int64))
    D = S >= 0.5
    tc = ml_tail_confusions(Y, D, classes, "quantile:3", k=2)
    bins = classes.bins("quantile:3")
    for r in tc[tc["rank"] > 0].itertuples(index=False):
        t, j = int(r.class_id), int(r.predicted_id)
        assert r.count == int((Y[:, t] & ~D[:, t] & D[:, j]).sum())
        assert bins[t] == "tail"
