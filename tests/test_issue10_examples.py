"""Each example listed in issue 10 ("What was seen"), one test each.

Most are rows of the bad-input corpus (tests/robustness_corpus.py), replayed here by name with the
corpus's checks (exit 2, one line naming file and field, inputs unchanged, nothing written). The
others have their own test here or in the file named next to them:

- build_adjust_index on > 4,096 rows: tests/test_posthoc_fast_property.py (and adjust --tune-on below)
- kill -9 (orphan .tmp files, a killed retrain), write_npy's peak memory, a read-only --out named
  before any work: tests/test_io_guard.py
- server address, showErrorDetails, file watching: tests/test_ui_files.py, tests/test_browser_safety.py
- local-path widget, same-named uploads, Detection page folders, raw ValueError in the app:
  tests/test_app_robustness.py
- head exports (bias, normalisation, the docs' lines): tests/test_heads_export.py
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from robustness_corpus import CASES, csv
from test_robustness_corpus import test_bad_input_gives_one_line_and_changes_nothing as replay
from lt_core.cli import main

DET = None  # the detection-reader examples (fixed on det14); no mark any more

EXAMPLES = {
    # tracebacks instead of messages
    "GT image height of the wrong type ('tall')": ("GT height of the wrong type", DET),
    "GT image width a list": ("GT width a list", DET),
    "GT image height null": ("GT height null", DET),
    "GT image_count of the wrong type (null)": ("GT image_count null", DET),
    "LVIS neg_category_ids holding nested lists": ("LVIS neg_category_ids nested", DET),
    "a class id of 10^11 (745 GiB)": ("class id 1e11 in train labels", None),
    "a class id beyond int64": ("class id beyond int64 in train labels", None),
    "a .npy whose header claims a shape far larger than the file": ("npy header claims 1e12 rows (scores)", None),
    "--num-samples 1000000000000": ("rebalance sample --num-samples 1000000000000", None),
    "a negative --seed": ("eval-cls --seed -1", None),
    "retrain --hidden 0": ("retrain --hidden 0", None),
    "a classifier .npz holding an object array": ("npz holding an object array (classifier)", None),
    "a pickle named .npz": ("pickle named .npz (classifier)", None),
    "--out that is an existing file where a folder is needed": ("retrain --out is an existing file", None),
    # inputs overwritten
    "eval-cls --out equal to --labels": ("eval-cls --out = --labels", None),
    "eval-cls --out equal to --train-counts": ("eval-cls --out = --train-counts", None),
    "eval-det --out equal to --gt": ("eval-det --out = --gt", None),
    "eval-det --out equal to --dt": ("eval-det --out = --dt", None),
    "retrain --out DIR when an input lives in DIR under a name retrain writes":
        ("retrain --out folder holding test_scores.npy as an input", None),
    "rfs --annotated-out = --out": ("rfs --annotated-out = --out", None),
    "adjust --out = --export": ("adjust --out = --export", None),
    # bad values silently coerced
    "float image id 1146.7 read as 1146": ("GT image id 1.5", DET),
    "a detection on image 42.9 scored on image 42": ("results image_id 42.9", DET),
    "true read as category 1": ("results category true", DET),
    "string ids accepted": ("results image_id a string", DET),
    "string box coordinates accepted": ("results bbox coordinate a string", DET),
    "a garbage RLE accepted": ("results garbage RLE", DET),
    "rfs --frequency image_count without the field": ("rfs image_count frequency without the field", DET),
    "float class ids in classification labels (the same rule, classification side)":
        ("label 3.0 (float) with a class table", None),
    # degenerate input
    "retrain on labels with a single class": ("retrain on a single class", None),
    # messages
    "TAILSCOPE_MAX_FILE_BYTES=1000 reported '0.0 GB above 0.0 GB'": ("file above TAILSCOPE_MAX_FILE_BYTES=1000", None),
    "torch's own 'retry with weights_only=False' advice": ("classifier .pt with a pickled object", None),
    "argparse errors print pages of usage": ("usage error is one line", None),
    "a read-only --out folder named by its temp file": ("eval-cls --out in a read-only folder", None),
}


@pytest.mark.parametrize("case_id", [pytest.param(cid, id=example, marks=[m] if m else [])
                                     for example, (cid, m) in EXAMPLES.items()])
def test_issue_example(case_id, tmp_path, capsys, monkeypatch):
    case = next(c for c in CASES if c.id == case_id)
    replay(case, tmp_path, capsys, monkeypatch)


def test_retrain_model_mlp_hidden_0(tmp_path, capsys):
    """The issue's exact command: retrain --model mlp --hidden 0."""
    rc = main(["retrain", "--train-features", str(tmp_path / "f.npy"), "--train-labels", str(tmp_path / "l.csv"),
               "--method", "crt", "--model", "mlp", "--hidden", "0", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "--hidden: must be a whole number in [1, 65536], got '0'" in err
    assert list(tmp_path.iterdir()) == []


def test_retrain_library_refuses_a_single_class():
    """The app path (lt_core.heads.retrain): loss 0 and 'success' before; now a message."""
    from lt_core.errors import InputError
    from lt_core.heads import RetrainSettings, retrain

    X = {"train": np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)}
    with pytest.raises(InputError, match="at least two"):
        retrain(X, {"train": np.zeros(40, np.int64)}, 3, RetrainSettings(method="crt", epochs=1))


def test_adjust_tune_on_9000_validation_rows(tmp_path, capsys):
    """build_adjust_index crashed on some > 4,096-row score matrices and took adjust --tune-on down."""
    rng = np.random.default_rng(3)   # one of the reported seeds: 9,000 x 28
    n, c = 9000, 28
    counts = np.sort(rng.integers(1, 5000, c))[::-1]
    y = rng.integers(0, c, n)
    S = (rng.standard_normal((n, c)) * 3).astype(np.float32)
    (tmp_path / "counts.csv").write_bytes(csv("class_id,count", [f"{i},{k}" for i, k in enumerate(counts)]))
    (tmp_path / "val.csv").write_bytes(csv("label", [str(v) for v in y]))
    np.save(tmp_path / "val.npy", S)
    np.save(tmp_path / "test.npy", S[:500])
    rc = main(["adjust", "--preds", str(tmp_path / "test.npy"), "--train-counts", str(tmp_path / "counts.csv"),
               "--tune-on", str(tmp_path / "val.csv"), str(tmp_path / "val.npy"), "--export", str(tmp_path / "a.json")])
    assert rc == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "a.json").read_text())["tau"] >= 0


