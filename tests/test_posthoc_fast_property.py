"""Property test: the fast tau index equals the plain ``(scores - tau * lp).argmax(1)`` on every shape.

Issue 10: ``build_adjust_index`` crashed (``np.concatenate`` width mismatch) on score matrices with
more rows than one block (4,096) when two blocks padded the same candidate bucket to different
widths. Hypothesis draws N (below and above the block size), C, the dtype, tied scores (integer
values, duplicated columns, constant rows) and the tau range; the index must agree exactly with the
dense float64 argmax, ties included (smallest class index wins).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lt_core.posthoc import build_adjust_index, dense_adjusted_argmax, log_prior
from lt_core.posthoc import fast


def _case(n, c, dtype, ties, seed, spread):
    rng = np.random.default_rng(seed)
    counts = np.maximum(1, (5000 * np.exp(-np.linspace(0, spread, c))).astype(np.int64))
    rng.shuffle(counts)
    lp = log_prior(counts)
    if ties:
        S = rng.integers(-3, 4, size=(n, c)).astype(dtype)
        S[: n // 10] = 0                                   # constant rows
        if c > 2:
            S[:, c - 1] = S[:, 0]                          # a duplicated column
    else:
        S = (rng.standard_normal((n, c)) * 3).astype(dtype)
        S += (0.7 * lp).astype(dtype)                      # scores that follow the prior, as real logits do
    return S, lp


def _check(S, lp, t0, t1):
    idx = build_adjust_index(S, lp, t0, t1)
    for tau in np.unique(np.r_[np.linspace(t0, t1, 13), t0, t1]):
        np.testing.assert_array_equal(idx.predict(tau), dense_adjusted_argmax(S, lp, tau))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 700), c=st.integers(2, 40), dtype=st.sampled_from([np.float32, np.float64]),
       ties=st.booleans(), seed=st.integers(0, 2**32 - 1), spread=st.floats(0.0, 8.0),
       t0=st.sampled_from([0.0, -0.5, 0.25]), width=st.sampled_from([0.5, 2.0, 3.0]))
def test_fast_index_equals_dense_with_small_blocks(n, c, dtype, ties, seed, spread, t0, width):
    """Blocks of 64 rows: N up to 700 covers one to eleven blocks cheaply."""
    S, lp = _case(n, c, dtype, ties, seed, spread)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fast, "_CHUNK_ROWS", 64)
        _check(S, lp, t0, t0 + width)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(4097, 9000), c=st.integers(2, 32), dtype=st.sampled_from([np.float32, np.float64]),
       ties=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_fast_index_equals_dense_above_the_real_block_size(n, c, dtype, ties, seed):
    assert fast._CHUNK_ROWS == 4096
    S, lp = _case(n, c, dtype, ties, seed, 6.0)
    _check(S, lp, 0.0, 2.0)


@pytest.mark.parametrize("seed", [3, 6, 10])
def test_the_reported_random_matrices(seed):
    """The issue's reproduction: 3 of 12 random 9,000 x 28 matrices used to crash."""
    rng = np.random.default_rng(seed)
    S = rng.standard_normal((9000, 28)).astype(np.float32) * 3
    lp = log_prior(np.sort(rng.integers(1, 5000, 28))[::-1])
    _check(S, lp, 0.0, 2.0)
