"""Detection inputs are validated by type: a message naming the file and field, never a coercion
or a traceback (integer ids, numeric boxes / scores, RLE masks, image sizes, category counts,
LVIS id lists), through the loaders, the fast reader and the CLI (exit 2)."""
from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest

from lt_core.cli import main
from lt_core.data.loaders import load_detection_gt, load_detection_results
from lt_core.detection import load_detection_frequencies
from lt_core.detection.fastjson import load_results_fast
from lt_core.errors import InputError

DATA = Path(__file__).parent / "data"
COCO_GT = DATA / "coco_val2014_100" / "instances_val2014_100.json.gz"
LVIS_GT = DATA / "lvis_v0_5_val_100" / "lvis_val_100.json.gz"


@pytest.fixture(scope="module")
def coco():
    return json.loads(gzip.decompress(COCO_GT.read_bytes()))


@pytest.fixture(scope="module")
def lvis():
    return json.loads(gzip.decompress(LVIS_GT.read_bytes()))


def _gt_case(d, where, key, value, idx=0):
    d = copy.deepcopy(d)
    d[where][idx][key] = value
    return d


GT_CASES = [
    ("images", "id", 1146.7, "images.id"),
    ("images", "id", True, "images.id"),
    ("images", "id", "139", "images.id"),
    ("annotations", "image_id", 139.0, "annotations.image_id"),
    ("annotations", "category_id", True, "annotations.category_id"),
    ("annotations", "id", None, "annotations.id"),
    ("annotations", "bbox", ["1", 2, 3, 4], "annotations.bbox"),
    ("annotations", "bbox", [1, 2, 3], "annotations.bbox"),
    ("annotations", "area", "big", "annotations.area"),
    ("images", "height", "tall", "images.height"),
    ("images", "height", [480], "images.height"),
    ("images", "width", None, "images.width"),
    ("categories", "id", 1.0, "categories.id"),
]


@pytest.mark.parametrize("where,key,value,field", GT_CASES)
def test_coco_gt_wrong_types_are_messages(tmp_path, coco, where, key, value, field):
    p = tmp_path / "bad_gt.json"
    p.write_text(json.dumps(_gt_case(coco, where, key, value)))
    with pytest.raises(InputError) as e:
        load_detection_gt(p)
    assert e.value.field == field and "bad_gt.json" in str(e.value)
    rc = main(["eval-det", "--gt", str(p), "--dt", str(DATA / "coco_val2014_100" /
                                                       "instances_val2014_fakebbox100_results.json.gz")])
    assert rc == 2


@pytest.mark.parametrize("key,value", [("image_count", "tall"), ("image_count", [3]), ("image_count", None),
                                       ("instance_count", "many"), ("image_count", 2.5), ("frequency", "x")])
def test_lvis_category_counts_of_the_wrong_type(tmp_path, lvis, key, value):
    p = tmp_path / "bad_lvis.json"
    p.write_text(json.dumps(_gt_case(lvis, "categories", key, value, idx=3)))
    with pytest.raises(InputError) as e:
        load_detection_gt(p)
    assert e.value.field == f"categories.{key}" and "bad_lvis.json" in str(e.value)


@pytest.mark.parametrize("key,value", [("neg_category_ids", [[1, 2], 3]), ("neg_category_ids", [1.5]),
                                       ("not_exhaustive_category_ids", [True]), ("neg_category_ids", "1,2"),
                                       ("not_exhaustive_category_ids", None)])
def test_lvis_id_lists_must_be_flat_integer_lists(tmp_path, lvis, key, value):
    p = tmp_path / "bad_lists.json"
    p.write_text(json.dumps(_gt_case(lvis, "images", key, value, idx=2)))
    with pytest.raises(InputError) as e:
        load_detection_gt(p)
    assert e.value.field == f"images.{key}" and "bad_lists.json" in str(e.value)


RES_CASES = [
    ({"image_id": 139.9}, "image_id"),     # never truncated to 139
    ({"image_id": True}, "image_id"),
    ({"category_id": True}, "category_id"),  # true is not category 1
    ({"category_id": "1"}, "category_id"),
    ({"bbox": ["1", 2, 3, 4]}, "bbox"),
    ({"bbox": [1, 2, True, 4]}, "bbox"),
    ({"score": "0.9"}, "score"),
    ({"score": None}, "score"),
]


@pytest.mark.parametrize("change,field", RES_CASES)
@pytest.mark.parametrize("reader", [load_results_fast, load_detection_results])
def test_results_wrong_types_are_messages(tmp_path, change, field, reader):
    gt = load_detection_gt(COCO_GT)
    good = {"image_id": 139, "category_id": 1, "bbox": [1.0, 2.0, 3.0, 4.0], "score": 0.5}
    p = tmp_path / "bad_results.json"
    p.write_text(json.dumps([good, dict(good, **change), good]))
    with pytest.raises(InputError) as e:
        reader(p, gt)
    assert e.value.field == field and "bad_results.json" in str(e.value) and "[1]" in str(e.value)


@pytest.mark.parametrize("seg", [{"size": [10, 10], "counts": "garbage!!"}, {"size": [10, 10], "counts": "0"},
                                 {"size": [10, "a"], "counts": "52"}, {"size": [4, 4], "counts": [3, 4]},
                                 {"counts": "52"}, "not a mask"])
def test_garbage_rle_is_refused(tmp_path, seg):
    gt = load_detection_gt(COCO_GT)
    good = {"image_id": 139, "category_id": 1, "bbox": [1.0, 2.0, 3.0, 4.0], "score": 0.5,
            "segmentation": {"size": [4, 4], "counts": [3, 13]}}
    p = tmp_path / "bad_masks.json"
    p.write_text(json.dumps([good, dict(good, segmentation=seg)]))
    with pytest.raises(InputError) as e:
        load_results_fast(p, gt)
    assert (e.value.field or "").startswith("segmentation") and "bad_masks.json" in str(e.value)


def test_rfs_image_count_without_the_field_is_a_message(tmp_path, capsys):
    out = tmp_path / "factors.json"
    rc = main(["rebalance", "rfs", "--gt", str(COCO_GT), "--frequency", "image_count", "--out", str(out)])
    assert rc == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "image_count" in err and "instances_val2014_100" in err


def test_frequency_files_bad_and_good(tmp_path):
    gt = load_detection_gt(LVIS_GT)
    bad = tmp_path / "counts.csv"
    bad.write_text("class_id,count\n1,tall\n")
    with pytest.raises(InputError) as e:
        load_detection_frequencies(bad, gt)
    assert "counts.csv" in str(e.value)
    other = tmp_path / "other.csv"
    other.write_text("class_id,count\n999991,3\n999992,4\n")
    with pytest.raises(InputError, match="none of the"):
        load_detection_frequencies(other, gt)
    ok = tmp_path / "ok.csv"
    ok.write_text("class_id,count\n1,3\n2,400\n")
    t = load_detection_frequencies(ok, gt)
    assert t.kind == "counts_csv" and t.notes and t.image_count[list(gt.categories.ids).index(2)] == 400


def test_eval_split_counts_are_never_called_train(lvis):
    """The LVIS val subset's image_count was recounted on its 100 images (it contradicts the train
    frequency letters): its class table says so."""
    gt = load_detection_gt(LVIS_GT)
    assert gt.categories.count_source.startswith("the evaluation split")
    coco = load_detection_gt(COCO_GT)
    assert coco.categories.count_source.startswith("the evaluation split")
