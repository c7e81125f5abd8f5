"""lt_core.images: image roots, reading (EXIF, modes, errors), masks vs pycocotools, drawing pixels, thumbnails."""
from __future__ import annotations

import gzip
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lt_core.errors import InputError
from lt_core.images import (OUTCOME_COLORS, ThumbnailCache, annotation_mask, box_pixels, class_color,
                            decode_segmentation, draw_annotations, encode_mask, generated_canvas, hex_to_rgb,
                            image_relpath, image_size, line_width_for, mask_bbox, mask_outline, read_image,
                            resolve_gt_images, resolve_list_paths, thumbnail_array)

DATA = Path(__file__).parent / "data"


def _png(path: Path, arr: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)
    return path


# ------------------------------------------------------------------ roots
def test_coco_file_name_and_lvis_v1_coco_url(tmp_path):
    _png(tmp_path / "COCO_val2014_000000000001.jpg", np.zeros((4, 4, 3), np.uint8))
    _png(tmp_path / "train2017" / "000000391895.jpg", np.zeros((4, 4, 3), np.uint8))
    recs = [{"id": 1, "file_name": "COCO_val2014_000000000001.jpg"},
            {"id": 2, "coco_url": "http://images.cocodataset.org/train2017/000000391895.jpg"},
            {"id": 3, "file_name": "missing.jpg"}]
    idx = resolve_gt_images({"images": recs}, tmp_path)
    assert idx.paths[0] == (tmp_path / "COCO_val2014_000000000001.jpg").resolve()
    assert idx.paths[1] == (tmp_path / "train2017" / "000000391895.jpg").resolve()
    assert idx.relpaths == ["COCO_val2014_000000000001.jpg", "train2017/000000391895.jpg", "missing.jpg"]
    assert idx.missing == [3]
    with pytest.raises(InputError, match="image id 3"):
        idx.path_of(3)
    with pytest.raises(InputError, match="1 of 3 images"):
        idx.require_all()
    # the split folder itself as the root
    idx2 = resolve_gt_images({"images": recs[1:2]}, tmp_path / "train2017")
    assert idx2.paths[0] == (tmp_path / "train2017" / "000000391895.jpg").resolve()


def test_real_lvis_v05_records_resolve_by_file_name_or_coco_url(tmp_path):
    raw = json.loads(gzip.open(DATA / "lvis_v0_5_val_100" / "lvis_val_100.json.gz").read())
    ims = raw["images"][:3]
    # one image stored under its file_name, one under coco_url's val2017/<id>.jpg, one missing
    _png(tmp_path / ims[0]["file_name"], np.zeros((2, 2, 3), np.uint8))
    _png(tmp_path / "val2017" / ims[1]["coco_url"].split("/")[-1], np.zeros((2, 2, 3), np.uint8))
    idx = resolve_gt_images({"images": ims}, tmp_path)
    assert idx.paths[0] is not None and idx.paths[1] is not None and idx.paths[2] is None
    assert ims[2]["file_name"] in idx.tried[ims[2]["id"]]


def test_unsafe_paths_are_refused(tmp_path):
    with pytest.raises(InputError, match="inside the image root"):
        image_relpath({"id": 1, "file_name": "../../etc/passwd"})
    with pytest.raises(InputError, match="neither 'file_name' nor 'coco_url'"):
        image_relpath({"id": 1})
    with pytest.raises(InputError, match="no such image folder"):
        resolve_gt_images({"images": []}, tmp_path / "nope")


