"""Row blocks of a user's ``.npy`` / ``.npz`` without loading it: the reading side of ``convert``.

``.npy``: the header is checked against the file size (:mod:`lt_core.data.npyfile`), then the
array is memory-mapped (``np.load(mmap_mode="r", allow_pickle=False)``) and read a block of rows
at a time. ``.npz``: each member's header is checked against its unpacked size, then the member
is streamed (stored or deflated) a block of rows at a time. Memory stays at one block whatever
the file's size. The array is chosen and checked as :func:`lt_core.data.load_predictions` does.
"""
from __future__ import annotations

import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import InputError

__all__ = ["ArraySource", "open_array"]

SCORE_KEYS = ("scores", "logits", "probs", "probabilities", "preds", "labels", "y_pred")


class ArraySource:
    """A 2-D (N, C) score array or a 1-D (N,) id array, read by row blocks.

    Attributes
    ----------
    path : Path
    source : str            name used in messages
    key : str               ``array`` (.npy) or the .npz member
    shape : tuple           (N, C) or (N,)
    dtype : numpy dtype     the stored dtype
    ids : ndarray (N,) object or None   sample ids stored next to the array (.npz ``ids``)
    """

    def __init__(self, path: Path, source: str, key: str, header, ids, member: str | None):
        self.path, self.source, self.key = path, source, key
        self.shape, self.dtype, self.fortran = tuple(header.shape), header.dtype, header.fortran_order
        self.offset = header.offset
        self.ids = ids
        self._member = member
        self._mm = None
        self._whole = None
        if len(self.shape) == 2 and self.shape[1] == 1:
            self.shape = (self.shape[0],)  # an N x 1 array is N values, as the loader reads it

    @property
    def n_rows(self) -> int:
        return int(self.shape[0])

    @property
    def is_scores(self) -> bool:
        return len(self.shape) == 2

    def _memmap(self):
        if self._mm is None:
            mm = np.load(self.path, mmap_mode="r", allow_pickle=False)
            self._mm = mm.reshape(self.shape) if mm.ndim == 2 and len(self.shape) == 1 else mm
        return self._mm

    def _full(self) -> np.ndarray:
        if self._whole is None:
            from ..data.npyfile import read_npz_array

            arr = read_npz_array(self.path, self.key, self.source)
            self._whole = arr.reshape(self.shape)
        return self._whole

    @contextmanager
    def reader(self) -> Iterator:
        """A function ``next_rows(k)`` returning the next ``k`` rows in order (a copy in memory)."""
        if self._member is None or self.fortran:
            src = self._memmap() if self._member is None else self._full()
            pos = [0]

            def next_rows(k: int) -> np.ndarray:
                lo = pos[0]
                pos[0] = lo + int(k)
                return np.array(src[lo:lo + int(k)])

            yield next_rows
            return
        row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        from ..data.npyfile import _ZIP_ERRORS, read_npy_header

        try:
            with zipfile.ZipFile(self.path) as zf, zf.open(self._member) as fh:
                read_npy_header(fh, self.source, self.key)
                done = [0]

                def next_rows(k: int) -> np.ndarray:
                    k = int(k)
                    raw = fh.read(k * row_bytes)
                    if len(raw) != k * row_bytes:
                        raise InputError(f"the array ends early (row {done[0] + len(raw) // max(row_bytes, 1):,} of "
                                         f"{self.n_rows:,})", self.source, self.key,
                                         hint="the file is damaged; save it again")
                    done[0] += k
                    return np.frombuffer(raw, dtype=self.dtype).reshape((k,) + tuple(self.shape[1:])).copy()

                yield next_rows
        except InputError:
            raise
        except _ZIP_ERRORS as e:
            raise InputError(f"the archive is damaged ({' '.join(str(e).split())[:120]})", self.source,
                             self.key) from None

    def take(self, rows: np.ndarray) -> np.ndarray:
        """Rows by index (random access; a compressed .npz member is read whole for this)."""
        src = self._memmap() if self._member is None else self._full()
        return np.asarray(src[np.asarray(rows, dtype=np.int64)])


