"""lt_core.io: the output guard, atomic writes, streamed writes, and kill -9 in the middle of a write.

kill -9 tests run real subprocesses that are stopped at a known point inside a write (the child
patches one call to print a marker and sleep): a single file (``write_npy``, half of the bytes
written, and all written but not yet renamed) and a folder (``retrain --out``, killed while it
writes the folder's files). Each leaves the old complete output, or nothing; the stale temporary
file / folder is removed by the next run's guard.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from lt_core.cli import main
from lt_core.errors import InputError
from lt_core.io import (OUTPUT_MARKER, IOPaths, atomic_dir, guard_outputs, sweep_stale_temps, user_path, write_json,
                        write_npy)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from robustness_corpus import (COUNTS_CSV, FEATS_TEST_NPY, FEATS_TRAIN_NPY, SCORES_NPY, TEST_CSV,  # noqa: E402
                               TRAIN_CSV)


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


# ---------------------------------------------------------------- streamed, atomic writes

def test_write_npy_streams_without_copying_the_array(tmp_path):
    """The issue measured a 4.4x peak; a streamed np.save into the open file adds ~nothing."""
    a = np.random.default_rng(0).random((4000, 2000)).astype(np.float32)   # 32 MB
    for arr in (a, a[:, ::2], np.asfortranarray(a)):
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        write_npy(tmp_path / "a.npy", arr)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        assert peak < 0.05 * arr.nbytes, (peak, arr.nbytes)
        np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), arr)
    assert [p.name for p in tmp_path.iterdir()] == ["a.npy"]


def test_writes_go_through_a_symlink_to_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "r.json"
    target.write_text("{}")
    link = tmp_path / "r.json"
    link.symlink_to(target)
    write_json(link, {"a": 1})
    assert link.is_symlink() and json.loads(target.read_text()) == {"a": 1}
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["r.json"]


def test_atomic_dir_replaces_an_old_output_as_a_whole(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as t:
        (t / "a.txt").write_text("old")
        (t / "old_only.txt").write_text("x")
    marker = json.loads((out / OUTPUT_MARKER).read_text())
    assert marker["files"] == ["a.txt", "old_only.txt"]
    guard_outputs(IOPaths(output_dirs={"--out": (out, ["a.txt"])}))  # an earlier output may be replaced
    with atomic_dir(out) as t:
        assert not (out / "new.txt").exists()   # the old folder is intact while the new one is written
        (t / "a.txt").write_text("new")
        (t / "new.txt").write_text("y")
    assert sorted(p.name for p in out.iterdir()) == sorted([OUTPUT_MARKER, "a.txt", "new.txt"])
    assert (out / "a.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]           # no temporary left


def test_atomic_dir_failure_keeps_the_old_output(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as t:
        (t / "a.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as t:
            (t / "a.txt").write_text("half")
            raise RuntimeError("killed")
    assert (out / "a.txt").read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_sweep_removes_temps_of_dead_writers_only(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    stale = tmp_path / f".r.json.{dead}.abc123.tmp"
    live = tmp_path / f".r.json.{alive}.def456.tmp"
    stale_dir = tmp_path / f".head.{dead}.xyz.tmpdir"
    other = tmp_path / f".other.json.{dead}.q.tmp"
    for p in (stale, live, other):
        p.write_text("partial")
    stale_dir.mkdir()
    (stale_dir / "head.json").write_text("{}")
    assert sweep_stale_temps(tmp_path / "r.json") == [stale]
    assert sweep_stale_temps(tmp_path / "head") == [stale_dir]
    assert live.exists() and other.exists()   # a live writer's, and another target's, are left alone


def test_user_path_names_the_target_not_the_temp():
    assert user_path("/x/y/.report.json.1234.ab_c9.tmp") == "/x/y/report.json"
    assert user_path("/x/y/.head.77.zz.tmpdir") == "/x/y/head"
    assert user_path("/x/y/report.json") == "/x/y/report.json"


def test_an_oserror_on_a_temp_file_names_the_users_file(tmp_path, capsys, monkeypatch):
    import lt_core.cli.eval_cls as E

    for name, content in (("test.csv", TEST_CSV), ("scores.npy", SCORES_NPY), ("counts.csv", COUNTS_CSV)):
        (tmp_path / name).write_bytes(content)

    def denied(path, obj):
        raise PermissionError(13, "Permission denied", str(Path(path).parent / f".{Path(path).name}.99.abc.tmp"))

    monkeypatch.setattr(E, "write_json", denied)
    rc = main(["eval-cls", "--labels", str(tmp_path / "test.csv"), "--preds", str(tmp_path / "scores.npy"),
               "--train-counts", str(tmp_path / "counts.csv"), "--out", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert rc == 2 and err.strip() == f"error: {tmp_path / 'r.json'}: Permission denied"


def _immutable(p: Path, on: bool) -> None:
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i" if on else "-i", str(p)], capture_output=True).returncode:
            pytest.skip("chattr is not available here")
    else:
        os.chmod(p, 0o555 if on else 0o755)


def test_read_only_output_folder_is_reported_before_any_work(tmp_path, capsys, monkeypatch):
    """Issue 10: a read-only --out folder was reported by naming the temp file, after the evaluation ran."""
    import lt_core.cli.eval_cls as E

    for name, content in (("test.csv", TEST_CSV), ("scores.npy", SCORES_NPY), ("counts.csv", COUNTS_CSV)):
        (tmp_path / name).write_bytes(content)
    ro = tmp_path / "ro"
    ro.mkdir()

    def no_work(*a, **k):
        raise AssertionError("the evaluation ran before the output folder was checked")

    monkeypatch.setattr(E, "load_labels", no_work)
    _immutable(ro, True)
    try:
        rc = main(["eval-cls", "--labels", str(tmp_path / "test.csv"), "--preds", str(tmp_path / "scores.npy"),
                   "--train-counts", str(tmp_path / "counts.csv"), "--bootstrap", "100000", "--out",
                   str(ro / "report.json")])
    finally:
        _immutable(ro, False)
    err = capsys.readouterr().err
    assert rc == 2 and f"the folder '{ro}' is not writable" in err and ".tmp" not in err
    assert list(ro.iterdir()) == []


# ---------------------------------------------------------------- kill -9

def _child(code: str, marker: str, tmp_path: Path, timeout: float = 120) -> None:
    """Run ``code`` in a child python, wait for ``marker`` on its stdout, then SIGKILL it."""
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(code))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                         text=True)
    t0 = time.time()
    try:
        while True:
            line = p.stdout.readline()
            if marker in line:
                break
            if not line and p.poll() is not None:
                raise AssertionError(f"child ended before {marker!r}: {p.stderr.read()[-2000:]}")
            if time.time() - t0 > timeout:
                raise AssertionError("child too slow")
        os.kill(p.pid, signal.SIGKILL)
    finally:
        p.wait(timeout=30)
    assert p.returncode == -signal.SIGKILL


@pytest.mark.parametrize("when", ["half of the bytes written", "written, not yet renamed"])
def test_kill_9_during_write_npy_keeps_the_old_file_and_the_next_run_sweeps(tmp_path, when):
    target = tmp_path / "scores.npy"
    old = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(target, old)
    before = _sha(target)
    patch = ("""
        real = np.save
        def save(fh, arr, allow_pickle=False):
            buf = io.BytesIO(); real(buf, arr); data = buf.getvalue()
            fh.write(data[: len(data) // 2]); fh.flush()
            print("MARK", flush=True); time.sleep(600)
        np.save = save
    """ if when.startswith("half") else """
        def fsync(fd):
            print("MARK", flush=True); time.sleep(600)
        os.fsync = fsync
    """)
    _child(f"""
        import io, os, time
        import numpy as np
        from lt_core.io import write_npy
        {textwrap.indent(textwrap.dedent(patch), '        ').strip()}
        write_npy({str(target)!r}, np.random.default_rng(0).random((2000, 500)))
    """, "MARK", tmp_path)
    assert _sha(target) == before                        # the old complete file
    stale = [p for p in tmp_path.iterdir() if p.name.startswith(".scores.npy.")]
    assert len(stale) == 1 and stale[0].stat().st_size > 0
    guard_outputs(IOPaths(outputs={"--out": target}))    # the next run's guard
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child.py", "scores.npy"]
    np.testing.assert_array_equal(np.load(target), old)


def _retrain_files(d: Path) -> list[str]:
    for name, content in (("ftr.npy", FEATS_TRAIN_NPY), ("train.csv", TRAIN_CSV), ("fte.npy", FEATS_TEST_NPY),
                          ("test.csv", TEST_CSV)):
        (d / name).write_bytes(content)
    return ["retrain", "--train-features", str(d / "ftr.npy"), "--train-labels", str(d / "train.csv"),
            "--test-features", str(d / "fte.npy"), "--test-labels", str(d / "test.csv"), "--method", "crt",
            "--epochs", "2", "--quiet", "--out", str(d / "head")]


@pytest.mark.slow
@pytest.mark.parametrize("previous", [False, True], ids=["no previous output", "a previous output"])
def test_kill_9_during_retrain_leaves_the_old_folder_or_none(tmp_path, previous, capsys):
    argv = _retrain_files(tmp_path)
    out = tmp_path / "head"
    old = None
    if previous:
        assert main(argv) == 0
        old = {p.name: _sha(p) for p in out.iterdir()}
        assert "report.json" in old
    _child(f"""
        import sys, time
        import lt_core.cli.retrain as R
        real = R.write_npy
        def write_npy(path, arr):
            real(path, arr)
            print("MARK", flush=True); time.sleep(600)   # killed with head.*, history.csv and scores written
        R.write_npy = write_npy
        from lt_core.cli import main
        sys.exit(main({argv!r}))
    """, "MARK", tmp_path)
    stale = [p for p in tmp_path.iterdir() if p.name.startswith(".head.") and p.name.endswith(".tmpdir")]
    assert len(stale) == 1 and (stale[0] / "head.json").exists() and not (stale[0] / "report.json").exists()
    if previous:
        assert {p.name: _sha(p) for p in out.iterdir()} == old     # the old complete folder
    else:
        assert not out.exists()                                    # nothing that looks complete
    capsys.readouterr()
    assert main(argv) == 0                                         # the next run sweeps and writes it whole
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".head.")]
    assert {"head.safetensors", "head.json", "history.csv", "test_scores.npy", "report.json", OUTPUT_MARKER} <= \
        {p.name for p in out.iterdir()}


def test_guard_refuses_an_output_file_inside_an_output_folder(tmp_path):
    with pytest.raises(InputError, match="inside the output folder given as --out"):
        guard_outputs(IOPaths(outputs={"--export": tmp_path / "head" / "x.json"},
                              output_dirs={"--out": (tmp_path / "head", ["head.json"])}))