def test_imagenet_lt_and_places_lt_list_paths(tmp_path):
    lines = gzip.open(DATA / "imagenet_lt" / "ImageNet_LT_test.txt.gz", "rt").read().splitlines()[:3]
    rels = [ln.split()[0] for ln in lines]
    for r in rels[:2]:
        _png(tmp_path / "imagenet" / r, np.zeros((2, 2, 3), np.uint8))
    got = resolve_list_paths(tmp_path / "imagenet", rels)
    assert got[0] == (tmp_path / "imagenet" / rels[0]).resolve() and got[2] is None
    # the split folder as the root (paths start with the split name)
    split, rest = rels[0].split("/", 1)
    assert resolve_list_paths(tmp_path / "imagenet" / split, rels[:1])[0] is not None
    places = gzip.open(DATA / "places_lt" / "Places_LT_val.txt.gz", "rt").readline().split()[0]
    _png(tmp_path / "places" / places.lstrip("/"), np.zeros((2, 2, 3), np.uint8))
    assert resolve_list_paths(tmp_path / "places", ["/" + places.lstrip("/")])[0] is not None
    with pytest.raises(InputError, match="no image file"):
        resolve_list_paths(tmp_path / "places", ["x/y.jpg"], require=True)


def test_image_folder_tree_ids(tmp_path):
    from lt_core.data import load_labels

    for c in ("cat", "dog"):
        for k in range(2):
            _png(tmp_path / "tree" / c / f"{k}.png", np.full((3, 3, 3), k, np.uint8))
    labels, _ = load_labels(tmp_path / "tree")
    paths = resolve_list_paths(tmp_path / "tree", labels.sample_ids, require=True)
    assert [p.parent.name for p in paths] == ["cat", "cat", "dog", "dog"]


# ------------------------------------------------------------------ reading
def test_exif_orientation_and_modes(tmp_path):
    a = np.zeros((20, 30, 3), np.uint8)
    a[:5, :5] = (255, 0, 0)  # a red top-left corner
    im = Image.fromarray(a)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    im.save(tmp_path / "rot.jpg", exif=exif.tobytes(), quality=100)
    r = read_image(tmp_path / "rot.jpg")
    assert r.shape == (30, 20, 3) and image_size(tmp_path / "rot.jpg") == (30, 20)
    assert r[2, -3, 0] > 200 and r[2, -3, 1] < 60  # the corner is now top-right
    # annotations made on the stored orientation: the stored one is returned
    assert read_image(tmp_path / "rot.jpg", expected_hw=(20, 30)).shape == (20, 30, 3)
    with pytest.raises(InputError, match="annotations say 10 x 10"):
        read_image(tmp_path / "rot.jpg", expected_hw=(10, 10))
    g = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    Image.fromarray(g, "L").save(tmp_path / "g.png")
    assert (read_image(tmp_path / "g.png") == g[..., None]).all()
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:2, :, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    x = read_image(tmp_path / "a.png")
    assert (x[:2] == (200, 0, 0)).all() and (x[2:] == (255, 255, 255)).all()  # transparent -> white
    Image.fromarray(np.full((4, 4, 3), (10, 200, 30), np.uint8)).convert("CMYK").save(tmp_path / "c.jpg", quality=100)
    assert np.abs(read_image(tmp_path / "c.jpg").astype(int) - (10, 200, 30)).max() < 12
    Image.fromarray((np.arange(16, dtype=np.uint16).reshape(4, 4) * 4000)).save(tmp_path / "d.png")
    d16 = read_image(tmp_path / "d.png")
    assert d16.dtype == np.uint8 and d16[3, 3, 0] == round(15 * 4000 * 255 / 65535)
    Image.fromarray(np.full((4, 4, 3), (51, 102, 153), np.uint8)).convert("P").save(tmp_path / "p.png")
    assert Image.open(tmp_path / "p.png").mode == "P"
    assert (read_image(tmp_path / "p.png") == (51, 102, 153)).all()  # a web-palette colour survives exactly


def test_missing_and_corrupt_images_name_the_file(tmp_path):
    with pytest.raises(InputError, match="no such image file") as e:
        read_image(tmp_path / "nope.jpg")
    assert "nope.jpg" in str(e.value)
    (tmp_path / "bad.jpg").write_bytes(b"not an image at all")
    with pytest.raises(InputError, match="bad.jpg.*cannot be read as an image"):
        read_image(tmp_path / "bad.jpg")
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buf.getvalue()[:400])
    with pytest.raises(InputError, match="cut.jpg"):
        read_image(tmp_path / "cut.jpg")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_image(tmp_path / "empty.png")


