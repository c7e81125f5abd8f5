"""The compiled ground-truth reader of ``eval-det`` (``fastjson.load_gt_fast``) against the
validating reader (``loaders.load_detection_gt``): the same DetectionGT bit for bit on real and
generated COCO / LVIS files in any JSON layout, and the same outcome (the same message and field,
or the same result) on every mutation of a small ground-truth file, byte by byte and value by
value."""
from __future__ import annotations

import copy
import dataclasses
import gzip
import json
import random
from pathlib import Path

import numpy as np
import pytest

from lt_core.data import make_lvis_like
from lt_core.data.loaders import load_detection_gt
from lt_core.detection.fastjson import load_gt_fast
from lt_core.errors import InputError

DATA = Path(__file__).parent / "data"
COCO_GT = DATA / "coco_val2014_100" / "instances_val2014_100.json.gz"
LVIS_GT = DATA / "lvis_v0_5_val_100" / "lvis_val_100.json.gz"


def _same_array(x, y, what):
    x, y = np.asarray(x), np.asarray(y)
    assert x.dtype == y.dtype and x.shape == y.shape, (what, x.dtype, y.dtype, x.shape, y.shape)
    if x.dtype.kind == "f":
        assert np.array_equal(x.view(np.uint64 if x.itemsize == 8 else np.uint32),
                              y.view(np.uint64 if y.itemsize == 8 else np.uint32)), what  # bit for bit
    else:
        assert np.array_equal(x, y), what


def assert_same_gt(fast, slow):
    assert fast.raw is None and slow.raw is not None
    for f in dataclasses.fields(slow):
        a, b = getattr(fast, f.name), getattr(slow, f.name)
        if f.name in ("raw", "ann_ignore"):
            continue
        if f.name == "categories":
            for g in dataclasses.fields(b):
                u, v = getattr(a, g.name), getattr(b, g.name)
                if isinstance(v, np.ndarray) or isinstance(u, np.ndarray):
                    assert (u is None) == (v is None), g.name
                    if v is not None:
                        _same_array(u, v, g.name)
                else:
                    assert u == v, (g.name, u, v)
        elif isinstance(b, list) or isinstance(a, list):
            assert (a is None) == (b is None), f.name
            if b is not None:
                assert len(a) == len(b), f.name
                for x, y in zip(a, b):
                    _same_array(x, y, f.name)
        elif isinstance(b, np.ndarray):
            _same_array(a, b, f.name)
        else:
            assert a == b, (f.name, a, b)
    anns = slow.raw["annotations"]
    ign = np.array([bool(a.get("ignore", 0)) for a in anns], bool)
    _same_array(fast.ann_ignore, ign, "ann_ignore")


def _outcome(reader, path):
    try:
        return reader(path)
    except InputError as e:
        return ("error", str(e), e.field)


def assert_same_outcome(path):
    slow = _outcome(load_detection_gt, path)
    fast = _outcome(load_gt_fast, path)
    if isinstance(slow, tuple):
        assert fast == slow
    else:
        assert not isinstance(fast, tuple), fast
        if fast.raw is None:  # read by the compiled scanner (else it handed over to the loader)
            assert_same_gt(fast, slow)
    return slow, fast


@pytest.fixture(scope="module")
def lvis():
    return json.loads(gzip.decompress(LVIS_GT.read_bytes()))


@pytest.mark.parametrize("path", [COCO_GT, LVIS_GT])
def test_real_files_read_the_same(path):
    slow, fast = assert_same_outcome(path)
    assert fast.raw is None  # the compiled scanner read it


