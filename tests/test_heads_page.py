"""The Retrain page on the demo (streamlit.testing, no browser): a cRT head trains in the background,
raises the tail bin, becomes a run the Metrics page compares, and lands in the experiment table."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


from apptest_utils import run_clean as _run  # noqa: E402


from apptest_utils import top_metrics as _metrics  # noqa: E402


def test_retrain_page_trains_crt_and_adds_a_run():
    at = _run(AppTest.from_file(APP, default_timeout=180))
    at.switch_page("pages/7_Retrain.py")
    _run(at)
    m = _metrics(at)
    assert "tail bin accuracy (joint)" in m                     # the reference answers first
    assert any("No retraining yet" in i.value for i in at.info)
    at.number_input(key="rt_epochs").set_value(3)
    at.button(key="rt_go").click()
    _run(at)
    job = at.session_state["rt_job"]
    job.wait(120)
    assert job.status == "done", job.message()
    _run(at)   # the page picks the finished job up, adds the run and reruns
    _run(at)
    m = _metrics(at)
    value, delta = m["tail bin accuracy"]
    assert float(delta.split()[0]) > 10                          # e.g. "+38.7 pts vs joint"
    ds = at.session_state["ts_cls_dataset"]
    name = job.result.name
    assert name in ds.runs and set(ds.runs[name].preds) == {"val", "test"}
    rows = at.session_state["rt_rows"]
    assert rows[-1]["run"] == name and rows[-1]["method"] == "cRT" and rows[-1]["seed"] == 0
    assert any(d.label.startswith("Head (safetensors)") for d in at.get("download_button"))
    # the Metrics page now compares the retrained head with the joint model
    at.switch_page("pages/3_Metrics.py")
    _run(at)


def test_retrain_page_without_features_says_what_to_load():
    at = _run(AppTest.from_file(APP, default_timeout=180))
    at.switch_page("pages/7_Retrain.py")
    _run(at)
    ds = at.session_state["ts_cls_dataset"]
    ds.features = {}
    _run(at)
    assert any("train features" in i.value for i in at.info)


def test_retrain_page_cancel_button_stops_the_job():
    at = _run(AppTest.from_file(APP, default_timeout=180))
    at.switch_page("pages/7_Retrain.py")
    _run(at)
    at.number_input(key="rt_epochs").set_value(500)
    at.button(key="rt_go").click()
    _run(at)
    job = at.session_state["rt_job"]
    assert job.running
    _run(at)   # the progress fragment shows the bar and the cancel button while the job runs
    assert any(p.value >= 0 for p in at.get("progress"))
    at.button(key="rt_cancel").click()
    _run(at)
    job.wait(60)
    assert job.status == "cancelled"
    _run(at)
    assert any("cancelled" in i.value for i in at.info)
    assert not at.session_state["rt_rows"]
