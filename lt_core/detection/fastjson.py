"""Fast, low-memory reading of large COCO box-results files.

A results file is a JSON list of flat objects ``{image_id, category_id, bbox, score}``. At LVIS
v1 val scale (19,809 images x 300 detections = 5.9 M objects) building Python dicts costs
several GB and most of the evaluation time. Here the list is turned into newline-delimited
JSON (the ``},{`` separators between flat objects become newlines) and parsed by pyarrow's
multi-threaded JSON reader straight into columns; numbers are parsed by the same correctly
rounded routine as Python's ``float``, so every value is bit-identical to ``json.load``.

Anything unusual (masks, nested objects, odd types, invalid JSON) falls back to
:func:`lt_core.data.load_detection_results`, which validates entry by entry and names the
offending field.
"""
from __future__ import annotations

import re
import numpy as np

from ..data.schema import DetectionGT, DetectionResults
from ..errors import InputError

__all__ = ["load_results_fast"]

_SEP = re.compile(rb"}\s*,\s*{")


def _fallback(path, gt, name):
    from ..data.loaders import load_detection_results
    return load_detection_results(path, gt, name)


def load_results_fast(path, gt: DetectionGT | None = None, name: str | None = None) -> DetectionResults:
    """Read a COCO box-results JSON (``.json`` / ``.json.gz``) into :class:`DetectionResults`.

    Same checks and messages as :func:`lt_core.data.load_detection_results` (finite scores,
    ``[x, y, w, h]`` boxes with w, h > 0, image and category ids known to ``gt``); the input
    file is only read.
    """
    from ..data.loaders import _check_file, _file_name, _name, _read_bytes

    p = _check_file(path, "JSON file")
    nm = name or _file_name(p).split(".")[0]
    src = _name(p)
    raw = _read_bytes(p)
    lo, hi = _first_last(raw)
    if lo < 0 or raw[lo:lo + 1] != b"[" or raw[hi:hi + 1] != b"]" or hi - lo < 2 or raw.find(b'"segmentation"') >= 0:
        return _fallback(path, gt, nm)
    # objects one per line; the brackets are cut off by a zero-copy slice (bounded memory)
    nd = raw.replace(b"},{", b"}\n{")
    del raw
    if nd.find(b"}, {") >= 0:
        nd = nd.replace(b"}, {", b"}\n{")
    lo, hi = _first_last(nd)
    tab = _read_ndjson(nd, lo + 1, hi)
    del nd
    if tab is None:
        return _fallback(path, gt, nm)
    need = ("image_id", "category_id", "bbox", "score")
    import pyarrow as pa
    if any(k not in tab.column_names for k in need):
        return _fallback(path, gt, nm)
    try:
        cols = {}
        for k in ("image_id", "category_id"):
            c = tab.column(k)
            if not pa.types.is_integer(c.type) or c.null_count:
                return _fallback(path, gt, nm)
            cols[k] = c.to_numpy().astype(np.int64, copy=False)
        s = tab.column("score")
        if not (pa.types.is_floating(s.type) or pa.types.is_integer(s.type)) or s.null_count:
            return _fallback(path, gt, nm)
        score = s.to_numpy().astype(np.float64, copy=False)
        b = tab.column("bbox").combine_chunks()
        if not pa.types.is_list(b.type) or b.null_count:
            return _fallback(path, gt, nm)
        lens = b.value_lengths().to_numpy()
        vals = b.flatten()
        if len(lens) and (lens.min() != 4 or lens.max() != 4) or not (
                pa.types.is_floating(vals.type) or pa.types.is_integer(vals.type)) or vals.null_count:
            return _fallback(path, gt, nm)
        bbox = vals.to_numpy().astype(np.float64).reshape(-1, 4)
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
        return _fallback(path, gt, nm)
    del tab
    img, cat = cols["image_id"], cols["category_id"]
    _validate(img, cat, bbox, score, gt, src)
    return DetectionResults(nm, img, cat, bbox, score, None, src)


def _first_last(b: bytes) -> tuple[int, int]:
    """Indices of the first and last non-whitespace bytes (-1, -1 when there are none)."""
    n = len(b)
    i = 0
    while i < n and b[i] in b" \t\r\n":
        i += 1
    j = n - 1
    while j >= i and b[j] in b" \t\r\n":
        j -= 1
    return (i, j) if i < n else (-1, -1)


def _read_ndjson(nd: bytes, start: int, stop: int):
    """Parse ``nd[start:stop]`` (newline-delimited objects) with pyarrow; None when it fails."""
    import pyarrow as pa
    import pyarrow.json as pj
    opts = pj.ReadOptions(use_threads=True, block_size=1 << 24)
    for attempt in (0, 1):
        buf = pa.py_buffer(nd).slice(start, stop - start)
        try:
            return pj.read_json(pa.BufferReader(buf), read_options=opts,
                                parse_options=pj.ParseOptions(newlines_in_values=attempt == 1))
        except Exception:  # noqa: BLE001 - pyarrow raises several types; any failure -> slow path
            if attempt == 0:
                # separators with other whitespace (pretty-printed files)
                body = _SEP.sub(b"}\n{", bytes(buf))
                nd, start, stop = body, 0, len(body)
    return None


def _validate(img, cat, bbox, score, gt, src) -> None:
    if len(score) == 0:
        raise InputError("the results list is empty", src)
    if not np.isfinite(score).all():
        i = int(np.flatnonzero(~np.isfinite(score))[0])
        raise InputError(f"{int((~np.isfinite(score)).sum())} non-finite scores (NaN/inf), first at entry {i}",
                         src, "score")
    if not np.isfinite(bbox).all():
        i = int(np.flatnonzero(~np.isfinite(bbox).all(1))[0])
        raise InputError(f"entry {i} has a non-finite bbox {bbox[i].tolist()}", src, "bbox")
    bad = (bbox[:, 2] <= 0) | (bbox[:, 3] <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{int(bad.sum())} boxes have zero or negative width/height, e.g. entry {i}: "
                         f"{bbox[i].tolist()}", src, "bbox", hint="boxes are [x, y, width, height] with width, height > 0")
    if gt is not None:
        ids = np.unique(np.asarray(gt.categories.ids, dtype=np.int64))
        unk = ~_isin(cat, ids)
        if unk.any():
            raise InputError(f"{int(unk.sum())} detections have category ids not in the ground truth, e.g. "
                             f"{np.unique(cat[unk])[:5].tolist()}", src, "category_id")
        ids = np.unique(np.asarray(gt.image_ids, dtype=np.int64))
        unk = ~_isin(img, ids)
        if unk.any():
            raise InputError(f"{int(unk.sum())} detections are on image ids not in the ground truth, e.g. "
                             f"{np.unique(img[unk])[:5].tolist()}", src, "image_id",
                             hint="results must correspond to the ground-truth file")


def _isin(a: np.ndarray, sorted_b: np.ndarray) -> np.ndarray:
    if len(sorted_b) == 0:
        return np.zeros(len(a), bool)
    pos = np.minimum(np.searchsorted(sorted_b, a), len(sorted_b) - 1)
    return sorted_b[pos] == a

