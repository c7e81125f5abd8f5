"""The Metrics page through streamlit.testing: demo, several runs, ImageNet-LT-shaped files."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lt_core.data import Predictions, Run, build_classification_dataset, load_classification_demo
from lt_core.metrics import classification_report

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "3_Metrics.py")


from apptest_utils import run_clean as _run  # noqa: E402


def _metrics(at):
    return {m.label: (m.value, m.delta) for m in at.metric}


def test_demo_single_run_matches_lt_core():
    at = _run(AppTest.from_file(PAGE, default_timeout=180))
    ds = load_classification_demo()
    p = ds.runs["joint"].preds["test"]
    rep = classification_report(ds.labels["test"].y, p.labels, ds.classes, "quantile:3")
    m = _metrics(at)
    assert m["Balanced accuracy"][0] == f"{100 * rep.overall['balanced_accuracy']:.1f}%"
    assert m["tail (9 classes)"][0] == f"{100 * rep.bins.loc['tail', 'accuracy']:.1f}%"
    caps = " ".join(c.value for c in at.caption)
    assert "split **test**" in caps and "seed 0" in caps
    at.radio(key="m_split").set_value("val")
    _run(at)
    assert "split **val**" in " ".join(c.value for c in at.caption)


def test_second_run_gets_deltas_and_paired_intervals():
    at = AppTest.from_file(PAGE, default_timeout=180)
    ds = load_classification_demo()
    joint = ds.runs["joint"].preds["test"]
    prior = ds.classes.train_count / ds.classes.train_count.sum()
    adj = (joint.scores - np.log(prior)[None, :]).astype(np.float32)
    ds.add_run(Run("adjusted", {"test": Predictions("test", "logits", scores=adj)}))
    at.session_state["ts_cls_dataset"] = ds
    _run(at)
    m = _metrics(at)
    y = ds.labels["test"].y
    ra = classification_report(y, joint.labels, ds.classes, "quantile:3")
    rb = classification_report(y, adj.argmax(1), ds.classes, "quantile:3")
    d = 100 * (rb.bins.loc["tail", "accuracy"] - ra.bins.loc["tail", "accuracy"])
    assert m["tail (9 classes)"][1] == f"{d:+.1f} pp"
    assert at.selectbox(key="m_ref").value == "joint"  # default reference: the first run
    # the seed is shown and settable; a new seed gives new intervals but the same point estimates
    at.number_input(key="m_seed").set_value(5)
    _run(at)
    assert "seed 5" in " ".join(c.value for c in at.caption)
    assert _metrics(at)["tail (9 classes)"] == m["tail (9 classes)"]


def test_imagenet_lt_shaped_files(tmp_path, data_dir):
    counts = data_dir / "imagenet_lt" / "ImageNet_LT_class_counts.csv"
    with gzip.open(data_dir / "imagenet_lt" / "ImageNet_LT_test.txt.gz", "rt") as fh:
        rows = [ln.split() for ln in fh if ln.strip()]
    y = np.array([int(r[1]) for r in rows])
    keep = np.concatenate([np.flatnonzero(y == c)[:8] for c in range(1000)])
    (tmp_path / "test.txt").write_text("".join(f"{rows[i][0]} {rows[i][1]}\n" for i in keep))
    yk = y[keep]
    train = pd.read_csv(counts)["train_count"].to_numpy()
    rng = np.random.default_rng(0)
    S = rng.standard_normal((len(yk), 1000)).astype(np.float32)
    S[np.arange(len(yk)), yk] += (1 + 3 * np.log(train) / np.log(train.max()))[yk].astype(np.float32)
    np.save(tmp_path / "scores.npy", S)
    ds = build_classification_dataset(train_counts=counts, test_labels=tmp_path / "test.txt",
                                      runs={"resnet": {"test": tmp_path / "scores.npy"}}, name="ImageNet-LT shaped")
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["ts_cls_dataset"] = ds
    at.session_state["ts_bins"] = "imagenet-lt"
    _run(at)
    m = _metrics(at)
    assert {"many (385 classes)", "medium (479 classes)", "few (136 classes)"} <= set(m)
    many, few = float(m["many (385 classes)"][0][:-1]), float(m["few (136 classes)"][0][:-1])
    assert many > few
    assert not at.error


def test_a_run_added_later_is_shown_and_focused():
    at = AppTest.from_file(PAGE, default_timeout=180)
    ds = load_classification_demo()
    at.session_state["ts_cls_dataset"] = ds
    _run(at)
    assert at.multiselect(key="m_runs").value == ["joint"]
    joint = ds.runs["joint"]
    # another page keeps a new run (e.g. thresholds): it must appear, compared with the reference
    ds.add_run(Run("kept", {s: Predictions(s, "labels", labels=np.roll(p.labels, 3)) for s, p in joint.preds.items()}))
    _run(at)
    assert at.multiselect(key="m_runs").value == ["joint", "kept"]
    assert at.selectbox(key="m_focus").value == "kept" and at.selectbox(key="m_ref").value == "joint"
    assert any(v[1] is not None for v in _metrics(at).values())  # deltas against the reference


def test_imagenet_lt_loaded_on_the_data_page_then_metrics(tmp_path, data_dir):
    """A person's path: counts CSV + test list + scores .npy on the Data page, then the Metrics page."""
    counts = data_dir / "imagenet_lt" / "ImageNet_LT_class_counts.csv"
    test_list = data_dir / "imagenet_lt" / "ImageNet_LT_test.txt.gz"
    with gzip.open(test_list, "rt") as fh:
        y = np.array([int(ln.split()[1]) for ln in fh if ln.strip()])
    train = pd.read_csv(counts)["train_count"].to_numpy()
    rng = np.random.default_rng(1)
    pred = np.where(rng.random(len(y)) < 0.2 + 0.6 * np.log(train[y]) / np.log(train.max()), y,
                    rng.integers(0, 1000, len(y)))
    np.save(tmp_path / "pred.npy", pred)  # one predicted class id per test image (50,000)
    at = _run(AppTest.from_file(str(ROOT / "app.py"), default_timeout=180))
    at.radio(key="cls_mode").set_value("Local path")
    _run(at)
    at.text_input(key="path_tc").input(str(counts))
    at.text_input(key="path_te").input(str(test_list))
    at.text_input(key="path_rt").input(str(tmp_path / "pred.npy"))
    at.button[0].click()
    _run(at)
    at.sidebar.selectbox[0].set_value("imagenet-lt")
    _run(at)
    at.switch_page("pages/3_Metrics.py")
    _run(at)
    m = _metrics(at)
    rep = classification_report(y, pred, _classes(counts), "imagenet-lt")
    assert m["few (136 classes)"][0] == f"{100 * rep.bins.loc['few', 'accuracy']:.1f}%"
    assert m["many (385 classes)"][0] == f"{100 * rep.bins.loc['many', 'accuracy']:.1f}%"


def _classes(path):
    from lt_core.data.loaders import load_train_counts
    return load_train_counts(path)
