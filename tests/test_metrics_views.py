"""Where the tail goes (confusions), run comparisons and the metrics figures."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from lt_core.data.schema import ClassTable
from lt_core.metrics import (class_deltas, classification_report, error_destinations, ordered_confusion,
                             paired_bootstrap, runs_bin_table, top_confusions)
from lt_core.plots import bin_color, run_color
from lt_core.plots import metrics as mplots


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    c = 12
    train = np.array([900, 700, 500, 300, 150, 90, 60, 30, 15, 8, 3, 0])
    classes = ClassTable(np.arange(c) * 10, [f"k{i}" for i in range(c)], train)
    y = np.repeat(np.arange(c), 30)
    # errors of tail classes go mostly to class 0 (the head)
    a = np.where(rng.random(len(y)) < 0.5, y, np.where(rng.random(len(y)) < 0.7, 0, rng.integers(0, c, len(y))))
    b = np.where(rng.random(len(y)) < 0.3, y, a)
    reps = {"joint": classification_report(y, a, classes, "imagenet-lt", bootstrap=200),
            "balanced": classification_report(y, b, classes, "imagenet-lt", bootstrap=200)}
    return classes, y, a, b, reps


def test_ordered_confusion_is_sklearn_reordered(setup):
    classes, y, a, _, reps = setup
    m, order = ordered_confusion(reps["joint"].state, classes, normalize=False)
    assert list(order) == list(range(12))  # already sorted by train count
    np.testing.assert_array_equal(m, confusion_matrix(y, a, labels=np.arange(12)))
    shuffled = ClassTable(classes.ids, classes.names, classes.train_count[::-1].copy())
    rep = classification_report(y, a, shuffled, "imagenet-lt")
    m2, order2 = ordered_confusion(rep.state, shuffled, normalize=True)
    assert list(order2) == list(range(11, -1, -1))  # head (largest train count) first
    np.testing.assert_allclose(m2.sum(axis=1), 1.0)
    np.testing.assert_allclose(m2, (confusion_matrix(y, a, labels=order2) /
                                    confusion_matrix(y, a, labels=order2).sum(1, keepdims=True)))


def test_error_destinations_count_by_hand(setup):
    classes, y, a, _, reps = setup
    dest = error_destinations(reps["joint"].state, classes, "imagenet-lt")
    bins = classes.bins("imagenet-lt")
    for name in dest.index:
        wrong = (bins[y] == name) & (a != y)
        assert dest.loc[name, "errors"] == wrong.sum()
        if wrong.any():
            assert dest.loc[name, "head_share"] == pytest.approx(np.mean(bins[a[wrong]] == "many"))
            shares = dest.loc[name, [c for c in dest.columns if c.startswith("to ")]]
            assert shares.sum() == pytest.approx(1.0)
    assert dest.loc["few", "head_share"] > 0.5


def test_top_confusions(setup):
    classes, y, a, _, reps = setup
    tc = top_confusions(reps["joint"].state, classes, "imagenet-lt", k=2)
    assert set(tc["bin"]) == {"few"}
    assert tc["train_count"].is_monotonic_increasing  # rarest first
    for row in tc.itertuples():
        i = int(np.flatnonzero(classes.ids == row.class_id)[0])
        j = int(np.flatnonzero(classes.ids == row.predicted_id)[0])
        assert row.count == np.sum((y == i) & (a == j)) and i != j
    first = tc[tc["rank"] == 1]
    assert (first["predicted_name"] == "k0").mean() > 0.5


def test_class_deltas_and_runs_table(setup):
    classes, y, a, b, reps = setup
    d = class_deltas(reps, "joint")
    assert list(d["bin"].iloc[:1]) == ["no training data"]  # tail-most first
    rb = reps["balanced"].per_class.set_index("class_id")["recall"]
    ra = reps["joint"].per_class.set_index("class_id")["recall"]
    np.testing.assert_allclose(d["delta balanced"], (rb - ra).loc[d["class_id"]].to_numpy())
    long = runs_bin_table(reps)
    assert len(long) == 2 * len(reps["joint"].bins) and set(long["run"]) == {"joint", "balanced"}


def test_figures(setup):
    classes, y, a, b, reps = setup
    names = list(reps)
    fig = mplots.bin_accuracy_chart(runs_bin_table(reps), names, scheme="imagenet-lt")
    assert [t.marker.color for t in fig.data] == [run_color(names, r) for r in names]
    assert fig.data[0].error_y.array is not None  # CI whiskers
    one = mplots.bin_accuracy_chart(runs_bin_table({"joint": reps["joint"]}), names, scheme="imagenet-lt")
    assert list(one.data[0].marker.color) == [bin_color(b, "imagenet-lt") for b in reps["joint"].bins.index]
    sc = mplots.recall_vs_count_chart(reps, names)
    assert sc.layout.xaxis.type == "log" and "k3" in str(sc.data[0].customdata.tolist())
    assert sc.layout.xaxis.autorange == "reversed"  # ux.md: head (large train count) on the left
    pb = paired_bootstrap(y, a, b, classes, "imagenet-lt", n_resamples=200)
    fd = mplots.paired_delta_chart({"balanced": pb.table}, "joint", names, "imagenet-lt")
    assert list(fd.data[0].y) == [n.replace("_", " ") for n in pb.table.index]
    dest = error_destinations(reps["joint"].state, classes, "imagenet-lt")
    fe = mplots.error_destination_chart(dest, "imagenet-lt")
    assert [t.marker.color for t in fe.data] == [bin_color(c[3:], "imagenet-lt") for c in dest.columns if c.startswith("to ")]
    m, order = ordered_confusion(reps["joint"].state, classes)
    hm = mplots.confusion_heatmap(m, order, classes, "imagenet-lt")
    assert np.isnan(np.asarray(hm.data[0].z, dtype=float).diagonal()).all()  # errors only
    d = class_deltas(reps, "joint")
    fdc = mplots.class_delta_chart(d, "balanced", "imagenet-lt")
    assert fdc.layout.xaxis.type == "log" and fdc.layout.xaxis.autorange == "reversed"


def test_heatmap_pools_many_classes():
    rng = np.random.default_rng(1)
    c = 400
    classes = ClassTable(np.arange(c), [f"c{i}" for i in range(c)], rng.integers(1, 500, c))
    y = rng.integers(0, c, 4000)
    rep = classification_report(y, rng.integers(0, c, 4000), classes, "imagenet-lt")
    m, order = ordered_confusion(rep.state, classes)
    hm = mplots.confusion_heatmap(m, order, classes, "imagenet-lt", max_cells=100)
    assert np.asarray(hm.data[0].z).shape == (100, 100)
