"""Exactness of lt_core.detection against the reference packages on the same inputs.

pycocotools ``COCOeval`` (coco style) and lvis-api ``LVISEval`` (lvis style) are run here on
the very same ground truth and detections; every headline number and every entry of the
precision / recall tables must agree (|diff| <= 1e-6; in practice they are bit-identical).
"""
from __future__ import annotations

import contextlib
import copy
import gzip
import io
import json
from pathlib import Path

import numpy as np
import pytest

from lt_core.data.loaders import _gt_from_dict, _results_from_list
from lt_core.detection import (EvalParams, empty_state, evaluate_detections, finish, match_detections, match_shard,
                               merge, prepare_dets, prepare_gt)

np.float = float  # lvis 0.5.3 still uses np.float (removed in NumPy 1.24)
from lvis import LVIS, LVISEval, LVISResults  # noqa: E402
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

DATA = Path(__file__).parent / "data"
COCO_GT = DATA / "coco_val2014_100" / "instances_val2014_100.json.gz"
COCO_BBOX = DATA / "coco_val2014_100" / "instances_val2014_fakebbox100_results.json.gz"
COCO_SEGM = DATA / "coco_val2014_100" / "instances_val2014_fakesegm100_results.json.gz"
LVIS_GT = DATA / "lvis_v0_5_val_100" / "lvis_val_100.json.gz"
COCO_KEYS = ["AP", "AP50", "AP75", "APs", "APm", "APl"]
LVIS_KEYS = COCO_KEYS + ["APr", "APc", "APf"]
TOL = 1e-6


def _load(p: Path):
    with gzip.open(p, "rt") as fh:
        return json.load(fh)


@contextlib.contextmanager
def _quiet():
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def coco_reference(gt_dict: dict, dets: list, iou_type: str = "bbox", max_dets=None):
    """Run pycocotools on in-memory copies; returns the COCOeval object."""
    with _quiet():
        cg = COCO()
        cg.dataset = copy.deepcopy(gt_dict)
        cg.createIndex()
        cd = cg.loadRes(copy.deepcopy(dets))
        E = COCOeval(cg, cd, iou_type)
        if max_dets is not None:
            E.params.maxDets = [1, 10, max_dets]
        E.evaluate()
        E.accumulate()
        E.summarize()
    return E


def lvis_reference(gt_dict: dict, dets: list, tmp_path: Path, iou_type: str = "bbox", max_dets: int = 300):
    """Run lvis-api (it needs a file path for the ground truth)."""
    p = tmp_path / "lvis_gt.json"
    p.write_text(json.dumps(gt_dict))
    lg = LVIS(str(p))
    ld = LVISResults(lg, copy.deepcopy(dets), max_dets=max_dets)
    E = LVISEval(lg, ld, iou_type)
    E.params.max_dets = max_dets
    with _quiet():
        E.run()
    return E


def _cat_perm(gt):
    """Our class index order -> the references' sorted category order."""
    return np.argsort(np.asarray(gt.categories.ids), kind="stable")


def assert_coco_equal(ev, E, gt):
    got = np.array([ev.headline[k] for k in COCO_KEYS])
    ref = E.stats[:6].copy()
    n = ev.params.headline_dets
    if n != 100:
        # pycocotools' summarize reads AP at maxDets=100 and the others at maxDets[2] whatever the
        # list says; we read every headline number at the requested maxDets (same precision table)
        m = ev.params.headline_m
        for i, (t, a) in enumerate([(None, 0), (0.5, 0), (0.75, 0), (None, 1), (None, 2), (None, 3)]):
            P = E.eval["precision"][:, :, :, a, m]
            if t is not None:
                P = P[np.where(t == E.params.iouThrs)[0]]
            ref[i] = P[P > -1].mean()
    assert np.abs(got - ref).max() <= TOL, (got, ref)
    # the recall summary: pycocotools stats[6:12] (AR at maxDets[0], [1], [2]; ARs/m/l at maxDets[2])
    md = list(ev.params.max_dets)  # pycocotools sorts maxDets and prints AR at each, ARs/m/l at the last
    ar = [ev.headline[f"AR{md[0]}"], ev.headline[f"AR{md[1]}"], ev.headline[f"AR{md[2]}"],
          ev.headline["ARs"], ev.headline["ARm"], ev.headline["ARl"]]
    assert ar == [float(x) for x in E.stats[6:12]], (ar, E.stats[6:12])  # bit-identical
    o = _cat_perm(gt)
    assert np.abs(ev.acc.precision[:, :, o] - E.eval["precision"]).max() <= TOL
    assert np.abs(ev.acc.recall[:, o] - E.eval["recall"]).max() <= TOL
    # per-class AP = mean over IoU x recall of that class (area all, last maxDets)
    P = E.eval["precision"][:, :, :, 0, ev.params.headline_m]
    ref = np.array([P[:, :, k][P[:, :, k] > -1].mean() if (P[:, :, k] > -1).any() else -1 for k in range(P.shape[2])])
    assert np.abs(ev.per_class["AP"].to_numpy()[o] - ref).max() <= TOL


