"""The app's side of issue 10, through streamlit.testing (AppTest): bad files fed to the Data page's
widgets give one ``st.error`` that names the file and the field (never an exception or traceback);
local paths are confined to the data roots without echoing a file or revealing what exists outside
them; same-named uploads of two widgets do not replace each other; the Detection page does not make a
folder per rerun; an unexpected exception is one line + "please report".
"""
from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from robustness_corpus import COUNTS_CSV, TEST_CSV, TRAIN_CSV, gt, js, npy, npy_header_lie, npz

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def _upload(at: AppTest, files: dict[str, tuple[str, bytes]], submit: int = 0) -> list[str]:
    """Set the Data page's upload widgets {key: (name, bytes)}, press the form's Load, return the errors."""
    for key, (name, data) in files.items():
        at.file_uploader(key=key).set_value((name, data, "application/octet-stream"))
    at.button[submit].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return [e.value for e in at.error]


# (case, uploads, strings the one error line must hold: the file's name and the field)
CASES = [
    ("labels with a float class id", {"up_tc": ("counts.csv", COUNTS_CSV),
                                      "up_te": ("test.csv", b"label\n3.5\n1\n")}, ["test.csv (uploaded)", "label", "3.5"]),
    ("counts with a text count", {"up_tc": ("counts.csv", b"class_id,count\n0,12\n1,lots\n")},
     ["counts.csv (uploaded)", "count", "lots"]),
    ("scores whose header lies", {"up_tc": ("counts.csv", COUNTS_CSV), "up_te": ("test.csv", TEST_CSV),
                                  "up_rt": ("scores.npy", npy_header_lie((10**12, 6)))},
     ["scores.npy (uploaded)", "array", "header says"]),
    ("scores as a pickle", {"up_tc": ("counts.csv", COUNTS_CSV), "up_te": ("test.csv", TEST_CSV),
                            "up_rt": ("scores.npz", pickle.dumps({"a": 1}))}, ["scores.npz (uploaded)", "pickle"]),
    ("classifier npz of objects", {"up_tr": ("train.csv", TRAIN_CSV),
                                   "up_clf": ("clf.npz", npz(W=np.array([None] * 6, dtype=object)))},
     ["clf.npz (uploaded)", "W", "Python objects"]),
    ("features of strings", {"up_tr": ("train.csv", TRAIN_CSV), "up_ftr": ("f.npy", npy(np.array([["x"]] * 187)))},
     ["f.npy (uploaded)", "array", "numeric"]),
    ("scores of the wrong width", {"up_tc": ("counts.csv", COUNTS_CSV), "up_te": ("test.csv", TEST_CSV),
                                   "up_rt": ("scores.npy", npy(np.zeros((36, 4), np.float32)))},
     ["scores.npy (uploaded)", "scores", "4 score columns"]),
    ("labels with a huge class id", {"up_tr": ("train.csv", b"label\n0\n1\n100000000000\n")},
     ["train.csv (uploaded)", "label", "100,000,000,000"]),
]


@pytest.mark.parametrize("name,files,expect", CASES, ids=[c[0] for c in CASES])
def test_bad_upload_shows_one_error_naming_file_and_field(name, files, expect):
    at = _app()
    errors = _upload(at, files)
    assert len(errors) == 1, errors
    for want in expect:
        assert want in errors[0], (want, errors[0])
    assert "Traceback" not in errors[0] and "/tailscope-uploads-" not in errors[0]   # the name, not the temp path
    assert "--" not in errors[0]                                                  # no CLI flags in the app


def _det_load(at: AppTest):
    """The Data page's detection form's Load (the second "Load": the classification form's comes first)."""
    return [b for b in at.button if b.label == "Load"][1]


def test_bad_detection_uploads_name_the_file():
    at = _app()
    at.file_uploader(key="up_gt").set_value(("gt.json", js(gt())[:-20], "application/json"))
    _det_load(at).click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "gt.json (uploaded)" in errors[0] and "invalid JSON" in errors[0]
    at.file_uploader(key="up_gt").set_value(("gt.json", js(gt()), "application/json"))
    at.file_uploader(key="up_dt").set_value([("dt.json", js([{"image_id": 1, "category_id": 9, "bbox": [1, 1, 2, 2],
                                                              "score": 0.5}]), "application/json")])
    _det_load(at).click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "dt.json (uploaded)" in errors[0] and "category_id" in errors[0]


def test_same_named_uploads_of_two_widgets_do_not_replace_each_other():
    """Issue 10: train and test both labels.csv silently replaced each other."""
    at = _app()
    train = b"label\n" + b"a\n" * 50 + b"b\n" * 10 + b"c\n" * 3
    test = b"label\n" + b"a\nb\nc\n" * 4
    assert _upload(at, {"up_tr": ("labels.csv", train), "up_te": ("labels.csv", test)}) == []
    side = " ".join(c.value for c in at.sidebar.caption)
    assert "train 63" in side and "test 12" in side, side