# ------------------------------------------------------------------ masks
def test_masks_match_pycocotools_on_real_coco():
    from pycocotools.coco import COCO

    coco = COCO(str(_gunzip(DATA / "coco_val2014_100" / "instances_val2014_100.json.gz")))
    crowd = [a for a in coco.anns.values() if a["iscrowd"]][:3]
    polys = [a for a in coco.anns.values() if not a["iscrowd"]][:20]
    assert crowd and isinstance(crowd[0]["segmentation"]["counts"], list)
    for a in crowd + polys:
        im = coco.imgs[a["image_id"]]
        m = decode_segmentation(a["segmentation"], im["height"], im["width"])
        np.testing.assert_array_equal(m, coco.annToMask(a).astype(bool))
        np.testing.assert_array_equal(annotation_mask(a, im["height"], im["width"]), m)
        back = decode_segmentation(encode_mask(m), im["height"], im["width"])
        np.testing.assert_array_equal(back, m)


def test_result_rles_decode():
    from pycocotools import mask as mu

    res = json.loads(gzip.open(DATA / "coco_val2014_100" / "instances_val2014_fakesegm100_results.json.gz").read())
    for r in res[:10]:
        h, w = r["segmentation"]["size"]
        m = decode_segmentation(r["segmentation"], h, w)
        assert m.sum() == mu.area(dict(r["segmentation"], counts=r["segmentation"]["counts"].encode()))
        assert mask_bbox(m) == list(mu.toBbox(dict(r["segmentation"], counts=r["segmentation"]["counts"].encode())))


def test_bad_segmentations():
    with pytest.raises(InputError, match="does not match the image size"):
        decode_segmentation({"size": [3, 3], "counts": "PP"}, 4, 4)
    with pytest.raises(InputError, match="sum to 5"):
        decode_segmentation({"size": [2, 2], "counts": [2, 3]}, 2, 2)
    with pytest.raises(InputError, match="at least 3 points"):
        decode_segmentation([[1, 2, 3, 4]], 5, 5)
    with pytest.raises(InputError, match="expected polygons"):
        decode_segmentation(7, 5, 5)


def test_box_pixels_and_outline():
    assert box_pixels([2, 3, 4, 5], 10, 10) == (2, 3, 6, 8)
    assert box_pixels([2.4, 2.6, 4.2, 1.0], 10, 10) == (2, 3, 7, 4)
    assert box_pixels([-3, -3, 5, 50], 10, 10) == (0, 0, 2, 10)
    m = np.zeros((9, 9), bool)
    m[2:7, 2:7] = True
    o = mask_outline(m, 1)
    inner = np.zeros_like(m)
    inner[3:6, 3:6] = True
    np.testing.assert_array_equal(o, m & ~inner)


def _gunzip(p: Path) -> Path:
    out = Path(os.environ.get("PYTEST_TMPDIR", "/tmp")) / ("ts_" + p.name.replace(".gz", ""))
    if not out.exists():
        out.write_bytes(gzip.decompress(p.read_bytes()))
    return out


# ------------------------------------------------------------------ drawing
def test_drawn_boxes_land_on_the_right_pixels():
    img = np.zeros((100, 160, 3), np.uint8)
    out = draw_annotations(img, [[10, 20, 30, 40], [100, 50, 20, 10]], outcomes=["tp", "fp"], line_width=2)
    tp, fp = hex_to_rgb(OUTCOME_COLORS["tp"]), hex_to_rgb(OUTCOME_COLORS["fp"])
    assert (img == 0).all()  # the input is not changed
    box = np.zeros((100, 160), bool)
    box[20:60, 10:40] = True
    ring = box.copy()
    ring[22:58, 12:38] = False
    assert (out[ring] == tp).all()
    assert (out[box & ~ring] == 0).all() and (out[~box & (np.arange(160)[None, :] < 90)] == 0).all()
    assert (out[50, 100] == fp).all() and (out[59, 119] == fp).all() and (out[60, 120] == 0).all()
    assert (out[54, 105] == 0).all()


