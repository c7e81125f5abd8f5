"""The Data page with the user's own files (tests/data) through streamlit.testing (AppTest):
two runs added one after the other, both on Metrics with paired CIs; bins that fit the data;
val / test features -> the Retrain page evaluates its head and τ-norm is offered on Thresholds;
parts removed and runs renamed; uploads named by their original names; a workspace reopened."""
from __future__ import annotations

import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import userdata as U
from apptest_utils import APP, run_clean, top_metrics
from lt_core.data import load_labels, load_train_counts
from lt_core.metrics import classification_report


def _local(at: AppTest) -> AppTest:
    at.radio(key="cls_mode").set_value("Local path")
    return run_clean(at)


def _fill(at: AppTest, paths: dict, run_name: str | None = None, name: str | None = None) -> AppTest:
    for k, v in paths.items():
        at.text_input(key=f"path_{k}").input(str(v))
    if run_name is not None:
        next(t for t in at.text_input if t.label == "Run name").input(run_name)
    if name is not None:
        at.text_input(key="cls_name").input(name)
    at.form_submit_button[0].click()
    return run_clean(at)


def _parts(at: AppTest):
    return next(d.value for d in at.dataframe if "part" in d.value.columns and "notes" in d.value.columns)


@pytest.fixture(scope="module")
def places_scores(tmp_path_factory):
    d = tmp_path_factory.mktemp("places_scores")
    U.write_scores(d / "resnet_test.npy", U.PLACES_TEST, U.PLACES_COUNTS, seed=1)
    U.write_scores(d / "resnet_val.npy", U.PLACES_VAL, U.PLACES_COUNTS, seed=11)
    U.write_scores(d / "balanced_test.npy", U.PLACES_TEST, U.PLACES_COUNTS, seed=2, tail_boost=1.0)
    return d


def test_two_runs_added_one_after_the_other_both_on_metrics_with_paired_cis(places_scores):
    at = _local(run_clean(AppTest.from_file(APP, default_timeout=180)))
    _fill(at, {"tc": U.PLACES_COUNTS, "va": U.PLACES_VAL, "te": U.PLACES_TEST,
               "rt": places_scores / "resnet_test.npy", "rv": places_scores / "resnet_val.npy"},
          run_name="resnet", name="Places-LT")
    assert not at.error, [e.value for e in at.error]
    assert top_metrics(at)["Runs (models)"][0] == "1"
    # the form is empty again; model B is added by giving only its file
    assert at.text_input(key="path_rt").value == ""
    _fill(at, {"rt": places_scores / "balanced_test.npy"}, run_name="balanced")
    assert top_metrics(at)["Runs (models)"][0] == "2"
    parts = _parts(at)
    assert list(parts.loc[parts["part"] == "run scores", "split / run"]) == ["resnet / val", "resnet / test",
                                                                              "balanced / test"]
    assert set(parts["file"]) >= {"Places_LT_class_counts.csv", "Places_LT_test.txt.gz", "resnet_test.npy",
                                  "balanced_test.npy"}
    side = " ".join(c.value for c in at.sidebar.caption)
    assert "run **resnet** (val, test) — resnet_val.npy, resnet_test.npy" in side and "**balanced**" in side

    at.switch_page("pages/3_Metrics.py")
    run_clean(at)
    assert at.selectbox(key="m_ref").value == "resnet" and at.multiselect(key="m_runs").value == ["resnet", "balanced"]
    m = top_metrics(at)
    # the same numbers from lt_core directly: model B against model A on Places-LT test
    classes = load_train_counts(U.PLACES_COUNTS)
    y = load_labels(U.PLACES_TEST, classes)[0].y
    ra = classification_report(y, np.load(places_scores / "resnet_test.npy").argmax(1), classes, "imagenet-lt")
    rb = classification_report(y, np.load(places_scores / "balanced_test.npy").argmax(1), classes, "imagenet-lt")
    few = rb.bins.loc["few", "accuracy"]
    assert m["few (71 classes)"] == (f"{100 * few:.1f}%", f"{100 * (few - ra.bins.loc['few', 'accuracy']):+.1f} pp")
    ba = rb.overall["balanced_accuracy"]
    assert m["Balanced accuracy"][0] == f"{100 * ba:.1f}%"
    # paired bootstrap CIs of the change, per bin
    helps = " ".join(x.help or "" for x in at.metric)
    assert "Paired 95% CI of the change" in helps
    assert any("vs reference **resnet**" in c.value for c in at.caption)


