"""A COCO results JSON read chunk by chunk: the streaming side of ``convert detections``.

The file (``.json`` or ``.json.gz``) is read in chunks of bytes; each chunk is cut after its last
complete record (found by skipping whole JSON values with the scanner's compiled
``_skip_value``: strings, nested objects and any whitespace are stepped over, so a ``},{`` inside
a string never cuts a record), and the records of the chunk are parsed by the same compiled
scanner as the single-process reader (:func:`lt_core.detection.kernels._scan_region`,
correctly rounded floats: bit-identical to ``json.load``). Chunks with masks or anything the
scanner leaves to the validating reader (ids that are not plain integers, strings where numbers
belong...) are parsed by orjson and validated by :func:`lt_core.data.loaders._results_from_list`,
entry by entry, with the entry numbers of the whole file. Memory: one chunk (64 MiB by default)
and its columns, whatever the file's size.
"""
from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import InputError

__all__ = ["ResultChunk", "iter_result_chunks", "CHUNK_BYTES"]

CHUNK_BYTES = 64 << 20


class ResultChunk:
    """Columns of consecutive records: ``first`` = file index of the first record.

    ``image_id``, ``category_id`` int64 (n,), ``bbox`` float64 (n, 4), ``score`` float64 (n,),
    ``segmentation`` list of RLE dicts or None, ``derived_bbox`` whether the boxes were computed
    from the masks (mask-only records, as the single-process loader does).
    """

    __slots__ = ("first", "image_id", "category_id", "bbox", "score", "segmentation", "derived_bbox")

    def __init__(self, first, image_id, category_id, bbox, score, segmentation=None, derived_bbox=False):
        self.first, self.image_id, self.category_id = first, image_id, category_id
        self.bbox, self.score, self.segmentation, self.derived_bbox = bbox, score, segmentation, derived_bbox

    def __len__(self) -> int:
        return len(self.score)


_RECORDS_END = []


def _kernels():
    from ..detection import kernels as K

    if not _RECORDS_END:
        from numba import njit

        skip_value, skip_ws = K._skip_value, K._skip_ws

        @njit(cache=False, nogil=True)
        def _records_end(buf, i, n, at_eof):
            """From a record start ``i`` ('{'), step over whole records. Returns (status, next
            record start or end, records, end of the last record): status 0 = the list ended
            (']'), 4 = more records follow (stopped at the last record wholly in ``buf``),
            1 = malformed."""
            r = 0
            last_end = i
            while True:
                if i >= n:
                    return (1 if at_eof else 4), i, r, last_end
                if buf[i] != 123:
                    return 1, i, r, last_end
                e = skip_value(buf, i, n)
                if e < 0:
                    return (1 if at_eof else 4), i, r, last_end
                j = skip_ws(buf, e, n)
                if j >= n:
                    return (1 if at_eof else 4), i, r, last_end
                if buf[j] == 93:
                    return 0, j + 1, r + 1, e
                if buf[j] != 44:
                    return 1, j, r, last_end
                k = skip_ws(buf, j + 1, n)
                if k >= n:
                    return (1 if at_eof else 4), i, r, last_end
                r += 1
                last_end = e
                i = k

        _RECORDS_END.append(_records_end)
    return K


class _Reader:
    def __init__(self, path: Path):
        with open(path, "rb") as fh:
            magic = fh.read(2)
        self.fh = gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")
        self.eof = False

    def read(self, n: int) -> bytes:
        try:
            b = self.fh.read(n)
        except (OSError, EOFError) as e:
            raise InputError(f"the gzip stream is corrupt or truncated ({e})", str(self.fh.name)) from None
        if len(b) < n:
            self.eof = True
        return b

    def close(self) -> None:
        self.fh.close()


_ENTRY = re.compile(r"entry (\d+)")