@pytest.mark.parametrize("layout", ["compact", "indent", "ascii", "spaces"])
def test_layouts_and_generated_lvis(tmp_path, layout):
    gt, _ = make_lvis_like(n_images=60, seed=3, dets_per_image=5)
    gt["categories"][0]["name"] = "caf\u00e9 \"quoted\" / \\ \u4e2d\u6587 \U0001f600"
    gt["categories"][1]["synonyms"] = ["a\nb", "\u00e9"]
    gt["annotations"][0]["bbox"] = [0, -0.0, 1e2, 2.5e-1]
    gt["annotations"][1]["area"] = 12
    gt["annotations"][2]["ignore"] = 1
    gt["annotations"][3]["iscrowd"] = True
    gt["annotations"][4]["segmentation"] = [[1.5, 2, 3, 4.25, 5, 6]]
    gt["images"][0]["height"] = 480.5
    gt["info"] = {"nested": [{"a": [1, -2.5e-3, None, True, False, {}]}, []], "s": "x\ty"}
    p = tmp_path / "gt.json"
    if layout == "compact":
        p.write_text(json.dumps(gt, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
    elif layout == "indent":
        p.write_text(json.dumps(gt, indent=2, ensure_ascii=False), encoding="utf-8")
    elif layout == "ascii":
        p.write_text(json.dumps(gt), encoding="utf-8")  # \uXXXX escapes (surrogate pairs included)
    else:
        p.write_text(" \n" + json.dumps(gt, separators=(" ,\r\n ", " :\t"), ensure_ascii=False) + "\n\n",
                     encoding="utf-8")
    slow, fast = assert_same_outcome(p)
    assert slow.has_segmentation
    if layout != "ascii":  # a surrogate pair escape is left to the validating reader
        assert fast.raw is None


VALUES = [0, -1, 1.5, -0.0, 2 ** 53, 2 ** 63, 10 ** 30, 1e300, True, False, None, "x", "", "r", [], [1], [1.5],
          [[1, 2]], {}, {"a": 1}, [1, 2, 3], [1, 2, 3, 4], [1, 2, 0, 4], [1, 2, -3, 4]]


def _mutations(gt: dict, rng: random.Random, n: int):
    keys = {"images": ["id", "height", "width", "neg_category_ids", "not_exhaustive_category_ids", "extra"],
            "annotations": ["id", "image_id", "category_id", "bbox", "area", "iscrowd", "ignore", "segmentation"],
            "categories": ["id", "name", "frequency", "image_count", "instance_count", "synonyms"]}
    for _ in range(n):
        d = copy.deepcopy(gt)
        where = rng.choice(list(keys))
        lst = d[where]
        i = rng.randrange(len(lst))
        op = rng.random()
        k = rng.choice(keys[where])
        if op < 0.6:
            lst[i][k] = copy.deepcopy(rng.choice(VALUES))
        elif op < 0.7:
            lst[i].pop(k, None)
        elif op < 0.8:
            lst[i] = rng.choice(VALUES)
        elif op < 0.9:
            lst.append(copy.deepcopy(lst[rng.randrange(len(lst))]))  # a duplicate
        else:
            d[where] = rng.choice(VALUES) if rng.random() < 0.5 else []
        yield d


def test_value_mutations_give_the_same_outcome(tmp_path, lvis):
    small = {"info": lvis.get("info", {}), "images": lvis["images"][:6],
             "annotations": [a for a in lvis["annotations"] if a["image_id"] in {im["id"] for im in lvis["images"][:6]}],
             "categories": lvis["categories"][:40]}
    cats = {c["id"] for c in small["categories"]}
    small["annotations"] = [dict(a, category_id=a["category_id"] if a["category_id"] in cats else 1)
                            for a in small["annotations"]]
    for im in small["images"]:
        im["neg_category_ids"] = [c for c in im.get("neg_category_ids", []) if c in cats]
        im["not_exhaustive_category_ids"] = [c for c in im.get("not_exhaustive_category_ids", []) if c in cats]
    rng = random.Random(0)
    p = tmp_path / "gt.json"
    p.write_text(json.dumps(small))
    base, _ = assert_same_outcome(p)
    assert not isinstance(base, tuple)
    n_err = 0
    for d in _mutations(small, rng, 250):
        p.write_text(json.dumps(d))
        slow, _ = assert_same_outcome(p)
        n_err += isinstance(slow, tuple)
    assert n_err > 100  # most mutations are errors: the messages were compared


def test_byte_mutations_give_the_same_outcome(tmp_path, lvis):
    small = {"images": lvis["images"][:3], "annotations": lvis["annotations"][:5],
             "categories": lvis["categories"][:3], "info": {"v": [1.5, "s\u00e9"]}}
    ids = {im["id"] for im in small["images"]}
    small["annotations"] = [dict(a, image_id=small["images"][0]["id"], category_id=small["categories"][0]["id"])
                            for a in small["annotations"] if a["image_id"] in ids or True]
    for im in small["images"]:
        im["neg_category_ids"] = [small["categories"][1]["id"]]
        im["not_exhaustive_category_ids"] = []
    text = json.dumps(small, ensure_ascii=False).encode()
    rng = random.Random(1)
    p = tmp_path / "gt.json"
    alphabet = b' \n{}[],:"\\-+.0123456789eEtruefalsn\xc3\xa9\xff\x00'
    for _ in range(300):
        b = bytearray(text)
        for _ in range(rng.choice([1, 1, 2])):
            j = rng.randrange(len(b))
            op = rng.random()
            if op < 0.5:
                b[j] = rng.choice(alphabet)
            elif op < 0.75:
                del b[j]
            else:
                b.insert(j, rng.choice(alphabet))
        p.write_bytes(bytes(b))
        assert_same_outcome(p)


@pytest.mark.parametrize("text", [b"", b"   ", b"[]", b"{}", b"\xef\xbb\xbf{}", b'{"images": [], "annotations": [], '
                                  b'"categories": []}', b"[" * 3000 + b"]" * 3000, b'{"images": [{"id": 1}], '
                                  b'"annotations": [], "categories": [{"id": 1, "name": "a"}], "images": []}'])
def test_odd_files_give_the_same_outcome(tmp_path, text):
    p = tmp_path / "gt.json"
    p.write_bytes(text)
    assert_same_outcome(p)
