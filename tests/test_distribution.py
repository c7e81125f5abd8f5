"""Distribution statistics: Gini / Lorenz identities, effective number (Cui et al.), real bin counts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lt_core.bins import NO_DATA
from lt_core.data.loaders import load_train_counts
from lt_core.data.schema import ClassTable
from lt_core.distribution import (class_counts, distribution_summary, effective_number, gini, head_share,
                                  imbalance_ratio, lorenz_curve)
from lt_core.errors import InputError
from lt_core.plots import bin_color
from lt_core.plots import distribution as dplots


def _gini_mean_abs_diff(x):
    x = np.asarray(x, float)
    return np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gini_equals_mean_absolute_difference_and_lorenz_area(seed):
    x = np.random.default_rng(seed).pareto(1.2, 300).round() + (seed == 0)  # zeros included for seeds 1, 2
    g = gini(x)
    assert g == pytest.approx(_gini_mean_abs_diff(x), abs=1e-12)
    lx, ly = lorenz_curve(x)
    assert lx[0] == ly[0] == 0 and lx[-1] == pytest.approx(1) and ly[-1] == pytest.approx(1)
    assert np.all(np.diff(ly) >= 0) and np.all(ly <= lx + 1e-12)  # convex, under the diagonal
    area = np.sum((lx[1:] - lx[:-1]) * (ly[1:] + ly[:-1]) / 2)
    assert g == pytest.approx(1 - 2 * area, abs=1e-12)


def test_gini_extremes_and_imbalance_ratio(data_dir):
    assert gini([7, 7, 7, 7]) == 0
    assert gini([0, 0, 0, 10]) == pytest.approx(3 / 4)
    counts = pd.read_csv(data_dir / "imagenet_lt" / "ImageNet_LT_class_counts.csv")["train_count"]
    assert imbalance_ratio(counts) == 1280 / 5  # ImageNet-LT: 1280 max, 5 min (Liu et al. 2019)
    assert imbalance_ratio([0, 3, 12]) == 4  # zero-count classes are left out of the ratio
    assert head_share([10, 0, 0, 0, 0]) == 1.0
    with pytest.raises(InputError):
        gini([1, -1])


def test_effective_number_matches_cui_reference_code():
    n = np.array([0, 1, 5, 40, 1280])
    for beta in (0.9, 0.99, 0.999, 0.9999):
        # Cui et al. 2019 reference (richardaecn/class-balanced-loss): 1 - beta^n, over 1 - beta
        ref = (1.0 - np.power(beta, n)) / (1.0 - beta)
        np.testing.assert_allclose(effective_number(n, beta), ref, rtol=1e-12)
    np.testing.assert_array_equal(effective_number(n, 1.0), n)
    np.testing.assert_array_equal(effective_number(n, 0.0), [0, 1, 1, 1, 1])
    assert effective_number([10 ** 6], 0.999)[0] == pytest.approx(1000)  # saturates at 1 / (1 - beta)
    with pytest.raises(InputError, match="beta"):
        effective_number(n, 1.5)


def test_imagenet_lt_bins_and_summary(data_dir):
    classes = load_train_counts(data_dir / "imagenet_lt" / "ImageNet_LT_class_counts.csv")
    test = np.repeat(np.arange(1000), 50)
    s = distribution_summary(classes, "imagenet-lt", {"test": class_counts(test, 1000)}, beta=0.99)
    b = s.bins
    assert list(b.index) == ["many", "medium", "few"]
    assert b["n_classes"].tolist() == [385, 479, 136]  # the published ImageNet-LT split
    assert b["train_samples"].sum() == 115846  # ImageNet-LT train size
    assert b["share_classes"].sum() == pytest.approx(1) and b["train_share"].sum() == pytest.approx(1)
    assert b.loc["few", "max_train"] < 20 and b.loc["many", "min_train"] > 100
    assert s.stats["test_gini"] == 0 and s.stats["test_imbalance_ratio"] == 1  # balanced test split
    pc = s.per_class
    assert pc["train_count"].is_monotonic_decreasing and pc["rank"].tolist() == list(range(1, 1001))
    np.testing.assert_allclose(pc["effective_number"], (1 - 0.99 ** pc["train_count"]) / 0.01)


def test_lvis_bins_reproduce_the_lvis_frequency_letters():
    classes = load_train_counts("lt_core/assets/lvis_v1_categories.csv")
    s = distribution_summary(classes, "lvis")
    letters = {"f": "frequent", "c": "common", "r": "rare"}
    by_id = s.per_class.set_index("class_id")["bin"]
    expected = pd.Series([letters[f] for f in classes.frequency], index=classes.ids)
    assert (by_id.loc[classes.ids] == expected.loc[classes.ids]).all()
    assert s.bins["n_classes"].to_dict() == {"frequent": 405, "common": 461, "rare": 337}  # LVIS v1


def test_zero_train_classes_are_their_own_bin_and_charted():
    classes = ClassTable(np.arange(6), list("abcdef"), [500, 300, 40, 8, 0, 0])
    s = distribution_summary(classes, "quantile:2", {"test": np.array([5, 5, 5, 5, 5, 5])})
    assert s.bins.loc[NO_DATA, "n_classes"] == 2 and s.stats["zero_train_classes"] == 2
    assert list(s.per_class["name"][-2:]) == ["e", "f"]
    fig = dplots.long_tail_chart(s)
    names = [t.name.split(" (")[0] for t in fig.data]
    assert NO_DATA in names
    grey = [t for t in fig.data if t.name.startswith(NO_DATA)][0]
    assert grey.marker.color == bin_color(NO_DATA, "quantile:2")
    assert fig.layout.yaxis.type == "log"


def test_charts_use_bin_colours_log_axes_and_hover_names(data_dir):
    classes = load_train_counts(data_dir / "imagenet_lt" / "ImageNet_LT_class_counts.csv")
    s = distribution_summary(classes, "imagenet-lt", {"test": np.full(1000, 50)})
    fig = dplots.long_tail_chart(s)
    assert [t.marker.color for t in fig.data] == [bin_color(n, "imagenet-lt") for n in ("many", "medium", "few")]
    assert sum(len(t.x) for t in fig.data) == 1000
    assert "goldfish" in str(fig.data[0].customdata.tolist()) or "goldfish" in str(fig.data[1].customdata.tolist())
    assert dplots.split_comparison_chart(s).layout.yaxis.type == "log"
    assert dplots.effective_number_chart(s).layout.yaxis.type == "log"
    lor = dplots.lorenz_chart({"train": classes.train_count, "test": np.full(1000, 50)})
    assert "Gini 0.000" in lor.data[2].name
    share = dplots.bin_share_chart(s)
    assert [t.name for t in share.data] == ["many", "medium", "few"]
