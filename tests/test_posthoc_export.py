"""Adjustment files: the two usage lines, run as written, give the same decisions as lt_core."""
import json

import numpy as np
import pytest

from lt_core.errors import InputError
from lt_core.posthoc import (apply_adjustment, bias_spec, log_prior, logit_adjust, logit_adjustment_spec,
                             predict_with_bias, read_adjustment, tau_norm_scores, tau_norm_spec, thresholds_spec,
                             tune_thresholds, write_adjustment)


def _run_usage(path, **env):
    """Execute the file's own two lines in a fresh namespace with the given arrays."""
    spec = json.loads(path.read_text())
    ns = {"np": np, "json": json, "open": lambda _p: open(path), **env}
    for line in spec["usage"]:
        exec(line, ns)
    return ns["pred"]


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    counts = np.array([900, 300, 60, 12, 4])
    z = rng.normal(size=(400, 5)).astype(np.float32)
    return counts, z


def test_logit_adjustment_file(tmp_path, arrays):
    counts, z = arrays
    spec = logit_adjustment_spec(counts, 0.8, class_ids=[10, 11, 12, 13, 14], tuning={"objective": "x"})
    p = write_adjustment(tmp_path / "adjustment.json", spec)
    got = _run_usage(p, logits=z)
    np.testing.assert_array_equal(got, logit_adjust(z, counts / counts.sum(), 0.8).argmax(1))
    np.testing.assert_array_equal(got, (z - 0.8 * log_prior(counts)).argmax(1))
    back = read_adjustment(p)
    assert back["tau"] == 0.8 and back["method"] == "logit_adjustment" and len(back["offset"]) == 5
    np.testing.assert_array_equal(apply_adjustment(back, z), got)


def test_probability_rescaling_file(tmp_path, arrays):
    counts, z = arrays
    P = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    p = write_adjustment(tmp_path / "adjustment.json", logit_adjustment_spec(counts, 1.0, input_kind="probs"))
    prior = counts / counts.sum()
    np.testing.assert_array_equal(_run_usage(p, probs=P), (P / prior).argmax(1))


def test_tau_norm_file(tmp_path):
    rng = np.random.default_rng(1)
    W = rng.normal(size=(5, 6)) * np.array([3, 2, 1, 0.5, 0.2])[:, None]
    X = rng.normal(size=(100, 6)).astype(np.float32)
    p = write_adjustment(tmp_path / "adjustment.json", tau_norm_spec(W, 1.0))
    np.testing.assert_array_equal(_run_usage(p, X=X, W=W), tau_norm_scores(X, W, 1.0).argmax(1))


def test_thresholds_and_bias_files(tmp_path):
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 300)
    S = rng.random((300, 3))
    S[np.arange(300), y] += 0.3
    res = tune_thresholds(y, S, "f1")
    res.thresholds[1] = np.inf                              # a class never predicted
    p = write_adjustment(tmp_path / "thr.json", thresholds_spec(res.thresholds, objective="f1"))
    got = _run_usage(p, scores=S)
    np.testing.assert_array_equal(got, S >= res.thresholds)
    assert not got[:, 1].any()
    q = write_adjustment(tmp_path / "bias.json", bias_spec(-res.thresholds))
    got = _run_usage(q, scores=S)
    np.testing.assert_array_equal(got, predict_with_bias(S, -res.thresholds))
    assert (got != 1).all()


def test_bad_files(tmp_path):
    bad = tmp_path / "a.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="a.json"):
        read_adjustment(bad)
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(InputError, match="format"):
        read_adjustment(bad)
    with pytest.raises(InputError, match="class_ids"):
        logit_adjustment_spec([3, 4], 1.0, class_ids=[1])