def _gmean_case(seed=1):
    """300 classes of 6-11 test samples, recalls 0.6-0.95: the resampled G-mean is biased low."""
    from lt_core.data.schema import ClassTable

    rng = np.random.default_rng(seed)
    c = 300
    sup = rng.integers(6, 12, c)
    y = np.repeat(np.arange(c), sup)
    rec = rng.uniform(0.6, 0.95, c)
    pred = y.copy()
    wrong = rng.random(len(y)) > rec[y]
    pred[wrong] = (y[wrong] + rng.integers(1, c, wrong.sum())) % c
    return y, pred, ClassTable(np.arange(c), [str(i) for i in range(c)], np.maximum(1, (1000 * np.exp(-np.arange(c) / 50)).astype(int)))


def test_gmean_ci_never_excludes_its_estimate_without_a_note():
    """'G-mean 33.1 %, 95 % CI [0.0 %, 32.4 %]': the percentile interval of the G-mean can lie below the
    estimate. It is now omitted, with a note that says why; the other intervals are unchanged."""
    from lt_core.metrics import classification_report
    from lt_core.metrics.bootstrap import bootstrap_confusion, bootstrap_report

    y, pred, ct = _gmean_case()
    rep = classification_report(y, pred, ct, "imagenet-lt", bootstrap=400, seed=0)
    o = rep.overall
    raw = bootstrap_report(rep.state, ct, "imagenet-lt", n_resamples=400, seed=0)["overall"]["gmean"]
    assert raw[1] < o["gmean"]                          # the raw percentile interval excludes the estimate...
    assert np.isnan(o["gmean_ci_low"]) and np.isnan(o["gmean_ci_high"])   # ...so it is not reported,
    note = rep.extra["ci_notes"]["gmean"]               # and the report says why
    assert "zero recall" in note and "below the estimate" in note
    dist = bootstrap_confusion(rep.state, ct, rep.scheme, 400, 0)["gmean"]
    assert f"{(dist < o['gmean']).mean():.0%}" in note
    for k in ("accuracy", "balanced_accuracy", "macro_f1"):  # every reported interval contains its estimate
        assert o[f"{k}_ci_low"] <= o[k] <= o[f"{k}_ci_high"]
    for name, r in rep.bins.iterrows():
        assert r["ci_low"] <= r["accuracy"] <= r["ci_high"] or np.isnan(r["ci_low"])


def test_eval_cls_prints_the_gmean_note(tmp_path, capsys):
    y, pred, ct = _gmean_case()
    (tmp_path / "counts.csv").write_bytes(csv("class_id,count", [f"{i},{k}" for i, k in enumerate(ct.train_count)]))
    (tmp_path / "test.csv").write_bytes(csv("label", [str(v) for v in y]))
    np.save(tmp_path / "pred.npy", pred)
    assert main(["eval-cls", "--labels", str(tmp_path / "test.csv"), "--preds", str(tmp_path / "pred.npy"),
                 "--train-counts", str(tmp_path / "counts.csv"), "--bootstrap", "300"]) == 0
    out = capsys.readouterr().out
    gline = next(ln for ln in out.splitlines() if ln.strip().startswith("G-mean"))
    assert "no CI (see note)" in gline and "CI [" not in gline
    assert "note: no 95% interval for gmean" in out


@pytest.mark.parametrize("seed", range(6))
def test_every_reported_ci_contains_its_estimate(seed):
    """A property over random long-tailed problems (few test samples, many classes)."""
    from lt_core.data.schema import ClassTable
    from lt_core.metrics import classification_report

    rng = np.random.default_rng(seed)
    c = int(rng.integers(3, 80))
    sup = rng.integers(1, 25, c)
    y = np.repeat(np.arange(c), sup)
    pred = np.where(rng.random(len(y)) < rng.uniform(0.2, 0.95), y, rng.integers(0, c, len(y)))
    ct = ClassTable(np.arange(c), [str(i) for i in range(c)], rng.integers(1, 500, c))
    rep = classification_report(y, pred, ct, "quantile:3", bootstrap=200, seed=seed)
    o = rep.overall
    for k in ("accuracy", "balanced_accuracy", "macro_f1", "gmean"):
        lo, hi = o[f"{k}_ci_low"], o[f"{k}_ci_high"]
        assert (np.isnan(lo) and k in rep.extra["ci_notes"]) or lo - 1e-12 <= o[k] <= hi + 1e-12, (k, lo, o[k], hi)
