import numpy as np
import pytest

from lt_core.bins import NO_DATA, assign_bins, parse_bins
from lt_core.errors import InputError


def test_imagenet_lt_edges_match_kang_2020():
    # many > 100, medium 20..100, few < 20
    c = np.array([1, 19, 20, 100, 101, 1280, 0])
    assert assign_bins(c, "imagenet-lt").tolist() == ["few", "few", "medium", "medium", "many", "many", NO_DATA]


def test_lvis_edges_match_gupta_2019():
    c = np.array([1, 10, 11, 100, 101, 0])
    assert assign_bins(c, "lvis").tolist() == ["rare", "rare", "common", "common", "frequent", NO_DATA]


def test_lvis_rule_reproduces_real_lvis_v1_frequency_field(root_dir):
    import pandas as pd

    cats = pd.read_csv(root_dir / "lt_core/assets/lvis_v1_categories.csv", keep_default_na=False)
    got = assign_bins(cats["image_count"].to_numpy(), "lvis")
    want = cats["frequency"].map({"r": "rare", "c": "common", "f": "frequent"}).to_numpy()
    assert (got == want).all()
    assert (got == "rare").sum() == 337 and (got == "common").sum() == 461 and (got == "frequent").sum() == 405


def test_custom_equals_imagenet_lt_and_quantiles_split_classes_evenly():
    rng = np.random.default_rng(0)
    c = rng.integers(0, 2000, 500)
    assert (assign_bins(c, "custom:20,100") == assign_bins(c, "imagenet-lt")).all()
    q = assign_bins(c, "quantile:3")
    sizes = [int((q == n).sum()) for n in ("head", "medium", "tail")]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == int((c > 0).sum())
    # head has the largest counts
    assert c[q == "head"].min() >= c[q == "medium"].max() >= c[q == "tail"].min()


def test_zero_train_classes_are_never_dropped():
    c = np.array([0, 0, 5, 500])
    for s in ("imagenet-lt", "lvis", "quantile:2", "custom:3"):
        b = assign_bins(c, s)
        assert (b[:2] == NO_DATA).all()
        assert parse_bins(s).order(b)[-1] == NO_DATA


@pytest.mark.parametrize("spec", ["nope", "quantile:x", "quantile:1", "custom:100,20", "custom:", "custom:-1,3"])
def test_bad_specs_raise_input_error(spec):
    with pytest.raises(InputError):
        parse_bins(spec)


# ---------------------------------------------------------------- the scheme that fits the data
from lt_core.bins import choose_bin_scheme  # noqa: E402


def test_choose_lvis_when_categories_carry_frequency(root_dir):
    import pandas as pd

    cats = pd.read_csv(root_dir / "lt_core/assets/lvis_v1_categories.csv", keep_default_na=False)
    c = choose_bin_scheme(cats["image_count"].to_numpy(), frequency=cats["frequency"].to_numpy(), detection=True)
    assert c.spec == "lvis" and "reproduce" in c.reason
    # counts recomputed on an evaluation subset no longer match the field: still lvis, and it says so
    c2 = choose_bin_scheme(np.minimum(cats["image_count"].to_numpy(), 3), frequency=cats["frequency"].to_numpy())
    assert c2.spec == "lvis" and "not the train counts" in c2.reason


def test_choose_from_a_group_column_reproduces_it_exactly():
    rng = np.random.default_rng(0)
    n = rng.integers(1, 3000, 400)
    g = np.where(n > 500, "head", np.where(n >= 50, "body", "tail")).astype(object)
    c = choose_bin_scheme(n, groups=g, group_column="tier")
    assert c.spec.startswith("custom:") and "'tier'" in c.reason
    b = assign_bins(n, c.spec)
    mapping = {"many": "head", "medium": "body", "few": "tail"}
    assert all(mapping[x] == y for x, y in zip(b, g))
    # groups that are not count ranges cannot be bins by train count: the standard scheme, and why
    shuffled = rng.permutation(g)
    c2 = choose_bin_scheme(n, groups=shuffled, group_column="tier")
    assert c2.spec == "imagenet-lt" and "not a set of train-count ranges" in c2.reason


def test_choose_defaults_for_classification_and_detection():
    assert choose_bin_scheme(np.array([5, 50, 500])).spec == "imagenet-lt"
    assert choose_bin_scheme(np.array([5, 50, 500]), detection=True).spec == "lvis"
    # every class in one imagenet-lt bin: thirds by rank instead
    assert choose_bin_scheme(np.array([200, 300, 5000, 12000])).spec == "quantile:3"
    assert choose_bin_scheme(np.zeros(4), default="quantile:3").spec == "quantile:3"
