"""The examples' content kept in a workspace: an image folder given on the Data page (an
ImageNet-LT-style list) and a detection image folder survive a reopen; a text column is read again
from the copied file; thumbnails are made into the workspace's own ``thumbs/`` folder."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import lt_core.workspace as W
from apptest_utils import APP, run_clean
from examples_data import make_image_list_dataset
from lt_core.data.parts import ClassificationParts, DetectionParts, FileRef, assemble_classification
from lt_core.examples import sample_content


def test_image_roots_and_texts_round_trip_through_a_workspace(tmp_path):
    d = make_image_list_dataset(tmp_path / "imgs", n_classes=6, n_test=30, seed=2)
    ws = W.create("image list", root=tmp_path / "wsroot")
    parts = ClassificationParts(name="image list", train_counts=FileRef.of(d["counts"]),
                                test_labels=FileRef.of(d["list"]), image_root=str(d["root"]))
    parts = parts.with_file("run", FileRef.of(d["scores"]), "test", "model")
    ds = assemble_classification(ws.import_parts(parts))
    assert ds.image_root == str(d["root"])
    # a text column (labels CSV with a 'text' column), a second dataset in another workspace
    csv = tmp_path / "texts.csv"
    pd.DataFrame({"label": [0, 1, 1, 0], "text": ["a cat", "a dog", "two dogs", "no cat"]}).to_csv(csv, index=False)
    counts = tmp_path / "counts.csv"
    pd.DataFrame({"class_id": [0, 1], "count": [10, 2]}).to_csv(counts, index=False)
    ws_t = W.create("texts", root=tmp_path / "wsroot")
    dt = assemble_classification(ws_t.import_parts(ClassificationParts(name="texts", train_counts=FileRef.of(counts),
                                                                       test_labels=FileRef.of(csv))))
    ws.save(ds)
    ws_t.save(dt)
    man = json.loads((ws.path / W.MANIFEST).read_text())
    assert man["datasets"][0]["image_root"] == str(d["root"])
    # the image folder is kept by path, never copied into the workspace
    assert not list((ws.path / "files").rglob("*.png"))

    back = W.open(ws.path).classification
    assert back.image_root == str(d["root"])
    c = sample_content(back.labels["test"], back.image_root)
    assert c.kind == "image"
    got = [p.relative_to(d["root"]).as_posix() for p in c.image_paths(range(len(back.labels["test"])))]
    assert got == d["paths"]
    texts = W.open(ws_t.path).classification.labels["test"].texts
    assert list(texts) == ["a cat", "a dog", "two dogs", "no cat"]

    # detection: the image folder rides in the parts' options
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps({"images": [{"id": 1, "file_name": "1.jpg", "height": 10, "width": 10}],
                              "categories": [{"id": 1, "name": "a"}],
                              "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4],
                                               "area": 16, "iscrowd": 0}]}))
    ws_d = W.create("det", root=tmp_path / "wsroot")
    dp = DetectionParts(name="det", gt=FileRef.of(gt), options={"image_root": str(tmp_path / "imgs")})
    from lt_core.data.parts import assemble_detection

    det = assemble_detection(ws_d.import_parts(dp))
    assert det.image_root == str(tmp_path / "imgs")
    ws_d.save(detection=det)
    assert W.open(ws_d.path).detection.image_root == str(tmp_path / "imgs")


@pytest.mark.slow
def test_the_data_page_keeps_the_image_folder_and_thumbnails_in_the_workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("TAILSCOPE_DATA_ROOT", str(tmp_path))
    d = make_image_list_dataset(tmp_path / "imgs", n_classes=6, n_test=60, seed=4)
    at = run_clean(AppTest.from_file(APP, default_timeout=180))
    at.radio(key="cls_mode").set_value("Local path")
    run_clean(at)
    at.text_input(key="path_tc").input(str(d["counts"]))
    at.text_input(key="path_te").input(str(d["list"]))
    at.text_input(key="path_rt").input(str(d["scores"]))
    next(t for t in at.text_input if t.label == "Run name").input("model")
    at.form_submit_button[0].click()
    run_clean(at)
    assert not at.error, [e.value for e in at.error]
    ws = at.session_state["ts_workspace"]
    at.text_input(key="ex_image_root").set_value(str(d["root"]))
    run_clean(at)
    assert any("60 of the first 60 test samples have an image" in s.value for s in at.success)
    man = json.loads((ws.path / W.MANIFEST).read_text())
    assert man["datasets"][0]["image_root"] == str(d["root"].resolve())
    # the examples' thumbnails go into this workspace's thumbs/ folder
    at.switch_page("pages/3_Metrics.py")
    run_clean(at)
    at.selectbox(key="m_ex_class_pick_class").set_value(0)
    run_clean(at)
    n = min(9, int((d["y"] == 0).sum()))
    assert len(at.get("image")) == n
    assert len(list((ws.path / "thumbs").rglob("*.jpg"))) == n
    # a new session that reopens the workspace has the image folder again
    monkeypatch.setenv("TAILSCOPE_WORKSPACE", str(ws.path))
    at2 = run_clean(AppTest.from_file(APP, default_timeout=180))
    ds2 = at2.session_state["ts_cls_dataset"]
    assert ds2.image_root == str(d["root"].resolve()) and ds2.parts.image_root == ds2.image_root
    at2.switch_page("pages/1_Data.py")
    run_clean(at2)
    assert at2.text_input(key="ex_image_root").value == str(d["root"].resolve())
    # adding another run keeps the folder (the recipe carries it)
    np.save(tmp_path / "second.npy", np.load(d["scores"]) * 0.5)
    at2.radio(key="cls_mode").set_value("Local path")
    run_clean(at2)
    at2.text_input(key="path_rt").input(str(tmp_path / "second.npy"))
    next(t for t in at2.text_input if t.label == "Run name").input("second")
    at2.form_submit_button[0].click()
    run_clean(at2)
    ds3 = at2.session_state["ts_cls_dataset"]
    assert "second" in ds3.runs and ds3.image_root == str(d["root"].resolve())
