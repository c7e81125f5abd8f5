"""Native records of the kernels (``lt_core.detection._native``): whatever goes wrong with a record,
the evaluation falls back to numba's dispatcher and gives the very same numbers.

In-process tests (numba is loaded here): a tiny scene (``test_detection_exact._tiny_scene``, ties,
crowd, area edges, federated fields) written as JSON files and read by the compiled readers, then
evaluated; every table is compared with the pure-NumPy path (``_jit.set_backend("numpy")``, the
reference the kernels are tested against in test_detection_kernels / test_detection_exact).
Subprocess tests: ``eval-det`` reports of fresh processes (records written by three processes at
once, records run without numba, then numba in the same process, damaged records,
``TAILSCOPE_NATIVE=0`` and ``TAILSCOPE_KERNELS=numpy``) are byte-identical.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lt_core.detection import _jit, _native, evaluate_detections
from lt_core.detection.fastjson import load_gt_fast, load_results_fast

sys.path.insert(0, str(Path(__file__).parent))
from test_detection_exact import _tiny_scene  # noqa: E402
from test_detection_kernels import _assert_same  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"


def _reset():
    _native._ENTRIES.clear()
    _native._RECORDED.clear()
    _native._STAMP.clear()


@pytest.fixture
def native_dir(tmp_path, monkeypatch):
    """An empty record folder, native calls on, no record of this process remembered."""
    d = tmp_path / "native"
    monkeypatch.setenv("TAILSCOPE_NATIVE_DIR", str(d))
    monkeypatch.setenv("TAILSCOPE_NATIVE", "1")
    _reset()
    yield d
    _reset()


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """An LVIS-style tiny scene as files, and its NumPy-path evaluation."""
    d = tmp_path_factory.mktemp("scene")
    gd, dets = _tiny_scene(3, True)
    (d / "gt.json").write_text(json.dumps(gd))
    (d / "dt.json").write_text("[\n" + ",\n".join(json.dumps(x) for x in dets) + "\n]\n")
    old = _jit.set_backend("numpy")
    try:
        ref = _evaluate(d)
    finally:
        _jit.set_backend(old)
    return d, ref


def _evaluate(d):
    gt = load_gt_fast(d / "gt.json")
    res = load_results_fast(d / "dt.json", gt)
    return evaluate_detections(gt, res, style="lvis")


def _run(d, ref):
    """Evaluate with the kernels; the same tables as the NumPy path. Returns the native entries
    this process used ({kernel: loaded or not})."""
    assert _jit.use_kernels()
    _assert_same(_evaluate(d), ref)
    return {name: f is not None for (name, _), f in _native._ENTRIES.items()}


def _records(d):
    return sorted(d.glob("*.native"))


def test_records_are_written_whole_then_run(native_dir, scene):
    used = _run(*scene)
    assert used and not any(used.values())  # nothing recorded yet: numba ran every kernel
    recs = _records(native_dir)
    assert {p.name.split(".")[0] for p in recs} >= {"_scan_gt_kernel", "_scan_region", "match_bbox",
                                                   "accumulate_classes"}
    assert not list(native_dir.glob(".*.tmp"))
    _reset()
    used = _run(*scene)
    assert {n for n, ok in used.items() if ok} >= {"_scan_gt_kernel", "_scan_region", "match_bbox",
                                                  "accumulate_classes"}


def _damage(p: Path, how: str) -> None:
    raw = p.read_bytes()
    head, _, obj = raw.partition(b"\n")
    if how == "flip":  # object code differs from its checksum
        p.write_bytes(raw[:-1] + bytes([raw[-1] ^ 0xFF]))
    elif how == "truncate":
        p.write_bytes(raw[: len(head) + 1 + len(obj) // 2])
    elif how == "header":
        p.write_bytes(b"\x00\xffnot json" + raw[len(head):])
    elif how == "empty":
        p.write_bytes(b"")
    elif how == "stamp":  # a record of another kernels.py / numba / CPU: checksum still right
        h = json.loads(head)
        h["stamp"] = "0" * 64
        p.write_bytes(json.dumps(h).encode() + b"\n" + obj)
    elif how == "symbol":  # refers to a function this process does not have
        h = json.loads(head)
        h["symbols"] = h["symbols"] + ["tailscope_no_such_symbol"]
        p.write_bytes(json.dumps(h).encode() + b"\n" + obj)
    elif how == "folder":
        p.unlink()
        p.mkdir()


@pytest.mark.parametrize("how", ["flip", "truncate", "header", "empty", "stamp", "symbol", "folder"])
def test_damaged_records_fall_back_to_numba_with_identical_results(native_dir, scene, how):
    _run(*scene)
    recs = _records(native_dir)
    assert recs
    for p in recs:
        _damage(p, how)
    _reset()
    used = _run(*scene)  # identical tables (asserted in _run)
    assert not any(used.values()), used
    if how != "folder":  # the records are written again, whole, and run next time
        _reset()
        used = _run(*scene)
        assert sum(used.values()) >= 4, used


def test_folder_that_cannot_be_written(tmp_path, monkeypatch, scene):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("TAILSCOPE_NATIVE_DIR", str(tmp_path / "file" / "native"))  # even root cannot
    _reset()
    try:
        used = _run(*scene)
        assert not any(used.values())
    finally:
        _reset()


def test_failed_write_leaves_no_partial_record(native_dir, scene, monkeypatch):
    replace = os.replace

    def failing(src, dst, *a, **k):
        if str(dst).endswith(".native"):
            raise OSError("disk full")
        return replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", failing)
    _run(*scene)
    assert native_dir.is_dir() and not list(native_dir.iterdir())


def test_without_llvmlite(native_dir, scene, monkeypatch):
    def no_llvmlite():
        raise ImportError("No module named 'llvmlite'")

    _run(*scene)  # records exist
    _reset()
    monkeypatch.setattr(_native, "_llvm", no_llvmlite)
    used = _run(*scene)
    assert used and not any(used.values())


def test_native_failure_runs_the_dispatcher(native_dir, scene, monkeypatch):
    """A native call that reports an error (or cannot convert its arguments) is run by numba."""
    calls = []

    def failing(*args):
        calls.append(len(args))
        raise _native.NativeFailed("status 1")

    monkeypatch.setattr(_native, "lookup", lambda name, args: failing)
    _run(*scene)
    assert calls


def test_native_off_does_not_look_records_up(native_dir, scene, monkeypatch):
    _run(*scene)
    _reset()
    monkeypatch.setenv("TAILSCOPE_NATIVE", "0")
    monkeypatch.setattr(_native, "lookup", lambda name, args: pytest.fail("looked up with TAILSCOPE_NATIVE=0"))
    _run(*scene)


def test_old_records_of_other_stamps_are_pruned(native_dir, scene):
    _run(*scene)
    p = _records(native_dir)[0]
    stem = p.name.rsplit(".", 2)[0]
    old, recent = native_dir / f"{stem}.{'a' * 16}.native", native_dir / f"{stem}.{'b' * 16}.native"
    for q in (old, recent):
        q.write_bytes(b"{}\n")
    os.utime(old, (1e9, 1e9))
    p.unlink()
    _reset()
    _run(*scene)
    assert p.exists() and recent.exists() and not old.exists()


_EVAL = r"""
import json, os, sys
from lt_core.cli import main
rc = main(["eval-det", "--gt", sys.argv[1], "--dt", sys.argv[2], "--out", sys.argv[3]])
info = {"rc": rc, "numba": "numba" in sys.modules, "scipy": "scipy" in sys.modules}
if len(sys.argv) > 4:  # then numba in the same process: dispatcher, and a new function that allocates / raises
    os.environ["TAILSCOPE_NATIVE"] = "0"
    rc2 = main(["eval-det", "--gt", sys.argv[1], "--dt", sys.argv[2], "--out", sys.argv[4]])
    import numpy as np
    from numba import njit

    @njit
    def alloc_raise(n):
        a = np.arange(n) * 2
        if a.sum() > 10:
            raise ValueError("big")
        return a

    try:
        alloc_raise(10)
        raised = False
    except ValueError:
        raised = True
    info.update(rc2=rc2, numba_after=True, raised=raised, alloc=alloc_raise(3).tolist())
