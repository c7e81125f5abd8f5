"""Detection examples' pictures: a small generated image folder with COCO annotations; the drawn
boxes land on the right pixels, in the outcome's colour, the selected one highlighted; masks as
outlines; the generated demo draws on a canvas of the image's size."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lt_core.data.loaders import load_detection_gt, load_detection_results
from lt_core.examples.content import DetectionContent
from lt_core.examples.detection import BOX_COLUMNS
from lt_core.images import OUTCOME_COLORS, ThumbnailCache, hex_to_rgb, read_image
from lt_core.images.masks import box_pixels


def _scene(tmp_path):
    """Two generated 200 x 160 images (flat grey), COCO GT with a polygon, three detections."""
    from PIL import Image

    (tmp_path / "images" / "val").mkdir(parents=True)
    for i in (1, 2):
        Image.new("RGB", (200, 160), (128, 128, 128)).save(tmp_path / "images" / "val" / f"{i:012d}.png")
    gt = {"images": [{"id": i, "file_name": f"val/{i:012d}.png", "height": 160, "width": 200} for i in (1, 2)],
          "categories": [{"id": 3, "name": "cat"}, {"id": 7, "name": "dog"}],
          "annotations": [
              {"id": 10, "image_id": 1, "category_id": 3, "bbox": [20, 30, 60, 40], "area": 2400, "iscrowd": 0,
               "segmentation": [[20, 30, 80, 30, 80, 70, 20, 70]]},
              {"id": 11, "image_id": 1, "category_id": 7, "bbox": [120, 20, 50, 100], "area": 5000, "iscrowd": 0,
               "segmentation": [[120, 20, 170, 20, 170, 120, 120, 120]]},
              {"id": 12, "image_id": 2, "category_id": 3, "bbox": [10, 10, 30, 30], "area": 900, "iscrowd": 0,
               "segmentation": [[10, 10, 40, 10, 40, 40, 10, 40]]}]}
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    dets = [{"image_id": 1, "category_id": 3, "bbox": [22, 31, 58, 39], "score": 0.9},
            {"image_id": 1, "category_id": 3, "bbox": [126, 24, 40, 90], "score": 0.8},   # wrong class on the dog
            {"image_id": 2, "category_id": 7, "bbox": [100, 100, 40, 40], "score": 0.7}]  # background
    (tmp_path / "dt.json").write_text(json.dumps(dets))
    g = load_detection_gt(tmp_path / "gt.json")
    r = load_detection_results(tmp_path / "dt.json", g)
    table = pd.DataFrame([
        dict(image_id=1, det_index=0, ann_id=10, category_id=3, category="cat", bin="rare", true_category_id=3,
             true_category="cat", true_bin="rare", score=0.9, iou=0.9, outcome="tp", tide_miss=False, tide_error="",
             x=22, y=31, w=58, h=39, ann_x=20, ann_y=30, ann_w=60, ann_h=40),
        dict(image_id=1, det_index=1, ann_id=11, category_id=3, category="cat", bin="rare", true_category_id=7,
             true_category="dog", true_bin="rare", score=0.8, iou=0.0, outcome="wrong_class", tide_miss=False, tide_error="Cls",
             x=126, y=24, w=40, h=90, ann_x=120, ann_y=20, ann_w=50, ann_h=100),
        dict(image_id=1, det_index=-1, ann_id=11, category_id=7, category="dog", bin="rare", true_category_id=7,
             true_category="dog", true_bin="rare", score=np.nan, iou=np.nan, outcome="missed", tide_miss=False, tide_error="",
             x=120, y=20, w=50, h=100, ann_x=120, ann_y=20, ann_w=50, ann_h=100),
        dict(image_id=2, det_index=2, ann_id=-1, category_id=7, category="dog", bin="rare", true_category_id=-1,
             true_category=None, true_bin=None, score=0.7, iou=0.0, outcome="background", tide_miss=False, tide_error="Bkg",
             x=100, y=100, w=40, h=40, ann_x=np.nan, ann_y=np.nan, ann_w=np.nan, ann_h=np.nan),
        dict(image_id=2, det_index=-1, ann_id=12, category_id=3, category="cat", bin="rare", true_category_id=3,
             true_category="cat", true_bin="rare", score=np.nan, iou=np.nan, outcome="missed", tide_miss=True, tide_error="Miss",
             x=10, y=10, w=30, h=30, ann_x=10, ann_y=10, ann_w=30, ann_h=30)])[BOX_COLUMNS]
    return g, r, table


def _ring(img, box, scale=1.0):
    """Pixels of the outer ring of a drawn box (the box's own border pixels)."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = box_pixels(np.asarray(box, float) * scale, h, w)
    return np.concatenate([img[y0, x0:x1], img[y1 - 1, x0:x1], img[y0:y1, x0], img[y0:y1, x1 - 1]])


def test_boxes_land_on_their_pixels_in_their_outcome_colour(tmp_path):
    g, r, table = _scene(tmp_path)
    content = DetectionContent(g, r, table, tmp_path / "images", masks=False)
    assert content.kind == "image" and content.source(1).name == "000000000001.png"
    ov = content.overlay(1, highlight=table.iloc[1].to_dict(), class_names=False)
    # ground truth (cat: matched -> gt colour; dog: missed), then the detections by score
    assert ov["outcomes"] == ["gt", "missed", "tp", "wrong_class"] and ov["highlight"] == 3
    cache = ThumbnailCache(tmp_path / "thumbs", fmt="png")
    img = read_image(cache.get(content.source(1), 400, {**ov, "line_width": 1}, size_hw=content.size_hw(1)))
    assert img.shape == (160, 200, 3)  # never enlarged: drawn at the image's own pixels
    purple = hex_to_rgb(OUTCOME_COLORS["wrong_class"])
    ring = _ring(img, [126, 24, 40, 90])
    assert (ring == purple).all()  # the highlighted box: its colour, undimmed, on its border pixels
    inside = img[24 + 3:24 + 90 - 3, 126 + 3:126 + 40 - 3]
    assert (inside == 128).all()   # nothing drawn inside the box
    # the other boxes are dimmed towards grey (the highlight stands out), still on their pixels
    green = np.array(hex_to_rgb(OUTCOME_COLORS["tp"]), float)
    dim = np.rint(green * 0.55 + 127.5 * 0.45)
    assert (np.abs(_ring(img, [22, 31, 58, 39])[:10] - dim) <= 1).all()
    # the pixels just outside the boxes are untouched (below and to the right; the score labels sit above)
    assert (img[70, 22:80] == 128).all() and (img[40:60, 80] == 128).all() and (img[40:60, 19] == 128).all()


def test_a_thumbnail_scales_the_boxes_with_the_image(tmp_path):
    g, r, table = _scene(tmp_path)
    content = DetectionContent(g, r, table, tmp_path / "images", masks=False)
    ov = content.overlay(2, highlight=table.iloc[3].to_dict(), class_names=False)
    img = read_image(ThumbnailCache(tmp_path / "t", fmt="png").get(content.source(2), 100, {**ov, "line_width": 1},
                                                                    size_hw=content.size_hw(2)))
    assert img.shape == (80, 100, 3)
    red = hex_to_rgb(OUTCOME_COLORS["background"])
    assert (_ring(img, [100, 100, 40, 40], 0.5) == red).all()   # [50, 50, 20, 20] in the thumbnail
    cyan = np.array(hex_to_rgb(OUTCOME_COLORS["missed"]), float)
    assert (np.abs(_ring(img, [10, 10, 30, 30], 0.5) - np.rint(cyan * 0.55 + 127.5 * 0.45)) <= 1).all()


def test_masks_are_drawn_as_outlines(tmp_path):
    g, r, table = _scene(tmp_path)
    content = DetectionContent(g, r, table, tmp_path / "images", masks=True)
    ov = content.overlay(1, class_names=False)
    assert ov["masks"][0] == [[20, 30, 80, 30, 80, 70, 20, 70]] and ov["masks"][2] is None
    img = read_image(ThumbnailCache(tmp_path / "m", fmt="png").get(content.source(1), 400, {**ov, "line_width": 1},
                                                                    size_hw=content.size_hw(1)))
    white = hex_to_rgb(OUTCOME_COLORS["gt"])
    # the polygon's outline (rasterised by pycocotools) is the box here: its border is drawn, its inside not
    assert (img[50, 20] == white).all() and (img[50, 50] == 128).all()


def test_generated_data_draws_on_a_labelled_canvas(tmp_path):
    g, r, table = _scene(tmp_path)
    content = DetectionContent(g, r, table, None)
    assert content.kind == "canvas" and content.source(1) is None
    ov = content.overlay(2, class_names=False)
    img = read_image(ThumbnailCache(tmp_path / "c", fmt="png").get(None, 400, {**ov, "line_width": 1},
                                                                    size_hw=content.size_hw(2)))
    assert img.shape == (160, 200, 3)
    assert (_ring(img, [100, 100, 40, 40]) == hex_to_rgb(OUTCOME_COLORS["background"])).all()
    # the word 'generated' is written on it (darker pixels in the bottom-right corner)
    assert (img[-30:, -90:] < 200).any()
    with pytest.raises(Exception, match="no such image folder"):
        DetectionContent(g, r, table, tmp_path / "nope")
    miss = DetectionContent(g, r, table, tmp_path)  # a folder without the images: named in the message
    with pytest.raises(Exception, match="tried val/000000000001.png"):
        miss.source(1)


def test_the_computed_outcomes_draw_the_same_picture(tmp_path):
    """End to end: box_table (COCO matching + TIDE kinds) on the generated folder gives the outcomes
    written by hand above, and the thumbnail drawn from it is the same picture, pixel for pixel."""
    from lt_core.examples import box_table

    g, r, hand = _scene(tmp_path)
    computed = box_table(g, r, "lvis", style="coco")
    key = ["image_id", "det_index", "ann_id"]
    a = computed.sort_values(key).reset_index(drop=True)
    b = hand.sort_values(key).reset_index(drop=True)
    assert a[key + ["outcome", "tide_error"]].equals(b[key + ["outcome", "tide_error"]])
    pics = []
    for name, table in (("hand", hand), ("computed", computed)):
        content = DetectionContent(g, r, table, tmp_path / "images", masks=True)
        hl = table[table["det_index"] == 1].iloc[0].to_dict()
        ov = content.overlay(1, highlight=hl, class_names=False)
        pics.append(read_image(ThumbnailCache(tmp_path / f"t_{name}", fmt="png").get(
            content.source(1), 400, {**ov, "line_width": 1}, size_hw=content.size_hw(1))))
    assert np.array_equal(pics[0], pics[1])
    assert (_ring(pics[1], [126, 24, 40, 90]) == hex_to_rgb(OUTCOME_COLORS["wrong_class"])).all()


def test_the_colour_key_shows_each_outcome_colour_with_its_words():
    from lt_core.examples.detection import LEGEND_ITEMS
    from lt_core.images import outcome_legend

    key = outcome_legend(LEGEND_ITEMS, height=22, max_width=560)
    assert key.dtype == np.uint8 and key.shape[2] == 3 and key.shape[1] <= 560 + 4
    assert key.shape[0] % 22 == 0 and key.shape[0] >= 44  # eight items wrap onto lines of 22 px
    for outcome, _ in LEGEND_ITEMS:  # every swatch's colour is there, as a block of pixels
        rgb = np.array(hex_to_rgb(OUTCOME_COLORS[outcome]))
        hit = (key == rgb).all(axis=2)
        assert hit.sum() >= 100, outcome
    one = outcome_legend([("tp", "true positive")])
    assert one.shape[0] == 22 and (one == np.array(hex_to_rgb(OUTCOME_COLORS["tp"]))).all(axis=2).sum() == 12 * 12
    with pytest.raises(Exception, match="unknown outcome"):
        outcome_legend([("nope", "x")])