def _validated(raw: bytes, first: int, source: str) -> ResultChunk:
    """Records parsed by orjson and validated by the single-process loader (file entry numbers)."""
    import orjson

    from ..data.loaders import _results_from_list

    try:
        d = orjson.loads(b"[" + raw + b"]")
    except orjson.JSONDecodeError as e:
        raise InputError(f"not valid JSON near record {first:,} ({' '.join(str(e).split())[:120]})", source) from None
    try:
        res = _results_from_list(d, None, "results", source)
    except InputError as e:
        msg = _ENTRY.sub(lambda m: f"entry {int(m.group(1)) + first}", e.message)
        raise InputError(msg, e.source, e.field, e.hint) from None
    derived = res.segmentation is not None and not all("bbox" in o for o in d)
    return ResultChunk(first, res.image_id, res.category_id, res.bbox, res.score, res.segmentation, derived)


def iter_result_chunks(path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[ResultChunk]:
    """Yield :class:`ResultChunk` s of a COCO results list, in file order, one chunk in memory.

    Raises :class:`InputError` for a file that is not a JSON list of records (naming the record),
    or whose records fail the single-process loader's checks.
    """
    K = _kernels()
    p = Path(path)
    src = str(p)
    rd = _Reader(p)
    try:
        buf = rd.read(chunk_bytes)
        i = 0
        n = len(buf)
        while i < n and buf[i] in b" \t\r\n":
            i += 1
        if i >= n or buf[i:i + 1] != b"[":
            raise InputError("expected COCO results: a JSON list of {image_id, category_id, bbox, score} records",
                             src)
        i += 1
        while True:
            while i < len(buf) and buf[i] in b" \t\r\n":
                i += 1
            if i < len(buf) or rd.eof:
                break
            buf = buf[i:] + rd.read(chunk_bytes)
            i = 0
        if i >= len(buf) or buf[i:i + 1] == b"]":
            raise InputError("the results list is empty", src)
        first = 0
        pow5, p10 = K.POW5, K._P10
        keys = (K._K_IMG, K._K_CAT, K._K_BOX, K._K_SCORE, K._K_SEG)
        while True:
            arr = np.frombuffer(buf, np.uint8)
            st, nxt, r, last_end = _RECORDS_END[0](arr, i, len(arr), rd.eof)
            if st == 1:
                raise InputError(f"not valid JSON, or not a list of objects, near record {first + r:,} (byte "
                                 f"{nxt:,} of the chunk)", src, hint="expected a JSON list of result objects")
            if r == 0 and st == 4:  # one record larger than the chunk: read more
                more = rd.read(chunk_bytes)
                buf = buf[i:] + more
                i = 0
                continue
            stop = nxt if st == 4 else -1
            cap = r + 1
            img = np.empty(cap, np.int64)
            cat = np.empty(cap, np.int64)
            box = np.empty(cap * 4, np.float64)
            score = np.empty(cap, np.float64)
            scap = max(64, r // 4)
            sp, sl, ss = (np.empty(scap, np.int64) for _ in range(3))
            u1 = np.zeros(1, np.uint64)
            status, end, got, ns = K._scan_region(arr, i, stop, pow5, p10, u1, u1.view(np.float64), *keys, img, cat,
                                                   box, score, sp, sl, ss)
            ok = (status == 4 and end == stop and got == r) or (status == 0 and stop < 0 and got == r)
            if ok:
                for k in range(ns):  # more than 19 significant digits: Python's float, as the single-process reader
                    pos, ln, slot = int(sp[k]), int(sl[k]), int(ss[k])
                    v = float(bytes(arr[pos:pos + ln]))
                    if slot % 5 == 4:
                        score[slot // 5] = v
                    else:
                        box[(slot // 5) * 4 + slot % 5] = v
                chunk = ResultChunk(first, img[:r], cat[:r], box[:r * 4].reshape(r, 4), score[:r])
            else:  # masks, or anything the scanner leaves to the validating reader
                chunk = _validated(bytes(arr[i:last_end]), first, src)
                if len(chunk) != r:
                    raise InputError(f"records {first:,}..{first + r - 1:,} could not be read", src)
            yield chunk
            first += r
            if st == 0:
                rest = arr[nxt:]
                if np.any(~np.isin(rest, np.frombuffer(b" \t\r\n", np.uint8))) or not rd.eof and rd.read(1).strip():
                    raise InputError("extra content after the results list", src)
                return
            buf = bytes(arr[nxt:]) + rd.read(chunk_bytes)
            i = 0
    finally:
        rd.close()
