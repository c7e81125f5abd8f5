"""Classification selections equal a plain NumPy computation on the same data."""
from __future__ import annotations

import numpy as np
import pytest

from lt_core.data.schema import ClassTable, Labels, Predictions
from lt_core.examples import by_bin, by_class, changes, confusion_cell, sample_table, tail_as_head
from lt_core.errors import InputError


def _data(seed=0, n=3000, c=12, ties=False):
    rng = np.random.default_rng(seed)
    counts = np.sort(rng.integers(1, 400, c))[::-1].copy()
    classes = ClassTable(np.arange(100, 100 + c), [f"c{i}" for i in range(c)], counts)
    y = rng.choice(c, n, p=counts / counts.sum())
    logits = rng.normal(size=(n, c)).astype(np.float32)
    logits[np.arange(n), y] += rng.uniform(0, 3, n).astype(np.float32)
    if ties:
        logits = np.round(logits)
    labels = Labels(y, "test", np.array([f"s{i}" for i in range(n)], dtype=object))
    return classes, labels, Predictions("test", "logits", scores=logits), logits


def _softmax(z):
    z = z.astype(np.float64) - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def _expected_order(rows, wrong, conf, margin):
    """Plain definition: mistakes first by confidence desc, then correct by margin asc, ties by row."""
    items = sorted(rows, key=lambda r: (not wrong[r], -conf[r] if wrong[r] else margin[r], r))
    return np.array(items, dtype=np.int64)


@pytest.mark.parametrize("ties", [False, True])
def test_base_table_matches_numpy(ties):
    classes, labels, preds, logits = _data(ties=ties)
    t = sample_table(labels, preds, classes, "imagenet-lt")
    P = _softmax(logits)
    p = logits.argmax(1)
    np.testing.assert_array_equal(t["pred_id"], classes.ids[p])
    np.testing.assert_array_equal(t["correct"], p == labels.y)
    np.testing.assert_allclose(t["confidence"], P[np.arange(len(p)), p], rtol=1e-6)
    np.testing.assert_allclose(t["true_prob"], P[np.arange(len(p)), labels.y], rtol=1e-6)
    srt = np.sort(P, 1)
    exp_margin = np.where(p == labels.y, srt[:, -1] - srt[:, -2], P[np.arange(len(p)), p] - P[np.arange(len(p)), labels.y])
    np.testing.assert_allclose(t["margin"], exp_margin, atol=1e-6)
    bins = classes.bins("imagenet-lt")
    np.testing.assert_array_equal(t["true_bin"], bins[labels.y])


def test_confusion_cell_and_class_match_numpy():
    classes, labels, preds, logits = _data(seed=1)
    t = sample_table(labels, preds, classes, "quantile:3")
    p = logits.argmax(1)
    y = labels.y
    conf, margin = t["confidence"].to_numpy(), t["margin"].to_numpy()
    wrong = p != y
    # the most frequent off-diagonal cell
    cm = np.zeros((12, 12), int)
    np.add.at(cm, (y, p), 1)
    np.fill_diagonal(cm, 0)
    a, b = np.unravel_index(cm.argmax(), cm.shape)
    sel = confusion_cell(t, classes, classes.ids[a], classes.ids[b], cap=None)
    rows = np.flatnonzero((y == a) & (p == b))
    assert sel.total == len(rows) == cm[a, b]
    np.testing.assert_array_equal(sel.rows["row"], _expected_order(rows, wrong, conf, margin))
    # a class's samples, capped
    sel = by_class(t, classes, classes.ids[5], cap=7)
    rows = np.flatnonzero(y == 5)
    assert sel.total == len(rows) and sel.shown == 7 and sel.capped
    np.testing.assert_array_equal(sel.rows["row"], _expected_order(rows, wrong, conf, margin)[:7])
    sel = by_class(t, classes, classes.ids[5], role="predicted", errors_only=True, cap=None)
    assert set(sel.rows["row"]) == set(np.flatnonzero((p == 5) & (y != 5)))


def test_bin_and_tail_as_head_match_numpy():
    classes, labels, preds, logits = _data(seed=2)
    t = sample_table(labels, preds, classes, "quantile:3")
    bins = classes.bins("quantile:3")
    p, y = logits.argmax(1), labels.y
    sel = by_bin(t, "tail", cap=None)
    assert sel.total == int((bins[y] == "tail").sum())
    sel = tail_as_head(t, "quantile:3", cap=None)
    exp = np.flatnonzero((bins[y] == "tail") & (bins[p] == "head"))
    assert sel.total == len(exp) and set(sel.rows["row"]) == set(exp)
    assert (sel.rows["true_bin"] == "tail").all() and (sel.rows["pred_bin"] == "head").all()


def test_changes_between_runs_and_a_tau_change():
    from lt_core.posthoc import logit_adjust

    classes, labels, preds, logits = _data(seed=3)
    adj = logit_adjust(logits, classes.train_count, tau=1.0)
    after = Predictions("test", "logits", scores=np.asarray(adj, dtype=np.float32))
    ta = sample_table(labels, preds, classes, "imagenet-lt")
    tb = sample_table(labels, after, classes, "imagenet-lt")
    y, pa, pb = labels.y, logits.argmax(1), np.asarray(adj).argmax(1)
    fixed, broken = (pa != y) & (pb == y), (pa == y) & (pb != y)
    sel = changes(ta, tb, "both", cap=None, names=("joint", "tau"))
    assert sel.total == int(fixed.sum() + broken.sum()) > 0
    got = sel.rows
    assert set(got.loc[got["change"] == "fixed", "row"]) == set(np.flatnonzero(fixed))
    assert set(got.loc[got["change"] == "broken", "row"]) == set(np.flatnonzero(broken))
    # broken ones come first, by the new run's confidence
    nb = int(broken.sum())
    assert (got["change"].iloc[:nb] == "broken").all()
    assert np.all(np.diff(got["confidence_tau"].iloc[:nb].to_numpy()) <= 0)
    np.testing.assert_array_equal(got["pred_id_joint"], classes.ids[pa[got["row"]]])
    assert changes(ta, tb, "fixed", cap=None).total == int(fixed.sum())
    with pytest.raises(InputError):
        changes(ta, tb.iloc[:10], "both")


def test_hard_labels_have_no_confidence_but_still_select():
    classes, labels, _, logits = _data(seed=4)
    preds = Predictions("test", "labels", labels=logits.argmax(1))
    t = sample_table(labels, preds, classes, "imagenet-lt")
    assert t["confidence"].isna().all()
    sel = by_class(t, classes, classes.ids[0], cap=None)
    wrong = sel.rows["correct"].to_numpy()
    assert not np.any(np.diff(wrong.astype(int)) < 0)  # mistakes first


def test_selection_csv_round_trips():
    import io

    import pandas as pd

    classes, labels, preds, _ = _data(seed=5)
    t = sample_table(labels, preds, classes, "imagenet-lt")
    sel = by_class(t, classes, classes.ids[0], cap=5)
    back = pd.read_csv(io.BytesIO(sel.to_csv()))
    assert list(back["sample_id"]) == list(sel.rows["sample_id"])
    assert "first 5 of" in sel.caption()
