"""Epoch index generators and torch Samplers: definitions, exact expectations, seeds, imbalanced-learn counts."""
import numpy as np
import pytest
from imblearn.under_sampling import RandomUnderSampler as ImbUnder
from imblearn.over_sampling import RandomOverSampler as ImbOver

from lt_core.errors import InputError
from lt_core.rebalance import (STRATEGIES, class_sampling_probabilities, epoch_indices, expected_class_distribution,
                               expected_epoch_length, expected_sample_repeats)

COUNTS = np.array([400, 150, 60, 20, 7, 2, 0])
Y = np.random.default_rng(1).permutation(np.repeat(np.arange(7), COUNTS))
C = 7


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_same_seed_same_epoch_fresh_epochs_differ(strategy):
    kw = dict(num_epochs=10) if strategy == "progressive" else {}
    a = epoch_indices(Y, C, strategy, epoch=2, seed=5, **kw)
    b = epoch_indices(Y, C, strategy, epoch=2, seed=5, **kw)
    c = epoch_indices(Y, C, strategy, epoch=3, seed=5, **kw)
    d = epoch_indices(Y, C, strategy, epoch=2, seed=6, **kw)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.int64 and a.min() >= 0 and a.max() < len(Y)
    assert not np.array_equal(a, c) and not np.array_equal(a, d)
    assert (np.bincount(Y[a], minlength=C)[COUNTS == 0] == 0).all()  # empty classes never drawn


@pytest.mark.parametrize("strategy", ["class-balanced", "sqrt", "progressive", "rfs"])
def test_expected_distribution_is_exact_in_the_mean(strategy):
    """Average of many seeded epochs -> the exact expectation (within 5 standard errors)."""
    kw = dict(num_epochs=4, epoch=1) if strategy == "progressive" else {}
    if strategy == "rfs":
        kw = dict(threshold=0.05)
    E = expected_class_distribution(COUNTS, strategy, **kw)
    draws = np.stack([np.bincount(Y[epoch_indices(Y, C, strategy, seed=s, **kw)], minlength=C)
                      for s in range(300)])
    se = draws.std(axis=0, ddof=1) / np.sqrt(len(draws)) + 1e-9
    assert (np.abs(draws.mean(axis=0) - E) <= 5 * se + 1e-9).all()
    assert expected_epoch_length(COUNTS, strategy, **kw) == pytest.approx(E.sum())


def test_class_probabilities_follow_kang_et_al():
    n = COUNTS.astype(float)
    pos = n > 0
    np.testing.assert_allclose(class_sampling_probabilities(n, "class-balanced"), pos / pos.sum())
    np.testing.assert_allclose(class_sampling_probabilities(n, "sqrt"), np.sqrt(n) / np.sqrt(n).sum())
    p0 = class_sampling_probabilities(n, "progressive", epoch=0, num_epochs=10)
    pT = class_sampling_probabilities(n, "progressive", epoch=10, num_epochs=10)
    p5 = class_sampling_probabilities(n, "progressive", epoch=5, num_epochs=10)
    np.testing.assert_allclose(p0, n / n.sum())
    np.testing.assert_allclose(pT, pos / pos.sum())
    np.testing.assert_allclose(p5, 0.5 * p0 + 0.5 * pT)
    with pytest.raises(InputError):
        class_sampling_probabilities(n, "progressive")


def test_instance_is_a_permutation():
    idx = epoch_indices(Y, C, "instance", seed=0)
    np.testing.assert_array_equal(np.sort(idx), np.arange(len(Y)))


