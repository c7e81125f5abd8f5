"""Samplers for multi-label data: class-aware sampling per label and repeat factors over a sample's labels."""
from __future__ import annotations

import numpy as np
import pytest

from lt_core.data import MultiLabels, load_multilabel_demo
from lt_core.errors import InputError
from lt_core.rebalance import expected_label_distribution, multilabel_epoch_indices, multilabel_repeat_factors


def _labels(seed=0, n=400, c=8):
    rng = np.random.default_rng(seed)
    Y = rng.random((n, c)) < np.geomspace(0.5, 0.01, c)
    Y[0] = False
    return MultiLabels.from_dense(Y, "train"), Y


def test_class_aware_visits_every_class_equally_in_random_cycles():
    ml, Y = _labels()
    idx = multilabel_epoch_indices(ml, "class-aware", epoch=0, seed=3)
    assert len(idx) == len(ml)
    cls = np.flatnonzero(Y.any(0))
    # reconstruct the per-class draws: the epoch is the union of per-class cycles of L / C' draws
    per = len(ml) // len(cls)
    counts = Y[idx][:, cls].sum(0)
    assert (counts >= per).all()   # each class drawn at least L // C' times (plus co-occurring draws)
    rare = cls[-1]
    members = np.flatnonzero(Y[:, rare])
    drawn = np.isin(idx, members)
    if per >= len(members):        # random cycles: every sample of the class before any repeats
        assert set(idx[drawn]) == set(members)
    assert np.array_equal(idx, multilabel_epoch_indices(ml, "class-aware", epoch=0, seed=3))   # seeded
    assert not np.array_equal(idx, multilabel_epoch_indices(ml, "class-aware", epoch=1, seed=3))


def test_repeat_factors_are_the_max_over_a_samples_labels():
    ml, Y = _labels(1)
    t = 0.05
    rs, rc = multilabel_repeat_factors(ml, t)
    f = Y.mean(0)
    want_c = np.where(f > 0, np.maximum(1, np.sqrt(t / np.where(f > 0, f, 1))), 1)
    np.testing.assert_allclose(rc, want_c)
    want_s = np.array([want_c[row].max() if row.any() else 1.0 for row in Y])
    np.testing.assert_allclose(rs, want_s)
    idx = multilabel_epoch_indices(ml, "rfs", seed=0, threshold=t)
    reps = np.bincount(idx, minlength=len(ml))
    assert (reps >= np.floor(rs)).all() and (reps <= np.ceil(rs)).all()   # stochastic rounding


@pytest.mark.parametrize("strategy", ["instance", "class-aware", "rfs"])
def test_expected_label_distribution_matches_the_draws(strategy):
    ml, Y = _labels(2, n=300)
    exp = expected_label_distribution(ml, strategy, threshold=0.05)
    emp = np.mean([Y[multilabel_epoch_indices(ml, strategy, epoch=e, seed=0, threshold=0.05)].sum(0)
                   for e in range(300)], axis=0)
    np.testing.assert_allclose(emp, exp, rtol=0.08, atol=1.0)


def test_class_aware_raises_the_tail_share_of_the_real_demo():
    lab = load_multilabel_demo().labels["train"]
    counts = lab.counts()
    exp = expected_label_distribution(lab, "class-aware")
    tail = np.argsort(counts)[:9]
    assert exp[tail].sum() / exp.sum() > 2 * counts[tail].sum() / counts.sum()


def test_unknown_strategy_is_an_input_error():
    ml, _ = _labels()
    with pytest.raises(InputError, match="class-aware"):
        multilabel_epoch_indices(ml, "class-balanced")