def _content_note(kind: str) -> str:
    return {"pickle": "a Python pickle (never loaded: nothing is unpickled)",
            "zip (npz or torch)": "a zip archive (npz or torch)"}.get(kind, kind)


def open_array(path, source: str | None = None) -> ArraySource:
    """Open a ``.npy`` / ``.npz`` of scores (N x C) or predicted class ids (N), checked, unread.

    The checks and messages follow :func:`lt_core.data.load_predictions`: a pickle, an object
    array, a lying header, a boolean or non-numeric array, a 2-D integer array that is not named
    as scores, a 1-D float array, or more than two dimensions are refused.
    """
    from ..data.loaders import _base_ext, _check_file, max_file_bytes, sniff
    from ..data.npyfile import _check_size, npz_members, read_npy_header, read_npz_array

    p = _check_file(path, "prediction file")
    src = source or str(p)
    ext = _base_ext(p)
    kind = sniff(p)
    ids = None
    if ext == ".npy":
        if kind != "npy":
            raise InputError(f"the name says .npy but the content looks like {_content_note(kind)}", src,
                             hint="save arrays with numpy.save")
        with open(p, "rb") as fh:
            h = read_npy_header(fh, src)
        _check_size(h, p.stat().st_size - h.offset, src, "array")
        key, member = "array", None
    elif ext == ".npz":
        if kind != "zip (npz or torch)":
            raise InputError(f"the name says .npz but the content looks like {_content_note(kind)}", src,
                             hint="save arrays with numpy.savez / savez_compressed")
        members = npz_members(p, max_file_bytes(), src)
        key = next((k for k in SCORE_KEYS if k in members), None)
        if key is None:
            arrays = [k for k in members if k not in ("ids", "sample_ids")]
            if len(arrays) != 1:
                raise InputError(f"expected an array named one of {list(SCORE_KEYS)} (found {list(members)[:12]})", src)
            key = arrays[0]
        h = members[key]
        member = key + ".npy"
        for k in ("ids", "sample_ids"):
            if k in members:
                raw = read_npz_array(p, k, src)
                if raw.ndim != 1 or raw.dtype.kind not in "iuUS":
                    raise InputError(f"sample ids must be a 1-D array of integers or strings, got {raw.dtype} "
                                     f"{raw.shape}", src, k)
                ids = raw.astype(str).astype(object)
    else:
        raise InputError(f"convert reads .npy / .npz score arrays, not '{ext or '(no extension)'}'", src,
                         hint="save the scores with numpy.save (N x C float32) or numpy.savez")
    dt = h.dtype
    if dt.kind == "b":
        raise InputError(f"a boolean array {h.shape}: expected N x C scores or N integer class ids", src, key,
                         hint="class ids are integers, scores are numbers")
    if dt.kind not in "iuf":
        raise InputError(f"expected a numeric array, got dtype {dt}", src, key)
    a = ArraySource(p, src, key, h, ids, member)
    if len(a.shape) == 2:
        if dt.kind in "iu" and key not in ("scores", "logits", "probs", "probabilities"):
            raise InputError(f"a 2-D integer array {a.shape}: expected float scores (N x C)", src, key)
    elif len(a.shape) == 1:
        if dt.kind == "f":
            raise InputError(f"a 1-D {dt} array: predicted class ids must be integers (and scores N x C)", src, key,
                             hint="save ids with pred.astype(np.int64); a binary model's scores as N x 2")
    else:
        raise InputError(f"expected N x C scores or N class ids, got shape {a.shape}", src, key)
    if a.n_rows == 0:
        raise InputError("no predictions (0 rows)", src)
    if ids is not None and len(ids) != a.n_rows:
        raise InputError(f"{len(ids)} sample ids for {a.n_rows} rows", src, "ids")
    return a
