"""Copy-paste (lt_core.augment): pixel tests on generated images with known masks, targets, determinism,
input safety, and the output read back by pycocotools, lvis-api and Tailscope's own loader."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from lt_core.augment import CopyPasteConfig, copy_paste, paste_targets, prepare_copy_paste, preview_copy_paste
from lt_core.augment.paste import AnnState, occlude
from lt_core.data import load_detection_gt
from lt_core.data.scenes import make_scenes
from lt_core.errors import InputError
from lt_core.images import encode_mask

BG = (100, 100, 100)
RED = (250, 10, 10)


def _write_dataset(folder: Path, images: list[tuple[str, np.ndarray]], anns: list[dict], cats: list[dict]) -> Path:
    (folder / "images").mkdir(parents=True)
    recs = []
    for i, (name, arr) in enumerate(images, 1):
        Image.fromarray(arr).save(folder / "images" / name)
        recs.append({"id": i, "file_name": name, "height": arr.shape[0], "width": arr.shape[1]})
    p = folder / "gt.json"
    p.write_text(json.dumps({"images": recs, "annotations": anns, "categories": cats}))
    return p


def _ann(aid, img, cat, mask, with_mask=True):
    from lt_core.images import mask_bbox

    a = {"id": aid, "image_id": img, "category_id": cat, "bbox": mask_bbox(mask), "area": float(mask.sum()),
         "iscrowd": 0}
    if with_mask:
        a["segmentation"] = encode_mask(mask)
    return a


def _two_images(tmp_path, size=(64, 80), obj=(slice(20, 40), slice(30, 50)), target_obj=None, with_mask=True):
    """Image 1 holds a big 'head' object (optional), image 2 one red 'tail' object."""
    h, w = size
    a = np.full((h, w, 3), BG, np.uint8)
    b = np.full((h, w, 3), (30, 160, 60), np.uint8)
    m = np.zeros((h, w), bool)
    m[obj] = True
    m[obj[0].start, obj[1].start] = False  # not a plain rectangle
    b[m] = RED
    anns = [_ann(2, 2, 2, m, with_mask)]
    if target_obj is not None:
        tm = np.zeros((h, w), bool)
        tm[target_obj] = True
        a[tm] = (20, 20, 220)
        anns.insert(0, _ann(1, 1, 1, tm, with_mask))
    tmp_path.mkdir(parents=True, exist_ok=True)
    counts = tmp_path / "counts.csv"
    pd.DataFrame({"category_id": [1, 2], "add": [0, 1]}).to_csv(counts, index=False)
    gt = _write_dataset(tmp_path / "data", [("a.png", a), ("b.png", b)], anns,
                        [{"id": 1, "name": "head"}, {"id": 2, "name": "tail"}])
    return gt, tmp_path / "data" / "images", counts, a, b, m


def _load(out: Path):
    d = json.loads((out / "annotations.json").read_text())
    man = json.loads((out / "manifest.json").read_text())
    return d, man


def _img(out: Path, name: str) -> np.ndarray:
    return np.asarray(Image.open(out / "images" / name).convert("RGB"))


def _decode(a, h, w):
    seg = a["segmentation"]
    rle = mask_utils.frPyObjects(seg, h, w) if isinstance(seg, list) else dict(seg, counts=seg["counts"].encode())
    return mask_utils.decode(mask_utils.merge(rle) if isinstance(rle, list) else rle).astype(bool)


@pytest.mark.parametrize("flip", [0.0, 1.0])
def test_pasted_object_lands_where_the_manifest_says(tmp_path, flip):
    gt, root, counts, a, b, m = _two_images(tmp_path)
    cfg = CopyPasteConfig(target=str(counts), seed=1, blend="none", scale_range=(1, 1), size_limits=(0.01, 1.0),
                          flip_p=flip)
    copy_paste(gt, root, tmp_path / "out", cfg)
    d, man = _load(tmp_path / "out")
    (p,) = man["pastes"]
    t = p["transform"]
    assert p["source_annotation_id"] == 2 and p["target_image_id"] == 1 and t["flip"] == bool(flip)
    assert t["scale"] == 1.0 and t["crop"] == [30, 20, 50, 40] and t["size"] == [20, 20]
    # the expected image, built by hand from the manifest
    x0, y0, x1, y1 = t["crop"]
    crop, cm = b[y0:y1, x0:x1], m[y0:y1, x0:x1]
    if t["flip"]:
        crop, cm = crop[:, ::-1], cm[:, ::-1]
    ox, oy = t["offset"]
    expected = a.copy()
    expected[oy:oy + 20, ox:ox + 20][cm] = crop[cm]
    out = _img(tmp_path / "out", "a.png")
    np.testing.assert_array_equal(out, expected)
    # its mask and box in the JSON are exactly its pixels
    ann = next(x for x in d["annotations"] if x["id"] == p["annotation_id"])
    full = np.zeros(a.shape[:2], bool)
    full[oy:oy + 20, ox:ox + 20] = cm
    np.testing.assert_array_equal(_decode(ann, *a.shape[:2]), full)
    assert ann["bbox"] == p["bbox"] == [float(v) for v in mask_utils.toBbox(mask_utils.encode(np.asfortranarray(
        full.astype(np.uint8))))]
    assert ann["area"] == float(full.sum()) and ann["category_id"] == 2
    assert (out[full] == RED).all() and (out[~full] == a[~full]).all()


def test_scaled_paste_mask_matches_pixels(tmp_path):
    gt, root, counts, a, b, m = _two_images(tmp_path)
    cfg = CopyPasteConfig(target=str(counts), seed=4, blend="none", scale_range=(2.0, 2.0), size_limits=(0.01, 1.0))
    copy_paste(gt, root, tmp_path / "out", cfg)
    d, man = _load(tmp_path / "out")
    (p,) = man["pastes"]
    t = p["transform"]
    assert t["size"] == [40, 40] and t["scale"] == 2.0
    ann = next(x for x in d["annotations"] if x["id"] == p["annotation_id"])
    mk = _decode(ann, *a.shape[:2])
    out = _img(tmp_path / "out", "a.png")
    ox, oy = t["offset"]
    rows, cols = np.nonzero(mk)
    assert cols.min() >= ox and cols.max() < ox + 40 and rows.min() >= oy and rows.max() < oy + 40
    assert abs(int(mk.sum()) - 4 * int(m.sum())) < 60
    assert (out[~mk] == a[~mk]).all()  # nothing outside the mask changed (blend none)
    from scipy.ndimage import binary_erosion

    assert (out[binary_erosion(mk, iterations=2)] == RED).all()  # its inside (2 px from the edge) is the object colour


def test_occluded_gt_loses_exactly_the_covered_area(tmp_path):
    big = (slice(5, 60), slice(5, 75))
    lost_any = False
    for seed in range(4):
        gt, root, counts, a, b, m = _two_images(tmp_path / str(seed), target_obj=big)
        cfg = CopyPasteConfig(target=str(counts), seed=seed, blend="feather", size_limits=(0.2, 0.5))
        copy_paste(gt, root, tmp_path / str(seed) / "out", cfg)
        d, man = _load(tmp_path / str(seed) / "out")
        (p,) = man["pastes"]
        pasted = _decode(next(x for x in d["annotations"] if x["id"] == p["annotation_id"]), 64, 80)
        before = np.zeros((64, 80), bool)
        before[big] = True
        after = _decode(next(x for x in d["annotations"] if x["id"] == 1), 64, 80)
        np.testing.assert_array_equal(after, before & ~pasted)
        lost = int((before & pasted).sum())
        assert p["occluded"] == ([{"annotation_id": 1, "paste": None, "lost_pixels": lost, "dropped": False}]
                                 if lost else [])
        box = next(x for x in d["annotations"] if x["id"] == 1)["bbox"]
        rows, cols = np.nonzero(after)
        assert box == [cols.min(), rows.min(), cols.max() - cols.min() + 1, rows.max() - rows.min() + 1]
        lost_any |= lost > 0
    assert lost_any


def test_fully_covered_object_is_dropped(tmp_path):
    gt, root, counts, a, b, m = _two_images(tmp_path, size=(64, 64), obj=(slice(10, 50), slice(10, 50)),
                                            target_obj=(slice(30, 34), slice(30, 34)))
    cfg = CopyPasteConfig(target=str(counts), seed=0, blend="none", size_limits=(0.95, 1.0))
    copy_paste(gt, root, tmp_path / "out", cfg)
    d, man = _load(tmp_path / "out")
    assert all(x["id"] != 1 for x in d["annotations"])
    assert man["dropped"] == [{"annotation_id": 1, "category_id": 1, "reason": "fully covered by paste 0 (category 2)",
                               "image_id": 1}]
    assert man["pastes"][0]["occluded"][0]["dropped"] is True


def test_box_only_boxes_shrink_or_are_dropped():
    h, w = 50, 50
    st = AnnState({"id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]}, "box", h, w)
    cover = np.ones((20, 20), bool)
    hit = occlude([st], (20, 5, 40, 25), cover, box_drop_fraction=0.7, by="paste 0")
    assert hit == [st] and st.dropped is None and st.lost_pixels == 10 * 15
    assert st.finish()["bbox"] == [10.0, 10.0, 20.0, 20.0]  # only the top-right part hidden: the box keeps its extents
    st2 = AnnState({"id": 2, "category_id": 1, "bbox": [10, 10, 20, 20]}, "box", h, w)
    occlude([st2], (20, 0, 40, 40), np.ones((40, 20), bool), box_drop_fraction=0.7, by="paste 0")
    assert st2.finish()["bbox"] == [10.0, 10.0, 10.0, 20.0] and st2.finish()["area"] == 200.0  # right half hidden
    st3 = AnnState({"id": 3, "category_id": 1, "bbox": [10, 10, 20, 20]}, "box", h, w)
    occlude([st3], (8, 8, 32, 28), np.ones((20, 24), bool), box_drop_fraction=0.7, by="paste 0")
    assert st3.dropped is not None and "90.0%" in st3.dropped


def test_box_only_dataset(tmp_path):
    gt, root, counts, a, b, m = _two_images(tmp_path, target_obj=(slice(5, 60), slice(5, 75)), with_mask=False)
    copy_paste(gt, root, tmp_path / "out", CopyPasteConfig(target=str(counts), seed=2, blend="none"))
    d, man = _load(tmp_path / "out")
    (p,) = man["pastes"]
    assert p["mode"] == "box" and all("segmentation" not in x for x in d["annotations"])
    ann = next(x for x in d["annotations"] if x["id"] == p["annotation_id"])
    ox, oy = p["transform"]["offset"]
    sw, sh = p["transform"]["size"]
    assert ann["bbox"] == [ox, oy, sw, sh]
    out = _img(tmp_path / "out", "a.png")
    assert (out[oy + 1:oy + sh - 1, ox + 1:ox + sw - 1] != a[oy + 1:oy + sh - 1, ox + 1:ox + sw - 1]).any()


@pytest.mark.parametrize("masks", [True, False])
def test_many_overlapping_pastes_keep_json_and_pixels_consistent(tmp_path, masks):
    """Later pastes cover earlier ones: every surviving annotation's mask / box matches the final pixels' story."""
    gt = make_scenes(tmp_path / "d", 6, height=64, width=80, seed=1, masks=masks, tail_class_images=1)
    cfg = CopyPasteConfig(target="effective-number:0.9999", seed=0, bins="quantile:3", max_pastes_per_image=8,
                          size_limits=(0.4, 0.8), placement_tries=1, blend="none")
    rep = copy_paste(gt, gt.parent / "images", tmp_path / "out", cfg)
    d, man = _load(tmp_path / "out")
    covered = [p for p in man["pastes"] if p["covered_later"]]
    assert rep.n_pasted + len(covered) == len(man["pastes"]) > 6
    by_img = {}
    for a in d["annotations"]:
        by_img.setdefault(a["image_id"], []).append(a)
    for anns in by_img.values():
        if masks:  # visible masks never overlap: each pixel belongs to at most one object
            total = sum(_decode(a, 64, 80).astype(int) for a in anns)
            assert total.max() <= 1
        for a in anns:
            assert a["bbox"][2] > 0 and a["bbox"][3] > 0


def _hashes(folder: Path) -> dict:
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()}


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    base = tmp_path_factory.mktemp("scenes")
    gt = make_scenes(base / "data", 12, height=96, width=128, seed=3, tail_class_images=2)
    return gt, base / "data" / "images"


def test_seed_reproduces_bytes_and_input_is_unchanged(scenes, tmp_path):
    gt, root = scenes
    before = _hashes(gt.parent)
    cfg = CopyPasteConfig(target="effective-number:0.99", seed=5, bins="quantile:3", jitter=0.3, mosaic=0.5,
                          mixup=0.5)
    copy_paste(gt, root, tmp_path / "a", cfg)
    copy_paste(gt, root, tmp_path / "b", CopyPasteConfig(**{**cfg.to_json(), "scale_range": cfg.scale_range,
                                                            "size_limits": cfg.size_limits}))
    ha, hb = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert ha == hb and len(ha) > 12
    copy_paste(gt, root, tmp_path / "c", CopyPasteConfig(target="effective-number:0.99", seed=6, bins="quantile:3"))
    assert _hashes(tmp_path / "c")["annotations.json"] != ha["annotations.json"]
    assert _hashes(gt.parent) == before


def test_one_worker_equals_two_workers(scenes, tmp_path):
    gt, root = scenes
    cfg = CopyPasteConfig(target="rfs:0.5", seed=0, bins="quantile:3", blend="poisson", jitter=0.2, mosaic=0.3)
    copy_paste(gt, root, tmp_path / "one", cfg, workers=1)
    copy_paste(gt, root, tmp_path / "two", cfg, workers=2)
    assert _hashes(tmp_path / "one") == _hashes(tmp_path / "two")


def test_output_loads_in_pycocotools_and_tailscope_and_counts_match(scenes, tmp_path):
    from pycocotools.coco import COCO

    gt, root = scenes
    rep = copy_paste(gt, root, tmp_path / "out", CopyPasteConfig(target="rfs:0.5", seed=0, bins="quantile:3",
                                                                 max_pastes_per_image=6))
    src = load_detection_gt(gt)
    t = paste_targets(src, "rfs:0.5")
    coco = COCO(str(tmp_path / "out" / "annotations.json"))
    for a in coco.loadAnns(coco.getAnnIds()):
        im = coco.imgs[a["image_id"]]
        assert coco.annToMask(a).sum() == a["area"]
        assert (tmp_path / "out" / "images" / im["file_name"]).is_file()
    out = load_detection_gt(tmp_path / "out" / "annotations.json")
    assert out.n_images == src.n_images
    dist = rep.distribution
    assert t.total > 0
    np.testing.assert_array_equal(dist["requested"], t.add)
    np.testing.assert_array_equal(dist["pasted"] + dist["pasted_covered"], t.add)  # capacity and sources suffice
    n_after = np.bincount(out.categories.index_of(out.ann_category_id), minlength=out.categories.n_classes)
    np.testing.assert_array_equal(dist["instances_after"], n_after)
    np.testing.assert_array_equal(dist["instances_after"], dist["instances_before"] + dist["pasted"] - dist["dropped"])
    man = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert len(man["pastes"]) == t.total and man["seed"] == 0
    assert sorted(r["bin"] for r in man["distribution_per_bin"]) == sorted(rep.per_bin["bin"])


def test_explicit_counts_and_rebalance_exports(scenes, tmp_path):
    from lt_core.rebalance import repeat_factors, weights_table
    from lt_core.rebalance.exports import write_rfs, write_weights

    gt, root = scenes
    src = load_detection_gt(gt)
    n = np.bincount(src.categories.index_of(src.ann_category_id), minlength=src.categories.n_classes)
    # rebalance rfs export == rfs:T
    rf = repeat_factors(src, 0.5)
    write_rfs(tmp_path / "rf.json", rf)
    a = paste_targets(src, str(tmp_path / "rf.json")).add
    np.testing.assert_array_equal(a, paste_targets(src, "rfs:0.5").add)
    np.testing.assert_array_equal(a, np.rint((rf.category_factors - 1) * n))
    # rebalance weights export (effective number over instance counts) == effective-number:BETA
    table = weights_table(n, "effective-number", 0.99, class_ids=src.categories.ids, names=src.categories.names)
    write_weights(tmp_path / "w.json", table, "effective-number", 0.99)
    write_weights(tmp_path / "w.csv", table, "effective-number", 0.99)
    e = (1 - 0.99 ** n) / (1 - 0.99)
    expected = np.where(n > 0, np.rint(n * (e[n.argmax()] / np.maximum(e, 1e-12) - 1)), 0)
    assert (n == 0).any() and expected.sum() > 0
    for f in ("w.json", "w.csv"):
        np.testing.assert_array_equal(paste_targets(src, str(tmp_path / f)).add, expected)
    np.testing.assert_array_equal(paste_targets(src, "effective-number:0.99").add, expected)
    # explicit counts: instances to add, and instances wanted
    pd.DataFrame({"category_id": src.categories.ids[:3], "add": [0, 2, 5]}).to_csv(tmp_path / "add.csv", index=False)
    rep = copy_paste(gt, root, tmp_path / "o", CopyPasteConfig(target=str(tmp_path / "add.csv"), seed=0,
                                                               bins="quantile:3"))
    assert (rep.distribution["pasted"] + rep.distribution["pasted_covered"]).tolist()[:3] == [0, 2, 5]
    pd.DataFrame({"class_id": src.categories.ids, "count": n + 1}).to_csv(tmp_path / "t.csv", index=False)
    assert paste_targets(src, str(tmp_path / "t.csv")).add.tolist() == [1] * len(n)


@pytest.mark.parametrize("bad, msg", [
    ("rfs:abc", "not a number"), ("rfs:0", "must be in (0, 1]"), ("effective-number:1.5", "beta must be"),
    ("nope.csv", "neither rfs:T"), ("rfs", "needs a value")])
def test_bad_targets(scenes, bad, msg):
    src = load_detection_gt(scenes[0])
    with pytest.raises(InputError, match=msg.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        paste_targets(src, bad)


def test_bad_target_files(scenes, tmp_path):
    src = load_detection_gt(scenes[0])
    (tmp_path / "x.csv").write_text("category_id,add\n999,3\n")
    with pytest.raises(InputError, match="not in the ground truth"):
        paste_targets(src, str(tmp_path / "x.csv"))
    (tmp_path / "y.csv").write_text("image_id,repeat_factor\n1,2.0\n")
    with pytest.raises(InputError, match="per-image repeat factors"):
        paste_targets(src, str(tmp_path / "y.csv"))
    (tmp_path / "z.csv").write_text("category_id,add\n1,-2\n")
    with pytest.raises(InputError, match=">= 0"):
        paste_targets(src, str(tmp_path / "z.csv"))


def test_missing_image_and_output_inside_input_refused(scenes, tmp_path):
    gt, root = scenes
    with pytest.raises(InputError, match="have no file under the image root"):
        prepare_copy_paste(gt, tmp_path, CopyPasteConfig())
    # the output guard (lt_core.io) refuses an output inside any input folder before the pipeline's own check
    with pytest.raises(InputError, match="inside the (image folder|input folder given as images)"):
        copy_paste(gt, root, root / "aug", CopyPasteConfig())
    with pytest.raises(InputError, match="holds the input"):
        copy_paste(gt, root, gt.parent, CopyPasteConfig())


def test_lvis_fields_stay_consistent(tmp_path):
    from lvis import LVIS

    gt = make_scenes(tmp_path / "lv", 10, height=96, width=128, seed=1, lvis=True, tail_class_images=1)
    root = tmp_path / "lv" / "images"  # LVIS v1 layout: images/train2017/<name> from coco_url
    src = json.loads(gt.read_text())
    assert "file_name" not in src["images"][0]
    copy_paste(gt, root, tmp_path / "out", CopyPasteConfig(target="rfs:0.9", seed=0, bins="lvis", mosaic=1.0,
                                                           mixup=1.0))
    d, man = _load(tmp_path / "out")
    lv = LVIS(str(tmp_path / "out" / "annotations.json"))
    assert len(lv.get_img_ids()) == len(d["images"]) > 10
    present = {}
    for a in d["annotations"]:
        present.setdefault(a["image_id"], set()).add(a["category_id"])
        assert "iscrowd" not in a
    for im in d["images"]:
        assert not set(im["neg_category_ids"]) & present.get(im["id"], set())
        assert (tmp_path / "out" / "images" / im["file_name"]).is_file()
        assert im["coco_url"].endswith(im["file_name"].split("/")[-1])
    ci = [a["category_id"] for a in d["annotations"]]
    for c in d["categories"]:
        assert c["instance_count"] == ci.count(c["id"])
        assert c["image_count"] == len({a["image_id"] for a in d["annotations"] if a["category_id"] == c["id"]})
    pasted = {(p["target_image_id"], p["category_id"]) for p in man["pastes"]}
    assert pasted and all(c in present[i] for i, c in pasted)
    load_detection_gt(tmp_path / "out" / "annotations.json")


def test_real_coco_annotations_on_generated_canvases(tmp_path):
    """The real COCO val2014 subset (polygons, crowd RLE) with plain canvases of each image's size."""
    import gzip

    from pycocotools.coco import COCO

    raw = json.loads(gzip.open(Path(__file__).parent / "data/coco_val2014_100/instances_val2014_100.json.gz").read())
    crowd = sorted({a["image_id"] for a in raw["annotations"] if a["iscrowd"]})[:3]
    keep = set(sorted({im["id"] for im in raw["images"]})[:9]) | set(crowd)
    sub = {**raw, "images": [im for im in raw["images"] if im["id"] in keep],
           "annotations": [a for a in raw["annotations"] if a["image_id"] in keep]}
    (tmp_path / "imgs").mkdir()
    rng = np.random.default_rng(0)
    for im in sub["images"]:
        Image.fromarray(rng.integers(0, 255, (im["height"], im["width"], 3), dtype=np.uint8)).save(
            tmp_path / "imgs" / im["file_name"], quality=90)
    (tmp_path / "gt.json").write_text(json.dumps(sub))
    rep = copy_paste(tmp_path / "gt.json", tmp_path / "imgs", tmp_path / "out",
                     CopyPasteConfig(target="effective-number:0.9", seed=0, bins="lvis"))
    assert rep.n_pasted > 0
    coco = COCO(str(tmp_path / "out" / "annotations.json"))
    src = COCO(str(tmp_path / "gt.json"))
    d, man = _load(tmp_path / "out")
    touched = {o["annotation_id"] for p in man["pastes"] for o in p["occluded"]}
    for aid, a in src.anns.items():
        if aid in coco.anns and aid not in touched:
            assert coco.anns[aid]["segmentation"] == a["segmentation"]  # untouched polygons / RLE kept as they were
        elif aid in coco.anns:
            assert coco.annToMask(coco.anns[aid]).sum() == coco.anns[aid]["area"] < src.annToMask(a).sum() + 1
    assert any(a.get("iscrowd") for a in coco.anns.values())


