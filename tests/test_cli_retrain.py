"""``python -m lt_core retrain``: files written, report.json == eval-cls on the same scores, bad input exits 2."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from lt_core.cli import main
from lt_core.heads import load_head


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("retrain")
    rng = np.random.default_rng(0)
    c, dim = 6, 12
    counts = np.array([300, 150, 60, 25, 10, 5])
    means = rng.standard_normal((c, dim)) * 1.5
    out = {}
    for split, cnt in (("train", counts), ("val", np.full(c, 10)), ("test", np.full(c, 20))):
        y = np.repeat(np.arange(c), cnt)
        X = (means[y] + rng.standard_normal((len(y), dim))).astype(np.float32)
        np.save(d / f"{split}_X.npy", X)
        pd.DataFrame({"label": y}).to_csv(d / f"{split}_y.csv", index=False)
        out[split] = (d / f"{split}_X.npy", d / f"{split}_y.csv")
    W = rng.standard_normal((c, dim)).astype(np.float32)
    np.savez(d / "clf.npz", W=W, b=np.zeros(c, np.float32))
    out["clf"] = d / "clf.npz"
    out["dir"] = d
    return out


def _args(f, method, out, *extra):
    a = ["retrain", "--train-features", str(f["train"][0]), "--train-labels", str(f["train"][1]),
         "--val-features", str(f["val"][0]), "--val-labels", str(f["val"][1]),
         "--test-features", str(f["test"][0]), "--test-labels", str(f["test"][1]),
         "--method", method, "--out", str(out), "--quiet"]
    return a + list(extra)


def _digest(paths):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.mark.parametrize("method,extra", [("crt", ["--epochs", "3", "--lr", "0.5"]),
                                          ("lws", ["--epochs", "2", "--classifier", "CLF"]),
                                          ("tau-norm", ["--classifier", "CLF", "--format", "torch"]),
                                          ("ncm", []), ("joint", ["--loss", "focal", "--gamma", "2", "--epochs", "2"])])
def test_retrain_writes_head_scores_and_eval_cls_report(files, tmp_path, method, extra, capsys):
    inputs = [p for k in ("train", "val", "test") for p in files[k]] + [files["clf"]]
    before = _digest(inputs)
    extra = [str(files["clf"]) if e == "CLF" else e for e in extra]
    out = tmp_path / method
    assert main(_args(files, method, out, *extra)) == 0
    names = {p.name for p in out.iterdir()}
    weights = "head.pt" if "torch" in extra else "head.safetensors"
    assert {weights, "head.json", "test_scores.npy", "val_scores.npy", "report.json", "history.csv"} <= names
    scores = np.load(out / "test_scores.npy")
    assert scores.shape == (120, 6) and scores.dtype == np.float32
    # the head re-loaded from disk gives the saved test scores
    Xte = np.load(files["test"][0])
    np.testing.assert_allclose(load_head(out).predict(Xte), scores, rtol=1e-5, atol=1e-5)
    # report.json is exactly what eval-cls writes for these scores (bins by TRAIN counts, imagenet-lt)
    assert main(["eval-cls", "--labels", str(files["test"][1]), "--preds", str(out / "test_scores.npy"),
                 "--train-labels", str(files["train"][1]), "--out", str(tmp_path / "ref.json")]) == 0
    mine = json.loads((out / "report.json").read_text())
    ref = json.loads((tmp_path / "ref.json").read_text())
    assert mine == ref
    assert set(mine) == {"overall", "bins", "per_class"} and set(mine["bins"]) == {"many", "medium", "few"}
    meta = json.loads((out / "head.json").read_text())
    assert meta["settings"]["method"] == method and meta["settings"]["seed"] == 0
    assert _digest(inputs) == before   # inputs never modified


def test_retrain_without_test_split(files, tmp_path, capsys):
    a = ["retrain", "--train-features", str(files["train"][0]), "--train-labels", str(files["train"][1]),
         "--method", "ncm", "--out", str(tmp_path / "o")]
    assert main(a) == 0
    assert "no test split" in capsys.readouterr().out
    assert not (tmp_path / "o" / "report.json").exists()


@pytest.mark.parametrize("case", ["rows", "pair", "missing", "classifier", "dims", "lr", "bins"])
def test_bad_input_exits_2_with_a_message(files, tmp_path, case, capsys):
    d = files["dir"]
    a = _args(files, "crt", tmp_path / "bad", "--epochs", "1")
    if case == "rows":
        np.save(d / "short.npy", np.load(files["test"][0])[:7])
        a[a.index("--test-features") + 1] = str(d / "short.npy")
        expect = "feature rows"
    elif case == "pair":
        i = a.index("--val-labels")
        del a[i:i + 2]
        expect = "--val-labels is missing"
    elif case == "missing":
        a[a.index("--train-features") + 1] = str(d / "nope.npy")
        expect = "nope.npy"
    elif case == "classifier":
        np.savez(d / "clf_bad.npz", W=np.zeros((3, 12), np.float32), b=np.zeros(3, np.float32))
        a = _args(files, "tau-norm", tmp_path / "bad", "--classifier", str(d / "clf_bad.npz"))
        expect = "expected (6, 12)"
    elif case == "dims":
        np.save(d / "wide.npy", np.zeros((60, 5), np.float32))
        a[a.index("--val-features") + 1] = str(d / "wide.npy")
        expect = "feature"
    elif case == "lr":
        a += ["--lr", "-1"]
        expect = "--lr: must be a number > 0"
    else:
        a += ["--bins", "quantile:x"]
        expect = "quantile"
    assert main(a) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and expect in err and "Traceback" not in err
    assert not (tmp_path / "bad" / "report.json").exists()


def test_subprocess_exit_code(files, tmp_path):
    r = subprocess.run([sys.executable, "-m", "lt_core", "retrain", "--train-features", str(files["train"][0]),
                        "--train-labels", str(files["train"][1]), "--method", "nope", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "invalid choice" in r.stderr
