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
