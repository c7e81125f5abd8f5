"""Tau sweeps and selection: metrics agree with scikit-learn / lt_core.metrics, shards merge exactly,
tuning reads only the split it is given."""
import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score

from lt_core.errors import InputError
from lt_core.metrics import bin_accuracy
from lt_core.posthoc import (DEFAULT_TAUS, SweepState, TauEvaluator, log_prior, sweep_merge, sweep_table,
                             sweep_update, tau_norm_predictor, tau_norm_scores, tune_and_report, tune_tau,
                             tuning_split)

SCHEME = "quantile:3"


def _split(n, counts, seed):
    """Scores of a head-biased model: the right class gets a boost, every class its log prior."""
    rng = np.random.default_rng(seed)
    C = len(counts)
    y = rng.integers(0, C, n)
    S = rng.normal(size=(n, C)).astype(np.float32)
    S[np.arange(n), y] += 1.5
    S += log_prior(counts).astype(np.float32)
    return S, y


@pytest.fixture(scope="module")
def lt():
    counts = np.maximum(2, (3000 * np.exp(-np.linspace(0, 5, 24))).astype(int))
    Sv, yv = _split(3000, counts, 0)
    St, yt = _split(3000, counts, 1)
    return counts, Sv, yv, St, yt


def test_sweep_metrics_match_sklearn_and_lt_core_metrics(lt):
    counts, Sv, yv, _, _ = lt
    lp = log_prior(counts)
    ev = TauEvaluator(Sv, yv, counts, SCHEME)
    table = sweep_table(ev.sweep(DEFAULT_TAUS), counts, SCHEME)
    assert len(table) == 41
    for _, row in table.iloc[::5].iterrows():
        pred = (Sv - row.tau * lp).argmax(1)
        assert row.accuracy == pytest.approx((pred == yv).mean(), abs=1e-12)
        assert row.balanced_accuracy == pytest.approx(balanced_accuracy_score(yv, pred), abs=1e-12)
        assert row.macro_f1 == pytest.approx(f1_score(yv, pred, average="macro"), abs=1e-12)
        for b, v in bin_accuracy(yv, pred, counts, SCHEME).items():
            assert row[f"acc {b}"] == pytest.approx(v, abs=1e-12)
        pt = ev.at(row.tau)
        np.testing.assert_array_equal(pt.pred, pred)
        assert pt.balanced_accuracy == pytest.approx(row.balanced_accuracy, abs=1e-12)
        assert pt.bins == pytest.approx({b: row[f"acc {b}"] for b in pt.bins})


def test_sweep_state_shards_merge_exactly(lt):
    counts, Sv, yv, _, _ = lt
    ev = TauEvaluator(Sv, yv, counts, SCHEME)
    whole = ev.sweep(DEFAULT_TAUS)
    preds = np.stack([ev.predict(t) for t in DEFAULT_TAUS])
    parts = [SweepState.empty(DEFAULT_TAUS, len(counts)) for _ in range(3)]
    cuts = [0, 700, 1900, len(yv)]
    parts = [sweep_update(p, yv[a:b], preds[:, a:b]) for p, a, b in zip(parts, cuts, cuts[1:])]
    merged = sweep_merge(sweep_merge(parts[0], parts[1]), parts[2])
    for f in ("support", "correct", "predicted"):
        np.testing.assert_array_equal(getattr(merged, f), getattr(whole, f))
    with pytest.raises(InputError):
        sweep_merge(whole, SweepState.empty([0.0], len(counts)))


def test_logit_adjustment_raises_tail_and_selection_rules(lt):
    counts, Sv, yv, _, _ = lt
    res = tune_tau(Sv, yv, counts, SCHEME, "balanced_accuracy")
    t = res.table
    assert res.split == "val" and not res.tuned_on_test
    assert res.tau == pytest.approx(t.tau[t.balanced_accuracy.idxmax()])
    assert res.tau > 0.5                       # the model carries its log prior: tau near 1 is right
    assert t[f"acc {res.tail_bin}"].iloc[20] > t[f"acc {res.tail_bin}"].iloc[0] + 0.1
    few = tune_tau(Sv, yv, counts, SCHEME, "few_accuracy", max_head_drop=0.02)
    head0 = few.table[f"acc {few.head_bin}"].iloc[0]
    chosen = few.table[np.isclose(few.table.tau, few.tau)].iloc[0]
    assert chosen[f"acc {few.head_bin}"] >= head0 - 0.02
    feas = few.table[few.table.feasible]
    assert chosen[f"acc {few.tail_bin}"] == feas[f"acc {few.tail_bin}"].max()
    loose = tune_tau(Sv, yv, counts, SCHEME, "few_accuracy", max_head_drop=1.0)
    assert loose.table.feasible.all()
    f1 = tune_tau(Sv, yv, counts, SCHEME, "macro_f1")
    assert f1.tau == pytest.approx(f1.table.tau[f1.table.macro_f1.idxmax()])
    with pytest.raises(InputError, match="objective"):
        tune_tau(Sv, yv, counts, SCHEME, "accuracy@5")


def test_tuning_never_reads_test_labels_unless_told(lt):
    counts, Sv, yv, St, yt = lt
    rng = np.random.default_rng(9)
    a = tune_and_report({"val": Sv, "test": St}, {"val": yv, "test": yt}, counts, SCHEME)
    b = tune_and_report({"val": Sv, "test": St}, {"val": yv, "test": rng.permutation(yt)}, counts, SCHEME)
    assert a.tau == b.tau and a.split == "val"
    assert not a.test_table.equals(b.test_table)          # the test labels are used for the report only
    with pytest.raises(InputError, match="no validation split"):
        tune_and_report({"test": St}, {"test": yt}, counts, SCHEME)
    c = tune_and_report({"test": St}, {"test": yt}, counts, SCHEME, allow_test=True)
    assert c.tuned_on_test and c.split == "test" and "optimistic" in c.notes[0]
    assert tuning_split(["train", "val", "test"]) == "val"


def test_tau_norm_predictor_matches_formula():
    rng = np.random.default_rng(2)
    W = rng.normal(size=(5, 8)) * np.array([4, 2, 1, 0.5, 0.3])[:, None]
    X = rng.normal(size=(300, 8)).astype(np.float32)
    y = rng.integers(0, 5, 300)
    pr = tau_norm_predictor(X, W)
    for tau in (0.0, 1.0):
        Wn = W / np.linalg.norm(W, axis=1, keepdims=True) ** tau
        np.testing.assert_array_equal(pr(tau), (X @ Wn.T).argmax(1))
    ev = TauEvaluator(None, y, np.array([500, 100, 40, 10, 3]), SCHEME, predict=pr)
    assert ev.at(1.0).pred.tolist() == tau_norm_scores(X, W, 1.0).argmax(1).tolist()
