"""Reading ``.npy`` / ``.npz`` files a user gives, safely.

``np.load`` trusts the file: a header that claims a shape far larger than the file makes it
allocate the claimed size first (a 1 KiB file can ask for terabytes), an object array or a pickle
named ``.npz`` reaches the unpickler's refusal as a raw ``ValueError``, and a zip member that is not
an array comes back as ``bytes``. Here every header is read first (:mod:`numpy.lib.format`) and the
byte size it implies is compared with the bytes the file (or the archive member) really holds;
only then is the array read, with ``allow_pickle=False``. Any problem is an
:class:`~lt_core.errors.InputError` naming the file and the array.
"""
from __future__ import annotations

import math
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.lib import format as npformat

from ..errors import InputError

__all__ = ["NpyHeader", "read_npy_header", "read_npy", "npz_members", "read_npz_array"]

_MAX_HEADER = 10_000  # numpy's own default limit for a header


class NpyHeader:
    """What a ``.npy`` header says: ``shape``, ``dtype``, ``fortran_order``, ``offset`` (data start)."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, fortran_order: bool, offset: int):
        self.shape, self.dtype, self.fortran_order, self.offset = shape, dtype, fortran_order, offset

    @property
    def nbytes(self) -> int:
        """Bytes of array data the header implies (exact Python integer, never overflows)."""
        return math.prod(int(d) for d in self.shape) * int(self.dtype.itemsize)


def _fmt_bytes(n: int) -> str:
    from .loaders import format_bytes

    return format_bytes(n)


def read_npy_header(fh: BinaryIO, source: str, field: str = "array") -> NpyHeader:
    """Read and check the magic string and header of an open ``.npy`` stream (positioned at 0)."""
    try:
        version = npformat.read_magic(fh)
        reader = getattr(npformat, "_read_array_header", None)
        if reader is not None:
            shape, fortran, dtype = reader(fh, version, max_header_size=_MAX_HEADER)
        elif version == (1, 0):  # pragma: no cover - older numpy layouts
            shape, fortran, dtype = npformat.read_array_header_1_0(fh, max_header_size=_MAX_HEADER)
        else:  # pragma: no cover
            shape, fortran, dtype = npformat.read_array_header_2_0(fh, max_header_size=_MAX_HEADER)
    except (ValueError, EOFError, OSError, SyntaxError, TypeError, KeyError) as e:
        msg = " ".join(str(e).split())[:160]
        raise InputError(f"not a valid .npy array header ({msg})", source, field,
                         hint="save arrays with numpy.save") from None
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise InputError("holds Python objects (an object array); only numeric arrays are read, nothing is "
                         "unpickled", source, field, hint="save a numeric array, e.g. arr.astype(np.float32)")
    if dtype.fields is not None or dtype.subdtype is not None:
        raise InputError(f"is a structured array ({dtype}); expected a plain numeric array", source, field)
    if any(int(d) < 0 for d in shape):
        raise InputError(f"the header has a negative dimension {shape}", source, field)
    return NpyHeader(tuple(int(d) for d in shape), dtype, bool(fortran), fh.tell())


def _check_size(h: NpyHeader, data_bytes: int, source: str, field: str) -> None:
    if h.nbytes != data_bytes:
        what = "truncated, or the header lies" if data_bytes < h.nbytes else "extra bytes after the array"
        raise InputError(f"the header says shape {h.shape} of {h.dtype} ({_fmt_bytes(h.nbytes)}) but the file "
                         f"holds {_fmt_bytes(data_bytes)} of array data ({what})", source, field,
                         hint="the file is damaged or not written by numpy.save; save it again")


def read_npy(path: str | Path, source: str | None = None) -> np.ndarray:
    """A ``.npy`` file whose header is consistent with its size, read without pickles."""
    p = Path(path)
    src = source or str(p)
    size = p.stat().st_size
    with open(p, "rb") as fh:
        h = read_npy_header(fh, src)
        _check_size(h, size - h.offset, src, "array")
        try:
            fh.seek(0)
            return np.load(fh, allow_pickle=False)
        except (ValueError, OSError, EOFError) as e:  # pragma: no cover - the checks above catch these
            raise InputError(f"cannot read the array ({' '.join(str(e).split())[:160]})", src, "array") from None


def _open_zip(p: Path, src: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise InputError(f"not a readable .npz (zip) archive ({' '.join(str(e).split())[:120]})", src,
                         hint="save arrays with numpy.savez / savez_compressed") from None


_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError, NotImplementedError)


def npz_members(path: str | Path, max_member_bytes: int, source: str | None = None) -> dict[str, NpyHeader]:
    """{array name: header} of every member of an ``.npz``, each checked against its unpacked size.

    Raises :class:`InputError` for a member that is not a ``.npy`` array (e.g. a torch checkpoint
    or another zip named ``.npz``), that unpacks to more than ``max_member_bytes`` (a zip bomb),
    whose header is invalid, holds objects, or disagrees with the member's size.
    """
    p = Path(path)
    src = source or str(p)
    out: dict[str, NpyHeader] = {}
    with _open_zip(p, src) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if not infos:
            raise InputError("the .npz archive holds no arrays", src)
        for info in infos:
            name = info.filename
            if not name.endswith(".npy"):
                raise InputError(f"the archive member '{name[:60]}' is not a .npy array: this zip is not a numpy "
                                 ".npz (a torch checkpoint or another archive?)", src, name[:60],
                                 hint="save arrays with numpy.savez; torch files end in .pt")
            key = name[:-4]
            if info.file_size > max_member_bytes:
                raise InputError(f"the array unpacks to {_fmt_bytes(info.file_size)}, above the "
                                 f"{_fmt_bytes(max_member_bytes)} input limit", src, key,
                                 hint="set TAILSCOPE_MAX_FILE_BYTES to raise it, or shard the file")
            try:
                with zf.open(info) as fh:
                    h = read_npy_header(fh, src, key)
            except InputError:
                raise
            except _ZIP_ERRORS as e:
                raise InputError(f"the archive is damaged ({' '.join(str(e).split())[:120]})", src, key) from None
            _check_size(h, info.file_size - h.offset, src, key)
            out[key] = h
    return out


def read_npz_array(path: str | Path, key: str, source: str | None = None) -> np.ndarray:
    """One array of an ``.npz`` (checked first with :func:`npz_members`), read without pickles."""
    p = Path(path)
    src = source or str(p)
    with _open_zip(p, src) as zf:
        try:
            with zf.open(key + ".npy") as fh:
                return npformat.read_array(fh, allow_pickle=False)
        except KeyError:
            raise InputError(f"no array '{key}' in the archive", src, key) from None
        except _ZIP_ERRORS as e:
            raise InputError(f"the archive is damaged ({' '.join(str(e).split())[:120]})", src, key) from None
