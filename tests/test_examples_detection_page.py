"""The boxes behind the Detection page's numbers (streamlit.testing): a class, a TIDE bar, a stealing
pair and a PR-curve point open the boxes that make the number — the same counts as the chart."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest

from apptest_utils import run_clean
from lt_core.examples import FP_KINDS, box_table, boxes_of_class

ROOT = Path(__file__).resolve().parents[1]
st_testing = pytest.importorskip("streamlit.testing.v1")
pytestmark = pytest.mark.slow  # the detection demo: evaluation, TIDE, stealing on 100,000 generated boxes


@pytest.fixture()
def thumbs_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _captions(at) -> list[str]:
    return [c.value for c in at.caption]


def _app():
    return st_testing.AppTest.from_file(str(ROOT / "pages" / "4_Detection.py"), default_timeout=300)


def test_a_class_and_a_tide_bar_open_their_boxes_on_generated_canvases(thumbs_tmp):
    at = run_clean(_app())
    ds = at.session_state["ts_det_dataset"]
    name = next(iter(ds.results))
    table = box_table(ds.gt, ds.results[name], "lvis", style="lvis")
    # the class with the most errors among the rare ones
    rare = table[(table["bin"] == "rare") & table["outcome"].isin(FP_KINDS + ("missed",))]
    k = int(rare["category_id"].value_counts().index[0])
    at.selectbox(key="det_ex_pick_class").set_value(k)
    run_clean(at)
    sel = boxes_of_class(table, ds.classes, k, "errors", cap=None)
    assert any(c.startswith(f"{sel.title}: {sel.total:,} box") or c.startswith(f"{sel.title}: the first")
               for c in _captions(at))
    assert len(at.get("image")) == min(8, sel.total) + 1  # one page of pictures and the colour key
    assert any("plain canvas" in c for c in _captions(at))  # generated data is said to be generated
    assert len(list(Path(thumbs_tmp).rglob("*.jpg"))) == min(8, sel.total)
    # the TIDE view: a bar (rare, Cls) opens the rare classes' wrong-class boxes: as many as the bar counts
    at.segmented_control(key="det_view").set_value("Where the AP goes (TIDE)")
    run_clean(at)
    at.session_state["det_tide_ex_target"] = {"what": "tide", "bin": "rare", "type": "Cls", "run": name}
    run_clean(at)
    td = [v for k_, v in at.session_state["ts_det_eval_cache"].items() if isinstance(k_, tuple) and k_[0] == "tide"][0]
    n_cls = int(td.per_bin.set_index("bin").loc["rare", "n_Cls"])
    assert any(c.startswith(f"the rare classes: TIDE Cls (wrong class): {n_cls:,} box") for c in _captions(at))
    at.session_state["det_tide_ex_target"] = {"what": "tide", "bin": "rare", "type": "Miss", "run": name}
    run_clean(at)
    n_miss = int(td.per_bin.set_index("bin").loc["rare", "n_Miss"])
    assert any(c.startswith(f"the rare classes: TIDE Miss (missed ground truth): {n_miss:,} box")
               for c in _captions(at))


def test_a_stealing_pair_and_a_pr_point_open_their_boxes():
    at = run_clean(_app())
    ds = at.session_state["ts_det_dataset"]
    name = next(iter(ds.results))
    at.segmented_control(key="det_view").set_value("Who steals the tail")
    run_clean(at)
    stl = [v for k_, v in at.session_state["ts_det_eval_cache"].items() if isinstance(k_, tuple) and k_[0] == "steal"][0]
    pair = stl.pairs.sort_values("n_stolen", ascending=False).iloc[0]
    at.session_state["det_steal_ex_target"] = {"what": "stolen", "victim": int(pair["victim_id"]),
                                               "stealer": int(pair["stealer_id"]), "run": name}
    run_clean(at)
    title = f"{pair['victim']} boxes taken by {pair['stealer']}"
    assert any(c.startswith(f"{title}: {int(pair['n_stolen']):,} box") for c in _captions(at))
    # PR view: the point at recall 0.5 of the class picked there
    at.segmented_control(key="det_view").set_value("PR curves")
    run_clean(at)
    from lt_core.detection import DetectionEvaluation

    ev = [v for v in at.session_state["ts_det_eval_cache"].values() if isinstance(v, DetectionEvaluation)][0]
    pick = at.selectbox(key="det_pr_class").value
    cid = int(pick.split("(id ")[1].split(",")[0])
    at.session_state["det_pr_ex_target"] = {"what": "threshold", "class_id": cid, "iou": 0.5, "recall": 0.5,
                                            "run": name}
    run_clean(at)
    from lt_core.examples import detections_at_threshold, pr_point_threshold

    thr = pr_point_threshold(ev, cid, 0.5)
    sel = detections_at_threshold(ev, ds.gt, cid, thr, results=ds.results[name], cap=None)
    st_, cat = ev.state, int(np.flatnonzero(ev.state.class_ids == cid)[0])
    m, ig = st_.flags(0, 0)
    keep = (st_.cat == cat) & ~ig & (st_.score >= thr)
    assert int((sel.rows["outcome"] == "tp").sum()) == int((keep & m).sum())
    assert any(c.startswith(sel.title.replace("≥", "≥")) for c in _captions(at))


def test_data_page_takes_a_detection_image_folder(tmp_path, monkeypatch):
    from PIL import Image

    (tmp_path / "imgs").mkdir()
    gt = {"images": [{"id": i, "file_name": f"{i}.jpg", "height": 40, "width": 60} for i in (1, 2, 3)],
          "categories": [{"id": 1, "name": "a"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 10, 10], "area": 100,
                           "iscrowd": 0}]}
    for i in (1, 2):  # image 3 is missing
        Image.new("RGB", (60, 40)).save(tmp_path / "imgs" / f"{i}.jpg")
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    monkeypatch.setenv("TAILSCOPE_DATA_ROOT", str(tmp_path))
    from lt_core.data import build_detection_dataset

    det = build_detection_dataset(tmp_path / "gt.json")
    at = st_testing.AppTest.from_file(str(ROOT / "pages" / "1_Data.py"), default_timeout=180)
    at.session_state["ts_det_dataset"] = det
    run_clean(at)
    at.text_input(key="ex_det_image_root").set_value(str(tmp_path / "imgs"))
    run_clean(at)
    assert any("2 of the first 3 images are under" in s.value for s in at.success)
    assert at.session_state["ts_det_dataset"].image_root == str((tmp_path / "imgs").resolve())


def test_an_operating_threshold_opens_the_detections_it_keeps():
    at = run_clean(_app())
    ds = at.session_state["ts_det_dataset"]
    name = next(iter(ds.results))
    at.segmented_control(key="det_view").set_value("Operating thresholds")
    run_clean(at)
    assert any("click a row" in c.lower() for c in _captions(at))
    from lt_core.detection import DetectionEvaluation, operating_thresholds

    ev = [v for v in at.session_state["ts_det_eval_cache"].values() if isinstance(v, DetectionEvaluation)][0]
    th = operating_thresholds(ev, target_precision=0.5, iou=0.5).dropna(subset=["f1_threshold"])
    # a rare class with a threshold (the table's rarest with one)
    row = th.sort_values("image_count", kind="stable").iloc[0]
    cid = int(row["category_id"])
    at.selectbox(key="det_thr_ex_pick").set_value(cid)
    run_clean(at)
    sel = at.session_state["det_thr_ex_target"]
    assert sel["what"] == "threshold" and sel["threshold"] == pytest.approx(float(row["f1_threshold"]))
    from lt_core.examples import detections_at_threshold

    s = detections_at_threshold(ev, ds.gt, cid, float(row["f1_threshold"]), results=ds.results[name], cap=None)
    tp = int((s.rows["outcome"] == "tp").sum())
    fp = int((s.rows["outcome"] == "fp").sum())
    # the boxes kept are the ones the threshold's precision / recall count
    assert tp / (tp + fp) == pytest.approx(float(row["f1_precision"]))
    assert tp / int(row["n_gt"]) == pytest.approx(float(row["f1_recall"]))
    assert any(c.startswith(f"{s.title}: {s.total:,} box") or c.startswith(f"{s.title}: the first")
               for c in _captions(at))
    assert len(at.get("image")) == min(8, s.total) + 1  # and the colour key
    # the target-precision threshold is used when it is the one exported
    at.radio(key="det_thr_which").set_value("target")
    run_clean(at)
    tgt = at.session_state.get("det_thr_ex_target")
    t2 = operating_thresholds(ev, target_precision=0.5, iou=0.5).set_index("category_id")
    if tgt is not None:
        assert tgt["threshold"] == pytest.approx(float(t2.loc[int(tgt["class_id"]), "target_threshold"]))
