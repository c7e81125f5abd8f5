"""``python -m lt_core eval-cls``: the JSON contract, agreement with scikit-learn, bad input -> exit 2."""
from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, f1_score, precision_recall_fscore_support)

from lt_core.cli import main


def _imagenet_lt(data_dir, per_class: int | None = None):
    counts = pd.read_csv(data_dir / "imagenet_lt" / "ImageNet_LT_class_counts.csv")
    with gzip.open(data_dir / "imagenet_lt" / "ImageNet_LT_test.txt.gz", "rt") as fh:
        rows = [ln.split() for ln in fh if ln.strip()]
    paths = np.array([r[0] for r in rows])
    y = np.array([int(r[1]) for r in rows])
    if per_class:
        keep = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(1000)])
        paths, y = paths[keep], y[keep]
    return counts, paths, y


def _scores(y, train_count, seed=0):
    """Generated scores whose accuracy grows with the class's train count (many > medium > few)."""
    rng = np.random.default_rng(seed)
    skill = 1.0 + 3.0 * np.log(train_count) / np.log(train_count.max())
    S = rng.standard_normal((len(y), len(train_count))).astype(np.float32)
    S[np.arange(len(y)), y] += skill[y].astype(np.float32)
    return S


def _md5(p):
    return hashlib.md5(p.read_bytes()).hexdigest()


