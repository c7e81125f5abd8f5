"""Guarded, atomic outputs.

Every output of Tailscope goes through this module:

* :func:`guard_outputs` runs *before any work* (the CLI calls it for every subcommand from the
  subcommand's ``io_paths(args)``): each output differs from every input and from every other
  output (resolved paths, symlinks followed), files written into an output folder never shadow
  an input there, the target folder is creatable and writable, and stale temporary files left
  by earlier killed writes are swept.
* single files are written to a temporary sibling (``.NAME.<pid>.<random>.tmp``) and renamed
  into place (:func:`atomic_open`), so a reader or a crashed run never sees half a file;
* a multi-file output (a folder) is written into a temporary sibling folder and renamed into
  place as a whole (:func:`atomic_dir`): it exists complete or not at all.

Writes stream to disk (``np.save`` into the open file) rather than building the bytes in memory.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from .errors import InputError

__all__ = ["IOPaths", "OUTPUT_MARKER", "guard_outputs", "sweep_stale_temps", "user_path", "atomic_open", "atomic_dir", "write_bytes",
           "write_text", "write_json", "write_csv", "write_npy", "write_npz", "write_torch", "to_jsonable"]

PathLike = str | os.PathLike
#: file written into every folder output by :func:`atomic_dir`: marks it as replaceable
OUTPUT_MARKER = ".tailscope-output.json"
_TMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp(dir)?$")


# ----------------------------------------------------------------------------------------------
# the guard
# ----------------------------------------------------------------------------------------------
@dataclass
class IOPaths:
    """What one command reads and writes, by the option that names each path.

    Attributes
    ----------
    inputs : {option: path or list of paths or None}
        Every file or folder the command reads (``None`` entries are ignored).
    outputs : {option: path or None}
        Every single file the command writes.
    output_dirs : {option: (folder, names)}
        Folders the command writes as a whole, with the file names it writes into them.
    """

    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    output_dirs: dict[str, tuple[Any, Sequence[str]]] = field(default_factory=dict)


def _resolved(p: PathLike) -> Path:
    """Absolute path with ``~`` expanded and every symlink followed (also of missing tails)."""
    return Path(os.path.realpath(os.path.expanduser(os.fspath(p))))


def _flatten(inputs: Mapping[str, Any]) -> list[tuple[str, Path]]:
    out = []
    for flag, v in inputs.items():
        if v is None:
            continue
        vals = v if isinstance(v, (list, tuple)) else [v]
        for x in vals:
            if x is not None and str(x) != "":
                out.append((flag, _resolved(x)))
    return out


def _first_existing_parent(p: Path) -> Path:
    q = p
    while not (q.exists() or q.is_symlink()):
        if q.parent == q:
            break
        q = q.parent
    return q


def _probe_writable(folder: Path) -> bool:
    """True when a file can really be created in ``folder`` (permissions, read-only mounts,
    immutable folders, ACLs: ``os.access`` is not enough, e.g. for root)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".tailscope-probe.", dir=folder)
    except OSError:
        return False
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError:
        pass
    return True


