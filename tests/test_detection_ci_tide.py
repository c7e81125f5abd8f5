"""Bootstrap CIs against naive resampling, and the TIDE breakdown against ``tidecv``.

Naive resampling re-runs the whole evaluation on a resampled ground truth and results file
(each drawn image copied ``w`` times under new, consecutive ids; its annotations and detections
copied with it). With continuous scores (no ties inside an image) the per-image-state bootstrap
must give the very same per-class AP in every replicate; a few replicates are also checked
against pycocotools itself.
"""
from __future__ import annotations

import contextlib
import copy
import gzip
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from lt_core.data.loaders import _gt_from_dict, _results_from_list
from lt_core.detection import bootstrap_ci, evaluate_detections, paired_bootstrap, tide_errors
from lt_core.detection.bootstrap import replicate_class_ap, resample_weights

sys.path.insert(0, str(Path(__file__).parent))
from test_detection_exact import jitter_dets  # noqa: E402

DATA = Path(__file__).parent / "data"
COCO_GT = DATA / "coco_val2014_100" / "instances_val2014_100.json.gz"
COCO_BBOX = DATA / "coco_val2014_100" / "instances_val2014_fakebbox100_results.json.gz"
LVIS_GT = DATA / "lvis_v0_5_val_100" / "lvis_val_100.json.gz"


def _load(p):
    return json.loads(gzip.decompress(Path(p).read_bytes()))


def resampled(gd: dict, dets: list, image_ids: np.ndarray, w: np.ndarray) -> tuple[dict, list]:
    """The naive resampled set: image ``image_ids[i]`` copied ``w[i]`` times, copies adjacent in id order."""
    by_img_a, by_img_d = {}, {}
    for a in gd["annotations"]:
        by_img_a.setdefault(a["image_id"], []).append(a)
    for d in dets:
        by_img_d.setdefault(d["image_id"], []).append(d)
    ims = {im["id"]: im for im in gd["images"]}
    images, anns, out = [], [], []
    aid = 1
    for pos, (iid, k) in enumerate(zip(image_ids.tolist(), w.tolist())):
        for c in range(k):
            nid = (pos + 1) * 100 + c
            images.append(dict(ims[iid], id=nid))
            for a in by_img_a.get(iid, []):
                anns.append(dict(a, id=aid, image_id=nid))
                aid += 1
            out += [dict(d, image_id=nid) for d in by_img_d.get(iid, [])]
    return {**{k: v for k, v in gd.items() if k not in ("images", "annotations")}, "images": images,
            "annotations": anns}, out


@pytest.mark.parametrize("which", ["coco", "lvis"])
def test_bootstrap_replicates_equal_naive_resampling(which):
    gd = _load(COCO_GT if which == "coco" else LVIS_GT)
    dets = jitter_dets(gd, 5, round_scores=None, heavy_images=0)
    gt = _gt_from_dict(gd, "gt.json")
    ev = evaluate_detections(gt, _results_from_list(dets, gt, "d", "d.json"))
    W = resample_weights(len(ev.state.image_ids), 12, seed=3)
    ap, ap50 = replicate_class_ap(ev.state, W)
    for b in range(len(W)):
        g2, d2 = resampled(gd, dets, ev.state.image_ids, W[b])
        gt2 = _gt_from_dict(g2, "gt2.json")
        ev2 = evaluate_detections(gt2, _results_from_list(d2, gt2, "d2", "d2.json"), style=ev.params.style)
        want = ev2.columns["AP"]
        np.testing.assert_allclose(ap[b], want, rtol=0, atol=1e-12)
        np.testing.assert_allclose(ap50[b], ev2.columns["AP50"], rtol=0, atol=1e-12)


def test_bootstrap_replicate_equals_pycocotools_on_the_resampled_files():
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    gd = _load(COCO_GT)
    dets = jitter_dets(gd, 9, round_scores=None, heavy_images=0)
    gt = _gt_from_dict(gd, "gt.json")
    ev = evaluate_detections(gt, _results_from_list(dets, gt, "d", "d.json"))
    W = resample_weights(len(ev.state.image_ids), 2, seed=11)
    ap, ap50 = replicate_class_ap(ev.state, W)
    for b in range(2):
        g2, d2 = resampled(gd, dets, ev.state.image_ids, W[b])
        with contextlib.redirect_stdout(io.StringIO()):
            cg = COCO()
            cg.dataset = copy.deepcopy(g2)
            cg.createIndex()
            E = COCOeval(cg, cg.loadRes(copy.deepcopy(d2)), "bbox")
            E.evaluate()
            E.accumulate()
            E.summarize()
        o = np.argsort(np.asarray(gt.categories.ids))
        valid = ap[b][o] >= 0
        assert abs(ap[b][o][valid].mean() - E.stats[0]) <= 1e-12
        assert abs(ap50[b][o][valid].mean() - E.stats[1]) <= 1e-12


