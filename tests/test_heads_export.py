"""Issue 10, item 4: every exported head says what it is, and the documented plain-torch lines work.

For each method (joint, cRT, LWS, tau-norm, NCM, the cosine head of LDAM, an MLP, an MLP with LDAM's
cosine output) the head is retrained on small long-tailed features and saved; then
- ``head.safetensors`` has ``weight`` and ``bias`` (zeros where the method has none) for linear heads;
- the two code blocks of docs/exports.md (and the README's two lines) are executed verbatim on the
  export, in plain torch, and give the same predictions as ``load_head`` and as the trained head;
- ``head.pt`` (``--format torch``) holds the same tensors; a downloaded ``.safetensors`` alone loads.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from lt_core.heads import RetrainSettings, head_state_bytes, load_head, retrain, save_head

ROOT = Path(__file__).resolve().parents[1]
METHODS = {
    "joint": RetrainSettings(method="joint", epochs=2, lr=0.5),
    "crt": RetrainSettings(method="crt", epochs=2, lr=0.5),
    "lws": RetrainSettings(method="lws", epochs=2, lr=0.5),
    "tau-norm": RetrainSettings(method="tau-norm", epochs=2, lr=0.5),
    "ncm": RetrainSettings(method="ncm"),
    "ldam (cosine)": RetrainSettings(method="crt", loss="ldam-drw", epochs=2, lr=0.5),
    "mlp": RetrainSettings(method="crt", model="mlp", hidden=16, epochs=2, lr=0.5),
    "mlp + ldam": RetrainSettings(method="crt", model="mlp", hidden=16, loss="ldam-drw", epochs=2, lr=0.5),
}


def _data(seed=0, c=6, d=12):
    rng = np.random.default_rng(seed)
    counts = np.array([120, 60, 30, 15, 8, 4])[:c]
    mu = rng.normal(size=(c, d)) * 2
    X = {}
    y = {}
    for split, n in (("train", counts), ("val", np.full(c, 10)), ("test", np.full(c, 10))):
        yy = np.repeat(np.arange(c), n)
        X[split] = (mu[yy] + rng.normal(size=(len(yy), d)) + 3).astype(np.float32)  # off-centre: norm matters
        y[split] = yy
    return X, y


@pytest.fixture(scope="module")
def heads(tmp_path_factory):
    X, y = _data()
    out = {}
    base = tmp_path_factory.mktemp("heads")
    for name, s in METHODS.items():
        r = retrain(X, y, 6, s)
        d = base / re.sub(r"\W+", "_", name)
        save_head(r, d, "safetensors")
        save_head(r, base / (d.name + "_torch"), "torch")
        out[name] = (r, d, base / (d.name + "_torch"))
    return X, out


def _snippet(marker: str) -> str:
    text = (ROOT / "docs" / "exports.md").read_text()
    m = re.search(rf"<!-- {marker} -->\s*```python\n(.*?)```", text, re.S)
    assert m, marker
    return m.group(1)


def _run(code: str, head_dir: Path, X: np.ndarray) -> np.ndarray:
    ns = {"X": torch.from_numpy(X)}
    exec(code.replace("head_dir/", f"{head_dir}/"), ns)  # noqa: S102 - the documented lines, verbatim
    return ns["pred"].numpy()


@pytest.mark.parametrize("name", list(METHODS))
def test_docs_snippet_predicts_as_load_head(heads, name):
    X, out = heads
    r, d, _ = out[name]
    Xte = X["test"]
    expect = r.scores["test"].argmax(1)
    loaded = load_head(d).predict(Xte)
    np.testing.assert_allclose(loaded, r.scores["test"], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(loaded.argmax(1), expect)
    np.testing.assert_array_equal(_run(_snippet("head-any"), d, Xte), expect)
    spec = json.loads((d / "head.json").read_text())["export"]
    if spec["kind"] == "linear":
        np.testing.assert_array_equal(_run(_snippet("head-linear"), d, Xte), expect)


@pytest.mark.parametrize("name", list(METHODS))
def test_every_export_carries_weight_bias_normalisation_and_rule(heads, name):
    X, out = heads
    r, d, dt = out[name]
    state = load_file(str(d / "head.safetensors"))
    spec = json.loads((d / "head.json").read_text())["export"]
    assert spec["prediction"].startswith("argmax") and spec["logits"]
    if spec["kind"] == "linear":
        assert set(state) == {"weight", "bias"}
        assert state["weight"].shape == (6, 12) and state["bias"].shape == (6,)
        if name in ("tau-norm", "ncm", "ldam (cosine)"):          # no bias in the method: zeros, not missing
            assert torch.count_nonzero(state["bias"]) == 0
        assert spec["input_normalization"] == ("l2" if name in ("ncm", "ldam (cosine)") else "none")
    else:
        assert set(state) == {"hidden.weight", "hidden.bias", "out.weight", "out.bias"}
        assert spec["hidden_normalization"] == ("l2" if "ldam" in name else "none")
    with safe_open(str(d / "head.safetensors"), "pt") as fh:      # the file alone says it, too
        md = fh.metadata()
    assert md["input_normalization"] == spec["input_normalization"] and md["format"] == "tailscope-head"
    tstate = torch.load(dt / "head.pt", weights_only=True)        # --format torch: the same tensors
    assert set(tstate) == set(state)
    for k in state:
        torch.testing.assert_close(tstate[k], state[k])
    np.testing.assert_allclose(load_head(dt).predict(X["test"]), r.scores["test"], rtol=1e-5, atol=1e-5)


def test_readme_two_lines_for_linear_heads(heads):
    X, out = heads
    text = (ROOT / "README.md").read_text()
    m = re.search(r"```python\n(lin = torch\.nn\.Linear.*?)```", text, re.S)
    assert m and len(m.group(1).strip().splitlines()) == 2
    pre = ("import json, torch, torch.nn.functional as F\nfrom safetensors.torch import load_file\n"
           'spec = json.load(open("head_dir/head.json"))["export"]\n')
    for name, (r, d, _) in out.items():
        if json.loads((d / "head.json").read_text())["export"]["kind"] == "linear":
            np.testing.assert_array_equal(_run(pre + m.group(1), d, X["test"]), r.scores["test"].argmax(1))


def test_downloaded_safetensors_alone_loads(heads, tmp_path):
    X, out = heads
    r, _, _ = out["ncm"]
    f = tmp_path / "my_head.safetensors"
    f.write_bytes(head_state_bytes(r.head, "safetensors"))   # what the Retrain page's download holds
    np.testing.assert_allclose(load_head(f).predict(X["test"]), r.scores["test"], rtol=1e-5, atol=1e-5)


def test_version_1_folders_still_load(heads, tmp_path):
    """Folders written before the export spec (format_version 1: the module's own state dict)."""
    from safetensors.torch import save_file

    X, out = heads
    r, d, _ = out["lws"]
    meta = json.loads((d / "head.json").read_text())
    del meta["export"]
    meta["format_version"] = 1
    (tmp_path / "head.json").write_text(json.dumps(meta))
    save_file({k: v.contiguous() for k, v in r.head.state_dict().items()}, str(tmp_path / "head.safetensors"))
    np.testing.assert_allclose(load_head(tmp_path).predict(X["test"]), r.scores["test"], rtol=1e-5, atol=1e-5)