def _check_writable_folder(folder: Path, shown: str, flag: str) -> None:
    """``folder`` exists as a writable directory or can be created (checked by a real probe)."""
    base = _first_existing_parent(folder)
    if not base.is_dir():
        what = f"'{base}' is a file, not a folder" if base == folder else \
            f"'{base}' is a file, so the folder '{folder}' cannot be created"
        raise InputError(what, shown, flag, hint="choose an output path whose folders are folders")
    if not _probe_writable(base):
        where = f"the folder '{base}'" + ("" if base == folder else f" (where '{folder}' would be created)")
        raise InputError(f"{where} is not writable", shown, flag, hint="choose an output location you can write to")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def guard_outputs(paths: IOPaths) -> None:
    """Refuse, before any work, outputs that would overwrite inputs, collide, or cannot be written.

    Checks, on resolved paths (``~`` expanded, symlinks followed, hard links detected):

    * an output file is not an input, not inside an input folder, not an existing folder;
    * an output folder is not an existing file, holds no input and is not inside an input
      folder, and is new, empty or an earlier Tailscope output (:data:`OUTPUT_MARKER`);
    * no two outputs share a path, and no output file lies in an output folder (replaced whole);
    * the folder each output is written in (or created under) is writable: checked with a real
      probe file, and reported by the folder's name;
    * stale temporary files and folders of earlier killed writes to the same targets are removed.

    Raises
    ------
    InputError
        Naming the output option and path, and what is wrong.
    """
    ins = _flatten(paths.inputs)
    in_dirs = [(flag, p) for flag, p in ins if p.is_dir()]
    targets: list[tuple[str, str, Path]] = []  # (flag, shown path, resolved)
    folders: list[tuple[str, str, Path]] = []
    for flag, v in paths.outputs.items():
        if v is None or str(v) == "":
            continue
        p = _resolved(v)
        if p.is_dir():
            raise InputError("is a folder; a file is needed here", str(v), flag, hint="give a file name")
        for flag_in, d_in in in_dirs:
            if d_in in p.parents:
                raise InputError(f"is inside the input folder given as {flag_in} ({d_in}); outputs never "
                                 "change an input", str(v), flag, hint="write the output somewhere else")
        _check_writable_folder(p.parent, str(v), flag)
        targets.append((flag, str(v), p))
    for flag, spec in paths.output_dirs.items():
        if spec is None or spec[0] is None or str(spec[0]) == "":
            continue
        folder, names = spec
        d = _resolved(folder)
        if d.exists() and not d.is_dir():
            raise InputError("is an existing file; a folder is needed here", str(folder), flag,
                             hint="give a folder name (it is created)")
        for flag_in, p_in in ins:
            if p_in == d or d in p_in.parents:
                raise InputError(f"the output folder holds the input {flag_in} ({p_in.name}); writing it as a "
                                 "whole would replace that input", str(folder), flag, hint="write into a new folder")
            if p_in.is_dir() and p_in in d.parents:
                raise InputError(f"is inside the input folder given as {flag_in} ({p_in}); outputs never "
                                 "change an input", str(folder), flag, hint="write the output somewhere else")
        # the folder is written as a temporary sibling and renamed: its parent must be writable,
        # and an existing folder (moved aside, then removed) too
        _check_writable_folder(d.parent, str(folder), flag)
        if d.is_dir():
            if any(d.iterdir()) and not (d / OUTPUT_MARKER).is_file():
                raise InputError("exists and holds other files; an output folder is replaced as a whole, so it "
                                 "must be new, empty, or an earlier output of Tailscope", str(folder), flag,
                                 hint="give a new folder name")
            _check_writable_folder(d, str(folder), flag)
        folders.append((flag, str(folder), d))
        for n in names:
            targets.append((flag, str(Path(folder) / n), d / n))
    seen: dict[Path, str] = {}
    for flag, shown, p in targets:
        for flag_in, p_in in ins:
            if p == p_in or (p.exists() and _same_file(p, p_in)):
                raise InputError(f"would overwrite the input given as {flag_in}", shown, flag,
                                 hint="outputs never replace inputs: choose another path")
        if p in seen and seen[p] != flag:
            raise InputError(f"the same path is also given as {seen[p]}", shown, flag,
                             hint="each output needs its own path")
        seen[p] = flag
    for flag, shown, d in folders:
        for flag2, shown2, p in targets:
            if flag2 != flag and (p == d or d in p.parents):
                raise InputError(f"is inside the output folder given as {flag} ({shown}), which is written as a "
                                 "whole", shown2, flag2, hint="each output needs its own path")
    for _, _, p in targets:
        sweep_stale_temps(p)
    for _, _, d in folders:
        sweep_stale_temps(d)


