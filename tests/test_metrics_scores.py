"""The fused score pass (lt_core.metrics.scores) equals a plain NumPy reference, ties included.

The reference is the obvious whole-matrix code: ``argmax``, a float64 softmax, and the rank of
the true class counted with two comparisons under sklearn's tie rule. The fast path must give
the same ``pred`` and ``rank`` exactly, confidences within float32 rounding, the same ECE bin
for every sample, and the same values for a row whatever block or shard it falls in.
"""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import top_k_accuracy_score

import lt_core.metrics.scores as scores_mod
from lt_core.metrics import ConfusionState, merge, summarize_scores, update
from lt_core.metrics.classification import ece_from_counts
from lt_core.metrics.scores import softmax_max64

CONF_RTOL = 2e-6  # float32 exp + float32 sum of up to a few thousand terms


def reference(S: np.ndarray, y: np.ndarray, kind: str):
    """(pred, conf, rank) the plain way, whole matrix at once."""
    S = np.asarray(S)
    ar = np.arange(len(S))
    pred = S.argmax(axis=1)
    if kind == "logits":
        S64 = S.astype(np.float64)
        conf = 1.0 / np.exp(S64 - S64.max(axis=1, keepdims=True)).sum(axis=1)
    else:
        conf = S[ar, pred].astype(np.float64)
    st = S[ar, y][:, None]
    after = np.arange(S.shape[1])[None, :] > y[:, None]
    rank = (S > st).sum(axis=1) + ((S == st) & after).sum(axis=1)
    return pred, conf, rank


def _cases():
    rng = np.random.default_rng(7)
    out = []
    for c in (2, 7, 8, 40, 1000, 2047, 2100):  # widths around the 8-column lanes and the 2040 limit
        n = 300 if c > 1000 else 700
        y = rng.integers(0, c, n)
        S = rng.standard_normal((n, c)).astype(np.float32)
        S[np.arange(n), y] += 2
        out.append((f"normal-{c}", S, y))
    n, c = 600, 13
    y = rng.integers(0, c, n)
    out.append(("integer-ties", rng.integers(0, 4, (n, c)).astype(np.float32), y))
    P = rng.dirichlet(np.full(c, 0.05), n).astype(np.float32)
    P[P < 1e-3] = 0.0  # probabilities with many exact zeros (the usual tie)
    P[:, 3] = np.where(P[:, 3] == 0, np.float32(-0.0), P[:, 3])  # -0.0 ties with 0.0
    out.append(("prob-zeros", P, y))
    L = rng.integers(-3, 3, (n, c)).astype(np.float64)
    L[rng.random((n, c)) < 0.1] = -np.inf  # masked logits, and true scores of -inf
    L[:, 0] = 0.0
    out.append(("masked-float64", L, y))
    B = (rng.standard_normal((n, c)) * 40).astype(np.float32)  # rows with |max| > 60 take the shifted path
    out.append(("large-logits", B, y))
    return out


CASES = _cases()


