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
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from .errors import InputError

__all__ = ["IOPaths", "OUTPUT_MARKER", "guard_outputs", "sweep_stale_temps", "atomic_open", "atomic_dir", "write_bytes",
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
    return Path(os.path.abspath(os.path.realpath(os.path.expanduser(os.fspath(p)))))


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
    while not q.exists():
        if q.parent == q:
            break
        q = q.parent
    return q


def _check_writable_folder(folder: Path, shown: str, flag: str) -> None:
    """The folder exists as a writable directory or can be created."""
    base = _first_existing_parent(folder)
    if not base.is_dir():
        raise InputError(f"'{base}' is a file, so the folder '{folder}' cannot be created", shown, flag,
                         hint="choose an output path whose folders are folders")
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"the folder '{base}' is not writable", shown, flag,
                         hint="choose an output location you can write to")


def guard_outputs(paths: IOPaths) -> None:
    """Refuse, before any work, outputs that would overwrite inputs, collide, or cannot be written.

    Raises
    ------
    InputError
        Naming the output option and path, and what is wrong.
    """
    ins = _flatten(paths.inputs)
    in_set = {p: flag for flag, p in ins}
    targets: list[tuple[str, str, Path]] = []  # (flag, shown path, resolved)
    for flag, v in paths.outputs.items():
        if v is None or str(v) == "":
            continue
        p = _resolved(v)
        if p.exists() and p.is_dir():
            raise InputError("is a folder; a file is needed here", str(v), flag, hint="give a file name")
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
        _check_writable_folder(d, str(folder), flag)
        if d.is_dir() and any(d.iterdir()) and not (d / OUTPUT_MARKER).is_file():
            raise InputError("exists and holds other files; an output folder is replaced as a whole, so it must be "
                             "new, empty, or an earlier output of Tailscope", str(folder), flag,
                             hint="give a new folder name")
        for flag_in, p_in in ins:
            if p_in.exists() and (p_in == d or d in p_in.parents):
                raise InputError(f"the output folder holds the input {flag_in} ({p_in.name}); writing it as a "
                                 "whole would replace that input", str(folder), flag,
                                 hint="write into a new folder")
        for n in names:
            targets.append((flag, str(Path(folder) / n), d / n))
    seen: dict[Path, str] = {}
    for flag, shown, p in targets:
        if p in in_set:
            raise InputError(f"would overwrite the input given as {in_set[p]}", shown, flag,
                             hint="outputs never replace inputs: choose another path")
        if p in seen and seen[p] != flag:
            raise InputError(f"the same path is also given as {seen[p]}", shown, flag,
                             hint="each output needs its own path")
        seen[p] = flag
    for flag, shown, p in targets:
        sweep_stale_temps(p)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
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
        if not m or m.group("name") != t.name or _pid_alive(int(m.group("pid"))):
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


@contextmanager
def atomic_open(path: PathLike, mode: str = "wb") -> Iterator[Any]:
    """Open a temporary sibling of ``path``; on success it replaces ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


@contextmanager
def atomic_dir(path: PathLike) -> Iterator[Path]:
    """Write a folder as a whole: yields a temporary sibling folder, renamed to ``path`` on success.

    The folder gets a marker file (:data:`OUTPUT_MARKER`) listing what it holds; :func:`guard_outputs`
    lets a command replace an existing folder only when it is empty or carries that marker, so a
    user's own folder is never replaced. An existing ``path`` is replaced only once the new folder is complete (it is moved aside,
    the new one renamed into place, then the old one removed). On an exception, or if the process
    is killed, ``path`` is left as it was; a killed run's temporary folder is swept by the next
    :func:`guard_outputs` on the same path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(path), suffix=".tmpdir", dir=path.parent))
    try:
        yield tmp
        (tmp / OUTPUT_MARKER).write_text(json.dumps({"written_by": "tailscope", "files": sorted(
            str(f.relative_to(tmp)) for f in tmp.rglob("*") if f.is_file())}) + "\n")
        old = None
        if path.exists() or path.is_symlink():
            if not path.is_dir():
                raise InputError("is an existing file; a folder is needed here", str(path))
            old = Path(tempfile.mkdtemp(prefix=_tmp_prefix(path), suffix=".tmpdir", dir=path.parent))
            os.rmdir(old)
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
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
