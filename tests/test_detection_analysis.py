"""PR curves, AP by bin, operating thresholds, stealing analysis, fast JSON reader, figures.

Checked against independent computations: pycocotools' own per-image matches (thresholds),
pycocotools' IoU with plain loops (stealing), and the orjson-based loader (fast reader).
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

from lt_core.data.loaders import _gt_from_dict, _results_from_list, load_detection_results
from lt_core.detection import (ap_by_bin, evaluate_detections, load_results_fast, operating_thresholds, pr_curve,
                               pr_curves_by_bin, raw_pr_curve, stealing_analysis, thresholds_to_json,
                               write_thresholds)
from lt_core.errors import InputError

DATA = Path(__file__).parent / "data"
COCO_GT = DATA / "coco_val2014_100" / "instances_val2014_100.json.gz"
COCO_BBOX = DATA / "coco_val2014_100" / "instances_val2014_fakebbox100_results.json.gz"
COCO_SEGM = DATA / "coco_val2014_100" / "instances_val2014_fakesegm100_results.json.gz"


def _load(p):
    with gzip.open(p, "rt") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def coco():
    gd = _load(COCO_GT)
    dets = _load(COCO_BBOX)
    gt = _gt_from_dict(copy.deepcopy(gd), "gt")
    res = _results_from_list(copy.deepcopy(dets), gt, "fake", "fake.json")
    return gd, dets, gt, res, evaluate_detections(gt, res)


@pytest.fixture(scope="module")
def lvis_synth():
    from lt_core.data import make_lvis_like
    gd, dets = make_lvis_like(n_images=150, seed=11, dets_per_image=100)
    gt = _gt_from_dict(copy.deepcopy(gd), "synth")
    res = _results_from_list(copy.deepcopy(dets), gt, "synth", "synth.json")
    return gd, dets, gt, res, evaluate_detections(gt, res)


def test_pr_curve_mean_is_the_class_ap(coco):
    *_, ev = coco
    for k in np.flatnonzero(ev.per_class["AP"].to_numpy() >= 0):
        c = pr_curve(ev, int(k), 0.5)
        assert len(c) == 101
        assert abs(c["precision"].mean() - ev.per_class["AP50"].iloc[k]) < 1e-12
        c75 = pr_curve(ev, int(k), 0.75)
        assert abs(c75["precision"].mean() - ev.per_class["AP75"].iloc[k]) < 1e-12
    k0 = int(np.flatnonzero(ev.per_class["AP"].to_numpy() < 0)[0])
    assert len(pr_curve(ev, k0)) == 0


def test_raw_curve_ends_at_the_reference_recall(coco):
    gd, dets, gt, res, ev = coco
    for k in np.flatnonzero(ev.per_class["n_det"].to_numpy() > 0)[:15]:
        r = raw_pr_curve(ev, int(k), 0.5)
        if len(r) and ev.state.gt_count[k, 0]:
            assert abs(r["recall"].iloc[-1] - ev.acc.recall[0, k, 0, ev.params.headline_m]) < 1e-12
            assert (np.diff(r["score"].to_numpy()) <= 0).all()


def test_ap_by_bin_lvis_scheme_equals_apr_apc_apf(lvis_synth):
    *_, ev = lvis_synth
    t = ap_by_bin(ev, "lvis").set_index("bin")
    # LVIS v1 frequency letters follow the same 1-10 / 11-100 / >100 image_count rule
    assert t.loc["rare", "AP"] == ev.headline["APr"]
    assert t.loc["common", "AP"] == ev.headline["APc"]
    assert t.loc["frequent", "AP"] == ev.headline["APf"]
    assert t["n_classes"].sum() == len(ev.per_class)
    by = pr_curves_by_bin(ev, "lvis", 0.5)
    for b, g in by.groupby("bin"):
        assert abs(g["precision"].mean() - t.loc[b, "AP50"]) < 1e-9


def _reference_matches_at_05(gd, dets):
    """pycocotools' per-image matches at IoU 0.5, area all: {cat: [(score, tp, ignored)]}, npig."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO()
        cg.dataset = copy.deepcopy(gd)
        cg.createIndex()
        cd = cg.loadRes(copy.deepcopy(dets))
        E = COCOeval(cg, cd, "bbox")
        E.evaluate()
    per, npig = {}, {}
    for e in E.evalImgs:
        if e is None or e["aRng"] != [0, 1e10]:
            continue
        c = e["category_id"]
        for s, m, ig in zip(e["dtScores"], e["dtMatches"][0], e["dtIgnore"][0]):
            per.setdefault(c, []).append((s, m > 0, bool(ig)))
        npig[c] = npig.get(c, 0) + int((np.asarray(e["gtIgnore"]) == 0).sum())
    return per, npig


def test_operating_thresholds_match_brute_force_on_reference_matches(coco, tmp_path):
    gd, dets, gt, res, ev = coco
    th = operating_thresholds(ev, target_precision=0.6)
    per, npig = _reference_matches_at_05(gd, dets)
    checked = 0
    for row in th.itertuples():
        d = [x for x in per.get(row.category_id, []) if not x[2]]
        n = npig.get(row.category_id, 0)
        if n == 0 or not d:
            assert np.isnan(row.f1_threshold)
            continue
        best, best_t, tgt_t = -1.0, None, None
        for t in sorted({s for s, _, _ in d}, reverse=True):  # keep score >= t
            tp = sum(1 for s, m, _ in d if s >= t and m)
            fp = sum(1 for s, m, _ in d if s >= t and not m)
            p, r = tp / (tp + fp), tp / n
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            if f1 > best + 1e-15:
                best, best_t = f1, t
            if p >= 0.6:
                tgt_t = t
        if best > 0:
            assert row.f1_threshold == best_t and abs(row.f1 - best) < 1e-12
        else:
            assert np.isnan(row.f1_threshold)
        assert (np.isnan(row.target_threshold) if tgt_t is None else row.target_threshold == tgt_t)
        checked += 1
    assert checked > 40
    js = thresholds_to_json(th, "f1")
    assert set(map(int, js)) == set(th.dropna(subset=["f1_threshold"])["category_id"])
    out = write_thresholds(tmp_path / "thr.json", th, "target")
    assert json.loads(out.read_text()) == thresholds_to_json(th, "target")