def assert_lvis_equal(ev, E, gt):
    for k in LVIS_KEYS:
        assert abs(ev.headline[k] - E.results[k]) <= TOL, (k, ev.headline[k], E.results[k])
    n = ev.params.max_dets[0]
    for k in ("AR", "ARs", "ARm", "ARl"):
        assert ev.headline[f"{k}@{n}"] == float(E.results[f"{k}@{n}"]), k  # bit-identical
    o = _cat_perm(gt)
    assert np.abs(ev.acc.precision[..., 0][:, :, o] - E.eval["precision"]).max() <= TOL
    assert np.abs(ev.acc.recall[..., 0][:, o] - E.eval["recall"]).max() <= TOL


def jitter_dets(gt_dict: dict, seed: int, recall: float = 0.7, fp_per_image: int = 6, confuse: float = 0.1,
                round_scores: int | None = 2, heavy_images: int = 2, heavy_n: int = 320,
                cats_pool: list | None = None) -> list:
    """Detections from ground truth: jittered hits, duplicates, confusions, false positives.

    ``round_scores`` makes tied scores; ``heavy_images`` images get ``heavy_n`` extra detections
    (more than the maximum number of detections).
    """
    rng = np.random.default_rng(seed)
    imgs = {im["id"]: im for im in gt_dict["images"]}
    cat_ids = [c["id"] for c in gt_dict["categories"]] if cats_pool is None else cats_pool
    present = {}
    for a in gt_dict["annotations"]:
        present.setdefault(a["image_id"], []).append(a["category_id"])
    out = []

    def sc():
        s = float(rng.uniform(0.01, 1.0))
        return round(s, round_scores) if round_scores else s

    for a in gt_dict["annotations"]:
        x, y, w, h = a["bbox"]
        for rep in range(int(rng.integers(1, 3)) if rng.random() < recall else 0):
            j = rng.normal(0, 0.08, 4) * np.array([w, h, w, h])
            box = [float(x + j[0]), float(y + j[1]), float(max(1.0, w + j[2])), float(max(1.0, h + j[3]))]
            cat = a["category_id"]
            if rng.random() < confuse:
                im = imgs[a["image_id"]]
                pool = list(im.get("neg_category_ids", [])) + present[a["image_id"]] + [int(rng.choice(cat_ids))]
                cat = int(rng.choice(pool))
            out.append({"image_id": a["image_id"], "category_id": cat, "bbox": box, "score": sc()})
    img_list = sorted(imgs)
    for i, iid in enumerate(img_list):
        im = imgs[iid]
        W, H = im.get("width", 640), im.get("height", 480)
        n = fp_per_image + (heavy_n if i < heavy_images else 0)
        pool = list(im.get("neg_category_ids", [])) + present.get(iid, []) + list(im.get("not_exhaustive_category_ids", []))
        for _ in range(n):
            w, h = rng.uniform(4, W / 2), rng.uniform(4, H / 2)
            box = [float(rng.uniform(0, W - w)), float(rng.uniform(0, H - h)), float(w), float(h)]
            cat = int(rng.choice(pool)) if pool and rng.random() < 0.7 else int(rng.choice(cat_ids))
            out.append({"image_id": iid, "category_id": cat, "bbox": box, "score": sc()})
    order = rng.permutation(len(out))
    return [out[i] for i in order]


# ---------------------------------------------------------------- COCO style
@pytest.fixture(scope="module")
def coco_gt_dict():
    return _load(COCO_GT)


