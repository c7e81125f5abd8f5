"""The examples behind the numbers, on the pages (streamlit.testing): what a click or a pick opens
equals a plain NumPy computation on the same data; texts and thumbnails are shown for one page."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from apptest_utils import run_clean
from examples_data import make_image_list_dataset
from lt_core.data import ClassificationDataset, ClassTable, Predictions, Run, load_classification_demo, load_labels
from ui.examples import PAGE_SIZE_IMAGES

ROOT = Path(__file__).resolve().parents[1]
METRICS, THRESHOLDS, DATA = (str(ROOT / "pages" / p) for p in ("3_Metrics.py", "6_Thresholds.py", "1_Data.py"))


def _softmax(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _captions(at) -> list[str]:
    return [c.value for c in at.caption]


@pytest.fixture()
def thumbs_tmp(tmp_path, monkeypatch):
    """Thumbnails into this test's own folder (the app's cache lives under the temporary folder)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_confusion_cell_opens_its_comments_worst_first():
    ds = load_classification_demo("single-label")
    at = AppTest.from_file(METRICS, default_timeout=180)
    at.session_state["ts_cls_dataset"] = ds
    run_clean(at)
    y = ds.labels["test"].y
    z = ds.runs["joint"].preds["test"].scores
    p = z.argmax(1)
    cm = np.zeros((28, 28), int)
    np.add.at(cm, (y, p), 1)
    np.fill_diagonal(cm, 0)
    a, b = np.unravel_index(cm.argmax(), cm.shape)  # the largest off-diagonal cell
    at.selectbox(key="m_ex_cell_pick_true").set_value(int(a))
    run_clean(at)
    at.selectbox(key="m_ex_cell_pick_pred").set_value(int(b))
    run_clean(at)
    names = ds.classes.names
    title = f"true {names[a]} → predicted {names[b]}"
    assert any(m.value.replace("\\", "") == f"**{title}**" for m in at.markdown)
    assert any(c.startswith(f"{title}: {cm[a, b]:,} samples") for c in _captions(at))
    # the first comment shown is the most confident mistake of the cell, with its text
    rows = np.flatnonzero((y == a) & (p == b))
    conf = _softmax(z[rows])[np.arange(len(rows)), b]
    first = rows[np.lexsort((rows, -conf))][0]
    texts = [m.value for m in at.markdown]
    want = ds.labels["test"].texts[first]
    assert any(want[:20].replace("!", "").split()[0] in t for t in texts)
    assert any(f"id `{ds.labels['test'].sample_ids[first]}`" in c for c in _captions(at))


def test_a_bin_and_a_class_of_an_image_list_show_thumbnails(tmp_path, thumbs_tmp):
    d = make_image_list_dataset(tmp_path / "imgs", n_classes=12, n_test=240, seed=1)
    counts = pd.read_csv(d["counts"])
    classes = ClassTable(counts["class_id"], counts["name"], counts["count"])
    lab, _ = load_labels(d["list"], classes, split="test")
    ds = ClassificationDataset("generated image list", classes, {"test": lab}, generated=True,
                               image_root=str(d["root"]))
    ds.add_run(Run("model", {"test": Predictions("test", "logits", scores=d["logits"])}))
    at = AppTest.from_file(METRICS, default_timeout=180)
    at.session_state["ts_cls_dataset"] = ds
    at.session_state["ts_bins"] = "imagenet-lt"
    run_clean(at)
    y, p = d["y"], d["logits"].argmax(1)
    k = int(np.argmax(np.bincount(y, minlength=12)))
    at.selectbox(key="m_ex_class_pick_class").set_value(k)
    run_clean(at)
    n = int((y == k).sum())
    assert any(c.startswith(f"true {classes.names[k]}: {n:,} samples") for c in _captions(at))
    imgs = at.get("image")
    assert len(imgs) == min(PAGE_SIZE_IMAGES, n)  # one page of thumbnails, not the whole class
    made = list(Path(thumbs_tmp).rglob("*.jpg"))
    assert len(made) == min(PAGE_SIZE_IMAGES, n)
    # the bin picker: the few bin's mistakes
    bins = classes.bins("imagenet-lt")
    at.selectbox(key="m_ex_bin_pick_bin").set_value("few")
    run_clean(at)
    exp = int(((bins[y] == "few") & (p != y)).sum())
    assert any(c.startswith(f"true bin few (mistakes): {exp:,} sample") for c in _captions(at))


