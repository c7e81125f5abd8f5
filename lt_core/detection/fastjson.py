"""Fast, low-memory reading of large COCO box-results files.

A results file is a JSON list of objects ``{image_id, category_id, bbox, score, ...}``. At LVIS
v1 val scale (19,809 images x 300 detections = 5.9 M objects) building Python dicts costs
several GB and most of the evaluation time. Here the bytes are scanned by a compiled kernel
(:func:`lt_core.detection.kernels.scan_results`, two threads) straight into columns: any
whitespace between and inside records (one per line, pretty-printed, or none), any key order,
extra keys (skipped). Decimal numbers are converted with a correctly rounded algorithm, so every
value is bit-identical to ``json.load``. Without numba (``TAILSCOPE_KERNELS=numpy``) pyarrow's
JSON reader does the same job.

Anything else (masks, ids that are not plain integers, strings where numbers belong, invalid
JSON) goes to :func:`lt_core.data.load_detection_results`, which validates entry by entry and
names the offending entry and field.
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from ..errors import InputError
from ._jit import use_kernels

__all__ = ["load_results_fast", "read_input_bytes"]

_MAX_FILE_BYTES_DEFAULT = 8 * 1024 ** 3


def _fallback(path, gt, name):
    from ..data.loaders import load_detection_results
    return load_detection_results(path, gt, name)


def read_input_bytes(path) -> tuple[np.ndarray, str]:
    """The bytes of a ``.json`` / ``.json.gz`` input as a uint8 array (gunzipped), and its name.

    The same checks as the loaders (exists, a file, not empty, below ``TAILSCOPE_MAX_FILE_BYTES``);
    the file is only read.
    """
    from ..data.names import display_name

    p = Path(path)
    src = display_name(p)  # the user's name for an upload or a workspace copy
    if not p.exists():
        raise InputError("no such JSON file", src)
    if p.is_dir():
        raise InputError("expected a JSON file, got a folder", src)
    size = p.stat().st_size
    if size == 0:
        raise InputError("the file is empty", src, hint="expected a JSON file")
    limit = int(os.environ.get("TAILSCOPE_MAX_FILE_BYTES", _MAX_FILE_BYTES_DEFAULT))
    if size > limit:
        raise InputError(f"the file is {size / 1e9:.1f} GB, above the {limit / 1e9:.1f} GB limit", src,
                         hint="set TAILSCOPE_MAX_FILE_BYTES to raise it, or shard the file")
    with open(p, "rb") as fh:
        head = fh.read(2)
    if head == b"\x1f\x8b":
        try:
            with gzip.open(p, "rb") as fh:
                raw = fh.read()
        except (OSError, EOFError) as e:
            raise InputError(f"the gzip stream is corrupt or truncated ({e})", src)
        if not raw:
            raise InputError("the file is empty (after gunzip)", src)
        return np.frombuffer(raw, np.uint8), src
    if p.name.lower().endswith(".gz"):
        raise InputError("the name ends in .gz but the file is not gzip-compressed", src)
    try:
        import mmap
        with open(p, "rb") as fh:
            flags = mmap.MAP_PRIVATE | getattr(mmap, "MAP_POPULATE", 0)
            m = mmap.mmap(fh.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
        return np.frombuffer(m, np.uint8), src  # read-only view of the page cache: no copy
    except (OSError, ValueError, AttributeError):  # pragma: no cover - platforms without mmap flags
        return np.fromfile(p, dtype=np.uint8), src


def load_results_fast(path, gt=None, name: str | None = None):
    """Read a COCO box-results JSON (``.json`` / ``.json.gz``) into :class:`DetectionResults`.

    Same checks and messages as :func:`lt_core.data.load_detection_results` (integer ids, finite
    scores, ``[x, y, w, h]`` boxes with w, h > 0, image and category ids known to ``gt``); the
    input file is only read.
    """
    from ..data.schema import DetectionResults

    from ..data.names import file_name

    p = Path(path)
    nm = name or file_name(p).split(".")[0]
    buf, src = read_input_bytes(p)
    cols = _scan(buf)
    del buf
    if cols is None:
        return _fallback(path, gt, nm)
    img, cat, bbox, score = cols
    _validate(img, cat, bbox, score, gt, src)
    return DetectionResults(nm, img, cat, bbox, score, None, src)


def _scan(buf: np.ndarray):
    """Columns of a plain results list, or None (then the validating reader runs)."""
    if use_kernels():
        from .kernels import scan_results
        return scan_results(buf)
    return _scan_arrow(buf)


def _scan_arrow(buf: np.ndarray):
    """The NumPy / pyarrow path: records one per line, parsed by pyarrow's JSON reader."""
    import pyarrow as pa
    import pyarrow.json as pj

    raw = buf.tobytes()
    lo, hi = _first_last(raw)
    if lo < 0 or raw[lo:lo + 1] != b"[" or raw[hi:hi + 1] != b"]" or hi - lo < 2 or raw.find(b'"segmentation"') >= 0:
        return None
    body = _one_record_per_line(raw[lo + 1:hi])
    sch = pa.schema([("image_id", pa.int64()), ("category_id", pa.int64()), ("bbox", pa.list_(pa.float64())),
                     ("score", pa.float64())])
    try:
        tab = pj.read_json(pa.BufferReader(pa.py_buffer(body)), read_options=pj.ReadOptions(block_size=1 << 24),
                           parse_options=pj.ParseOptions(explicit_schema=sch, unexpected_field_behavior="ignore"))
        if tab.num_rows == 0 or any(tab.column(k).null_count for k in sch.names):
            return None
        b = tab.column("bbox").combine_chunks()
        lens = b.value_lengths().to_numpy()
        vals = b.flatten()
        if lens.min() != 4 or lens.max() != 4 or vals.null_count:
            return None
        return (tab.column("image_id").to_numpy(), tab.column("category_id").to_numpy(),
                vals.to_numpy().reshape(-1, 4).astype(np.float64), tab.column("score").to_numpy().astype(np.float64))
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
        return None


def _one_record_per_line(body: bytes) -> bytes:
    """Top-level ``,`` between records -> newline; newlines inside records -> spaces."""
    import re
    body = re.sub(rb"[\r\n]", b" ", body)
    return re.sub(rb"}\s*,\s*{", b"}\n{", body)


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


def _validate(img, cat, bbox, score, gt, src) -> None:
    if len(score) == 0:
        raise InputError("the results list is empty", src)
    if use_kernels():
        from .kernels import first_bad_values
        bad_s, n_s, bad_b, bad_wh, n_wh = first_bad_values(bbox, score)
        if bad_s < 0 and bad_b < 0 and bad_wh < 0:
            _validate_ids(img, cat, gt, src)
            return
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
    _validate_ids(img, cat, gt, src)


def _validate_ids(img, cat, gt, src) -> None:
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
    from .prepare import map_ids

    if len(sorted_b) == 0:
        return np.zeros(len(a), bool)
    return map_ids(sorted_b, np.arange(len(sorted_b)), a) >= 0
