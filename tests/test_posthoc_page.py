"""The Thresholds page on the demo (streamlit.testing, no browser): logit adjustment visibly raises the
tail bin, the slider recomputes, "keep as run" adds a run the Metrics page compares."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


from apptest_utils import run_clean as _run  # noqa: E402


from apptest_utils import top_metrics as _metrics  # noqa: E402


def test_thresholds_page_on_the_demo():
    at = _run(AppTest.from_file(APP, default_timeout=180))
    at.switch_page("pages/6_Thresholds.py")
    _run(at)
    m = _metrics(at)
    tail = m["tail accuracy (test)"]
    assert float(tail[1].split()[0]) > 10                       # e.g. "+40.4 pts": the tail gains visibly
    assert m["tuned τ (on val)"][0] not in ("0.00", "")
    assert not at.warning                                      # the demo has a val split: no tuning-on-test warning
    cap = " ".join(c.value for c in at.caption)
    assert "tuned on **val**" in cap and "reported on **test**" in cap
    # slider back to 0: nothing changes
    at.slider(key="t_tau").set_value(0.0)
    _run(at)
    m0 = _metrics(at)
    assert m0["tail accuracy (test)"][1] == "+0.0 pts"
    at.slider(key="t_tau").set_value(1.0)
    _run(at)
    at.button[[b.label for b in at.button].index("Keep as run")].click()
    _run(at)
    assert any("Added run" in s.value for s in at.success)
    at.switch_page("pages/3_Metrics.py")
    _run(at)
    side = " ".join(c.value for c in at.sidebar.caption)
    assert "joint + LA τ=1.00" in side


def test_tuning_on_test_is_warned_when_there_is_no_val_split():
    from lt_core.data import Run, load_classification_demo

    ds = load_classification_demo()
    ds.labels = {s: l for s, l in ds.labels.items() if s != "val"}
    ds.runs = {"joint": Run("joint", {"test": ds.runs["joint"].preds["test"]})}
    ds.features = {s: f for s, f in ds.features.items() if s != "val"}
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["ts_cls_dataset"] = ds
    _run(at)
    at.switch_page("pages/6_Thresholds.py")
    _run(at)
    assert any("Tuning on test" in w.value for w in at.warning)
    assert "tuned τ (on test)" in _metrics(at)


def test_tau_normalisation_mode_runs_on_the_demo():
    at = _run(AppTest.from_file(APP, default_timeout=180))
    at.switch_page("pages/6_Thresholds.py")
    _run(at)
    at.radio(key="t_method").set_value("tau-normalisation")
    _run(at)
    assert any("drops the classifier's bias" in c.value for c in at.caption)
    assert float(_metrics(at)["tuned τ (on val)"][0]) > 0


def test_per_class_targets_are_editable():
    at = _run(AppTest.from_file(APP, default_timeout=180))
    at.switch_page("pages/6_Thresholds.py")
    _run(at)
    at.radio(key="t_thr_obj").set_value("recall")
    _run(at)
    at.number_input(key="t_thr_target").set_value(0.7)
    _run(at)
    reached = [m.value for m in at.metric if m.label.startswith("targets reached")][0]
    n_ok, n_all = (int(x) for x in reached.replace(",", "").split("/"))
    assert n_all == 28 and n_ok == 28          # a recall target is always reachable on val