def user_path(path: PathLike) -> str:
    """The path a user gave for a temporary sibling written by this module (else ``path`` itself):
    ``dir/.report.json.123.ab12.tmp`` -> ``dir/report.json``."""
    p = Path(os.fspath(path))
    m = _TMP_RE.match(p.name)
    return str(p.parent / m.group("name")) if m else str(p)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` may still be running (True when it cannot be told: never sweep a live
    writer's temporary file). Used by the temp sweeps here, of the workspace and of the app's uploads."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's live process
        return True
    return True


def sweep_stale_temps(target: PathLike) -> list[Path]:
    """Remove temporary siblings of ``target`` left by killed writes (their writer is gone).

    Returns the paths removed.
    """
    t = Path(target)
    removed = []
    try:
        siblings = list(t.parent.iterdir()) if t.parent.is_dir() else []
    except OSError:
        return removed
    for s in siblings:
        m = _TMP_RE.match(s.name)
        if not m or m.group("name") != t.name or pid_alive(int(m.group("pid"))):
            continue
        try:
            shutil.rmtree(s) if s.is_dir() and not s.is_symlink() else s.unlink()
            removed.append(s)
        except OSError:
            pass
    return removed


# ----------------------------------------------------------------------------------------------
# atomic writers
# ----------------------------------------------------------------------------------------------
def _tmp_prefix(path: Path) -> str:
    return f".{path.name}.{os.getpid()}."


def _target(path: PathLike) -> Path:
    """Where a write to ``path`` lands: through a symlink to its target (the link stays)."""
    p = Path(os.path.expanduser(os.fspath(path)))
    return Path(os.path.realpath(p)) if p.is_symlink() else p


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_open(path: PathLike, mode: str = "wb") -> Iterator[Any]:
    """Open a temporary sibling of ``path``; on success it replaces ``path`` atomically.

    The temporary file is ``.NAME.<pid>.<random>.tmp`` in the target's folder (same file system,
    so the final ``os.replace`` is atomic); it is removed on any exception, and a killed writer's
    leftover is swept by the next :func:`guard_outputs` on the same target. A symlink target is
    written through (the link keeps pointing at the new content).
    """
    path = _target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    return fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


@contextmanager
def atomic_dir(path: PathLike) -> Iterator[Path]:
    """Write a folder as a whole: yields a temporary sibling folder, renamed to ``path`` on success.

    The folder gets a marker file (:data:`OUTPUT_MARKER`) listing what it holds, written last;
    :func:`guard_outputs` lets a command replace an existing folder only when it is empty or carries
    that marker, so a user's own folder is never replaced. An existing ``path`` is replaced only once
    the new folder is complete, by an atomic exchange of the two folders where the system has one
    (Linux ``renameat2``), else by moving the old one aside first. On an exception, or if the
    process is killed, ``path`` is left as it was (at worst, without the exchange and killed between
    the two renames, absent: never half-written); a killed run's temporary folder is swept by the
    next :func:`guard_outputs` on the same path.
    """
    path = _target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(path), suffix=".tmpdir", dir=path.parent))
    try:
        yield tmp
        (tmp / OUTPUT_MARKER).write_text(json.dumps({"written_by": "tailscope", "files": sorted(
            str(f.relative_to(tmp)) for f in tmp.rglob("*") if f.is_file())}) + "\n")
        if path.exists() or path.is_symlink():
            if not path.is_dir():
                raise InputError("is an existing file; a folder is needed here", str(path))
            if _exchange(tmp, path):            # tmp now holds the old folder
                shutil.rmtree(tmp, ignore_errors=True)
                _fsync_dir(path.parent)
                return
            old = Path(tempfile.mkdtemp(prefix=_tmp_prefix(path), suffix=".tmpdir", dir=path.parent))
            os.rmdir(old)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_bytes(path: PathLike, data: bytes) -> Path:
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_text(path: PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars / arrays (recursively) to plain Python for JSON; NaN -> None."""
    if isinstance(obj, dict):
        return {str(k) if not isinstance(k, (str, int, float, bool)) or isinstance(k, bool) else k:
                to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def write_json(path: PathLike, obj: Any, indent: int | None = 2) -> Path:
    """Write JSON atomically (numpy values converted, NaN/inf written as null)."""
    return write_text(path, json.dumps(to_jsonable(obj), indent=indent, allow_nan=False) + "\n")


def write_csv(path: PathLike, df) -> Path:
    """Write a pandas DataFrame as CSV atomically (no index), streamed."""
    with atomic_open(path, "w") as fh:
        df.to_csv(fh, index=False)
    return Path(path)


def write_npy(path: PathLike, arr: np.ndarray) -> Path:
    """``np.save`` atomically, streamed into the file (no in-memory copy of the array)."""
    with atomic_open(path, "wb") as fh:
        np.save(fh, np.asarray(arr), allow_pickle=False)
    return Path(path)


def write_npz(path: PathLike, compressed: bool = True, **arrays: np.ndarray) -> Path:
    with atomic_open(path, "wb") as fh:
        (np.savez_compressed if compressed else np.savez)(fh, **{k: np.asarray(v) for k, v in arrays.items()})
    return Path(path)


def write_torch(path: PathLike, obj: Any) -> Path:
    """``torch.save`` atomically (tensors / state dicts, loadable with ``weights_only=True``)."""
    import torch

    with atomic_open(path, "wb") as fh:
        torch.save(obj, fh)
    return Path(path)


def paths_in(folder: PathLike, names: Iterable[str]) -> list[Path]:
    """``[folder / n for n in names]`` (a small helper for ``IOPaths.output_dirs``)."""
    return [Path(folder) / n for n in names]
