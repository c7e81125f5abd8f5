"""The envelope index gives exactly the dense float64 argmax of ``scores - tau * log_prior``."""
import numpy as np
import pytest

from lt_core.errors import InputError
from lt_core.posthoc import build_adjust_index, dense_adjusted_argmax, log_prior


def _lt_data(N, C, seed):
    rng = np.random.default_rng(seed)
    counts = np.maximum(1, (2000 * np.exp(-np.linspace(0, 6, C))).astype(int))
    lp = log_prior(counts)
    y = rng.integers(0, C, N)
    S = rng.normal(size=(N, C)).astype(np.float32) * 2
    S[np.arange(N), y] += 3
    S += (0.8 * lp).astype(np.float32)
    return S, lp


@pytest.mark.parametrize("N,C,seed", [(3000, 7, 0), (2500, 40, 1), (600, 300, 2)])
def test_matches_dense_argmax_on_a_fine_grid(N, C, seed):
    S, lp = _lt_data(N, C, seed)
    idx = build_adjust_index(S, lp, 0.0, 2.0)
    assert idx.mean_candidates < C
    for tau in np.linspace(0, 2, 161):
        np.testing.assert_array_equal(idx.predict(tau), dense_adjusted_argmax(S, lp, tau))


def test_exact_at_breakpoints_and_ties():
    """Integer scores and dyadic log priors: many exact ties at tau on the grid; argmax keeps the first."""
    rng = np.random.default_rng(3)
    C = 12
    lp = -rng.integers(0, 6, C).astype(np.float64) / 4.0      # repeated (parallel lines) on purpose
    S = rng.integers(-3, 4, size=(4000, C)).astype(np.float32)
    S[:50] = 0.0                                                # rows of all-equal scores
    S[50:100, 5] = S[50:100, 2]                                 # duplicated columns
    idx = build_adjust_index(S, lp, -0.5, 2.5)
    taus = np.arange(-0.5, 2.5001, 0.125)                       # hits the breakpoints exactly
    n_ties = 0
    for tau in taus:
        v = S.astype(np.float64) - tau * lp
        n_ties += int(((v == v.max(1, keepdims=True)).sum(1) > 1).sum())
        np.testing.assert_array_equal(idx.predict(tau), v.argmax(1))
    assert n_ties > 1000


def test_out_of_range_falls_back_and_offsets_agree():
    S, lp = _lt_data(500, 20, 4)
    idx = build_adjust_index(S, lp, 0.5, 1.0)
    for tau in (0.0, 0.7, 3.0):
        np.testing.assert_array_equal(idx.predict(tau), (S + (-tau * lp)).argmax(1))
    idx2 = build_adjust_index(S, lp, 0.5, 1.0, keep_scores=False)
    with pytest.raises(InputError, match="outside"):
        idx2.predict(3.0)
    np.testing.assert_array_equal(idx.predict_many([0.5, 1.0]),
                                  np.stack([dense_adjusted_argmax(S, lp, t) for t in (0.5, 1.0)]))


def test_bad_input():
    S, lp = _lt_data(50, 5, 5)
    S[7, 2] = np.nan
    with pytest.raises(InputError, match="row 7"):
        build_adjust_index(S, lp)
    with pytest.raises(InputError):
        build_adjust_index(S[:, :4], lp)


def test_property_random_small_problems_are_exact():
    """Hypothesis: any small integer score matrix, any (repeated) dyadic log prior, any grid tau."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(n=st.integers(1, 30), c=st.integers(1, 9), seed=st.integers(0, 2**31 - 1),
           lo=st.integers(-8, 8), width=st.integers(0, 16))
    def check(n, c, seed, lo, width):
        rng = np.random.default_rng(seed)
        S = rng.integers(-4, 5, size=(n, c)).astype(np.float32)
        lp = -rng.integers(0, 5, c).astype(np.float64) / 2.0
        t0, t1 = lo / 4.0, (lo + width) / 4.0
        idx = build_adjust_index(S, lp, t0, t1)
        for tau in np.arange(t0, t1 + 1e-9, 0.125):
            np.testing.assert_array_equal(idx.predict(tau), (S - tau * lp).argmax(1))

    check()


def test_exact_at_and_next_to_float_crossings():
    """tau exactly at (and one ulp either side of) the crossing of a row's two winners."""
    rng = np.random.default_rng(5)
    for _ in range(5):
        N, C = 300, 50
        lp = log_prior(rng.integers(1, 2000, C))
        S = rng.normal(size=(N, C)).astype(np.float32)
        idx = build_adjust_index(S, lp, 0.0, 2.0)
        Z = S.astype(np.float64)
        w0, w1 = Z.argmax(1), (Z - 2 * lp).argmax(1)
        r = np.flatnonzero(w0 != w1)
        taus = (Z[r, w0[r]] - Z[r, w1[r]]) / (lp[w0[r]] - lp[w1[r]])
        for tau in taus[(taus >= 0) & (taus <= 2)][:25]:
            for t in (tau, np.nextafter(tau, -1), np.nextafter(tau, 3)):
                np.testing.assert_array_equal(idx.predict(t), (S - t * lp).argmax(1))