def test_thresholds_page_shows_what_tau_fixed_and_broke():
    ds = load_classification_demo("single-label")
    at = AppTest.from_file(THRESHOLDS, default_timeout=180)
    at.session_state["ts_cls_dataset"] = ds
    run_clean(at)
    tau = float(at.slider(key="t_tau").value)
    from lt_core.posthoc import log_prior

    z = ds.runs["joint"].preds["test"].scores.astype(np.float64)
    y = ds.labels["test"].y
    p0, p1 = z.argmax(1), (z - tau * log_prior(ds.classes.train_count)).argmax(1)
    fixed, broken = int(((p0 != y) & (p1 == y)).sum()), int(((p0 == y) & (p1 != y)).sum())
    assert any(c.startswith(f"{fixed:,} samples fixed") and f"{broken:,} broken" in c for c in _captions(at))
    assert any(c.startswith(f"broken by τ={tau:.2f}: the first") or c.startswith(f"broken by τ={tau:.2f}: {broken:,}")
               for c in _captions(at))
    k = 16  # grief, the rarest class: its changes only
    at.session_state["t_ex_target"] = {"what": "class", "class_id": k}
    at.segmented_control(key="t_ex_which").set_value("fixed")
    run_clean(at)
    exp = int(((p0 != y) & (p1 == y) & (y == k)).sum())
    assert any(c.startswith(f"fixed by τ={tau:.2f} · true grief: {exp:,} sample") for c in _captions(at))


def test_multilabel_view_opens_a_class_missed_and_false_positives():
    ds = load_classification_demo("multi-label")
    at = AppTest.from_file(METRICS, default_timeout=180)
    at.session_state["ts_cls_dataset"] = ds
    run_clean(at)
    k = 16
    at.selectbox(key="m_ml_ex_pick_class").set_value(k)
    run_clean(at)
    Y = ds.labels["test"].dense()
    P = 1 / (1 + np.exp(-ds.runs["one-vs-rest"].preds["test"].scores.astype(np.float64)))
    err = int(((Y[:, k] & (P[:, k] < 0.5)) | (~Y[:, k] & (P[:, k] >= 0.5))).sum())
    assert any(c.startswith(f"grief: mistakes: {err:,} sample") for c in _captions(at))


def test_data_page_takes_an_image_folder_and_says_what_it_found(tmp_path, monkeypatch):
    d = make_image_list_dataset(tmp_path / "imgs", n_classes=4, n_test=30, seed=2)
    monkeypatch.setenv("TAILSCOPE_DATA_ROOT", str(tmp_path))
    counts = pd.read_csv(d["counts"])
    classes = ClassTable(counts["class_id"], counts["name"], counts["count"])
    lab, _ = load_labels(d["list"], classes, split="test")
    ds = ClassificationDataset("generated image list", classes, {"test": lab}, generated=True)
    at = AppTest.from_file(DATA, default_timeout=180)
    at.session_state["ts_cls_dataset"] = ds
    run_clean(at)
    at.text_input(key="ex_image_root").set_value(str(d["root"] / "train"))  # the split folder works too
    run_clean(at)  # applied on Enter (no button: the page's other buttons keep their places)
    assert any("30 of the first 30 test samples have an image" in s.value for s in at.success)
    assert at.session_state["ts_cls_dataset"].image_root == str((d["root"] / "train").resolve())
    at.text_input(key="ex_image_root").set_value("/etc")  # outside the data roots: refused, nothing read
    run_clean(at)
    assert any("outside the folders this app may read" in e.value for e in at.error)


def test_multilabel_thresholds_view_shows_what_the_fix_changed():
    from lt_core.posthoc import threshold_decisions, tune_thresholds

    ds = load_classification_demo("multi-label")
    at = AppTest.from_file(THRESHOLDS, default_timeout=180)
    at.session_state["ts_cls_dataset"] = ds
    run_clean(at)
    k = 16
    at.selectbox(key="t_ml_ex_pick_class").set_value(k)
    run_clean(at)
    p_val, p_test = ds.runs["one-vs-rest"].preds["val"], ds.runs["one-vs-rest"].preds["test"]
    res = tune_thresholds(ds.labels["val"].dense(), p_val.scores, "f1", None)
    Y = ds.labels["test"].dense()
    D0 = 1 / (1 + np.exp(-p_test.scores.astype(np.float64))) >= 0.5
    D1 = threshold_decisions(p_test.scores, res.thresholds)
    broken = int(((D0[:, k] == Y[:, k]) & (D1[:, k] != Y[:, k])).sum())
    assert any(c.startswith(f"grief: broken by the fix: {broken:,} sample") for c in _captions(at))