def test_bootstrap_ci_is_seeded_contains_estimate_and_shrinks_with_data():
    gd = _load(LVIS_GT)
    dets = jitter_dets(gd, 2)
    gt = _gt_from_dict(gd, "gt.json")
    ev = evaluate_detections(gt, _results_from_list(dets, gt, "d", "d.json"))
    a = bootstrap_ci(ev, 300, seed=0)
    b = bootstrap_ci(ev, 300, seed=0)
    c = bootstrap_ci(ev, 300, seed=1)
    assert a.ci == b.ci and a.ci != c.ci
    for k in ("AP", "AP50", "APr", "APc", "APf", "AP[frequent]"):
        lo, hi = a.ci[k]
        assert lo <= a.estimate[k] <= hi, k
        assert hi - lo > 0
    assert a.estimate["APf"] == ev.headline["APf"] and a.ci["APf"] == a.ci["AP[frequent]"]  # letters decide bins
    js = a.to_json()
    assert set(js) >= {"AP", "AP50", "APr", "APc", "APf"} and all(len(v) == 2 for v in js.values())
    # a paired comparison with itself: delta 0, interval [0, 0]; with a worse file: negative
    same = paired_bootstrap(ev, ev, 100, seed=0)
    assert all(v == {"delta": 0.0, "low": 0.0, "high": 0.0} for k, v in same.to_json(paired=True).items()
               if v["delta"] is not None)
    worse = [dict(d, bbox=[d["bbox"][0] + 0.4 * d["bbox"][2]] + d["bbox"][1:]) if i % 2 else d
             for i, d in enumerate(dets)]  # half the boxes shifted by 40 % of their width
    ev_w = evaluate_detections(gt, _results_from_list(worse, gt, "w", "w.json"))
    cmp = paired_bootstrap(ev_w, ev, 200, seed=0).to_json(paired=True)
    assert cmp["AP"]["delta"] == pytest.approx(ev_w.headline["AP"] - ev.headline["AP"])
    assert cmp["AP"]["low"] <= cmp["AP"]["delta"] <= cmp["AP"]["high"] < 0


@pytest.mark.parametrize("which", ["coco_real", "coco_jitter", "lvis_jitter", "lvis_ties"])
def test_replicates_in_lanes_equal_one_replicate_at_a_time_bit_for_bit(which):
    """kernels.bootstrap_lanes (64 replicates as vector lanes) against kernels.bootstrap_ap (one at
    a time): the same bits for every class and replicate; a number of replicates that is not a
    multiple of 64, weights far above the usual draws, classes without ground truth, LVIS
    not-exhaustive classes (ignored detections), tied scores."""
    from lt_core.detection import kernels
    from lt_core.detection.bootstrap import _replicates_in_lanes, _tables
    gd = _load(COCO_GT if which.startswith("coco") else LVIS_GT)
    if which == "coco_real":
        dets = _load(COCO_BBOX)
    else:
        dets = jitter_dets(gd, 7, round_scores=2 if which == "lvis_ties" else None, heavy_images=1)
    gt = _gt_from_dict(gd, "gt.json")
    ev = evaluate_detections(gt, _results_from_list(dets, gt, "d", "d.json"))
    st = ev.state
    W = resample_weights(len(st.image_ids), 77, seed=5)
    W[3] *= 40          # heavy weights
    W[4] = 0
    W[4, :3] = 1        # nearly every image left out
    tabs = _tables(st)
    T, rec, C = st.params.n_thr, np.asarray(st.params.rec_thrs, np.float64), len(st.class_ids)
    ref, ref50 = np.empty((77, C)), np.empty((77, C))
    kernels.bootstrap_ap(*tabs, W, T, rec, 0, 77, ref, ref50)
    for threads in (1, 2):
        ap, ap50 = _replicates_in_lanes(tabs, W, T, rec, C, threads)
        assert np.array_equal(ap.view(np.uint64), ref.view(np.uint64))
        assert np.array_equal(ap50.view(np.uint64), ref50.view(np.uint64))
    assert (ref == -1).any() and (ref > 0).any()


def test_recall_threshold_count_without_division():
    """kernels._c_exact against searchsorted(rec_thrs, a / ng, "right") for every a <= ng <= 1200."""
    from lt_core.detection import kernels
    from lt_core.detection.params import EvalParams
    rec = np.asarray(EvalParams.make("coco", "bbox", None).rec_thrs, np.float64)
    tie = [rec[r] <= r / 100.0 for r in range(101)]
    lo = np.uint64(sum(1 << r for r in range(64) if tie[r]))
    hi = np.uint64(sum(1 << (r - 64) for r in range(64, 101) if tie[r]))
    f = kernels._c_exact.py_func
    for ng in list(range(1, 1201)) + [4999, 10007, 65536, 999983]:
        a = np.unique(np.r_[np.arange(0, min(ng, 1200) + 1), np.linspace(0, ng, 301).round(), ng]).astype(float)
        want = np.where(a > 0, np.searchsorted(rec, a / ng, "right"), 0)
        got = np.array([f(x, float(ng), 100.0 / ng, lo, hi) for x in a])
        assert np.array_equal(got, want), ng