def test_label_shuffling_definition():
    idx = epoch_indices(Y, C, "label-shuffling", seed=3)
    M = COUNTS.max()
    got = np.bincount(Y[idx], minlength=C)
    np.testing.assert_array_equal(got, np.where(COUNTS > 0, M, 0))
    # permutation of length M modulo n_c: each sample of class c appears floor(M/n_c) or ceil(M/n_c) times
    reps = np.bincount(idx, minlength=len(Y))
    for c in np.flatnonzero(COUNTS):
        r = reps[Y == c]
        assert set(np.unique(r)) <= {M // COUNTS[c], -(-M // COUNTS[c])}
        assert r.sum() == M
    assert not np.array_equal(idx, epoch_indices(Y, C, "label-shuffling", seed=3, epoch=1))


def test_over_and_under_match_imbalanced_learn_counts():
    X = np.arange(len(Y))[:, None]
    present = COUNTS[COUNTS > 0]
    over = epoch_indices(Y, C, "over", seed=0)
    _, y_imb = ImbOver(random_state=0).fit_resample(X, Y)
    np.testing.assert_array_equal(np.bincount(Y[over], minlength=C), np.bincount(y_imb, minlength=C))
    assert set(np.arange(len(Y))) <= set(over.tolist())          # every original kept
    under = epoch_indices(Y, C, "under", seed=0)
    _, y_imb = ImbUnder(random_state=0).fit_resample(X, Y)
    np.testing.assert_array_equal(np.bincount(Y[under], minlength=C), np.bincount(y_imb, minlength=C))
    assert len(np.unique(under)) == len(under) == present.min() * len(present)  # without replacement
    # explicit targets
    np.testing.assert_array_equal(np.bincount(Y[epoch_indices(Y, C, "under", target=30)], minlength=C),
                                  np.minimum(COUNTS, 30))
    np.testing.assert_array_equal(np.bincount(Y[epoch_indices(Y, C, "over", target=100)], minlength=C),
                                  np.where(COUNTS > 0, np.maximum(COUNTS, 100), 0))


def test_rfs_classification_factors_and_rounding():
    t = 0.05
    f = COUNTS / COUNTS.sum()
    r = np.where(COUNTS > 0, np.maximum(1, np.sqrt(t / np.where(f > 0, f, 1))), 1)
    np.testing.assert_allclose(expected_sample_repeats(COUNTS, "rfs", threshold=t)[COUNTS > 0], r[COUNTS > 0])
    idx = epoch_indices(Y, C, "rfs", threshold=t, seed=0)
    reps = np.bincount(idx, minlength=len(Y))
    rs = r[Y]
    assert ((reps == np.floor(rs)) | (reps == np.ceil(rs))).all()  # stochastic rounding
    # per-sample factors override the class factors
    rf = np.ones(len(Y))
    rf[:5] = 3.0
    reps = np.bincount(epoch_indices(Y, C, "rfs", repeat_factors=rf), minlength=len(Y))
    assert (reps[:5] == 3).all() and (reps[5:] == 1).all()


def test_expected_sample_repeats_reports_rarest_class():
    rep = expected_sample_repeats(COUNTS, "class-balanced")
    assert rep[5] == pytest.approx(COUNTS.sum() / 6 / 2)
    assert np.isnan(rep[6])


@pytest.mark.parametrize("y, kw", [(np.array([0, 1, 5]), {"n_classes": 3}), (np.array([[0, 1]]), {}),
                                   (np.array([0.5, 1.0]), {}), (np.array([0, -1]), {}),
                                   (np.array([0, 1]), {"strategy": "focal"}),
                                   (np.array([0, 1]), {"strategy": "progressive"}),
                                   (np.array([0, 1]), {"strategy": "rfs", "threshold": 0}),
                                   (np.array([0, 1]), {"strategy": "under", "target": 0}),
                                   (np.array([0, 1]), {"seed": -1})])
def test_bad_input_is_input_error(y, kw):
    kw = {"n_classes": None, "strategy": "class-balanced", **kw}
    with pytest.raises(InputError):
        epoch_indices(y, kw.pop("n_classes"), kw.pop("strategy"), **kw)


def test_vectorised_on_imagenet_lt_size():
    """115,846 samples x 1000 classes (ImageNet-LT train): every strategy runs (speed lives in benchmarks/)."""
    import pandas as pd

    n = pd.read_csv("tests/data/imagenet_lt/ImageNet_LT_class_counts.csv")["train_count"].to_numpy()
    y = np.repeat(np.arange(1000), n)
    assert len(y) == 115_846
    for s in STRATEGIES:
        idx = epoch_indices(y, 1000, s, num_epochs=90, epoch=45)
        E = expected_class_distribution(n, s, num_epochs=90, epoch=45)
        if s in ("instance", "label-shuffling", "over", "under"):  # deterministic per-class counts
            np.testing.assert_array_equal(np.bincount(y[idx], minlength=1000), E)


def test_torch_samplers_wrap_the_generators():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, TensorDataset

    from lt_core.rebalance import (ClassBalancedSampler, LabelShufflingSampler, ProgressivelyBalancedSampler,
                                   RebalanceSampler, RepeatFactorSampler)

    s = ClassBalancedSampler(Y, C, seed=4)
    e0, e1 = list(s), list(s)  # the epoch advances after each pass
    np.testing.assert_array_equal(e0, epoch_indices(Y, C, "class-balanced", seed=4, epoch=0))
    np.testing.assert_array_equal(e1, epoch_indices(Y, C, "class-balanced", seed=4, epoch=1))
    s.set_epoch(0)
    assert list(s) == e0 and len(s) == len(Y)
    p = ProgressivelyBalancedSampler(Y, C, num_epochs=5, seed=1)
    p.set_epoch(3)
    np.testing.assert_array_equal(list(p), epoch_indices(Y, C, "progressive", num_epochs=5, epoch=3, seed=1))
    ls = LabelShufflingSampler(Y, C)
    assert len(ls) == (COUNTS > 0).sum() * COUNTS.max()
    ds = TensorDataset(torch.arange(len(Y)), torch.as_tensor(Y))
    loader = DataLoader(ds, batch_size=64, sampler=RebalanceSampler(Y, C, "under", seed=2))
    seen = torch.cat([b[1] for b in loader]).numpy()
    np.testing.assert_array_equal(np.bincount(seen, minlength=C), np.minimum(COUNTS, 2))
    rf = RepeatFactorSampler(repeat_factors=np.array([1.0, 2.0, 2.5]), seed=0)
    got = np.bincount(list(rf), minlength=3)
    assert got[0] == 1 and got[1] == 2 and got[2] in (2, 3)