@pytest.fixture(scope="module")
def coco_gt(coco_gt_dict):
    return _gt_from_dict(copy.deepcopy(coco_gt_dict), "instances_val2014_100.json")


@pytest.mark.parametrize("iou_type,path,ap", [("bbox", COCO_BBOX, 0.505), ("segm", COCO_SEGM, 0.320)])
def test_coco_real_results_match_pycocotools(coco_gt_dict, coco_gt, iou_type, path, ap):
    dets = _load(path)
    res = _results_from_list(copy.deepcopy(dets), coco_gt, "fake", path.name)
    ev = evaluate_detections(coco_gt, res, iou_type=iou_type)
    assert ev.params.style == "coco"
    E = coco_reference(coco_gt_dict, dets, iou_type)
    assert_coco_equal(ev, E, coco_gt)
    assert round(ev.headline["AP"], 3) == ap  # cocoapi's own printed result (val2014_fake_eval_res.txt)


@pytest.mark.parametrize("seed,max_dets", [(0, None), (1, 5), (2, 100)])
def test_coco_generated_edge_cases_match_pycocotools(coco_gt_dict, coco_gt, seed, max_dets):
    # crowd boxes (9 in the file), images without ground truth (dets on an image with none are
    # added below), tied scores (rounded), more than maxDets per image and category
    gt_dict = copy.deepcopy(coco_gt_dict)
    gt_dict["images"].append({"id": 999999001, "width": 640, "height": 480, "file_name": "empty.jpg"})
    dets = jitter_dets(gt_dict, seed, heavy_n=150, round_scores=2 if seed != 2 else 1)
    # many detections of one category on one image (> 100 per image and category)
    iid = gt_dict["annotations"][0]["image_id"]
    cid = gt_dict["annotations"][0]["category_id"]
    x, y, w, h = gt_dict["annotations"][0]["bbox"]
    dets += [{"image_id": iid, "category_id": cid, "bbox": [x + i % 5, y, w, h], "score": 0.5} for i in range(130)]
    gt = _gt_from_dict(copy.deepcopy(gt_dict), "gt")
    assert int(np.asarray(gt.ann_iscrowd).sum()) == 9
    res = _results_from_list(copy.deepcopy(dets), gt, "gen", "gen.json")
    ev = evaluate_detections(gt, res, style="coco", max_dets=max_dets)
    E = coco_reference(gt_dict, dets, "bbox", max_dets)
    assert_coco_equal(ev, E, gt)
    # categories with no detections and no ground truth are -1, as in the reference
    assert (ev.per_class["AP"][ev.per_class["n_gt"] == 0] == -1).all()


# ---------------------------------------------------------------- LVIS style
@pytest.fixture(scope="module")
def lvis_gt_dict():
    return _load(LVIS_GT)


@pytest.mark.parametrize("seed,max_dets", [(0, 300), (3, 50)])
def test_lvis_generated_match_lvis_api(lvis_gt_dict, tmp_path, seed, max_dets):
    gt_dict = copy.deepcopy(lvis_gt_dict)
    # an image without any annotation (only negatives)
    gt_dict["images"].append({"id": 999999001, "width": 640, "height": 480, "neg_category_ids": [1, 2, 3],
                              "not_exhaustive_category_ids": [], "coco_url": "", "file_name": "x.jpg"})
    present_cats = sorted({a["category_id"] for a in gt_dict["annotations"]})
    dets = jitter_dets(gt_dict, seed, cats_pool=present_cats + [c["id"] for c in gt_dict["categories"][:60]],
                       heavy_images=3, heavy_n=330)
    gt = _gt_from_dict(copy.deepcopy(gt_dict), "lvis_val_100.json")
    assert gt.is_lvis
    res = _results_from_list(copy.deepcopy(dets), gt, "gen", "gen.json")
    ev = evaluate_detections(gt, res, max_dets=max_dets)
    assert ev.params.style == "lvis"
    E = lvis_reference(gt_dict, dets, tmp_path, "bbox", max_dets)
    assert_lvis_equal(ev, E, gt)
    # the edge cases really occur in these inputs
    nel = sum(len(im.get("not_exhaustive_category_ids", [])) for im in gt_dict["images"])
    assert nel > 0
    assert any(n > 300 for n in np.bincount(res.image_id - res.image_id.min()))