# ---------------------------------------------------------------------------------------- TIDE
def _tidecv_run(gd, dets, lvis: bool):
    """tidecv on in-memory data, built exactly as its datasets.COCO / datasets.LVIS loaders do (boxes)."""
    from tidecv import TIDE
    from tidecv.data import Data
    g = Data("gt", max_dets=300 if lvis else 100)
    for im in gd["images"]:
        g.add_image(im["id"], str(im["id"]))
    for c in gd["categories"]:
        g.add_class(c["id"], c["name"])
    present = {}
    for a in gd["annotations"]:
        present.setdefault(a["image_id"], set()).add(a["category_id"])
        if a.get("iscrowd") and not lvis:
            g.add_ignore_region(a["image_id"], a["category_id"], a["bbox"], None)
        else:
            g.add_ground_truth(a["image_id"], a["category_id"], a["bbox"], None)
    if lvis:
        all_c = set(g.classes)
        for im in gd["images"]:
            seen = set(im["neg_category_ids"]) | present.get(im["id"], set())
            for c in (all_c - seen) | set(im["not_exhaustive_category_ids"]):
                g.add_ignore_region(im["id"], c)
    p = Data("dets")
    for d in dets:
        p.add_detection(d["image_id"], d["category_id"], d["score"], d["bbox"], None)
    t = TIDE()
    with contextlib.redirect_stdout(io.StringIO()):
        run = t.evaluate(g, p, mode=TIDE.BOX)
        main = t.get_main_errors()["dets"]
        special = t.get_special_errors()["dets"]
    return run.ap, main, special


@pytest.mark.parametrize("case", ["coco_real", "coco_jitter", "lvis_jitter"])
def test_tide_equals_tidecv(case):
    if case == "coco_real":
        gd, dets = _load(COCO_GT), _load(COCO_BBOX)
    elif case == "coco_jitter":
        gd = _load(COCO_GT)
        dets = jitter_dets(gd, 4)
    else:
        gd = _load(LVIS_GT)
        dets = jitter_dets(gd, 4, heavy_images=2, heavy_n=320)
    lvis = case.startswith("lvis")
    gt = _gt_from_dict(gd, "gt.json")
    res = _results_from_list(dets, gt, "dets", "dets.json")
    ours = tide_errors(gt, res, style="lvis" if lvis else "coco")
    ap, main, special = _tidecv_run(gd, dets, lvis)
    assert ours.ap == pytest.approx(ap, abs=1e-9)
    for k, v in main.items():
        assert ours.main[k] == pytest.approx(v, abs=1e-9), k
    for k, v in special.items():
        assert ours.special[k] == pytest.approx(v, abs=1e-9), k
    assert any(v > 0 for v in ours.main.values())
    # per bin and per class: the same mean restricted to the bin's / class's classes
    pb = ours.per_bin
    assert set(pb["bin"]) <= {"rare", "common", "frequent", "no training data"}
    out = ours.outcomes
    assert set(out["outcome"]) <= {"tp", "duplicate", "wrong_class", "background", "localization", "both",
                                   "ignored", "missed"}
    assert (out["outcome"] == "missed").sum() == int(ours.per_class["n_Miss"].sum())
    # every TIDE error type counted per class is one row's tide_error (ignored predictions keep theirs)
    for k in ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss"):
        got = out[out["tide_error"] == k].groupby("category_id").size()
        exp = ours.per_class.set_index("category_id")[f"n_{k}"]
        assert (got.reindex(exp.index, fill_value=0) == exp).all(), k
    assert (out["outcome"] == "tp").sum() + (out["outcome"] == "missed").sum() >= 0


def test_detection_outcomes_table_selects_examples():
    from lt_core.detection import detection_outcomes
    gd = _load(COCO_GT)
    gt = _gt_from_dict(gd, "gt.json")
    res = _results_from_list(_load(COCO_BBOX), gt, "dets", "dets.json")
    df = detection_outcomes(gt, res)
    assert list(df.columns) == ["image_id", "det_index", "ann_id", "category_id", "score", "iou", "outcome",
                                "tide_error"]
    tp = df[df.outcome == "tp"]
    assert (tp["ann_id"] >= 0).all() and (tp["iou"] >= 0.5).all()
    wrong = df[df.outcome == "wrong_class"].sort_values("score", ascending=False)
    assert len(wrong) and (wrong["ann_id"] >= 0).all()
    # det_index points back into the results file
    row = tp.iloc[0]
    assert int(res.image_id[int(row.det_index)]) == int(row.image_id)