def test_imagenet_lt_shaped_scores_match_sklearn(tmp_path, data_dir, capsys):
    counts, paths, y = _imagenet_lt(data_dir, per_class=12)
    S = _scores(y, counts["train_count"].to_numpy())
    lab = tmp_path / "test.txt"
    lab.write_text("".join(f"{p} {c}\n" for p, c in zip(paths, y)))
    np.save(tmp_path / "scores.npy", S)
    cc = data_dir / "imagenet_lt" / "ImageNet_LT_class_counts.csv"
    before = [_md5(lab), _md5(tmp_path / "scores.npy"), _md5(cc)]
    out = tmp_path / "report.json"
    rc = main(["eval-cls", "--labels", str(lab), "--preds", str(tmp_path / "scores.npy"), "--train-counts", str(cc),
               "--bins", "imagenet-lt", "--bootstrap", "200", "--seed", "3", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "many" in text and "few" in text and "95% CI" in text
    assert before == [_md5(lab), _md5(tmp_path / "scores.npy"), _md5(cc)]  # inputs untouched
    rep = json.loads(out.read_text())
    assert set(rep) == {"overall", "bins", "per_class"}
    p = S.argmax(1)
    o = rep["overall"]
    assert o["accuracy"] == pytest.approx(accuracy_score(y, p), abs=1e-12)
    assert o["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, p), abs=1e-12)
    assert o["macro_f1"] == pytest.approx(f1_score(y, p, average="macro", zero_division=0), abs=1e-12)
    assert o["gmean"] == pytest.approx(geometric_mean_score(y, p), abs=1e-12)
    assert 0 < o["ece"] < 1
    # the real ImageNet-LT bins: 385 many, 479 medium, 136 few classes (Liu et al. 2019)
    assert {k: v["n_classes"] for k, v in rep["bins"].items()} == {"many": 385, "medium": 479, "few": 136}
    b = rep["bins"]
    assert b["many"]["accuracy"] > b["medium"]["accuracy"] > b["few"]["accuracy"]
    for v in b.values():
        assert v["ci_low"] < v["accuracy"] < v["ci_high"]
    pr, rc_, f1, sup = precision_recall_fscore_support(y, p, labels=np.arange(1000), zero_division=0)
    pc = pd.DataFrame(rep["per_class"])
    assert list(pc["class_id"]) == list(range(1000))
    np.testing.assert_allclose(pc["precision"], pr, atol=1e-12)
    np.testing.assert_allclose(pc["recall"], rc_, atol=1e-12)
    np.testing.assert_allclose(pc["f1"], f1, atol=1e-12)
    np.testing.assert_array_equal(pc["support"], sup)
    np.testing.assert_array_equal(pc["train_count"], counts["train_count"])
    assert pc.loc[0, "name"] == counts.loc[0, "name"]
    # many/medium/few accuracy = mean per-class recall of the bin's classes
    for name, grp in pc.groupby("bin"):
        assert b[name]["accuracy"] == pytest.approx(grp["recall"].mean(), abs=1e-12)
        assert b[name]["n_samples"] == grp["support"].sum()


def test_predicted_labels_with_train_labels_and_custom_bins(tmp_path, capsys):
    # class ids are not 0..C-1: predicted labels are class ids, mapped through the class table
    rng = np.random.default_rng(1)
    ids = np.array([3, 10, 42, 7, 99])
    train = np.repeat(ids, [300, 120, 40, 15, 4])
    pd.DataFrame({"label": train}).to_csv(tmp_path / "train.csv", index=False)
    y = rng.choice(ids, 400)
    pred = np.where(rng.random(400) < 0.6, y, rng.choice(ids, 400))
    pd.DataFrame({"label": y}).to_csv(tmp_path / "test.csv", index=False)
    np.save(tmp_path / "pred.npy", pred)
    out = tmp_path / "r.json"
    rc = main(["eval-cls", "--labels", str(tmp_path / "test.csv"), "--preds", str(tmp_path / "pred.npy"),
               "--train-labels", str(tmp_path / "train.csv"), "--bins", "custom:20,100", "--out", str(out)])
    assert rc == 0
    rep = json.loads(out.read_text())
    assert rep["overall"]["ece"] is None  # hard labels: no calibration
    assert rep["overall"]["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert rep["overall"]["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, pred))
    pc = {r["class_id"]: r for r in rep["per_class"]}
    pr, rc_, f1, sup = precision_recall_fscore_support(y, pred, labels=sorted(ids), zero_division=0)
    for k, cid in enumerate(sorted(ids)):
        assert pc[cid]["recall"] == pytest.approx(rc_[k]) and pc[cid]["support"] == sup[k]
        assert pc[cid]["precision"] == pytest.approx(pr[k]) and pc[cid]["f1"] == pytest.approx(f1[k])
    assert pc[3]["bin"] == "many" and pc[42]["bin"] == "medium" and pc[99]["bin"] == "few"
    assert rep["bins"]["many"]["ci_low"] is None  # no bootstrap asked


@pytest.mark.parametrize("case", ["columns", "nan", "bins", "missing", "unknown_label", "both_train"])
def test_bad_input_exits_2_with_a_message(tmp_path, capsys, case):
    ids = np.arange(4)
    pd.DataFrame({"class_id": ids, "count": [500, 50, 10, 3]}).to_csv(tmp_path / "counts.csv", index=False)
    y = np.array([0, 1, 2, 3, 0, 1])
    pd.DataFrame({"label": y}).to_csv(tmp_path / "test.csv", index=False)
    S = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    bins = "imagenet-lt"
    if case == "columns":
        S = S[:, :3]
    if case == "nan":
        S[2, 1] = np.nan
    if case == "bins":
        bins = "thirds"
    if case == "unknown_label":
        pd.DataFrame({"label": [0, 1, 2, 3, 0, 17]}).to_csv(tmp_path / "test.csv", index=False)
    np.save(tmp_path / "s.npy", S)
    argv = ["eval-cls", "--labels", str(tmp_path / "test.csv"), "--preds",
            str(tmp_path / ("nope.npy" if case == "missing" else "s.npy")), "--train-counts",
            str(tmp_path / "counts.csv"), "--bins", bins, "--out", str(tmp_path / "r.json")]
    if case == "both_train":
        argv += ["--train-labels", str(tmp_path / "test.csv")]
        assert main(argv) == 2    # a usage error: one line, a return code (no SystemExit in-process)
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "not allowed with argument" in err
        return
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert not (tmp_path / "r.json").exists()
    expect = {"columns": "s.npy", "nan": "s.npy", "bins": "bins", "missing": "nope.npy", "unknown_label": "17"}[case]
    assert expect in err


def test_module_entry_point_exit_code(tmp_path):
    pd.DataFrame({"class_id": [0, 1], "count": [5, 1]}).to_csv(tmp_path / "c.csv", index=False)
    pd.DataFrame({"label": [0, 1]}).to_csv(tmp_path / "t.csv", index=False)
    np.save(tmp_path / "s.npy", np.zeros((3, 2), np.float32))  # 3 rows for 2 labels
    r = subprocess.run([sys.executable, "-m", "lt_core", "eval-cls", "--labels", str(tmp_path / "t.csv"), "--preds",
                        str(tmp_path / "s.npy"), "--train-counts", str(tmp_path / "c.csv")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error:") and "Traceback" not in r.stderr
