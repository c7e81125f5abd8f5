"""The Rebalance page on both demos through streamlit.testing (no browser)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lt_core.data import load_classification_demo, load_detection_demo
from lt_core.rebalance import class_weights, repeat_factors

APP = str(Path(__file__).resolve().parents[1] / "app.py")


from apptest_utils import run_clean as _run  # noqa: E402


@pytest.fixture(scope="module")
def page():
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("pages/5_Rebalance.py")
    return _run(at)


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def test_reweighting_numbers_come_from_lt_core(page):
    ds = load_classification_demo()
    n = ds.labels["train"].counts(ds.classes.n_classes)
    w = class_weights(n, "effective-number", 0.999)
    m = _metrics(page)
    assert m["Weight range (max / min)"] == f"{w[n > 0].max() / w[n > 0].min():,.1f}×"
    assert m["Rarest class: grief"] == f"{w[np.argmin(n)]:.3g}"
    page.select_slider(key="rb_beta").set_value(0.0)
    _run(page)
    assert _metrics(page)["Weight range (max / min)"] == "1.0×"  # beta = 0: uniform
    page.select_slider(key="rb_beta").set_value(0.999)
    _run(page)


def test_resampling_section(page):
    page.radio(key="rb_section").set_value("Re-sampling")
    _run(page)
    m = _metrics(page)
    assert m["Epoch length"] == "36,308"
    page.selectbox(key="rb_strategy").set_value("label-shuffling")
    _run(page)
    assert _metrics(page)["Epoch length"] == f"{28 * 12_823:,}"
    page.selectbox(key="rb_strategy").set_value("class-balanced")
    _run(page)


def test_repeat_factor_section_on_detection_demo(page):
    page.radio(key="rb_section").set_value("Repeat factors (detection)")
    _run(page)
    dds = load_detection_demo()
    rf = repeat_factors(dds.gt, 0.001, frequency="image_count", n_train_images=100_170)
    m = _metrics(page)
    assert m["Categories repeated (r > 1)"] == "798 of 1,203"  # the real LVIS v1 rare + common
    assert m["Images repeated"] == f"{int((rf.image_factors > 1).sum()):,} of {dds.gt.n_images:,}"
    assert any("generated" in c.value for c in page.caption)


def test_smote_section_runs_and_reports(page):
    page.radio(key="rb_section").set_value("SMOTE (features)")
    _run(page)
    assert not _metrics(page)  # nothing computed before the button
    page.number_input(key="rb_sm_target").set_value(300)
    page.button[0].click()
    _run(page)
    m = _metrics(page)
    y = load_classification_demo().labels["train"].y
    n = np.bincount(y)
    assert m["Smallest class after"] == "300"
    assert m["Rows"] == f"{len(y) + int(np.maximum(300 - n, 0).sum()):,}"