def test_preview_equals_written_pixels(scenes, tmp_path):
    gt, root = scenes
    cfg = CopyPasteConfig(target="rfs:0.5", seed=2, bins="quantile:3", blend="none", jitter=0.2)
    prep = prepare_copy_paste(gt, root, cfg)
    items = preview_copy_paste(prep, n=2)
    assert len(items) == 2 and all(it.pastes for it in items)
    copy_paste(gt, root, tmp_path / "out", cfg, prepared=prep)
    for it in items:
        name = it.file
        np.testing.assert_array_equal(_img(tmp_path / "out", name), it.pixels)  # PNG: lossless
        ov = it.overlay()
        assert "pasted" in ov["outcomes"] and len(ov["boxes"]) == len(it.anns)


def test_keep_originals_and_hardlinks(scenes, tmp_path):
    gt, root = scenes
    src = json.loads(gt.read_text())
    rep = copy_paste(gt, root, tmp_path / "out", CopyPasteConfig(target="rfs:0.5", seed=0, bins="quantile:3",
                                                                 keep_originals=True, unchanged="hardlink"))
    d, man = _load(tmp_path / "out")
    assert len(d["images"]) == len(src["images"]) + rep.n_changed
    kept = {i["id"]: i for i in d["images"]}
    for im in src["images"]:  # every original image and annotation is still there, unchanged
        assert kept[im["id"]]["file_name"] == im["file_name"]
        assert _img(tmp_path / "out", im["file_name"]).tobytes() == _img(root.parent, im["file_name"]).tobytes()
    ids = {a["id"] for a in d["annotations"]}
    assert {a["id"] for a in src["annotations"]} <= ids and len(ids) == len(d["annotations"])
    new = [i for i in d["images"] if i["id"] not in {s["id"] for s in src["images"]}]
    assert all(i["file_name"].endswith("_cp.png") for i in new) and {p["target_image_id"] for p in man["pastes"]} \
        <= {i["id"] for i in new}
    import os

    for im in src["images"]:  # originals are hard links to the input files (same file system here)
        assert os.path.samefile(tmp_path / "out" / "images" / im["file_name"], root / im["file_name"])


