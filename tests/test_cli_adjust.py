"""``python -m lt_core adjust`` on the real GoEmotions demo model: formula, val-only tuning, exports, exit 2."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from lt_core.cli import main
from lt_core.data import load_classification_demo
from lt_core.posthoc import log_prior, tune_tau


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    ds = load_classification_demo()
    d = tmp_path_factory.mktemp("adj")
    cls = ds.classes
    pd.DataFrame({"class_id": cls.ids, "count": cls.train_count, "name": cls.names}).to_csv(d / "counts.csv",
                                                                                           index=False)
    for s in ("val", "test"):
        np.save(d / f"{s}_logits.npy", ds.runs["joint"].preds[s].scores)
        pd.DataFrame({"id": ds.labels[s].sample_ids, "label": ds.labels[s].y}).to_csv(d / f"{s}.csv", index=False)
    return d, ds


def _md5(p):
    return hashlib.md5(p.read_bytes()).hexdigest()


def test_fixed_tau_formula_out_and_export(files, capsys):
    d, ds = files
    before = {p.name: _md5(p) for p in d.iterdir()}
    rc = main(["adjust", "--preds", str(d / "test_logits.npy"), "--train-counts", str(d / "counts.csv"),
               "--tau", "1.0", "--out", str(d / "adjusted.npy"), "--export", str(d / "adjustment.json")])
    assert rc == 0
    z = ds.runs["joint"].preds["test"].scores
    lp = log_prior(ds.classes.train_count)
    out = np.load(d / "adjusted.npy")
    assert out.shape == z.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, z - lp, rtol=1e-6, atol=1e-5)
    adj = json.loads((d / "adjustment.json").read_text())
    assert adj["method"] == "logit_adjustment" and adj["tau"] == 1.0
    np.testing.assert_allclose(adj["offset"], -lp, rtol=1e-15)
    assert (z + np.asarray(adj["offset"])).argmax(1).tolist() == (z - lp).argmax(1).tolist()
    assert {p.name: _md5(p) for p in d.iterdir() if p.name in before} == before   # inputs untouched
    assert "predictions changed" in capsys.readouterr().out


def test_tune_on_val_matches_library_and_never_reads_test(files, tmp_path, capsys):
    d, ds = files
    # test labels shuffled: the chosen tau must not move (they are only used for the report)
    shuffled = pd.read_csv(d / "test.csv")
    shuffled["label"] = np.random.default_rng(0).permutation(shuffled["label"].to_numpy())
    shuffled.to_csv(tmp_path / "test_shuffled.csv", index=False)
    taus = []
    for lab in (d / "test.csv", tmp_path / "test_shuffled.csv"):
        exp = tmp_path / f"adj_{lab.stem}.json"
        rc = main(["adjust", "--preds", str(d / "test_logits.npy"), "--train-counts", str(d / "counts.csv"),
                   "--tune-on", str(d / "val.csv"), str(d / "val_logits.npy"), "--objective", "few_accuracy",
                   "--bins", "quantile:3", "--labels", str(lab), "--export", str(exp)])
        assert rc == 0
        taus.append(json.loads(exp.read_text())["tau"])
    want = tune_tau(ds.runs["joint"].preds["val"].scores, ds.labels["val"].y, ds.classes.train_count,
                    "quantile:3", "few_accuracy").tau
    assert taus[0] == taus[1] == want and want > 0
    out = capsys.readouterr().out
    assert "tuned on val" in out and "test labels were not used" in out


@pytest.mark.parametrize("args,msg", [
    (["--tau", "x"], "--tau: must be a finite number"),
    (["--tau", "1", "--taus", "2:0:5"], "--taus"),   # checked when parsed, even where --tau makes it unused
    (["--tune-on", "VAL", "VALS", "--taus", "2:0:5"], "--taus"),
    (["--tau", "1", "--out", "PREDS"], "overwrite"),
    (["--tau", "1", "--train-counts", "MISSING"], "nope.csv"),
])
def test_bad_input_exits_2(files, args, msg, capsys):
    d, _ = files
    base = ["adjust", "--preds", str(d / "test_logits.npy")]
    if "--train-counts" not in args:
        base += ["--train-counts", str(d / "counts.csv")]
    repl = {"VAL": str(d / "val.csv"), "VALS": str(d / "val_logits.npy"), "PREDS": str(d / "test_logits.npy"),
            "MISSING": str(d / "nope.csv")}
    argv = base + [repl.get(a, a) for a in args]
    rc = main(argv)
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and msg in err and "Traceback" not in err


def test_labels_only_predictions_and_wrong_shape_exit_2(files, tmp_path, capsys):
    d, ds = files
    np.save(tmp_path / "labels_only.npy", ds.runs["joint"].preds["test"].labels)
    rc = main(["adjust", "--preds", str(tmp_path / "labels_only.npy"), "--train-counts", str(d / "counts.csv"),
               "--tau", "1"])
    assert rc == 2 and "not scores" in capsys.readouterr().err
    np.save(tmp_path / "narrow.npy", np.zeros((5, 3), np.float32))
    rc = main(["adjust", "--preds", str(tmp_path / "narrow.npy"), "--train-counts", str(d / "counts.csv"),
               "--tau", "1"])
    assert rc == 2 and "narrow.npy" in capsys.readouterr().err
