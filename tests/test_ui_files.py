"""ui/files.py without a browser: upload folders (finalizer, sweep of dead sessions), the data roots and
the confinement of local paths; ui/errors.py's GUI wording; the server settings file."""
from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from lt_core.errors import InputError
from ui import files
from ui.errors import gui_text, message

ROOT = Path(__file__).resolve().parents[1]


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.fixture
def upload_root(tmp_path, monkeypatch):
    monkeypatch.setenv(files.UPLOAD_ROOT_ENV, str(tmp_path))
    return files.upload_root()


def test_upload_root_is_private(upload_root):
    assert upload_root.name.startswith("tailscope-uploads-") and (upload_root.stat().st_mode & 0o777) == 0o700


def test_a_dropped_session_object_removes_its_folder(upload_root):
    up = files.SessionUploads("abc-123")
    (up.folder / "w" ).mkdir()
    (up.folder / "w" / "labels.csv").write_text("label\n1\n")
    folder = up.folder
    assert folder.is_dir() and json.loads((folder / ".owner.json").read_text())["pid"] == os.getpid()
    del up
    gc.collect()
    assert not folder.exists()


def test_release_hook_removes_the_folder(upload_root):
    up = files.SessionUploads("s1")
    files._release(up)
    assert up.closed and not up.folder.exists()


def test_sweep_removes_folders_of_dead_servers_and_dead_sessions(upload_root, monkeypatch):
    dead = upload_root / "old-session"
    dead.mkdir()
    (dead / ".owner.json").write_text(json.dumps({"pid": _dead_pid(), "session": "old-session"}))
    gone = upload_root / "gone"
    gone.mkdir()
    (gone / ".owner.json").write_text(json.dumps({"pid": os.getpid(), "session": "gone"}))
    live = upload_root / "live"
    live.mkdir()
    (live / ".owner.json").write_text(json.dumps({"pid": os.getpid(), "session": "live"}))
    other_server = upload_root / "other"
    other_server.mkdir()
    (other_server / ".owner.json").write_text(json.dumps({"pid": os.getppid(), "session": "other"}))
    monkeypatch.setattr(files, "_alive_sessions", lambda: {"live"})
    removed = files.sweep_dead_sessions(upload_root)
    assert sorted(p.name for p in removed if p.parent == upload_root) == ["gone", "old-session"]
    assert live.exists() and other_server.exists()
    # without a session list (no server runtime), only dead servers' folders go
    monkeypatch.setattr(files, "_alive_sessions", lambda: None)
    assert [p for p in files.sweep_dead_sessions(upload_root) if p.parent == upload_root] == []


def test_data_roots_from_the_environment_and_the_defaults(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    monkeypatch.setenv(files.DATA_ROOT_ENV, f"{a}{os.pathsep}{b}")
    assert files.data_roots() == [a.resolve(), b.resolve()]
    monkeypatch.delenv(files.DATA_ROOT_ENV)
    monkeypatch.chdir(tmp_path)
    assert files.data_roots() == [tmp_path.resolve(), Path.home().resolve()]


def test_data_roots_from_the_secrets_file(tmp_path, monkeypatch):
    import streamlit as st

    monkeypatch.delenv(files.DATA_ROOT_ENV)
    (tmp_path / ".streamlit").mkdir()
    data = tmp_path / "datasets"
    data.mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(f'[tailscope]\ndata_roots = ["{data}"]\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(st.secrets, "_secrets", None, raising=False)
    try:
        assert files.data_roots() == [data.resolve()]
    finally:
        monkeypatch.setattr(st.secrets, "_secrets", None, raising=False)


def test_confine(tmp_path, monkeypatch):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "x.csv").write_text("label\n1\n")
    (root / "escape").symlink_to("/etc")
    monkeypatch.setenv(files.DATA_ROOT_ENV, str(root))
    assert files.confine(str(root / "sub" / "x.csv")) == str(root / "sub" / "x.csv")
    assert files.confine("sub/x.csv") == str(root / "sub" / "x.csv")           # relative to the first root
    assert files.confine(" ") is None and files.confine(None) is None
    for bad, words in (("/etc/passwd", "outside"), (str(root / "escape" / "passwd"), "outside"),
                       (str(root / "sub" / ".." / ".." / "x"), "outside"), (str(root / ".git" / "config"), "hidden")):
        with pytest.raises(InputError, match=words):
            files.confine(bad)
    # the hidden rule applies below a root only: a root may itself be a hidden folder
    hidden_root = tmp_path / ".cache" / "data"
    hidden_root.mkdir(parents=True)
    monkeypatch.setenv(files.DATA_ROOT_ENV, str(hidden_root))
    assert files.confine(str(hidden_root / "a.csv")) == str(hidden_root / "a.csv")


def test_gui_wording_has_no_command_line_flags():
    e = InputError("--iou-type segm needs 'segmentation' in the ground-truth annotations", "gt.json",
                   "annotations.segmentation", hint="use --iou-type bbox")
    text, bug = message(e, "Could not load")
    assert not bug and "--" not in text
    assert text == ("Could not load: gt.json: field 'annotations.segmentation': the IoU type \"segm\" needs "
                    "'segmentation' in the ground-truth annotations (hint: choose the IoU type \"bbox\")")
    assert gui_text("(hint: pass --pseudo-count 1 to give classes a prior)") == \
        "(hint: set the pseudo-count to 1 to give classes a prior)"
    assert gui_text("field '--val-labels': --val-labels is missing") == \
        "field 'validation labels file': the validation labels file is missing"
    text, bug = message(KeyError("secret content"), "x")
    assert bug and "secret" not in text and "please report" in text


def test_server_settings_lock_the_server_to_its_user():
    conf = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert conf["server"]["address"] == "127.0.0.1"
    assert conf["client"]["showErrorDetails"] == "none"
    assert conf["server"]["fileWatcherType"] == "none"       # no recursive watch of the repo (and .venv)
    assert ".venv" in conf["server"]["folderWatchBlacklist"]
    assert conf["server"]["enableXsrfProtection"] is True and conf["server"]["enableCORS"] is True


def test_dev_py_binds_loopback_unless_told_otherwise():
    sys.path.insert(0, str(ROOT))
    import dev

    assert dev.app_args([]) == ["--server.address", "127.0.0.1"]
    assert dev.app_args(["--server.address", "0.0.0.0"]) == ["--server.address", "0.0.0.0"]
    assert dev.app_args(["--server.address=10.0.0.5", "--server.port", "9000"]) == \
        ["--server.address=10.0.0.5", "--server.port", "9000"]