def test_cancel_writes_nothing(scenes, tmp_path):
    import threading

    from lt_core.augment import AugmentCancelled

    gt, root = scenes
    ev = threading.Event()
    ev.set()
    with pytest.raises(AugmentCancelled):
        copy_paste(gt, root, tmp_path / "out", CopyPasteConfig(target="rfs:0.5", bins="quantile:3"), cancel=ev)
    assert not (tmp_path / "out").exists() and not list(tmp_path.iterdir())


@pytest.mark.slow
def test_shipped_photo_demo_is_what_the_script_derives(tmp_path, monkeypatch):
    """lt_core/assets/photo_demo comes from scikit-image's bundled photographs by scripts/make_photo_demo.py."""
    pytest.importorskip("skimage")
    import importlib.util

    from lt_core.augment import photo_demo

    spec = importlib.util.spec_from_file_location("make_photo_demo", Path(__file__).resolve().parents[1]
                                                  / "scripts" / "make_photo_demo.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "OUT", tmp_path / "pd")
    assert mod.main() == 0
    gt, root = photo_demo()
    shipped, made = json.loads(gt.read_text()), json.loads((tmp_path / "pd" / "annotations.json").read_text())
    assert [i["file_name"] for i in shipped["images"]] == [i["file_name"] for i in made["images"]]
    assert shipped["categories"] == made["categories"] and len(shipped["annotations"]) == len(made["annotations"])
    for a, b in zip(shipped["annotations"], made["annotations"]):
        im = next(i for i in shipped["images"] if i["id"] == a["image_id"])
        ma, mb = _decode(a, im["height"], im["width"]), _decode(b, im["height"], im["width"])
        assert (ma & mb).sum() / (ma | mb).sum() > 0.98
    for i in shipped["images"]:
        x = np.asarray(Image.open(root / i["file_name"]), dtype=float)
        y = np.asarray(Image.open(tmp_path / "pd" / "images" / i["file_name"]), dtype=float)
        assert np.abs(x - y).mean() < 1.0
