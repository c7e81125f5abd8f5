"""The Metrics, Thresholds and Retrain pages (and the Data / Distribution pages) on multi-label data,
through streamlit.testing: the built-in GoEmotions demo in its multi-label view (the app's default), and
a user's own multi-label files from tests/data loaded on the Data page (the several-labels choice)."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from apptest_utils import run_clean as _run
from apptest_utils import top_metrics as _metrics
from lt_core.data import build_classification_dataset, load_multilabel_demo
from lt_core.metrics import decisions, multilabel_report
from lt_core.posthoc import compare_decisions, threshold_decisions, tune_thresholds

APP = str(Path(__file__).resolve().parents[1] / "app.py")
GO = Path(__file__).resolve().parent / "data" / "goemotions"


def _app(view: str = "multi-label") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["ts_demo_view"] = view
    return at


def _page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    return _run(at)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


# ---------------------------------------------------------------- the demo
def test_the_app_opens_on_the_multilabel_demo_and_the_single_label_view_stays(monkeypatch):
    monkeypatch.delenv("TAILSCOPE_DEMO_VIEW", raising=False)   # the real default
    at = _run(AppTest.from_file(APP, default_timeout=240))
    assert "multi-label" in " ".join(c.value for c in at.sidebar.caption)
    m = _metrics(at)
    assert m["Train samples"][0] == "43,410" and m["Classes"][0] == "28"
    assert any("multi-label" in md.value for md in at.markdown)
    at.sidebar.radio(key="ts_demo_view_choice").set_value("single-label")
    _run(at)
    assert _metrics(at)["Train samples"][0] == "36,308"
    assert "single-label" in " ".join(c.value for c in at.sidebar.caption)


def test_distribution_page_says_multilabel_and_shows_train_positives():
    at = _page(_run(_app()), "pages/2_Distribution.py")
    m = _metrics(at)
    assert m["Label cardinality (train)"][0] == "1.18" and m["Samples with several labels"][0] == "16.4%"
    caps = " ".join(c.value for c in at.caption)
    assert "multi-label" in caps and "positives" in caps
    assert any(d.value.shape[0] > 0 and "with_head_share" in d.value.columns for d in at.dataframe)


def test_metrics_page_on_the_multilabel_demo_matches_lt_core():
    at = _page(_run(_app()), "pages/3_Metrics.py")
    ds = load_multilabel_demo()
    p = ds.runs["one-vs-rest"].preds["test"]
    rep = multilabel_report(ds.labels["test"], p.scores, ds.classes, "quantile:3", kind="logits")
    m = _metrics(at)
    assert m["mAP"][0] == _pct(rep.overall["mAP"])
    assert m["tail mAP (9 classes)"][0] == _pct(rep.bins.loc["tail", "mAP"])
    assert m["Macro-F1"][0] == _pct(rep.overall["macro_f1"])
    assert "multi-label" in " ".join(c.value for c in at.caption)
    at.number_input(key="m_ml_thr").set_value(0.25)   # the F1s follow the threshold, mAP does not
    _run(at)
    rep25 = multilabel_report(ds.labels["test"], p.scores, ds.classes, "quantile:3", kind="logits", threshold=0.25)
    m2 = _metrics(at)
    assert m2["Macro-F1"][0] == _pct(rep25.overall["macro_f1"]) and m2["mAP"] == m["mAP"]


@pytest.mark.slow
def test_thresholds_page_raises_the_tail_keeps_a_run_and_metrics_compares_it():
    at = _page(_run(_app()), "pages/6_Thresholds.py")
    ds = load_multilabel_demo()
    run = ds.runs["one-vs-rest"]
    res = tune_thresholds(ds.labels["val"].dense(), run.preds["val"].scores, "f1")
    Zt = run.preds["test"].scores
    table = compare_decisions(ds.labels["test"].dense(), Zt, decisions(Zt, 0.5, "logits"),
                              threshold_decisions(Zt, res.thresholds), ds.classes, "quantile:3", 1000, 0)
    tail = table.set_index("bin").loc["tail"]
    m = _metrics(at)
    assert m["tail macro-F1 (test)"][0] == _pct(tail["f1_after"])
    assert float(m["tail macro-F1 (test)"][1].split()[0]) > 10             # e.g. "+18.9 pts"
    assert not at.warning                                                 # tuned on val, reported on test
    at.button(key="t_ml_keep").click()
    _run(at)
    assert any("Added run" in s.value for s in at.success)
    # the prior correction: tau tuned on val
    at.radio(key="t_ml_method").set_value("prior correction")
    _run(at)
    assert float(_metrics(at)["tuned τ (on val)"][0]) == pytest.approx(0.55)
    at = _page(at, "pages/3_Metrics.py")
    assert at.multiselect(key="m_runs").value == ["one-vs-rest", "one-vs-rest + per-class thresholds (f1)"]
    m = _metrics(at)
    assert m["tail mAP (9 classes)"][1] == "+0.0 pp"                      # thresholds do not change AP
    assert float(m["Macro-F1"][1].split()[0]) > 10                         # they change the decisions


@pytest.mark.slow
def test_retrain_page_trains_a_multilabel_head_and_adds_a_run():
    at = _page(_run(_app()), "pages/7_Retrain.py")
    assert "tail bin mAP (one-vs-rest)" in _metrics(at)
    at.number_input(key="rt_ml_epochs").set_value(3)
    at.button(key="rt_ml_go").click()
    _run(at)
    job = at.session_state["rt_ml_job"]
    job.wait(180)
    assert job.status == "done", job.message()
    _run(at)
    _run(at)
    ds = at.session_state["ts_cls_dataset"]
    name = job.result.name
    assert name == "cRT·db·class-aware·s0" and name in ds.runs
    row = at.session_state["rt_ml_rows"][-1]
    assert row["run"] == name and row["loss"] == "db" and "mAP tail" in row
    assert "tail bin mAP" in _metrics(at)
    _page(at, "pages/3_Metrics.py")


# ---------------------------------------------------------------- a user's own multi-label files
def _user_scores(tmp_path: Path) -> dict[str, Path]:
    """A real one-vs-rest model trained on the shipped test embeddings (tests/data/goemotions)."""
    from sklearn.linear_model import LogisticRegression

    def labels(split):
        with gzip.open(GO / f"{split}.tsv.gz", "rt", encoding="utf-8") as fh:
            rows = [ln.split("\t")[1] for ln in fh]
        Y = np.zeros((len(rows), 28), bool)
        for i, r in enumerate(rows):
            Y[i, [int(t) for t in r.split(",")]] = True
        return Y

    X = {s: np.load(GO / f"{s}_minilm.npy").astype(np.float32) for s in ("train", "dev", "test")}
    Ytr = labels("train")
    out = {}
    P = {s: np.full((len(X[s]), 28), 1e-3, np.float32) for s in ("dev", "test")}
    for c in range(28):
        if 0 < Ytr[:, c].sum() < len(Ytr):
            m = LogisticRegression(C=1.0, max_iter=500).fit(X["train"], Ytr[:, c])
            for s in ("dev", "test"):
                P[s][:, c] = m.predict_proba(X[s])[:, 1]
    for s, name in (("dev", "val"), ("test", "test")):
        out[name] = tmp_path / f"{name}_probs.npy"
        np.save(out[name], P[s])
    return out


def test_user_multilabel_files_on_the_data_page_then_metrics_and_thresholds(tmp_path):
    scores = _user_scores(tmp_path)
    at = _run(_app("single-label"))
    at.radio(key="cls_mode").set_value("Local path")
    _run(at)
    at.text_input(key="path_tr").input(str(GO / "train.tsv.gz"))
    at.text_input(key="path_va").input(str(GO / "dev.tsv.gz"))
    at.text_input(key="path_te").input(str(GO / "test.tsv.gz"))
    at.text_input(key="path_rv").input(str(scores["val"]))
    at.text_input(key="path_rt").input(str(scores["test"]))
    at.button[0].click()   # the form's submit button
    _run(at)
    err = " ".join(e.value for e in at.error)
    assert "207 of 1,200 rows carry several labels" in err            # stops, says how many, offers the choices
    labels = [b.label for b in at.button]
    assert "Keep the first label (207 rows changed)" in labels and "Drop them (207 rows dropped)" in labels
    at.button(key="cls_ml_multi").click()
    _run(at)
    ds = at.session_state["ts_cls_dataset"]
    assert ds.multi_label and len(ds.labels["train"]) == 1200 and ds.runs["model"].preds["test"].kind == "probs"
    assert _metrics(at)["Train samples"][0] == "1,200"
    at = _page(at, "pages/3_Metrics.py")
    rep = multilabel_report(ds.labels["test"], np.load(scores["test"]), ds.classes, "quantile:3")
    assert _metrics(at)["mAP"][0] == _pct(rep.overall["mAP"])
    at = _page(at, "pages/6_Thresholds.py")
    from lt_core.bins import parse_bins  # loading the files switched the bins to the scheme that fits them (issue 11)

    tail = parse_bins(at.session_state["ts_bins"]).names[-1]
    assert f"{tail} macro-F1 (test)" in _metrics(at)
    _page(at, "pages/2_Distribution.py")


@pytest.mark.slow
def test_user_multilabel_files_with_features_on_the_retrain_page(tmp_path):
    scores = _user_scores(tmp_path)
    ds = build_classification_dataset(
        train_labels=GO / "train.tsv.gz", val_labels=GO / "dev.tsv.gz", test_labels=GO / "test.tsv.gz",
        class_names=GO / "emotions.txt", runs={"ovr": {"val": scores["val"], "test": scores["test"]}},
        features={"train": GO / "train_minilm.npy", "val": GO / "dev_minilm.npy", "test": GO / "test_minilm.npy"},
        name="my comments", multi_label="multi")
    at = _app()
    at.session_state["ts_cls_dataset"] = ds
    at.session_state["ts_bins"] = "quantile:3"
    at = _page(_run(at), "pages/7_Retrain.py")
    assert "tail bin mAP (ovr)" in _metrics(at)
    at.selectbox(key="rt_ml_loss").set_value("asl")
    at.number_input(key="rt_ml_epochs").set_value(2)
    at.button(key="rt_ml_go").click()
    _run(at)
    job = at.session_state["rt_ml_job"]
    job.wait(120)
    assert job.status == "done", job.message()
    _run(at)
    _run(at)
    assert job.result.name in at.session_state["ts_cls_dataset"].runs
    at = _page(at, "pages/6_Thresholds.py")
    at.selectbox(key="t_ml_run").set_value(job.result.name)
    _run(at)
    assert "tail macro-F1 (test)" in _metrics(at)
