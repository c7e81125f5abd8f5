"""The compiled kernels against the pure-NumPy reference path, on random tiny scenes and layouts.

Tiny scenes (``test_detection_exact._tiny_scene``): equal IoUs, duplicate boxes, tied scores,
crowd boxes, areas exactly on the range edges, images without ground truth, LVIS federated
fields; with several max-detection limits. Every bit of the per-detection match table, the
per-image ground-truth counts and every entry of the precision / recall tables must be identical
between the two paths (and both equal the references, tested in test_detection_exact).
"""
from __future__ import annotations

import json
import random
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from lt_core.data.loaders import _gt_from_dict, _results_from_list
from lt_core.detection import _jit, evaluate_detections
from lt_core.detection.fastjson import load_results_fast

sys.path.insert(0, str(Path(__file__).parent))
from test_detection_exact import _tiny_scene, jitter_dets  # noqa: E402

DATA = Path(__file__).parent / "data"


def _both(gd, dets, **kw):
    gt = _gt_from_dict(gd, "gt.json")
    res = _results_from_list(dets, gt, "dets", "dets.json")
    old = _jit.set_backend("numpy")
    try:
        ref = evaluate_detections(gt, res, **kw)
    finally:
        _jit.set_backend(old)
    assert _jit.use_kernels()
    got = evaluate_detections(gt, res, **kw)
    return got, ref


def _assert_same(got, ref):
    a, b = got.state, ref.state
    for f in ("score", "cat", "img", "rank", "matched", "ignored", "det_index", "match_ann", "gt_img", "gt_cat",
              "gt_n", "gt_count"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    assert np.array_equal(a.iou, b.iou)
    assert np.array_equal(got.acc.precision, ref.acc.precision)
    assert np.array_equal(got.acc.recall, ref.acc.recall)
    assert got.headline == ref.headline


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("lvis", [False, True])
def test_kernels_equal_numpy_path_on_tiny_scenes(seed, lvis):
    gd, dets = _tiny_scene(seed, lvis)
    for md in (None, 1, 3):
        got, ref = _both(gd, dets, style="lvis" if lvis else "coco", max_dets=md)
        _assert_same(got, ref)


@pytest.mark.parametrize("seed", [0, 1])
def test_kernels_equal_numpy_path_on_coco_jittered(seed):
    import gzip
    gd = json.loads(gzip.decompress((DATA / "coco_val2014_100" / "instances_val2014_100.json.gz").read_bytes()))
    dets = jitter_dets(gd, seed)
    got, ref = _both(gd, dets, style="coco")
    _assert_same(got, ref)


def _layouts(dets, rng):
    """The same records in several JSON layouts: compact, one per line, pretty-printed, shuffled key
    order with extra keys (nested, strings with braces)."""
    yield json.dumps(dets, separators=(",", ":"))
    yield "[\n" + ",\n".join(json.dumps(d) for d in dets) + "\n]\n"
    yield json.dumps(dets, indent=2)
    recs = []
    for i, d in enumerate(dets):
        items = list(d.items()) + [("extra", {"note": "a } , { b", "v": [1, 2, {"x": None}]}), ("flag", True)]
        rng.shuffle(items)
        recs.append("{" + " , ".join(f'"{k}" :\t{json.dumps(v)}' for k, v in items) + "}")
    yield "  [ " + " ,\r\n ".join(recs) + " ]  "


def _number(rng):
    k = rng.random()
    if k < 0.3:
        return rng.random() * 10 ** rng.randint(-6, 4)
    if k < 0.5:
        return float(np.float32(rng.random() * 1000))
    if k < 0.6:
        return rng.randint(1, 10 ** 6)
    if k < 0.8:
        return struct.unpack("d", struct.pack("Q", rng.getrandbits(62)))[0] % 1e6 + 1e-9
    return round(rng.random() * 640, rng.randint(0, 3)) + 0.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_json_scanner_reads_every_layout_bit_identically(tmp_path, seed):
    rng = random.Random(seed)
    dets = [{"image_id": rng.randint(1, 50), "category_id": rng.randint(1, 9),
             "bbox": [_number(rng), _number(rng), abs(_number(rng)) + 1, abs(_number(rng)) + 1],
             "score": _number(rng)} for _ in range(3000)]
    ref = _results_from_list(json.loads(json.dumps(dets)), None, "d", "d.json")
    for i, text in enumerate(_layouts(dets, rng)):
        p = tmp_path / f"d{i}.json"
        p.write_text(text)
        for backend in ("numba", "numpy"):
            old = _jit.set_backend(backend)
            try:
                got = load_results_fast(p)
            finally:
                _jit.set_backend(old)
            assert np.array_equal(got.image_id, ref.image_id) and np.array_equal(got.category_id, ref.category_id)
            assert np.array_equal(got.bbox.view(np.uint64), ref.bbox.view(np.uint64)), (i, backend)
            assert np.array_equal(got.score.view(np.uint64), ref.score.view(np.uint64)), (i, backend)


def test_float_parser_is_correctly_rounded_on_hard_cases():
    """Eisel-Lemire against Python's float on numbers with many digits, subnormals, huge exponents."""
    from lt_core.detection.kernels import scan_results
    rng = random.Random(7)
    nums = ["0.1", "1e-320", "4.9406564584124654e-324", "2.2250738585072011e-308", "1.7976931348623157e308",
            "9007199254740993", "0.30000000000000004", "123456789012345678901234567890", "1e23", "8.41e21",
            "2.4703282292062328e-324", "-0.0", "5e-324", "1.00000000000000011102230246251565404236316680908203125"]
    for _ in range(5000):
        nums.append(repr(struct.unpack("d", struct.pack("Q", rng.getrandbits(63)))[0]))
        nums.append(f"{rng.randint(0, 10 ** 19)}e{rng.randint(-340, 300)}")
    nums = [n for n in nums if "inf" not in n and "nan" not in n]
    text = "[" + ",".join('{"image_id":1,"category_id":1,"bbox":[%s,1,1,1],"score":%s}' % (n, n) for n in nums) + "]"
    img, cat, box, score = scan_results(np.frombuffer(text.encode(), np.uint8))
    want = np.array([float(n) for n in nums])
    assert np.array_equal(score.view(np.uint64), want.view(np.uint64))
    assert np.array_equal(box[:, 0].view(np.uint64), want.view(np.uint64))


@pytest.mark.parametrize("text", [
    '[{"image_id": 1.5, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}]',
    '[{"image_id": true, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}]',
    '[{"image_id": "1", "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}]',
    '[{"image_id": 1, "category_id": 1, "bbox": ["1", 2, 3, 4], "score": 0.5}]',
    '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": "0.5"}]',
    '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}]',
    '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},]',
])
def test_json_scanner_hands_anything_unusual_to_the_validating_reader(text):
    from lt_core.detection.kernels import scan_results
    assert scan_results(np.frombuffer(text.encode(), np.uint8)) is None
