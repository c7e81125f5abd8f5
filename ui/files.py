"""Files a user hands to the app: uploads kept per session and per widget; local paths confined.

Uploads
    Loaders take paths, so an upload is written to disk: one folder per session
    (``<tmp>/tailscope-uploads-<uid>/<session id>/``, mode 0700), one sub-folder per widget, so two
    uploads named ``labels.csv`` (train and test) never replace each other. The session folder is
    removed when the session ends: it is a session-scoped ``st.cache_resource`` whose release hook
    deletes it (Streamlit calls it when the session disconnects or shuts down), with a
    ``weakref.finalize`` on the same object as a second net (interpreter exit, a dropped session
    state). Folders of sessions that are gone — a killed server, a hook that never ran — are swept
    at startup and whenever a new session folder is made: a folder is removed when its server
    process is dead, or when it is this server's and its session is no longer alive.

Local paths
    The local-path fields read files on the machine that runs the app, so they are confined to the
    data roots: ``TAILSCOPE_DATA_ROOT`` (folders separated by ``:``), else ``data_roots`` under
    ``[tailscope]`` in ``.streamlit/secrets.toml``, else the working folder and the user's home.
    A path outside them (symlinks followed), or through a hidden folder below a root (``~/.ssh``),
    is refused with the same words whether it exists or not; nothing of the file is shown.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
import weakref
from pathlib import Path
from typing import Iterable

import streamlit as st

from lt_core.errors import InputError
from lt_core.io import pid_alive

__all__ = ["save_uploads", "upload_root", "session_folder", "sweep_dead_sessions", "display_paths", "data_roots",
           "confine", "DATA_ROOT_ENV", "UPLOAD_ROOT_ENV"]

_LOG = logging.getLogger("tailscope.app")
DATA_ROOT_ENV = "TAILSCOPE_DATA_ROOT"
UPLOAD_ROOT_ENV = "TAILSCOPE_UPLOAD_DIR"
_OWNER = ".owner.json"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


# ----------------------------------------------------------------------------------------------
# the per-session upload folder
# ----------------------------------------------------------------------------------------------
def upload_root() -> Path:
    """``<tmp>/tailscope-uploads-<uid>`` (or ``$TAILSCOPE_UPLOAD_DIR``), created with mode 0700."""
    base = Path(os.environ.get(UPLOAD_ROOT_ENV) or tempfile.gettempdir())
    uid = os.getuid() if hasattr(os, "getuid") else 0
    root = base / f"tailscope-uploads-{uid}"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.chmod(root, 0o700)
    except OSError:  # pragma: no cover - another user's folder: mkdir above would have failed
        pass
    return root


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"


def _alive_sessions() -> set[str] | None:
    """Ids of the sessions this server holds (None when there is no server runtime, e.g. AppTest)."""
    try:
        from streamlit import runtime

        if not runtime.exists():
            return None
        mgr = runtime.get_instance()._session_mgr  # noqa: SLF001 - no public list of sessions
        return {info.session.id for info in mgr.list_sessions()}
    except Exception:  # noqa: BLE001 - a Streamlit layout without these internals: sweep by pid only
        return None


def sweep_dead_sessions(root: Path | None = None, keep: Iterable[str] = ()) -> list[Path]:
    """Remove the upload folders of sessions that are gone; returns the folders removed.

    A folder goes when the server process that made it is dead, or when it is this process's and
    its session is not alive any more (when the session list is available). Also removes the empty
    ``tailscope_*`` folders earlier versions left in the temp folder on every rerun.
    """
    root = root or upload_root()
    keep = set(keep)
    alive = _alive_sessions()
    removed = []
    for d in list(root.iterdir()) if root.is_dir() else []:
        if not d.is_dir() or d.name in keep:
            continue
        try:
            owner = json.loads((d / _OWNER).read_text())
            pid, sid = int(owner["pid"]), str(owner["session"])
        except (OSError, ValueError, KeyError, TypeError):
            pid, sid = -1, ""
            if time.time() - d.stat().st_mtime < 3600:  # being created right now: leave it
                continue
        dead = pid < 0 or not pid_alive(pid) or (pid == os.getpid() and alive is not None and sid not in alive)
        if dead:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    legacy = Path(tempfile.gettempdir())
    for d in legacy.glob("tailscope_*"):
        try:
            if d.is_dir() and not d.is_symlink() and d.stat().st_uid == os.getuid() and not any(d.iterdir()):
                d.rmdir()
                removed.append(d)
        except OSError:
            pass
    return removed


class SessionUploads:
    """One session's upload folder; removed by :meth:`close` (release hook) or the finalizer."""

    def __init__(self, session_id: str):
        self.session_id = session_id
        self.folder = upload_root() / _SAFE.sub("_", session_id)
        self.folder.mkdir(mode=0o700, exist_ok=True)
        (self.folder / _OWNER).write_text(json.dumps({"pid": os.getpid(), "session": session_id,
                                                      "created": time.time()}))
        self.written: dict[str, str] = {}   # path -> file_id of the upload written there
        self.display: dict[str, str] = {}   # path -> what the user calls it
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.folder), True)

    def close(self) -> None:
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive


def _release(obj: SessionUploads) -> None:
    obj.close()


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def _session_uploads(session_id: str) -> SessionUploads:
    sweep_dead_sessions(keep=[_SAFE.sub("_", session_id)])
    return SessionUploads(session_id)


def session_folder() -> SessionUploads:
    """This session's upload folder (made on first use; re-made if it was removed meanwhile)."""
    up = _session_uploads(_session_id())
    if up.closed or not up.folder.is_dir() or up.folder.parent != upload_root():
        _session_uploads.clear()
        up = _session_uploads(_session_id())
    return up