def test_imagenet_lt_bins_follow_the_counts_file_385_479_136_unless_the_user_chose(tmp_path):
    U.write_predicted_ids(tmp_path / "preds.npy", U.IMAGENET_TEST, U.IMAGENET_COUNTS, seed=0)
    at = run_clean(AppTest.from_file(APP, default_timeout=180))
    assert at.sidebar.selectbox(key="ts_bins_choice").value == "quantile:3"  # the demo's
    _local(at)
    _fill(at, {"tc": U.IMAGENET_COUNTS, "te": U.IMAGENET_TEST, "rt": tmp_path / "preds.npy"}, run_name="r50",
          name="ImageNet-LT")
    assert at.sidebar.selectbox(key="ts_bins_choice").value == "imagenet-lt"
    assert any("shot_group" in c.value for c in at.sidebar.caption)
    at.switch_page("pages/3_Metrics.py")
    run_clean(at)
    labels = [x.label for x in at.metric]
    assert "many (385 classes)" in labels and "medium (479 classes)" in labels and "few (136 classes)" in labels
    # the user's choice sticks: loading other data no longer switches it
    at.sidebar.selectbox(key="ts_bins_choice").set_value("quantile:3")
    run_clean(at)
    at.switch_page("pages/1_Data.py")
    run_clean(at)
    _fill(at, {"va": U.IMAGENET_VAL})
    assert at.sidebar.selectbox(key="ts_bins_choice").value == "quantile:3"
    assert any("chosen by you" in c.value for c in at.sidebar.caption)


@pytest.mark.slow
def test_goemotions_features_retrain_evaluates_and_tau_norm_is_offered(tmp_path):
    clf = U.write_goemotions_classifier(tmp_path / "goemotions_lr.npz")
    at = _local(run_clean(AppTest.from_file(APP, default_timeout=180)))
    _fill(at, {**U.goemotions_parts_paths(), "clf": clf}, name="GoEmotions slice")
    # multi-label rows stop the single-label load with a count and the choices (never a silent drop)
    assert at.error and "328 of 2,000 rows carry several labels" in at.error[0].value
    assert "train_2000.tsv.gz" in at.error[0].value
    at.button(key="cls_ml_drop").click()
    run_clean(at)
    assert not at.error, [e.value for e in at.error]
    parts = _parts(at)
    train = parts[parts["part"] == "train labels"].iloc[0]
    assert train["rows"] == 1672 and "328 of 2,000 rows carried several labels: dropped" in train["notes"]
    feats = parts[parts["part"] == "features"].set_index("split / run")
    assert "kept the 1,672 rows of the 2,000" in feats.loc["train", "notes"]
    assert list(feats["shape"]) == ["1,672 × 384", "485 × 384", "505 × 384"]

    at.switch_page("pages/6_Thresholds.py")
    run_clean(at)
    assert "tau-normalisation" in at.radio(key="t_method").options

    at.switch_page("pages/7_Retrain.py")
    run_clean(at)
    assert not [w.value for w in at.warning if "not be evaluated" in w.value]
    at.selectbox(key="rt_method").set_value("tau-norm")
    run_clean(at)
    at.button(key="rt_go").click()
    run_clean(at)
    for _ in range(120):
        if any(s.value == "Experiments of this session" for s in at.subheader):
            break
        time.sleep(0.5)
        run_clean(at)
    rows = next(d.value for d in at.dataframe if "method" in d.value.columns and "all" in d.value.columns)
    assert len(rows) == 1 and rows.iloc[0]["split"] == "test" and 0 < rows.iloc[0]["all"] < 1
    m = top_metrics(at)
    assert m["all classes"][0].endswith("%")
    # the head is a run with its splits, and kept in the workspace with its weights
    from lt_core.workspace import open as open_ws

    ws = open_ws(U_workspace_path(at))
    assert any(a.kind == "head" for a in ws.artifacts.values())
    run = ws.classification.runs[rows.iloc[0]["run"]]
    assert run.splits == ["val", "test"]


def U_workspace_path(at: AppTest):
    import os
    from pathlib import Path

    return Path(os.environ["TAILSCOPE_HOME"]) / "workspaces" / at.query_params["ws"]


