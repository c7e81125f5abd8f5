"""The built-in demos are real data (classification) and deterministic (detection)."""
import numpy as np

from lt_core.data import load_classification_demo, load_detection_demo, make_lvis_like


def test_goemotions_demo_is_the_real_single_label_subset():
    ds = load_classification_demo()
    assert ds.classes.n_classes == 28 and not ds.generated
    assert {s: len(l) for s, l in ds.labels.items()} == {"train": 36308, "val": 4548, "test": 4590}
    counts = dict(zip(ds.classes.names, ds.classes.train_count))
    assert counts["neutral"] == 12823 and counts["grief"] == 39 and counts["admiration"] == 2710
    assert ds.features["train"].X.shape == (36308, 256) and ds.classifier.W.shape == (28, 256)
    # the joint model is a real model: well above chance, and worse on the tail than on the head
    test = ds.runs["joint"].preds["test"]
    y = ds.labels["test"].y
    acc = (test.labels == y).mean()
    assert 0.4 < acc < 0.7
    recall = np.array([(test.labels[y == c] == c).mean() for c in range(28)])
    bins = ds.classes.bins(ds.default_bins)
    assert recall[bins == "head"].mean() > recall[bins == "tail"].mean() + 0.1


def test_detection_demo_is_deterministic_and_tail_is_harder():
    a = make_lvis_like(50, seed=3)
    b = make_lvis_like(50, seed=3)
    assert a == b
    ds = load_detection_demo(n_images=200, seed=1)
    assert ds.generated and ds.classes.n_classes == 1203 and ds.gt.is_lvis
    assert (ds.classes.bins("lvis") == "rare").sum() == 337
    names = dict(zip(ds.classes.ids.tolist(), ds.classes.names.tolist()))
    assert names[1] == "aerosol_can" and names[2] == "air_conditioner"  # the real LVIS v1 names
