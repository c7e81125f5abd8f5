"""The Distribution page through streamlit.testing."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from lt_core.data import ClassificationDataset, ClassTable, Labels

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "2_Distribution.py")


from apptest_utils import run_clean as _run  # noqa: E402


def test_demo_answers_at_the_top():
    at = _run(AppTest.from_file(PAGE, default_timeout=180))
    m = {x.label: x.value for x in at.metric}
    assert m["Classes"] == "28" and m["Imbalance ratio"] == "329×" and m["Gini of train counts"] == "0.573"
    assert m["Samples in head"] == "76.0%"
    assert "quantile:3" in " ".join(c.value for c in at.caption)
    at.radio(key="d_split").set_value("test")
    _run(at)


def test_zero_train_classes_are_announced_and_scheme_followed():
    classes = ClassTable(np.arange(5), list("abcde"), [300, 60, 12, 0, 0])
    ds = ClassificationDataset("tiny", classes, {"test": Labels(np.array([0, 1, 2, 3, 4, 4]), "test")})
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["ts_cls_dataset"] = ds
    at.session_state["ts_bins"] = "lvis"
    _run(at)
    assert any("2 classes have no training samples" in w.value for w in at.warning)
    m = {x.label: x.value for x in at.metric}
    assert m["Samples in frequent"] == f"{100 * 300 / 372:.1f}%"