def test_lvis_segm_match_lvis_api(lvis_gt_dict, tmp_path):
    from pycocotools import mask as mask_utils
    gt_dict = copy.deepcopy(lvis_gt_dict)
    imgs = {im["id"]: im for im in gt_dict["images"]}
    dets = jitter_dets(gt_dict, 5, fp_per_image=2, heavy_images=0)[:1500]
    for d in dets:  # box-shaped masks from the jittered boxes (mask-only results)
        im = imgs[d["image_id"]]
        h, w = im["height"], im["width"]
        x, y, bw, bh = d.pop("bbox")
        rle = mask_utils.frPyObjects([[x, y, x + bw, y, x + bw, y + bh, x, y + bh]], h, w)[0]
        rle["counts"] = rle["counts"].decode("ascii")
        d["segmentation"] = rle
    gt = _gt_from_dict(copy.deepcopy(gt_dict), "lvis_val_100.json")
    res = _results_from_list(copy.deepcopy(dets), gt, "gen", "gen.json")
    ev = evaluate_detections(gt, res, iou_type="segm")
    E = lvis_reference(gt_dict, dets, tmp_path, "segm")
    assert_lvis_equal(ev, E, gt)


def test_lvis_profile_synth_matches_lvis_api(tmp_path):
    from lt_core.data import make_lvis_like
    gt_dict, dets = make_lvis_like(n_images=60, seed=3, dets_per_image=320)
    gt = _gt_from_dict(copy.deepcopy(gt_dict), "synth")
    res = _results_from_list(copy.deepcopy(dets), gt, "synth", "synth.json")
    ev = evaluate_detections(gt, res)
    E = lvis_reference(gt_dict, dets, tmp_path)
    assert_lvis_equal(ev, E, gt)


# ---------------------------------------------------------------- mergeable statistics
def test_shards_merged_give_identical_numbers(lvis_gt_dict):
    gt = _gt_from_dict(copy.deepcopy(lvis_gt_dict), "lvis")
    dets = jitter_dets(lvis_gt_dict, 7)
    res = _results_from_list(dets, gt, "gen", "gen.json")
    whole = evaluate_detections(gt, res, shard_images=10_000)
    sharded = evaluate_detections(gt, res, shard_images=7)
    assert whole.headline == sharded.headline
    assert np.array_equal(whole.acc.precision, sharded.acc.precision)
    # explicit update / merge / compute, shards merged in reverse order
    params = EvalParams.make("lvis")
    gtt = prepare_gt(gt, params)
    dtt = prepare_dets(gtt, res, params)
    states = [match_shard(gtt, dtt, lo, min(lo + 13, gtt.n_images), params) for lo in range(0, gtt.n_images, 13)]
    state = empty_state(params, gtt.class_ids)
    for s in reversed(states):
        state = merge(state, s)
    merged = finish(state, gt)
    assert merged.headline == whole.headline
    assert np.array_equal(merged.acc.recall, whole.acc.recall)
    with pytest.raises(ValueError):
        merge(states[0], states[0])


def test_match_detections_progress_reports(lvis_gt_dict):
    gt = _gt_from_dict(copy.deepcopy(lvis_gt_dict), "lvis")
    res = _results_from_list(jitter_dets(lvis_gt_dict, 8), gt, "gen", "gen.json")
    seen = []
    match_detections(gt, res, EvalParams.make("lvis"), shard_images=25, progress=lambda f, m: seen.append(f))
    assert seen == [0.25, 0.5, 0.75, 1.0]


