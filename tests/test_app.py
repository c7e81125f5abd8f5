"""The app shell and the Data page through streamlit.testing (no browser)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from pathlib import Path

APP = str(Path(__file__).resolve().parents[1] / "app.py")


from apptest_utils import run_clean as _run  # noqa: E402


def test_shell_opens_on_the_demo_with_sidebar():
    at = _run(AppTest.from_file(APP, default_timeout=120))
    side = " ".join(c.value for c in at.sidebar.caption)
    assert "GoEmotions" in side and "LVIS" in side and "generated" in side
    assert at.sidebar.selectbox[0].value == "quantile:3"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Classes"] == "28" and metrics["Train samples"] == "36,308"


def test_bin_scheme_choice_is_reflected_on_the_page():
    at = _run(AppTest.from_file(APP, default_timeout=120))
    at.sidebar.selectbox[0].set_value("imagenet-lt")
    _run(at)
    text = " ".join(m.value for m in at.markdown)
    assert "imagenet-lt" in text


def test_data_page_loads_files_from_local_paths(tmp_path, data_dir):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "scores.npy", rng.normal(size=(7300, 365)).astype(np.float32))
    at = _run(AppTest.from_file(APP, default_timeout=120))
    at.radio(key="cls_mode").set_value("Local path")
    _run(at)
    at.text_input(key="path_tc").input(str(data_dir / "places_lt/Places_LT_class_counts.csv"))
    at.text_input(key="path_te").input(str(data_dir / "places_lt/Places_LT_val.txt.gz"))
    at.text_input(key="path_rt").input(str(tmp_path / "scores.npy"))
    at.button[0].click()  # the form's submit button
    _run(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Classes"] == "365" and metrics["Imbalance ratio"] == "996×", metrics


def test_data_page_shows_loader_errors_as_messages(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n")
    at = _run(AppTest.from_file(APP, default_timeout=120))
    at.radio(key="cls_mode").set_value("Local path")
    _run(at)
    at.text_input(key="path_tr").input(str(bad))
    at.button[0].click()
    _run(at)
    errors = [e.value for e in at.error]
    assert errors and "no label column" in errors[0] and bad.name in errors[0]  # the file as the user named it
