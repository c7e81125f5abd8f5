"""Each post-hoc adjustment against its formula (Menon et al. 2021; Kang et al. 2020)."""
import numpy as np
import pytest

from lt_core.errors import InputError
from lt_core.posthoc import (adjustment_offset, log_prior, logit_adjust, rescale_probs, tau_norm_scores,
                             tau_normalize)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    counts = np.array([500, 120, 40, 9, 3])
    z = rng.normal(size=(200, 5)).astype(np.float32)
    return counts, z


def test_log_prior_formula(data):
    counts, _ = data
    np.testing.assert_allclose(log_prior(counts), np.log(counts / counts.sum()), rtol=1e-12)
    np.testing.assert_allclose(log_prior([0, 3], pseudo_count=1), np.log(np.array([1, 4]) / 5))
    with pytest.raises(InputError, match="no training samples"):
        log_prior([0, 3])


def test_logit_adjust_formula(data):
    counts, z = data
    prior = counts / counts.sum()
    for tau in (0.0, 0.5, 1.0, 1.7):
        want = z.astype(np.float64) - tau * np.log(prior)
        got = logit_adjust(z, prior, tau)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(logit_adjust(z.astype(np.float64), np.log(prior), tau, is_log=True), want)
        lp = log_prior(counts)
        np.testing.assert_array_equal(z + adjustment_offset(counts, tau), z.astype(np.float64) - tau * lp)
    np.testing.assert_array_equal(logit_adjust(z, prior, 0.0), z)


def test_logit_adjust_raises_few_class_predictions(data):
    counts, z = data
    prior = counts / counts.sum()
    before = np.bincount(z.argmax(1), minlength=5)
    after = np.bincount(logit_adjust(z, prior, 1.0).argmax(1), minlength=5)
    assert after[-1] > before[-1] and after[0] < before[0]


def test_rescale_probs_same_argmax_as_log_adjust(data):
    counts, z = data
    prior = counts / counts.sum()
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    for tau in (0.3, 1.0, 2.0):
        r = rescale_probs(p, prior, tau)
        np.testing.assert_allclose(r, p / prior ** tau, rtol=1e-12)
        np.testing.assert_array_equal(r.argmax(1), logit_adjust(np.log(p), prior, tau).argmax(1))
        rn = rescale_probs(p, prior, tau, renormalize=True)
        np.testing.assert_allclose(rn.sum(1), 1.0)


def test_tau_normalize_formula():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(6, 4)) * np.array([5, 3, 1, 0.5, 0.2, 0.1])[:, None]
    for tau in (0.0, 0.5, 1.0, 1.5):
        want = W / np.linalg.norm(W, axis=1, keepdims=True) ** tau
        np.testing.assert_allclose(tau_normalize(W, tau), want, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(tau_normalize(W, 1.0), axis=1), 1.0)
    W[2] = 0
    assert np.all(tau_normalize(W, 1.0)[2] == 0)
    X = rng.normal(size=(10, 4)).astype(np.float32)
    np.testing.assert_allclose(tau_norm_scores(X, W, 1.0), X @ tau_normalize(W, 1.0).T, rtol=1e-5, atol=1e-5)
    with pytest.raises(InputError):
        tau_norm_scores(X[:, :3], W)


def test_bad_shapes():
    with pytest.raises(InputError, match="columns"):
        logit_adjust(np.zeros((3, 4)), np.ones(5) / 5)
    with pytest.raises(InputError, match="prior"):
        logit_adjust(np.zeros((3, 2)), np.array([1.0, 0.0]))