# ---------------------------------------------------------------- random small scenes (ties everywhere)
def _tiny_scene(seed: int, lvis: bool):
    """Few images / categories, boxes on a coarse grid: equal IoUs, duplicate boxes, tied scores,
    crowd boxes (coco), areas exactly on the 32^2 / 96^2 range edges, images without ground truth."""
    rng = np.random.default_rng(seed)
    cats = [{"id": c, "name": f"c{c}", "frequency": "rcf"[c % 3], "image_count": [3, 30, 300][c % 3],
             "instance_count": 10} for c in (1, 2, 3, 5)]
    images, anns, dets = [], [], []
    aid = 1
    for i in range(1, 9):
        im = {"id": i * 7, "width": 200, "height": 200}
        n = int(rng.integers(0, 6)) if i != 3 else 0
        present = set()
        for _ in range(n):
            c = int(rng.choice([1, 2, 3, 5]))
            present.add(c)
            w, h = [float(v) for v in rng.choice([16, 32, 48, 96, 64], 2)]
            x, y = [float(v) for v in rng.choice([0, 16, 32, 48], 2)]
            area = float(rng.choice([w * h, 1024.0, 9216.0, w * h * 0.8]))
            a = {"id": aid, "image_id": im["id"], "category_id": c, "bbox": [x, y, w, h], "area": area,
                 "iscrowd": int((not lvis) and rng.random() < 0.15)}
            anns.append(a)
            aid += 1
            if rng.random() < 0.3:  # an exact duplicate box of the same category
                anns.append(dict(a, id=aid))
                aid += 1
        if lvis:
            rest = [c for c in (1, 2, 3, 5) if c not in present]
            im["neg_category_ids"] = [c for c in rest if rng.random() < 0.5]
            im["not_exhaustive_category_ids"] = [c for c in present if rng.random() < 0.3]
        images.append(im)
        for _ in range(int(rng.integers(0, 14))):
            c = int(rng.choice([1, 2, 3, 5]))
            w, h = [float(v) for v in rng.choice([16, 32, 48, 96, 64], 2)]
            x, y = [float(v) for v in rng.choice([0, 8, 16, 32, 48], 2)]
            dets.append({"image_id": im["id"], "category_id": c, "bbox": [x, y, w, h],
                         "score": float(rng.choice([0.9, 0.5, 0.5, 0.3, 0.1]))})
    # an exact IoU tie that decides the outcome: d1 overlaps g1 and g2 equally (0.6); the
    # references give d1 the later one (g2), so d2 (IoU 0.45 with g1, 0.78 with g2) stays unmatched
    tie_img = images[0]["id"]
    for box in ([0.0, 100.0, 32.0, 32.0], [16.0, 100.0, 32.0, 32.0]):
        anns.append({"id": aid, "image_id": tie_img, "category_id": 2, "bbox": box, "area": 1024.0, "iscrowd": 0})
        aid += 1
    dets += [{"image_id": tie_img, "category_id": 2, "bbox": [8.0, 100.0, 32.0, 32.0], "score": 0.95},
             {"image_id": tie_img, "category_id": 2, "bbox": [12.0, 100.0, 32.0, 32.0], "score": 0.94}]
    if lvis:
        images[0]["neg_category_ids"] = [c for c in images[0]["neg_category_ids"] if c != 2]
        images[0]["not_exhaustive_category_ids"] = [c for c in images[0]["not_exhaustive_category_ids"] if c != 2]
    gd = {"images": images, "annotations": anns, "categories": cats}
    if not lvis:
        for c in gd["categories"]:
            for k in ("frequency", "image_count", "instance_count"):
                c.pop(k)
    return gd, dets


@pytest.mark.parametrize("seed", range(12))
def test_tiny_scenes_with_ties_match_pycocotools(seed):
    gd, dets = _tiny_scene(seed, lvis=False)
    gt = _gt_from_dict(copy.deepcopy(gd), "tiny")
    res = _results_from_list(copy.deepcopy(dets), gt, "tiny", "tiny.json")
    ev = evaluate_detections(gt, res, style="coco", max_dets=4 if seed % 3 == 0 else None)
    E = coco_reference(gd, dets, "bbox", 4 if seed % 3 == 0 else None)
    assert_coco_equal(ev, E, gt)


@pytest.mark.parametrize("seed", range(8))
def test_tiny_scenes_with_ties_match_lvis_api(seed, tmp_path):
    gd, dets = _tiny_scene(100 + seed, lvis=True)
    gt = _gt_from_dict(copy.deepcopy(gd), "tiny")
    res = _results_from_list(copy.deepcopy(dets), gt, "tiny", "tiny.json")
    md = 5 if seed % 2 else 300
    ev = evaluate_detections(gt, res, max_dets=md)
    E = lvis_reference(gd, dets, tmp_path, "bbox", md)
    assert_lvis_equal(ev, E, gt)
