"""Atomic exports: write to a temporary file in the same folder, then ``os.replace``.

A reader (or a crashed run) never sees a half-written artifact, and an input file is never
opened for writing.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

__all__ = ["atomic_open", "write_bytes", "write_text", "write_json", "write_csv", "write_npy",
           "write_npz", "write_torch", "to_jsonable"]


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[Any]:
    """Open a temporary sibling of ``path``; on success it replaces ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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


def write_bytes(path, data: bytes) -> Path:
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_text(path, text: str) -> Path:
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


def write_json(path, obj: Any, indent: int | None = 2) -> Path:
    """Write JSON atomically (numpy values converted, NaN/inf written as null)."""
    return write_text(path, json.dumps(to_jsonable(obj), indent=indent, allow_nan=False) + "\n")


def write_csv(path, df) -> Path:
    """Write a pandas DataFrame as CSV atomically (no index)."""
    return write_text(path, df.to_csv(index=False))


def write_npy(path, arr: np.ndarray) -> Path:
    buf = io.BytesIO()
    np.save(buf, np.asarray(arr), allow_pickle=False)
    return write_bytes(path, buf.getvalue())


def write_npz(path, compressed: bool = True, **arrays: np.ndarray) -> Path:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return write_bytes(path, buf.getvalue())


def write_torch(path, obj: Any) -> Path:
    """``torch.save`` atomically (tensors / state dicts, loadable with ``weights_only=True``)."""
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return write_bytes(path, buf.getvalue())