@pytest.mark.parametrize("name,S,y", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("kind", ["logits", "probs"])
def test_fast_path_equals_plain_numpy(name, S, y, kind, monkeypatch):
    monkeypatch.setattr(scores_mod, "_BLOCK_BYTES", 1 << 12)  # many small blocks over both threads
    s = summarize_scores(S, y, kind)
    pred, conf, rank = reference(S, y, kind)
    np.testing.assert_array_equal(s.pred, pred)
    np.testing.assert_array_equal(s.rank, rank)
    ok = np.isfinite(conf)
    np.testing.assert_allclose(s.conf[ok], conf[ok], rtol=CONF_RTOL, atol=0)
    assert np.array_equal(np.isfinite(s.conf), ok)


@pytest.mark.parametrize("name,S,y", CASES[7:9], ids=[c[0] for c in CASES[7:9]])
def test_top_k_equals_sklearn_with_ties(name, S, y):
    s = summarize_scores(S, y, "probs")
    labels = np.arange(S.shape[1])
    for k in (1, 2, 3, 5):
        assert np.mean(s.rank < k) == top_k_accuracy_score(y, S, k=k, labels=labels)


def test_flushed_denormals_fall_back_to_two_comparisons(monkeypatch):
    # With denormals-as-zero, nextafter(0, -inf) would read as -0 and ties at 0 would be lost.
    _, P, y = CASES[8]
    monkeypatch.setattr(scores_mod, "_denormals_flushed", lambda: True)
    np.testing.assert_array_equal(summarize_scores(P, y, "probs").rank, reference(P, y, "probs")[2])


def test_a_row_gives_the_same_values_in_any_block_or_shard(monkeypatch):
    rng = np.random.default_rng(3)
    n, c = 2000, 300
    y = rng.integers(0, c, n)
    S = (rng.standard_normal((n, c)) * 3).astype(np.float32)
    full = summarize_scores(S, y)
    monkeypatch.setattr(scores_mod, "_BLOCK_BYTES", 1 << 13)
    for idx in (rng.permutation(n)[:777], np.arange(5, 6), np.arange(n)[::-3]):
        part = summarize_scores(S[idx], y[idx], threads=1 + len(idx) % 2)
        np.testing.assert_array_equal(part.conf, full.conf[idx])  # bit for bit
        np.testing.assert_array_equal(part.pred, full.pred[idx])
        np.testing.assert_array_equal(part.rank, full.rank[idx])


def _edge_logits(rng, n_bins=15):
    """Rows whose softmax max sits exactly on, or within float32 noise of, an ECE bin edge."""
    rows = []
    for m in (1, 3, 5, 15):  # m equal maxima and the rest -inf-ish: confidence exactly 1/m
        for eps in (0.0, 1e-7, -1e-7, 3e-7):
            r = np.full(40, -200.0, np.float32)
            r[:m] = 0.0
            r[0] += np.float32(eps)
            rows.append(r)
    # a spread of confidences, some of which land near k / 15
    for t in np.linspace(0.0, 12.0, 400):
        r = np.zeros(40, np.float32)
        r[0] = t
        rows.append(r)
    for k in range(1, n_bins):  # two classes: p = sigmoid(d); solve for p = k / 15 +- tiny
        p = k / n_bins
        if p <= 0.5:
            continue
        d = np.log(p / (1 - p))
        for eps in (0.0, 1e-6, -1e-6):
            r = np.full(40, -200.0, np.float32)
            r[0], r[1] = np.float32(d + eps), 0.0
            rows.append(r)
    S = np.stack(rows)
    return S, rng.integers(0, 40, len(S))


def test_ece_bins_equal_the_exact_softmax_and_ece_agrees():
    rng = np.random.default_rng(11)
    S, y = _edge_logits(rng)
    s = summarize_scores(S, y)
    _, conf, _ = reference(S, y, "logits")
    m = 15

    def bins(cf):
        return np.clip(np.ceil(np.clip(cf, 0, 1) * m).astype(int) - 1, 0, m - 1)

    np.testing.assert_array_equal(bins(s.conf), bins(conf))
    near = np.abs(conf * m - np.rint(conf * m)) < 1e-5 * m
    assert near.sum() >= 20  # the data does probe the edges
    st = update(ConfusionState.empty(40, with_scores=True), y, scores=S, kind="logits")
    ref_count = np.bincount(y * m + bins(conf), minlength=40 * m).reshape(40, m)
    np.testing.assert_array_equal(st.cal_count, ref_count)
    correct = np.where(S.argmax(1) == y, 1, 0)
    ref_ece = np.abs(np.bincount(bins(conf), weights=correct, minlength=m)
                     - np.bincount(bins(conf), weights=conf, minlength=m)).sum() / len(y)
    got = ece_from_counts(st.cal_count.sum(0), st.cal_correct.sum(0), st.cal_conf.sum(0))
    assert got == pytest.approx(ref_ece, abs=1e-6)


def test_states_from_shards_equal_one_pass_on_a_wide_problem(monkeypatch):
    monkeypatch.setattr(scores_mod, "_BLOCK_BYTES", 1 << 15)
    rng = np.random.default_rng(5)
    n, c = 3000, 1203  # LVIS-wide rows
    y = rng.integers(0, c, n)
    S = rng.standard_normal((n, c)).astype(np.float32)
    S[np.arange(n), y] += 3
    one = update(ConfusionState.empty(c, with_scores=True), y, scores=S, kind="logits")
    parts = np.array_split(rng.permutation(n), 5)
    states = [update(ConfusionState.empty(c, with_scores=True), y[i], scores=S[i], kind="logits") for i in parts]
    merged = states[0]
    for st in states[1:]:
        merged = merge(merged, st)
    for f in ("confusion", "rank_hist", "cal_count", "cal_correct", "cal_conf"):
        np.testing.assert_array_equal(getattr(one, f), getattr(merged, f))


def test_softmax_max64_is_the_float64_formula():
    S = np.array([[0.0, 0.0, 0.0], [1000.0, 0.0, -5.0], [-1e4, -1e4, -1e4 + 1]])
    np.testing.assert_allclose(softmax_max64(S), [1 / 3, 1.0, 1 / (1 + 2 * np.exp(-1))], rtol=1e-15)