def test_parts_are_removed_and_runs_renamed_without_losing_the_others(places_scores):
    at = _local(run_clean(AppTest.from_file(APP, default_timeout=180)))
    _fill(at, {"tc": U.PLACES_COUNTS, "va": U.PLACES_VAL, "te": U.PLACES_TEST,
               "rt": places_scores / "resnet_test.npy", "rv": places_scores / "resnet_val.npy"}, run_name="A")
    _fill(at, {"rt": places_scores / "balanced_test.npy"}, run_name="B")
    # remove model A's val scores only
    at.selectbox(key="cls_rm_pick").set_value("run A / val — resnet_val.npy")
    at.button(key="cls_rm_go").click()
    run_clean(at)
    parts = _parts(at)
    assert list(parts.loc[parts["part"] == "run scores", "split / run"]) == ["A / test", "B / test"]
    # rename B
    at.selectbox(key="cls_run_pick").set_value("B")
    run_clean(at)
    at.text_input(key="cls_run_new_B").input("tail-aware")
    run_clean(at)
    at.button(key="cls_run_rename").click()
    run_clean(at)
    assert [s.value for s in at.success][0].startswith("Renamed run B to tail-aware")
    parts = _parts(at)
    assert list(parts.loc[parts["part"] == "run scores", "split / run"]) == ["A / test", "tail-aware / test"]
    # removing the train counts would leave no train information: refused, nothing lost
    at.selectbox(key="cls_rm_pick").set_value("train counts — Places_LT_class_counts.csv")
    at.button(key="cls_rm_go").click()
    run_clean(at)
    assert at.error and "train labels or train counts" in at.error[0].value
    assert top_metrics(at)["Runs (models)"][0] == "2"
    # replacing the test labels by a list of another length is refused, naming the run
    _fill(at, {"te": U.PLACES_VAL})
    assert at.error and "run 'A' does not fit" in at.error[0].value
    assert top_metrics(at)["Classes"][0] == "365"


def test_uploads_show_their_own_names_never_a_temp_path(tmp_path):
    at = run_clean(AppTest.from_file(APP, default_timeout=180))
    at.file_uploader(key="up_tc").upload("Places_LT_class_counts.csv", U.PLACES_COUNTS.read_bytes(), "text/csv")
    at.file_uploader(key="up_te").upload("Places_LT_val.txt.gz", U.PLACES_VAL.read_bytes(), "application/gzip")
    at.form_submit_button[0].click()  # a form's widgets send their values with the submit
    run_clean(at)
    assert not at.error, [e.value for e in at.error]
    parts = _parts(at)
    assert list(parts["file"][:2]) == ["Places_LT_class_counts.csv", "Places_LT_val.txt.gz"]
    assert set(parts["from"][:2]) == {"upload"}
    text = " ".join(str(v) for d in at.dataframe for v in d.value.astype(str).to_numpy().ravel())
    assert "tailscope-uploads-" not in text and "/tmp" not in text
    # the uploads stay in their widgets: pressing Load again reads nothing again and changes nothing
    at.form_submit_button[0].click()
    run_clean(at)
    assert any("already loaded" in w.value for w in at.warning)
    assert list(_parts(at)["file"][:2]) == ["Places_LT_class_counts.csv", "Places_LT_val.txt.gz"]


def test_a_workspace_is_reopened_by_a_new_session_with_every_number(places_scores):
    at = _local(run_clean(AppTest.from_file(APP, default_timeout=180)))
    _fill(at, {"tc": U.PLACES_COUNTS, "te": U.PLACES_TEST, "rt": places_scores / "resnet_test.npy"}, run_name="A",
          name="Places kept")
    _fill(at, {"rt": places_scores / "balanced_test.npy"}, run_name="B")
    at.switch_page("pages/3_Metrics.py")
    run_clean(at)
    before = top_metrics(at)
    ws_name = at.query_params["ws"]
    # a refresh / restart: a new session with only the URL's ?ws=
    at2 = AppTest.from_file(APP, default_timeout=180)
    at2.query_params["ws"] = ws_name
    at2.switch_page("pages/3_Metrics.py")
    run_clean(at2)
    assert top_metrics(at2) == before
    assert any("Places kept" in c.value for c in at2.sidebar.caption)
    # and from the sidebar list, in a session that did not have it
    at3 = run_clean(AppTest.from_file(APP, default_timeout=180))
    opts = at3.sidebar.selectbox(key="ts_ws_pick").options
    assert len(opts) == 1 and "Places kept" in opts[0]
    at3.sidebar.selectbox(key="ts_ws_pick").set_value(str(U_workspace_path(at)))
    run_clean(at3)
    at3.sidebar.button(key="ts_ws_open").click()
    run_clean(at3)
    assert top_metrics(at3)["Runs (models)"][0] == "2"
