"""``eval-cls`` on multi-label targets (detected, or --multi-label) and ``adjust-ml``: the documented JSON
keys, numbers equal to scikit-learn, exit 2 with a one-line message on bad input, inputs untouched."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, f1_score

from lt_core.cli import main
from lt_core.data import load_multilabel_demo


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The demo written as a user would have it: 'a,b' label-id cells, N x C probabilities (.npy)."""
    ds = load_multilabel_demo()
    d = tmp_path_factory.mktemp("ml")
    for s in ("train", "val", "test"):
        lab = ds.labels[s]
        pd.DataFrame({"id": lab.sample_ids, "labels": [",".join(map(str, x)) for x in lab.label_lists()]}) \
            .to_csv(d / f"{s}.csv", index=False)
    for s in ("val", "test"):
        np.save(d / f"{s}_probs.npy", ds.runs["one-vs-rest"].preds[s].label_probabilities())
    np.save(d / "test_Y.npy", ds.labels["test"].dense().astype(np.uint8))
    return d, ds


def _md5s(d):
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in d.iterdir()}


def test_eval_cls_detects_multilabel_targets_and_writes_the_documented_json(files, capsys):
    d, ds = files
    before = _md5s(d)
    out = d / "report.json"
    rc = main(["eval-cls", "--labels", str(d / "test.csv"), "--preds", str(d / "test_probs.npy"), "--train-labels",
               str(d / "train.csv"), "--bins", "quantile:3", "--bootstrap", "200", "--seed", "0", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "multi-label targets detected" in text and "mAP" in text
    rep = json.loads(out.read_text())
    assert rep["multi_label"] is True and rep["threshold"] == 0.5
    assert {"mAP", "macro_f1", "micro_f1", "samples_f1"} <= set(rep["overall"])
    assert set(rep["bins"]) == {"head", "medium", "tail"}
    for b in rep["bins"].values():
        assert {"mAP", "n_classes", "ci_low", "ci_high"} <= set(b) and b["ci_low"] <= b["mAP"] <= b["ci_high"]
    assert {"class_id", "name", "train_count", "bin", "support", "ap", "f1"} <= set(rep["per_class"][0])
    Y = ds.labels["test"].dense()
    P = np.load(d / "test_probs.npy")
    assert rep["overall"]["mAP"] == pytest.approx(average_precision_score(Y, P, average="macro"), abs=1e-12)
    assert rep["overall"]["samples_f1"] == pytest.approx(f1_score(Y, P >= 0.5, average="samples"), abs=1e-12)
    assert [r["f1"] for r in rep["per_class"]] == pytest.approx(list(f1_score(Y, P >= 0.5, average=None)), abs=1e-12)
    assert [r["train_count"] for r in rep["per_class"]] == ds.classes.train_count.tolist()   # train positives
    assert {p: h for p, h in _md5s(d).items() if p in before} == before


def test_eval_cls_multi_label_flag_threshold_and_indicator_labels(files, capsys):
    d, ds = files
    out = d / "r2.json"
    rc = main(["eval-cls", "--labels", str(d / "test_Y.npy"), "--preds", str(d / "test_probs.npy"), "--train-labels",
               str(d / "train.csv"), "--multi-label", "--threshold", "0.3", "--bins", "quantile:3", "--out", str(out)])
    assert rc == 0
    rep = json.loads(out.read_text())
    Y = ds.labels["test"].dense()
    P = np.load(d / "test_probs.npy")
    assert rep["threshold"] == 0.3
    assert rep["overall"]["macro_f1"] == pytest.approx(f1_score(Y, P >= 0.3, average="macro"), abs=1e-12)


def test_eval_cls_single_label_choice_is_counted(files, capsys):
    d, _ = files
    rng = np.random.default_rng(0)
    np.save(d / "single_scores.npy", rng.normal(size=(5427, 28)).astype(np.float32))
    rc = main(["eval-cls", "--labels", str(d / "test.csv"), "--preds", str(d / "single_scores.npy"), "--train-labels",
               str(d / "train.csv"), "--multi-label-rows", "drop"])
    assert rc == 2   # the train file loses its multi-label rows, the test file too: 4,590 rows for 5,427 scores
    assert "predictions but" in capsys.readouterr().err


def test_adjust_ml_thresholds_and_prior(files, capsys):
    d, ds = files
    rep = d / "adj.json"
    spec = d / "thr.json"
    dec = d / "dec.npy"
    rc = main(["adjust-ml", "--preds", str(d / "test_probs.npy"), "--train-labels", str(d / "train.csv"),
               "--method", "thresholds", "--tune-on", str(d / "val.csv"), str(d / "val_probs.npy"), "--labels",
               str(d / "test.csv"), "--bootstrap", "200", "--out", str(dec), "--export", str(spec), "--report",
               str(rep)])
    assert rc == 0
    r = json.loads(rep.read_text())
    tail = r["bins"]["tail"]
    assert tail["f1_after"] > tail["f1_before"] and tail["delta_ci_low"] > 0
    adj = json.loads(spec.read_text())
    P = np.load(d / "test_probs.npy")
    assert np.array_equal(np.load(dec).astype(bool), P >= np.asarray(adj["thresholds"], dtype=float))
    rc = main(["adjust-ml", "--preds", str(d / "test_probs.npy"), "--train-labels", str(d / "train.csv"),
               "--method", "prior", "--tune-on", str(d / "val.csv"), str(d / "val_probs.npy")])
    assert rc == 0 and "tau = 0.55" in capsys.readouterr().out


@pytest.mark.parametrize("argv,msg", [
    (["--method", "thresholds"], "--tune-on"),
    (["--method", "prior", "--objective", "f1", "--tau", "1"], "--objective"),
    (["--method", "prior", "--tau", "1", "--threshold", "1.5"], "--threshold"),
])
def test_adjust_ml_bad_input_exits_2_with_one_line(files, capsys, argv, msg):
    d, _ = files
    rc = main(["adjust-ml", "--preds", str(d / "test_probs.npy"), "--train-labels", str(d / "train.csv"), *argv])
    err = capsys.readouterr().err
    assert rc == 2 and msg in err and len(err.strip().splitlines()) == 1


def test_info_describes_multilabel_files(files, capsys, data_dir):
    d, _ = files
    assert main(["info", str(data_dir / "goemotions" / "train.tsv.gz"), str(d / "test.csv")]) == 0
    out = capsys.readouterr().out
    assert "multi label rows: 207" in out and "multi-label: counts are positives" in out
    assert "multi label samples: 837" in out
