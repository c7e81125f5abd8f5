"""Repeat factor sampling (Gupta et al. 2019): real LVIS v1 profile, real LVIS/COCO GT, reference loop, exports."""
import copy
import gzip
import json
import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from lt_core.data import load_detection_gt
from lt_core.errors import InputError
from lt_core.rebalance import (RFSCounts, annotate_gt_json, category_repeat_factors, repeat_factors,
                               repeat_factors_from_arrays, rfs_epoch_indices)

LVIS_V1 = "lt_core/assets/lvis_v1_categories.csv"
LVIS_V1_TRAIN_IMAGES = 100_170
LVIS_VAL_100 = "tests/data/lvis_v0_5_val_100/lvis_val_100.json.gz"
COCO_100 = "tests/data/coco_val2014_100/instances_val2014_100.json.gz"


def reference_image_factors(coco: dict, t: float) -> dict:
    """The LVIS paper's rule as a plain loop over images (the detectron2 / mmdetection formulation)."""
    anns = defaultdict(set)
    for a in coco["annotations"]:
        anns[a["image_id"]].add(a["category_id"])
    num_images = len(coco["images"])
    freq = defaultdict(int)
    for im in coco["images"]:
        for c in anns[im["id"]]:
            freq[c] += 1
    rep = {c: max(1.0, math.sqrt(t / (v / num_images))) for c, v in freq.items()}
    return {im["id"]: max([rep[c] for c in anns[im["id"]]], default=1.0) for im in coco["images"]}


def test_lvis_v1_category_factors_from_real_profile():
    df = pd.read_csv(LVIS_V1)
    assert len(df) == 1203
    r = category_repeat_factors(df["image_count"] / LVIS_V1_TRAIN_IMAGES, 0.001)
    ref = np.array([max(1.0, math.sqrt(0.001 / (k / LVIS_V1_TRAIN_IMAGES))) for k in df["image_count"]])
    np.testing.assert_allclose(r, ref, rtol=1e-15)
    # r > 1 exactly for categories in fewer than t * I = 100.17 images: all rare and common, no frequent
    assert set(df.loc[r > 1, "frequency"]) == {"r", "c"} and (r > 1).sum() == 337 + 461
    assert (r[df["frequency"] == "f"] == 1).all()
    # a category seen in one image of 100,170 repeats sqrt(100.17) = 10.0085 times
    assert r[df["image_count"] == 1] == pytest.approx(math.sqrt(100.17))
    assert r.max() == pytest.approx(math.sqrt(100.17))


@pytest.mark.parametrize("path", [LVIS_VAL_100, COCO_100])
@pytest.mark.parametrize("t", [0.001, 0.05, 0.3])
def test_image_factors_match_reference_loop_on_real_gt(path, t):
    gt = load_detection_gt(path)
    with gzip.open(path, "rt") as fh:
        raw = json.load(fh)
    rf = repeat_factors(gt, t)
    ref = reference_image_factors(raw, t)
    np.testing.assert_allclose(rf.image_factors, [ref[i] for i in rf.image_ids], rtol=1e-15)
    counted = gt.images_per_category()
    np.testing.assert_array_equal(rf.image_count, counted)
    assert rf.n_images == len(raw["images"])


def test_images_without_annotations_get_one():
    rf = repeat_factors_from_arrays([1, 2, 3], [1, 1, 2], [7, 8, 7], [7, 8, 9], threshold=0.9)
    # f(7) = 2/3, f(8) = 1/3, f(9) = 0
    np.testing.assert_allclose(rf.category_factors, [max(1, math.sqrt(0.9 / (2 / 3))), math.sqrt(2.7), 1.0])
    np.testing.assert_allclose(rf.image_factors, [math.sqrt(2.7), math.sqrt(0.9 / (2 / 3)), 1.0])
    assert rf.expected_images_per_category()[1] == pytest.approx(math.sqrt(2.7))