def _outside_and_hidden(tmp_path) -> dict[str, str]:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:TOPSECRET:/root:/bin/bash\n")
    return {"existing file outside": str(secret), "missing file outside": str(tmp_path / "outside" / "nope.txt"),
            "folder outside": str(tmp_path / "outside"), "system file": "/etc/passwd", "system folder": "/etc"}


def test_local_paths_outside_the_data_roots_are_refused_alike(tmp_path, monkeypatch):
    """Issue 10: /etc/passwd printed its first line; /etc loaded as a dataset of its folder names.
    A path outside the data roots gets the same words whether it exists or not; nothing is read."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("TAILSCOPE_DATA_ROOT", str(root))
    at = _app()
    at.radio(key="cls_mode").set_value("Local path").run()
    seen = {}
    for what, path in _outside_and_hidden(tmp_path).items():
        at.text_input(key="path_tr").input(path)
        at.button[0].click().run()
        assert not at.exception
        errors = [e.value for e in at.error]
        assert len(errors) == 1, (what, errors)
        assert "TOPSECRET" not in errors[0] and "root:x" not in errors[0]
        seen[what] = errors[0].replace(path, "PATH")
    assert len(set(seen.values())) == 1, seen           # exists or not, file or folder: the same answer
    assert "outside the folders this app may read" in next(iter(seen.values()))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Classes"] == "28"                   # still the demo: nothing was loaded
    # inside the data root, a file that is not a label list: the message says what is wrong with it
    # (line 1, one field) but shows none of its content (the CLI, run by the file's owner, does)
    notes = root / "notes.txt"
    notes.write_text("TOPSECRET-password-123\n")
    at.text_input(key="path_tr").input(str(notes))
    at.button[0].click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "line 1 has 1 field" in errors[0] and "TOPSECRET" not in errors[0], errors


def test_local_path_through_a_hidden_folder_or_symlink_is_refused(tmp_path, monkeypatch):
    root = tmp_path / "data"
    (root / ".ssh").mkdir(parents=True)
    (root / ".ssh" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes(TRAIN_CSV)
    (root / "link.csv").symlink_to(outside)
    (root / "train.csv").write_bytes(TRAIN_CSV)
    monkeypatch.setenv("TAILSCOPE_DATA_ROOT", str(root))
    at = _app()
    at.radio(key="cls_mode").set_value("Local path").run()
    for path, want in ((root / ".ssh" / "id_rsa", "hidden"), (root / "link.csv", "outside"), ("train.csv", None)):
        at.text_input(key="path_tr").input(str(path))
        at.button[0].click().run()
        errors = [e.value for e in at.error]
        if want is None:   # a relative path inside the root loads
            assert errors == [] and {m.label: m.value for m in at.metric}["Classes"] == "6"
        else:
            assert len(errors) == 1 and want in errors[0] and "BEGIN" not in errors[0], errors


def test_detection_page_makes_no_folder_per_rerun(monkeypatch, tmp_path):
    """Issue 10: every rerun of the Detection page created a new tailscope_* temp folder."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    tempfile.tempdir = None
    try:
        at = AppTest.from_file(APP, default_timeout=120)
        at.switch_page("pages/4_Detection.py")
        at.run()
        for _ in range(4):
            at.run()
        assert not at.exception
        made = [p.name for p in tmp_path.iterdir()]
        assert not [n for n in made if n.startswith("tailscope_")], made
        at.file_uploader(key="det_gt_up").set_value(("gt.json", js(gt()), "application/json"))
        at.run()
        at.run()
        ups = list(tmp_path.glob("tailscope-uploads-*/*/det_gt_up/gt.json"))
        assert len(ups) == 1 and len(list(tmp_path.glob("tailscope-uploads-*/*"))) == 1
    finally:
        tempfile.tempdir = None


def test_an_unexpected_exception_is_one_line_and_please_report(monkeypatch):
    """No traceback, no raw message (it may quote a file): its type and a request to report it."""
    import lt_core.data

    def boom(**kw):
        raise RuntimeError("could not convert string to float: 'tall' in /secret/path")

    monkeypatch.setattr(lt_core.data, "build_classification_dataset", boom)
    import ui.state  # the Data page builds datasets part by part (ui.state.edit_classification)

    monkeypatch.setattr(ui.state, "assemble_classification", lambda *a, **k: boom())
    at = _app()
    errors = _upload(at, {"up_tr": ("train.csv", TRAIN_CSV)})
    assert len(errors) == 1 and "unexpected RuntimeError" in errors[0] and "please report" in errors[0]
    assert "tall" not in errors[0] and "/secret" not in errors[0]
