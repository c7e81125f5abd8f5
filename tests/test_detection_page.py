"""The Detection page runs on the demo and shows a clear error for bad files (Streamlit AppTest)."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
st_testing = pytest.importorskip("streamlit.testing.v1")


def _app():
    at = st_testing.AppTest.from_file(str(ROOT / "pages" / "4_Detection.py"), default_timeout=240)
    return at


def test_page_on_demo_answers_first_and_errors_are_messages(tmp_path):
    at = _app().run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert labels[:5] == ["AP", "APr (rare)", "APc (common)", "APf (frequent)", "rare classes at AP 0"]
    assert all(m.value not in ("", None) for m in at.metric[:5])
    assert any("generated" in i.value.lower() for i in at.info)
    # a results file that is not JSON, given by path: a message naming the file, no traceback
    bad = tmp_path / "bad_results.json"
    bad.write_text("not json")
    at.radio(key="det_src").set_value("Local path").run()
    at.text_input(key="det_gt_path").set_value(str(ROOT / "tests/data/coco_val2014_100/instances_val2014_100.json.gz"))
    at.text_area(key="det_dt_paths").set_value(str(bad)).run()
    at.button(key="det_load").click().run()
    assert not at.exception
    assert any("bad_results.json" in e.value for e in at.error)


def test_page_with_coco_files_and_two_results(tmp_path):
    import gzip
    import json
    d = ROOT / "tests/data/coco_val2014_100"
    dets = json.loads(gzip.decompress((d / "instances_val2014_fakebbox100_results.json.gz").read_bytes()))
    a, b = tmp_path / "detA.json", tmp_path / "detB.json"
    a.write_text(json.dumps(dets))
    b.write_text(json.dumps([dict(x, score=x["score"] * 0.5 + (0.5 if x["category_id"] == 1 else 0)) for x in dets]))
    at = _app().run()
    at.radio(key="det_src").set_value("Local path").run()
    at.text_input(key="det_gt_path").set_value(str(d / "instances_val2014_100.json.gz"))
    at.text_area(key="det_dt_paths").set_value(f"{a}\n{b}").run()
    at.button(key="det_load").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    labels = [m.label for m in at.metric]
    assert labels[0] == "AP" and "APr (rare)" not in labels  # COCO: no LVIS frequency groups
    assert at.metric[0].value == "50.5"  # per-class monotone rescoring keeps every AP (cocoapi: 0.505)
    assert any("no train counts" in c.value for c in at.caption)


def _load_local(at, gt, dets, freq=None):
    at.radio(key="det_src").set_value("Local path").run()
    at.text_input(key="det_gt_path").set_value(str(gt))
    at.text_area(key="det_dt_paths").set_value("\n".join(str(d) for d in dets))
    if freq is not None:
        at.text_input(key="det_fr_path").set_value(str(freq))
    at.run()
    at.button(key="det_load").click().run()
    return at


def _frame_with(at, col):
    return next(d.value for d in at.dataframe if col in d.value.columns)


def test_lvis_subset_with_category_file_rare_common_frequent_agree_with_bins(tmp_path):
    d = ROOT / "tests/data/lvis_v0_5_val_100"
    import gzip
    import json
    import sys
    sys.path.insert(0, str(ROOT / "tests"))
    from test_detection_exact import jitter_dets
    gd = json.loads(gzip.decompress((d / "lvis_val_100.json.gz").read_bytes()))
    dt = tmp_path / "lvis_dets.json"
    dt.write_text(json.dumps(jitter_dets(gd, 1)))
    at = _load_local(_app().run(), d / "lvis_val_100.json.gz", [dt], d / "lvis_v0_5_categories.csv")
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    m = {x.label: x.value for x in at.metric}
    bins = _frame_with(at, "n_evaluated").set_index("bin")
    for lab, b in (("APr (rare)", "rare"), ("APc (common)", "common"), ("APf (frequent)", "frequent")):
        assert m[lab] == f"{bins.loc[b, 'AP']:.1f}", (lab, m[lab], bins.loc[b, "AP"])
    text = " ".join(c.value for c in at.caption)
    assert "train: lvis_v0_5_categories.csv" in text and "evaluation split" not in text
    # and without the category file, the page says the counts are the evaluation split's
    at2 = _load_local(_app().run(), d / "lvis_val_100.json.gz", [dt])
    text2 = " ".join(c.value for c in at2.caption)
    assert "the evaluation split" in text2 and "counts from train" not in text2


def test_coco_bbox_and_segm_files_each_with_its_own_iou_type_equal_pycocotools(tmp_path):
    import contextlib
    import gzip
    import io
    import json
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    d = ROOT / "tests/data/coco_val2014_100"
    gt = tmp_path / "instances.json"
    gt.write_bytes(gzip.decompress((d / "instances_val2014_100.json.gz").read_bytes()))
    files = {}
    for kind in ("bbox", "segm"):
        p = tmp_path / f"fake{kind}.json"
        p.write_bytes(gzip.decompress((d / f"instances_val2014_fake{kind}100_results.json.gz").read_bytes()))
        files[kind] = p
    bad = tmp_path / "broken.json"
    bad.write_text('[{"image_id": 139, "category_id": 1,')
    at = _app().run()  # the demo first (LVIS, 300 detections), then the user's COCO files
    at = _load_local(at, gt, [files["bbox"], files["segm"], bad])
    assert not at.exception, at.exception
    assert any("broken.json" in e.value for e in at.error)          # the bad file is named ...
    head = _frame_with(at, "IoU type").set_index("results")          # ... and the others are evaluated
    assert head.loc["fakebbox", "IoU type"] == "bbox" and head.loc["fakesegm", "IoU type"] == "segm"
    for kind in ("bbox", "segm"):
        with contextlib.redirect_stdout(io.StringIO()):
            cg = COCO(str(gt))
            E = COCOeval(cg, cg.loadRes(str(files[kind])), kind)
            E.evaluate()
            E.accumulate()
            E.summarize()
        row = head.loc[f"fake{kind}"]
        for i, k in enumerate(["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100"]):
            assert row[k] == round(100 * E.stats[i], 1), (kind, k)
    text = " ".join(c.value for c in at.caption)
    assert "max 100 detections per image and category" in text  # follows the COCO ground truth, not the demo's 300
    assert all("--" not in e.value for e in at.error)                # no CLI hints on the page


def test_chosen_view_survives_reruns():
    at = _app().run()
    at.session_state["det_view"] = "Operating thresholds"
    at.run()
    assert any(m.label == "Classes with a threshold" for m in at.metric)
    at.slider(key="det_thr_target").set_value(0.8).run()
    assert not at.exception
    assert at.session_state["det_view"] == "Operating thresholds"
    assert any(m.label == "Classes with a threshold" for m in at.metric)
    # the first screen says who steals the rare classes
    assert any("Who steals the rare classes" in x.value for x in at.markdown)


def test_tide_and_ci_views_on_the_demo():
    at = _app().run()
    at.session_state["det_view"] = "Where the AP goes (TIDE)"
    at.run()
    assert not at.exception, at.exception
    assert any(m.label.startswith("What kills the") for m in at.metric)
    at.session_state["det_view"] = "Confidence intervals"
    at.run()
    at.number_input(key="det_ci_n").set_value(100)
    at.button(key="det_ci_go").click().run()
    assert not at.exception, at.exception
    ci = _frame_with(at, "low")
    assert {"AP", "APr", "AP50"} <= set(ci["metric"])
    assert ((ci["low"] <= ci["estimate"]) & (ci["estimate"] <= ci["high"])).all()


def test_data_page_detection_tab_takes_train_frequencies():
    """The Data page's Detection tab: the LVIS val subset alone is flagged as evaluation-split counts;
    with the LVIS v0.5 category file the class table's counts come from train."""
    d = ROOT / "tests/data/lvis_v0_5_val_100"
    at = st_testing.AppTest.from_file(str(ROOT / "pages" / "1_Data.py"), default_timeout=240).run()
    assert not at.exception, at.exception
    at.radio(key="det_mode").set_value("Local path").run()
    at.text_input(key="path_gt").set_value(str(d / "lvis_val_100.json.gz"))
    at.text_input(key="path_det_fr").set_value(str(d / "lvis_v0_5_categories.csv"))
    submit = next(b for b in at.button if b.label == "Load" and "det" in str(b.form_id))  # the det_form's
    submit.click().run()
    assert not at.exception, at.exception
    det = at.session_state["ts_det_dataset"]
    assert det.classes.count_source == "train: lvis_v0_5_categories.csv (image_count)"
    assert any("train: lvis_v0_5_categories.csv" in c.value for c in at.caption)