def test_image_count_source_uses_lvis_train_frequencies():
    gt = load_detection_gt(LVIS_VAL_100)
    v05 = pd.read_csv("tests/data/lvis_v0_5_val_100/lvis_v0_5_categories.csv").set_index("id")
    # the val file's own image_count is recomputed on 100 images; use the real v0.5 train counts
    gt.categories = gt.categories.with_counts(v05.loc[gt.categories.ids, "image_count"].to_numpy())
    rf = repeat_factors(gt, 0.001, frequency="image_count", n_train_images=57_263)
    exp = np.maximum(1, np.sqrt(0.001 / (v05.loc[gt.categories.ids, "image_count"].to_numpy() / 57_263)))
    np.testing.assert_allclose(rf.category_factors, exp)
    with pytest.raises(InputError):
        repeat_factors(gt, 0.001, frequency="image_count", n_train_images=10)


def test_rfs_counts_merge_exactly():
    gt = load_detection_gt(COCO_100)
    cats = gt.categories.ids
    whole = RFSCounts(cats).update(gt.image_ids, gt.ann_image_id, gt.ann_category_id)
    parts = []
    for chunk in np.array_split(gt.image_ids, 3):
        m = np.isin(gt.ann_image_id, chunk)
        parts.append(RFSCounts(cats).update(chunk, gt.ann_image_id[m], gt.ann_category_id[m]))
    merged = parts[0].merge(parts[1]).merge(parts[2])
    np.testing.assert_array_equal(merged.image_count, whole.image_count)
    np.testing.assert_array_equal(merged.compute(0.05), whole.compute(0.05))
    np.testing.assert_array_equal(whole.compute(0.05), repeat_factors(gt, 0.05).category_factors)


def test_epoch_indices_stochastic_rounding():
    r = np.array([1.0, 1.5, 2.25, 10.0085, 0.0])
    draws = np.stack([np.bincount(rfs_epoch_indices(r, epoch=e, seed=0), minlength=5) for e in range(2000)])
    assert ((draws == np.floor(r)) | (draws == np.ceil(r))).all()
    np.testing.assert_allclose(draws.mean(axis=0), r, atol=0.05)
    np.testing.assert_array_equal(rfs_epoch_indices(r, epoch=3, seed=1), rfs_epoch_indices(r, epoch=3, seed=1))


def test_annotated_gt_json_keeps_input_and_loads_with_lvis_api(tmp_path):
    lvis = pytest.importorskip("lvis")
    from lt_core.rebalance.exports import write_rfs_gt

    gt = load_detection_gt(LVIS_VAL_100)
    with gzip.open(LVIS_VAL_100, "rt") as fh:
        raw = json.load(fh)
    before = copy.deepcopy(raw)
    rf = repeat_factors(gt, 0.05)
    out = annotate_gt_json(raw, rf)
    assert raw == before  # input dict untouched
    path = write_rfs_gt(tmp_path / "train_rfs.json", raw, rf)
    api = lvis.LVIS(str(path))
    lut = dict(zip(rf.image_ids.tolist(), rf.image_factors.tolist()))
    assert all(api.imgs[i]["repeat_factor"] == pytest.approx(lut[i]) for i in api.imgs)
    assert out["repeat_factor_sampling"]["threshold"] == 0.05


def test_bad_input():
    with pytest.raises(InputError):
        category_repeat_factors([0.1], 0.0)
    with pytest.raises(InputError):
        repeat_factors_from_arrays([1, 2], [3], [1])          # unknown image
    with pytest.raises(InputError):
        repeat_factors_from_arrays([1, 2], [1], [5], [1, 2])  # unknown category
    with pytest.raises(InputError):
        repeat_factors_from_arrays([1, 1], [1], [1])          # duplicate image ids


def test_annotated_coco_json_loads_with_pycocotools(tmp_path):
    coco_mod = pytest.importorskip("pycocotools.coco")
    from lt_core.rebalance.exports import write_rfs_gt

    gt = load_detection_gt(COCO_100)
    rf = repeat_factors(gt, 0.05)
    path = write_rfs_gt(tmp_path / "coco_rfs.json", gt.raw, rf)
    coco = coco_mod.COCO(str(path))
    lut = dict(zip(rf.image_ids.tolist(), rf.image_factors.tolist()))
    assert len(coco.imgs) == 100 and all(coco.imgs[i]["repeat_factor"] == lut[i] for i in coco.imgs)
    assert len(coco.anns) == len(gt.ann_id)