def test_highlight_labels_scores_masks_and_scale():
    img = np.full((200, 300, 3), 255, np.uint8)
    m = np.zeros((100, 150), bool)
    m[10:40, 10:60] = True
    out = draw_annotations(img, [[10, 10, 50, 30], [80, 50, 40, 30]], labels=["cat", "dog"], scores=[0.9, 0.5],
                           class_ids=[3, 4], masks=[m, None], highlight=0, scale=2.0, line_width=1)
    c3 = hex_to_rgb(class_color(3))
    assert (out[20:80, 20, :] == c3).all(axis=1).sum() >= 50  # left edge of the highlighted box, twice as wide
    assert (out[30, 21] == c3).all()  # highlight is 2 px wide at line width 1
    dog = out[100:160, 160]
    assert not (dog == 255).all()  # the dimmed second box is drawn
    assert not (dog == hex_to_rgb(class_color(4))).all(axis=1).any()  # ... in a dimmed colour
    # a label strip above each box
    assert (out[5:19, 20:60] != 255).any()
    assert line_width_for(480, 640) == 2 and line_width_for(100, 100) == 1
    with pytest.raises(InputError, match="labels has 1 entries for 2 boxes"):
        draw_annotations(img, [[0, 0, 1, 1], [1, 1, 1, 1]], labels=["x"])


def test_generated_canvas():
    c = generated_canvas(120, 200)
    assert c.shape == (120, 200, 3) and c.dtype == np.uint8
    assert (c[100:, 120:] < 200).any()  # the 'generated' label in the corner
    assert c[5, 5].tolist() == [236, 236, 236]


# ------------------------------------------------------------------ thumbnails
def test_thumbnail_cache(tmp_path):
    src = _png(tmp_path / "img" / "a.png", np.full((400, 600, 3), 90, np.uint8))
    cache = ThumbnailCache(tmp_path / "cache", max_bytes=10_000_000, fmt="png")
    ov = {"boxes": [[100, 100, 200, 100]], "outcomes": ["tp"]}
    p1 = cache.get(src, 150, ov)
    t = np.asarray(Image.open(p1))
    assert t.shape == (100, 150, 3) and cache.misses == 1
    assert (t[25, 25:75] == hex_to_rgb(OUTCOME_COLORS["tp"])).all()  # box scaled by 1/4
    assert cache.get(src, 150, ov) == p1 and cache.hits == 1
    assert cache.get(src, 150, {"boxes": [[0, 0, 10, 10]]}) != p1
    os.utime(src, ns=(1, 1))
    assert cache.get(src, 150, ov) != p1  # a changed file gets a new thumbnail
    assert not [f for f in (tmp_path / "cache").rglob("*") if f.name.endswith(".tmp")]
    g = cache.get(None, 100, {"boxes": [[10, 10, 50, 50]]}, size_hw=(300, 400))
    assert np.asarray(Image.open(g)).shape == (75, 100, 3)
    small = ThumbnailCache(tmp_path / "small", max_bytes=3000, fmt="png")
    for k in range(6):
        _png(tmp_path / "img" / f"n{k}.png", np.random.default_rng(k).integers(0, 255, (64, 64, 3), dtype=np.uint8))
        small.get(tmp_path / "img" / f"n{k}.png", 32)
    assert small.total_bytes() <= 3000


def test_thumbnail_array_of_a_jpeg_uses_its_full_size(tmp_path):
    a = np.zeros((800, 1200, 3), np.uint8)
    Image.fromarray(a).save(tmp_path / "x.jpg")
    t = thumbnail_array(tmp_path / "x.jpg", 120, {"boxes": [[600, 400, 300, 200]], "outcomes": ["missed"]})
    assert t.shape == (80, 120, 3)
    assert (t[40, 60:90] == hex_to_rgb(OUTCOME_COLORS["missed"])).all()
