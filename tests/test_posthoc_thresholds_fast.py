"""The per-class threshold search counts only scores at or above each class's lowest positive:
the same thresholds and numbers as the full precision-recall curve, ties included."""
from __future__ import annotations

import numpy as np
import pytest

from lt_core.posthoc.thresholds import _choose, predict_with_bias, tune_thresholds


def _full(Y, S, objective, target):
    """Reference: every class through the full curve (``_pr_points``, sklearn's semantics)."""
    return [_choose(Y[:, c].astype(bool), S[:, c].astype(np.float64), objective, target) for c in range(S.shape[1])]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("objective,target", [("f1", None), ("precision", 0.6), ("precision", 0.95),
                                              ("recall", 0.3), ("recall", 1.0)])
def test_fast_search_equals_the_full_curve(seed, objective, target):
    rng = np.random.default_rng(seed)
    N, C = int(rng.integers(50, 400)), int(rng.integers(2, 90))
    multilabel = seed % 2 == 1
    if multilabel:
        Y = rng.random((N, C)) < rng.uniform(0.01, 0.3, C)
        y_in = Y.astype(np.int64)
    else:
        y_in = rng.integers(0, C, N)
        Y = np.eye(C, dtype=bool)[y_in]
    S = rng.random((N, C)) + 0.5 * Y
    if seed % 3 == 0:
        S = np.round(S * 8) / 8          # many ties between positives and negatives
    S = S.astype(np.float32 if seed % 2 else np.float64)
    got = tune_thresholds(y_in, S, objective, target)
    ref = _full(Y, S, objective, target if target is not None else np.nan)
    for c, (t, p, r, f, ok) in enumerate(ref):
        assert got.thresholds[c] == t
        for have, want in ((got.precision[c], p), (got.recall[c], r), (got.f1[c], f)):
            assert (np.isnan(have) and np.isnan(want)) or have == want
        assert got.reached[c] == ok


def test_biased_argmax_in_blocks_equals_one_pass():
    rng = np.random.default_rng(0)
    S = rng.random((5000, 700)).astype(np.float32)
    b = rng.normal(size=700)
    b[3] = -np.inf
    want = (S + np.where(np.isfinite(b), b, -1e300)).argmax(1)
    assert np.array_equal(predict_with_bias(S, b), want)