def test_stealing_matches_plain_loops_with_pycocotools_iou(lvis_synth):
    from pycocotools import mask as mask_utils
    gd, dets, gt, res, _ = lvis_synth
    sr = stealing_analysis(gt, res, iou=0.5, min_score=0.05)
    by_img = {}
    for i, d in enumerate(dets):
        if d["score"] >= 0.05:
            by_img.setdefault(d["image_id"], []).append((i, d))
    pg = sr.per_gt.set_index("ann_id")
    for a in gd["annotations"][:400]:
        cand = by_img.get(a["image_id"], [])
        if cand:
            ious = mask_utils.iou([d["bbox"] for _, d in cand], [a["bbox"]], [0]).ravel()
        else:
            ious = np.zeros(0)
        hits = [(d, i) for (i, d), o in zip(cand, ious) if o >= 0.5]
        found = any(d["category_id"] == a["category_id"] for d, _ in hits)
        other = [(-d["score"], i, d["category_id"]) for d, i in hits if d["category_id"] != a["category_id"]]
        exp_stealer = min(other)[2] if other else -1
        row = pg.loc[a["id"]]
        assert bool(row["found"]) == found
        assert int(row["stealer_id"]) == exp_stealer
    pc = sr.per_class
    assert ((pc["stolen_share"] <= pc["covered_by_other_share"] + 1e-12)).all()
    assert (pc["found_share"].between(0, 1)).all()
    if len(sr.pairs):
        tot = sr.pairs.groupby("victim_id")["n_stolen"].sum()
        n_stolen = (pc.set_index("category_id")["stolen_share"] * pc.set_index("category_id")["n_gt"]).round()
        assert (tot == n_stolen.loc[tot.index].astype(int)).all()


# ---------------------------------------------------------------- fast JSON reader
def test_fast_reader_is_bit_identical_to_the_loader(coco, tmp_path):
    gd, dets, gt, res, _ = coco
    fast = load_results_fast(COCO_BBOX, gt)
    slow = load_detection_results(COCO_BBOX, gt)
    for k in ("image_id", "category_id", "bbox", "score"):
        assert np.array_equal(getattr(fast, k), getattr(slow, k))
    # pretty-printed, integer scores / boxes mixed with floats, plain .json
    d2 = copy.deepcopy(dets[:50])
    d2[0]["bbox"] = [int(v) + 1 for v in d2[0]["bbox"]]
    p = tmp_path / "pretty.json"
    p.write_text(json.dumps(d2, indent=2))
    before = p.read_bytes()
    f2 = load_results_fast(p, gt)
    s2 = load_detection_results(p, gt)
    assert np.array_equal(f2.bbox, s2.bbox) and np.array_equal(f2.score, s2.score)
    assert p.read_bytes() == before  # input never modified
    # masks go through the validating loader
    seg = load_results_fast(COCO_SEGM, gt)
    assert seg.segmentation is not None and len(seg) == 734


@pytest.mark.parametrize("payload,field", [
    ([{"image_id": 987654321, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}], "image_id"),
    ([{"image_id": None, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}], None),
    ([{"image_id": 139, "category_id": 1, "bbox": [1, 2, 0, 4], "score": 0.5}], "bbox"),
    ([{"image_id": 139, "category_id": 1, "bbox": [1, 2, 3], "score": 0.5}], "bbox"),
    ([{"image_id": 139, "category_id": 1, "bbox": [1, 2, 3, 4], "score": float("nan")}], "score"),
    ([{"image_id": 139, "category_id": 99999, "bbox": [1, 2, 3, 4], "score": 0.5}], "category_id"),
    ({"images": []}, None),
])
def test_fast_reader_bad_input_is_an_input_error(coco, tmp_path, payload, field):
    gt = coco[2]
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(payload).replace("NaN", "NaN"))
    with pytest.raises(InputError) as e:
        load_results_fast(p, gt)
    assert "bad.json" in str(e.value)
    if field:
        assert e.value.field == field


# ---------------------------------------------------------------- figures
def test_figures_use_bin_and_run_colours(lvis_synth):
    from lt_core.plots import bin_color, run_color
    from lt_core.plots import detection as dp
    *_, ev = lvis_synth
    f = dp.ap_vs_frequency_chart({"a": ev.per_class}, "lvis")
    assert f.layout.xaxis.type == "log"
    assert {t.marker.color for t in f.data} == {bin_color(b, "lvis") for b in ("frequent", "common", "rare")}
    f2 = dp.ap_vs_frequency_chart({"a": ev.per_class, "b": ev.per_class}, "lvis")
    assert [t.marker.color for t in f2.data] == [run_color(["a", "b"], "a"), run_color(["a", "b"], "b")]
    bb = dp.ap_by_bin_chart({"a": ap_by_bin(ev)}, "lvis")
    assert list(bb.data[0].x) == ["frequent", "common", "rare"]
    pr = dp.pr_curve_chart({"a": pr_curve(ev, int(np.argmax(ev.per_class["n_gt"])))})
    assert len(pr.data) == 1
    assert len(dp.pr_by_bin_chart(pr_curves_by_bin(ev)).data) >= 1
