"""``python -m lt_core rebalance ...``: the public JSON contract, exports, bad input exits 2, inputs untouched."""
import gzip
import hashlib
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from lt_core.cli import main
from lt_core.rebalance import class_weights, epoch_indices, repeat_factors, smote_resample

COUNTS = "tests/data/imagenet_lt/ImageNet_LT_class_counts.csv"
PLACES_TRAIN = "tests/data/places_lt/Places_LT_train.txt.gz"
LVIS_VAL_100 = "tests/data/lvis_v0_5_val_100/lvis_val_100.json.gz"


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_weights_from_counts_json_contract(tmp_path):
    out = tmp_path / "weights.json"
    assert main(["rebalance", "weights", "--train-counts", COUNTS, "--scheme", "effective-number",
                 "--beta", "0.99", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    df = pd.read_csv(COUNTS)
    assert doc["scheme"] == "effective-number" and doc["beta"] == 0.99
    assert len(doc["weights"]) == 1000
    assert set(doc["weights"][0]) == {"class_id", "name", "count", "weight"}
    got = np.array([r["weight"] for r in doc["weights"]])
    np.testing.assert_allclose(got, class_weights(df["train_count"], "effective-number", 0.99), rtol=1e-12)
    assert [r["count"] for r in doc["weights"]] == df["train_count"].tolist()


def test_weights_from_labels_csv_and_pt(tmp_path):
    torch = pytest.importorskip("torch")
    labels = tmp_path / "train.csv"
    pd.DataFrame({"label": [3, 3, 3, 3, 7, 7, 9]}).to_csv(labels, index=False)
    before = sha(labels)
    csv_out, pt_out = tmp_path / "w.csv", tmp_path / "w.pt"
    assert main(["rebalance", "weights", "--train-labels", str(labels), "--scheme", "inverse", "--out", str(csv_out)]) == 0
    assert main(["rebalance", "weights", "--train-labels", str(labels), "--scheme", "inverse", "--out", str(pt_out)]) == 0
    df = pd.read_csv(csv_out)
    w = torch.load(pt_out, weights_only=True)
    assert w.dtype == torch.float32 and tuple(w.shape) == (len(df),)
    np.testing.assert_allclose(w.numpy(), df["weight"].to_numpy(), rtol=1e-6)
    counted = df.set_index("class_id")["count"]
    assert counted[3] == 4 and counted[7] == 2 and counted[9] == 1
    assert sha(labels) == before
    loss = torch.nn.CrossEntropyLoss(weight=w)  # the exported tensor plugs in as is
    assert torch.isfinite(loss(torch.zeros(2, len(df)), torch.tensor([3, 9])))  # labels present in train


def test_rfs_json_contract_and_annotated_gt(tmp_path):
    out, ann = tmp_path / "factors.json", tmp_path / "train_rfs.json"
    before = sha(LVIS_VAL_100)
    assert main(["rebalance", "rfs", "--gt", LVIS_VAL_100, "--threshold", "0.05", "--out", str(out),
                 "--annotated-out", str(ann)]) == 0
    doc = json.loads(out.read_text())
    assert {"image_id", "repeat_factor"} <= set(doc["images"][0])
    assert {"category_id", "image_fraction", "repeat_factor"} <= set(doc["categories"][0])
    from lt_core.data import load_detection_gt

    rf = repeat_factors(load_detection_gt(LVIS_VAL_100), 0.05)
    np.testing.assert_allclose([r["repeat_factor"] for r in doc["images"]], rf.image_factors)
    gt2 = json.loads(ann.read_text())
    with gzip.open(LVIS_VAL_100, "rt") as fh:
        raw = json.load(fh)
    assert len(gt2["annotations"]) == len(raw["annotations"])
    assert [im["repeat_factor"] for im in gt2["images"]] == [r["repeat_factor"] for r in doc["images"]]
    assert sha(LVIS_VAL_100) == before
    ep = tmp_path / "epoch.npy"
    assert main(["rebalance", "rfs", "--gt", LVIS_VAL_100, "--threshold", "0.05", "--out", str(out),
                 "--epoch-out", str(ep), "--seed", "2", "--epoch", "1"]) == 0
    from lt_core.rebalance import rfs_epoch_indices

    np.testing.assert_array_equal(np.load(ep), rf.image_ids[rfs_epoch_indices(rf.image_factors, epoch=1, seed=2)])
    csv = tmp_path / "f.csv"
    assert main(["rebalance", "rfs", "--gt", LVIS_VAL_100, "--out", str(csv)]) == 0
    assert list(pd.read_csv(csv).columns) == ["image_id", "repeat_factor"]


def test_sample_matches_library(tmp_path):
    out = tmp_path / "idx.npy"
    assert main(["rebalance", "sample", "--train-labels", PLACES_TRAIN, "--strategy", "progressive",
                 "--num-epochs", "10", "--epoch", "4", "--seed", "3", "--out", str(out)]) == 0
    from lt_core.data import load_labels

    labels, classes = load_labels(PLACES_TRAIN)
    ref = epoch_indices(labels.y, classes.n_classes, "progressive", num_epochs=10, epoch=4, seed=3)
    np.testing.assert_array_equal(np.load(out, allow_pickle=False), ref)


def test_smote_npz(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [60, 12, 3])
    X = rng.normal(size=(len(y), 8)).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    pd.DataFrame({"label": y}).to_csv(tmp_path / "y.csv", index=False)
    out = tmp_path / "aug.npz"
    assert main(["rebalance", "smote", "--features", str(tmp_path / "X.npy"), "--train-labels",
                 str(tmp_path / "y.csv"), "--k-neighbors", "3", "--seed", "5", "--out", str(out)]) == 0
    z = np.load(out, allow_pickle=False)
    X_ref, y_ref, info = smote_resample(X, y, "smote", "auto", 3, 5)
    np.testing.assert_array_equal(z["X"], X_ref)
    np.testing.assert_array_equal(z["y"], y_ref)
    assert z["is_synthetic"].sum() == info["n_synthetic"] and not z["is_synthetic"][: len(y)].any()
    assert json.loads(str(z["info_json"]))["classes"][2]["k_used"] == 2


@pytest.mark.parametrize("argv, needle", [
    (["weights", "--train-counts", "tests/data/missing.csv", "--out", "{tmp}/w.json"], "missing.csv"),
    (["weights", "--train-counts", COUNTS, "--beta", "2", "--out", "{tmp}/w.json"], "beta"),
    (["weights", "--train-counts", COUNTS, "--out", "{tmp}/w.txt"], "--out"),
    (["rfs", "--gt", COUNTS, "--out", "{tmp}/f.json"], "ImageNet_LT_class_counts.csv"),
    (["rfs", "--gt", LVIS_VAL_100, "--threshold", "0", "--out", "{tmp}/f.json"], "threshold"),
    (["sample", "--train-labels", PLACES_TRAIN, "--strategy", "progressive", "--out", "{tmp}/i.npy"], "num_epochs"),
    (["smote", "--features", COUNTS, "--train-labels", PLACES_TRAIN, "--out", "{tmp}/a.npz"], "feature"),
])
def test_bad_input_exits_2_with_message(tmp_path, capsys, argv, needle):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(["rebalance", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and needle in err and "Traceback" not in err


def test_missing_arguments_exit_2_as_subprocess():
    r = subprocess.run([sys.executable, "-m", "lt_core", "rebalance", "weights", "--out", "x.json"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "--train-labels" in r.stderr