def _widget_key_of(f) -> str | None:
    """The session-state key of the file-uploader widget that returned ``f`` (matched by file id)."""
    fid = getattr(f, "file_id", None)
    if fid is None:
        return None
    try:
        items = list(st.session_state.items())
    except Exception:  # noqa: BLE001
        return None
    for k, v in items:
        vals = v if isinstance(v, (list, tuple)) else [v]
        if any(getattr(x, "file_id", None) == fid for x in vals if x is not None):
            return str(k)
    return None


def save_uploads(files, widget: str | None = None) -> dict[str, str]:
    """Write uploaded files into this session's folder, one sub-folder per widget; {name: path}.

    ``widget`` names the sub-folder (default: the key of the widget the files came from, found in
    the session state, else the upload's own id), so same-named uploads of different widgets never
    replace each other. A file is written once per upload (atomically), not on every rerun; a
    widget's sub-folder keeps only its current files. Names repeated within one widget get
    ``-2``, ``-3`` ... in the returned keys. Loaders take the paths; the uploads are never changed.
    """
    from lt_core.io import write_bytes

    files = [f for f in (files or []) if f is not None]
    if not files:
        return {}
    up = session_folder()
    out: dict[str, str] = {}
    by_folder: dict[Path, set[str]] = {}
    for f in files:
        w = widget or _widget_key_of(f) or f"upload-{getattr(f, 'file_id', id(f))}"
        sub = up.folder / _SAFE.sub("_", w)[:80]
        name = Path(str(f.name)).name or "upload"
        safe = _SAFE.sub("_", name)[:120] or "upload"
        key, n = name, 1
        while key in out:
            n += 1
            stem, dot, ext = name.partition(".")
            key = f"{stem}-{n}{dot}{ext}"
        target = sub / safe if n == 1 else sub / str(n) / safe
        fid = f"{getattr(f, 'file_id', '')}:{getattr(f, 'size', -1)}"
        if up.written.get(str(target)) != fid or not target.is_file():
            sub.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_bytes(target, bytes(f.getbuffer()))
            up.written[str(target)] = fid
        up.display[str(target)] = f"{name} (uploaded)"
        by_folder.setdefault(sub, set()).add(str(target))
        out[key] = str(target)
    for sub, keep in by_folder.items():  # a widget's folder holds only its current upload(s)
        for p in sorted(sub.rglob("*"), reverse=True):
            if p.is_file() and str(p) not in keep:
                p.unlink(missing_ok=True)
                up.written.pop(str(p), None)
                up.display.pop(str(p), None)
            elif p.is_dir() and not any(p.iterdir()):
                p.rmdir()
    return out


def display_paths() -> dict[str, str]:
    """{temporary path of an upload: the name the user knows} for this session (for messages)."""
    try:
        return dict(session_folder().display)
    except Exception:  # noqa: BLE001 - outside a session
        return {}


def _sweep_at_startup() -> None:
    """Once per server process (this module is imported by the first page run)."""
    try:
        sweep_dead_sessions()
    except OSError:  # pragma: no cover - an unreadable temp folder: the per-session sweep retries
        pass


_sweep_at_startup()


# ----------------------------------------------------------------------------------------------
# local paths, confined to the data roots
# ----------------------------------------------------------------------------------------------
def data_roots() -> list[Path]:
    """The folders local paths may point into (resolved, symlinks followed)."""
    raw: list[str] = []
    env = os.environ.get(DATA_ROOT_ENV)
    if env and env.strip():
        raw = [x for x in env.split(os.pathsep) if x.strip()]
    else:
        try:
            conf = st.secrets.get("tailscope", {}) if _has_secrets() else {}
            roots = conf.get("data_roots") if hasattr(conf, "get") else None
            if isinstance(roots, str):
                raw = [roots]
            elif roots:
                raw = [str(r) for r in roots]
        except Exception:  # noqa: BLE001 - a malformed secrets file: fall back to the defaults
            raw = []
    if not raw:
        raw = [os.getcwd(), str(Path.home())]
    out = []
    for r in raw:
        p = Path(os.path.realpath(os.path.expanduser(r.strip())))
        if p not in out:
            out.append(p)
    return out


def _has_secrets() -> bool:
    for p in (Path.cwd() / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"):
        if p.is_file():
            return True
    return False


def confine(text: str | None, what: str = "") -> str | None:
    """The path typed in a local-path field, if it lies inside a data root; else :class:`InputError`.

    The check is on the resolved path (``~`` expanded, relative to the first data root, symlinks
    followed) and happens before anything is read, so the answer for a path outside the roots is
    the same whether it exists or not. A hidden folder or file below a root is refused too.
    """
    if text is None or not str(text).strip():
        return None
    t = str(text).strip()
    roots = data_roots()
    p = Path(os.path.expanduser(t))
    if not p.is_absolute():
        p = roots[0] / p
    resolved = Path(os.path.realpath(p))
    shown = ", ".join(str(r) for r in roots)
    hint = (f"upload the file, move it under {shown}, or ask whoever runs the app to add its folder to "
            f"{DATA_ROOT_ENV}")
    for r in roots:
        if resolved == r or r in resolved.parents:
            rel = resolved.relative_to(r).parts
            if any(part.startswith(".") for part in rel):
                raise InputError("goes through a hidden file or folder; the app does not read those", t,
                                 what or None, hint=hint)
            return str(resolved)
    raise InputError(f"is outside the folders this app may read ({shown})", t, what or None, hint=hint)