@pytest.mark.slow
def test_retrain_page_shows_what_the_new_head_fixed_and_broke_in_a_clicked_bin():
    ds = load_classification_demo("single-label")
    at = AppTest.from_file(str(ROOT / "pages" / "7_Retrain.py"), default_timeout=180)
    at.session_state["ts_cls_dataset"] = ds
    run_clean(at)
    at.number_input(key="rt_epochs").set_value(2)
    at.button(key="rt_go").click()
    run_clean(at)
    job = at.session_state["rt_job"]
    job.wait(120)
    assert job.status == "done", job.message()
    run_clean(at)
    run_clean(at)
    res = at.session_state["rt_results"][job.result.name]
    split = "test"
    y = ds.labels[split].y
    p0, p1 = ds.runs["joint"].preds[split].labels, res.scores[split].argmax(1)
    fixed, broken = int(((p0 != y) & (p1 == y)).sum()), int(((p0 == y) & (p1 != y)).sum())
    assert any(e.label.endswith(f"{fixed:,} fixed, {broken:,} broken") for e in at.expander)
    # a click on the tail bar of the per-bin chart (its target): the tail classes' changes only
    from lt_core.bins import parse_bins

    scheme = at.session_state["ts_bins"] if "ts_bins" in at.session_state else "imagenet-lt"
    bins = np.asarray(ds.classes.bins(parse_bins(scheme)), dtype=object)
    tail = [b for b in parse_bins(scheme).order(bins) if (bins == b).any()][-1]
    in_tail = np.isin(y, np.flatnonzero(bins == tail))
    at.session_state["rt_ex_target"] = {"what": "bin", "bin": tail, "run": job.result.name}
    at.segmented_control(key="rt_ex_which").set_value("fixed")
    run_clean(at)
    exp = int(((p0 != y) & (p1 == y) & in_tail).sum())
    assert exp > 0
    assert any(c.startswith(f"The **{tail}** bin: {int((bins == tail).sum()):,} classes") for c in _captions(at)), \
        _captions(at)
    assert any(c.startswith(f"fixed by {job.result.name} · true") and
               (f": {exp:,} sample" in c or f" of {exp:,} sample" in c) for c in _captions(at)), _captions(at)


def test_metrics_page_shows_what_a_run_fixed_and_broke_vs_the_reference():
    ds = load_classification_demo("single-label")
    from lt_core.posthoc import log_prior

    z = ds.runs["joint"].preds["test"].scores.astype(np.float64)
    adjusted = (z - log_prior(ds.classes.train_count)).astype(np.float32)
    ds.add_run(Run("adjusted", {"test": Predictions("test", "logits", scores=adjusted)}))
    at = AppTest.from_file(METRICS, default_timeout=180)
    at.session_state["ts_cls_dataset"] = ds
    at.session_state["m_boot"] = 0
    run_clean(at)
    at.selectbox(key="m_ref").set_value("joint")
    run_clean(at)
    if at.selectbox(key="m_focus").value != "adjusted":
        at.selectbox(key="m_focus").set_value("adjusted")
        run_clean(at)
    y = ds.labels["test"].y
    p0, p1 = z.argmax(1), adjusted.argmax(1)
    fixed, broken = int(((p0 != y) & (p1 == y)).sum()), int(((p0 == y) & (p1 != y)).sum())
    assert any(m.value.startswith("**What adjusted fixed and broke vs joint** (test: " f"{fixed:,} fixed, {broken:,} broken")
               for m in at.markdown)
    # a click on a class of the per-class change chart (its target): that class's changes only
    k = int(np.argmax(np.bincount(y[(p0 != y) & (p1 == y)], minlength=ds.classes.n_classes)))
    at.session_state["m_ex_runs_target"] = {"what": "class", "class_id": int(ds.classes.ids[k])}
    at.segmented_control(key="m_ex_runs_which").set_value("fixed")
    run_clean(at)
    exp = int(((p0 != y) & (p1 == y) & (y == k)).sum())
    name = ds.classes.names[k]
    assert any(c.startswith(f"fixed by adjusted · true {name}: ") and (f": {exp:,} sample" in c or f"of {exp:,} " in c)
               for c in _captions(at)), _captions(at)
