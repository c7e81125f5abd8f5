"""Class weights: Cui et al. 2019 definition, limits, scikit-learn's 'balanced', mergeable counts."""
import numpy as np
import pandas as pd
import pytest
from sklearn.utils.class_weight import compute_class_weight

from lt_core.errors import InputError
from lt_core.rebalance import (bin_weight_share, class_weights, count_init, count_merge, count_update,
                               effective_number, weights_table)

IMAGENET_LT = "tests/data/imagenet_lt/ImageNet_LT_class_counts.csv"


def cui_reference(samples_per_cls, beta):
    """The weights of Cui et al.'s reference code (class_balanced_loss.py), written out here."""
    effective_num = 1.0 - np.power(beta, samples_per_cls)
    weights = (1.0 - beta) / np.array(effective_num)
    return weights / np.sum(weights) * len(samples_per_cls)


@pytest.fixture(scope="module")
def imagenet_counts():
    return pd.read_csv(IMAGENET_LT)["train_count"].to_numpy()


@pytest.mark.parametrize("beta", [0.9, 0.99, 0.999, 0.9999])
def test_effective_number_weights_match_cui_reference(imagenet_counts, beta):
    w = class_weights(imagenet_counts, "effective-number", beta)
    np.testing.assert_allclose(w, cui_reference(imagenet_counts.astype(float), beta), rtol=1e-10)
    assert w.sum() == pytest.approx(len(imagenet_counts))


def test_effective_number_definition():
    n = np.array([1, 2, 10, 1000])
    beta = 0.99
    np.testing.assert_allclose(effective_number(n, beta), (1 - beta ** n) / (1 - beta), rtol=1e-12)
    np.testing.assert_allclose(effective_number(n, 1.0), n)          # beta = 1: E = n
    np.testing.assert_allclose(effective_number(n, 0.0), np.ones(4))  # beta = 0: E = 1


def test_beta_zero_is_uniform(imagenet_counts):
    np.testing.assert_allclose(class_weights(imagenet_counts, beta=0.0), np.ones(len(imagenet_counts)))


def test_beta_to_one_approaches_inverse_frequency(imagenet_counts):
    inv = class_weights(imagenet_counts, "inverse")
    errs = [np.abs(class_weights(imagenet_counts, beta=1 - 10.0 ** -k) - inv).max() for k in (3, 5, 7, 9)]
    assert all(a > b for a, b in zip(errs, errs[1:]))  # converges monotonically
    np.testing.assert_allclose(class_weights(imagenet_counts, beta=1 - 1e-9), inv, rtol=1e-5)
    np.testing.assert_allclose(class_weights(imagenet_counts, beta=1.0), inv, rtol=1e-12)


def test_inverse_matches_sklearn_balanced_up_to_scale():
    y = np.repeat(np.arange(5), [500, 120, 40, 9, 3])
    sk = compute_class_weight("balanced", classes=np.arange(5), y=y)
    w = class_weights(np.bincount(y), "inverse")
    np.testing.assert_allclose(w, sk / sk.sum() * 5, rtol=1e-12)


def test_sqrt_inverse_and_uniform():
    n = np.array([400, 100, 4])
    np.testing.assert_allclose(class_weights(n, "sqrt-inverse"), (1 / np.sqrt(n)) / (1 / np.sqrt(n)).sum() * 3)
    np.testing.assert_allclose(class_weights(n, "uniform"), np.ones(3))


def test_zero_count_classes_get_zero_weight_and_sum_stays_c():
    w = class_weights([100, 10, 0], "effective-number", 0.999)
    assert w[2] == 0.0 and w.sum() == pytest.approx(3.0)


@pytest.mark.parametrize("bad, kw", [([[1, 2]], {}), ([1, -1], {}), ([0, 0], {}), ([1, 2], {"beta": 1.5}),
                                     ([1, 2], {"scheme": "focal"}), ([np.nan, 1], {})])
def test_bad_input_is_input_error(bad, kw):
    with pytest.raises(InputError):
        class_weights(np.array(bad, dtype=float), **kw)


def test_weights_table_and_bin_share():
    n = np.array([1000, 100, 10])
    df = weights_table(n, "inverse", class_ids=[5, 6, 7], names=["a", "b", "c"], bins=["head", "medium", "tail"])
    assert list(df.columns) == ["class_id", "name", "count", "effective_number", "weight", "bin"]
    share = bin_weight_share(n, df["weight"], df["bin"])
    # inverse weighting gives every class the same loss mass n_c * w_c
    np.testing.assert_allclose(share["weighted_share"], [1 / 3] * 3)
    np.testing.assert_allclose(share["sample_share"], n / n.sum())


def test_counts_are_mergeable_sufficient_statistics():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, size=1000)
    whole = count_update(count_init(7), y)
    a = count_update(count_init(7), y[:333])
    b = count_update(count_update(count_init(7), y[333:700]), y[700:])
    merged = count_merge(a, b)
    np.testing.assert_array_equal(merged, whole)
    np.testing.assert_array_equal(class_weights(merged, beta=0.99), class_weights(whole, beta=0.99))
    with pytest.raises(InputError):
        count_update(count_init(3), [0, 3])