print(json.dumps(info))
"""


def test_records_in_fresh_processes_give_byte_identical_reports(tmp_path):
    """Three processes record at once into an empty folder; the next runs the records without
    numba, then numba (its dispatcher, a new function that allocates and raises) in the same
    process; damaged records; TAILSCOPE_NATIVE=0; TAILSCOPE_KERNELS=numpy: one report."""
    gt = DATA / "coco_val2014_100" / "instances_val2014_100.json.gz"
    dt = DATA / "coco_val2014_100" / "instances_val2014_fakebbox100_results.json.gz"
    native = tmp_path / "native"
    env = dict(os.environ, TAILSCOPE_NATIVE_DIR=str(native), PYTHONPATH=str(ROOT))
    for k in ("TAILSCOPE_NATIVE", "TAILSCOPE_KERNELS"):
        env.pop(k, None)

    def start(tag, extra=(), **over):
        cmd = [sys.executable, "-c", _EVAL, str(gt), str(dt), str(tmp_path / f"{tag}.json"),
               *[str(tmp_path / f"{tag}{x}.json") for x in extra]]
        return subprocess.Popen(cmd, env=dict(env, **over), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

    def done(p, tag):
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
        return json.loads(out.strip().splitlines()[-1]), (tmp_path / f"{tag}.json").read_bytes()

    procs = [start(f"first{i}") for i in range(3)]
    firsts = [done(p, f"first{i}") for i, p in enumerate(procs)]
    rep = firsts[0][1]
    for info, r in firsts:
        assert info["rc"] == 0 and info["numba"] and r == rep
    records = sorted(native.glob("*.native"))
    assert {p.name.split(".")[0] for p in records} >= {"_scan_gt_kernel", "_scan_region", "match_bbox",
                                                       "accumulate_classes"}
    assert not list(native.glob(".*.tmp"))

    info, r = done(start("second", ["b"]), "second")
    assert info == {"rc": 0, "numba": False, "scipy": False, "rc2": 0, "numba_after": True, "raised": True,
                    "alloc": [0, 2, 4]}
    assert r == rep and (tmp_path / "secondb.json").read_bytes() == rep

    for p in records:
        _damage(p, "flip")
    info, r = done(start("third"), "third")
    assert info["numba"] and r == rep

    info, r = done(start("off", TAILSCOPE_NATIVE="0"), "off")
    assert info["numba"] and r == rep
    info, r = done(start("numpy", TAILSCOPE_KERNELS="numpy"), "numpy")
    assert not info["numba"] and r == rep
