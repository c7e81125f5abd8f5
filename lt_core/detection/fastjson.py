"""Fast, low-memory reading of large COCO box-results files and COCO / LVIS ground truth.

A results file is a JSON list of objects ``{image_id, category_id, bbox, score, ...}``. At LVIS
v1 val scale (19,809 images x 300 detections = 5.9 M objects) building Python dicts costs
several GB and most of the evaluation time. Here the bytes are scanned by a compiled kernel
(:func:`lt_core.detection.jsonscan.scan_results`, two threads) straight into columns: any
whitespace between and inside records (one per line, pretty-printed, or none), any key order,
extra keys (skipped). Decimal numbers are converted with a correctly rounded algorithm, so every
value is bit-identical to ``json.load``. Without numba (``TAILSCOPE_KERNELS=numpy``) pyarrow's
JSON reader does the same job.

Anything else (masks, ids that are not plain integers, strings where numbers belong, invalid
JSON) goes to :func:`lt_core.data.load_detection_results`, which validates entry by entry and
names the offending entry and field.

Ground truth (:func:`load_gt_fast`, what ``eval-det`` reads for box evaluation) is scanned the
same way (:func:`lt_core.detection.jsonscan.scan_gt`) into the columns of
:class:`~lt_core.data.schema.DetectionGT`, without building the JSON's Python objects (seconds and
gigabytes at LVIS v1 val scale); the text must be strict JSON as orjson reads it. Whatever the
scanner or the value checks here do not accept as plainly valid (a wrong type, a duplicate id,
an unknown reference, a repeated key, escapes in keys, numbers with more than 19 digits...) is
read again by :func:`lt_core.data.load_detection_gt`, which gives its message or its result.
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from ..errors import InputError
from ._jit import use_kernels

__all__ = ["load_results_fast", "load_gt_fast", "read_input_bytes"]

_MAX_FILE_BYTES_DEFAULT = 8 * 1024 ** 3


def _fallback(path, gt, name):
    from ..data.loaders import load_detection_results
    return load_detection_results(path, gt, name)


def read_input_bytes(path, populate: bool = True) -> tuple[np.ndarray, str]:
    """The bytes of a ``.json`` / ``.json.gz`` input as a uint8 array (gunzipped), and its name.

    The same checks as the loaders (exists, a file, not empty, below ``TAILSCOPE_MAX_FILE_BYTES``);
    the file is only read. A plain file is a read-only memory map of the page cache (no copy),
    its pages mapped at once with ``populate`` (else on first access: see :func:`page_releaser`).
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
            flags = mmap.MAP_PRIVATE | (getattr(mmap, "MAP_POPULATE", 0) if populate else 0)
            m = mmap.mmap(fh.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
        return np.frombuffer(m, np.uint8), src  # read-only view of the page cache: no copy
    except (OSError, ValueError, AttributeError):  # pragma: no cover - platforms without mmap flags
        return np.fromfile(p, dtype=np.uint8), src


def page_releaser(buf: np.ndarray):
    """For a memory-mapped input (:func:`read_input_bytes`), ``release(lo, hi)``: unmap the whole
    pages of bytes ``[lo, hi)`` (they count in the process's resident memory while mapped; a
    later read maps them again from the page cache) and map the next ones in one go. None for an
    input in memory."""
    import mmap
    m = getattr(buf.base, "obj", None)
    if not isinstance(m, mmap.mmap):
        return None
    pg = mmap.PAGESIZE
    n = len(m)
    populate = getattr(mmap, "MADV_POPULATE_READ", 22 if os.uname().sysname == "Linux" else None)

    def release(lo: int, hi: int) -> None:
        a, b = -(-lo // pg) * pg, hi // pg * pg
        try:
            if b > a:
                m.madvise(mmap.MADV_DONTNEED, a, b - a)
            if populate is not None and b < n:  # the next chunk's pages, mapped at once
                m.madvise(populate, b, min(n - b, 32 << 20))
        except (OSError, ValueError):  # pragma: no cover - old kernels: plain page faults
            pass

    release(0, 0)
    return release


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
    buf, src = read_input_bytes(p, populate=False)
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
        from .jsonscan import scan_results
        return scan_results(buf, release=page_releaser(buf))
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
        from ._jit import kernel
        bad_s, n_s, bad_b, bad_wh, n_wh = kernel("first_bad_values")(bbox, score)
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


def load_gt_fast(path):
    """Read COCO / LVIS ground truth (``.json`` / ``.json.gz``) into :class:`DetectionGT` without
    its Python objects (``raw`` is None; the annotations' ``ignore`` flags are in
    ``ann_ignore``).

    The same result and the same messages as :func:`lt_core.data.load_detection_gt` (whose
    validation runs whenever this reader is not sure); use that one where ``raw`` is needed
    (mask evaluation, exports).
    """
    from ..data import loaders

    if not use_kernels():
        return loaders.load_detection_gt(path)
    p = loaders._check_file(path, "JSON file")
    src = loaders._name(p)
    try:
        buf, _ = read_input_bytes(p)
    except InputError:
        return loaders.load_detection_gt(path)
    from .jsonscan import scan_gt
    cols = scan_gt(buf)
    gt = _gt_from_columns(cols, buf, src) if cols is not None else None
    del buf
    return gt if gt is not None else loaders.load_detection_gt(path)


def _unique(a: np.ndarray) -> bool:
    if len(a) < 2:
        return True
    s = np.sort(a)
    return not bool(np.any(s[1:] == s[:-1]))


def _all_in(a: np.ndarray, ids: np.ndarray) -> bool:
    return len(a) == 0 or bool((_isin(a, np.sort(ids))).all())


def _strings(buf: np.ndarray, spans: np.ndarray) -> list:
    """Decoded JSON strings of (start, end, escaped) spans (end: the closing quote)."""
    import json
    out = []
    for s, e, esc in spans.tolist():
        b = buf[s:e].tobytes()
        out.append(json.loads(b'"' + b + b'"') if esc else b.decode("utf-8"))
    return out


def _gt_from_columns(c: dict, buf: np.ndarray, src: str):
    """DetectionGT from :func:`~lt_core.detection.jsonscan.scan_gt` columns, or None when any value
    check of :func:`lt_core.data.load_detection_gt` could fail (that reader then says why)."""
    from ..data.loaders import build_detection_gt

    img_ids = c["img_id"]
    cat_ids = np.ascontiguousarray(c["cat_int"][:, 0])
    ai = c["ann_int"]
    ann_id, ann_img, ann_cat = (np.ascontiguousarray(ai[:, k]) for k in range(3))
    if len(cat_ids) == 0 or not (_unique(img_ids) and _unique(cat_ids) and _unique(ann_id)):
        return None
    if not (_all_in(ann_img, img_ids) and _all_in(ann_cat, cat_ids)):
        return None
    af = c["ann_f"]
    bbox = np.ascontiguousarray(af[:, :4])
    if len(bbox) and not (np.isfinite(bbox).all() and (bbox[:, 2] > 0).all() and (bbox[:, 3] > 0).all()):
        return None
    fl = c["ann_flags"]
    area = bbox[:, 2] * bbox[:, 3]
    has_area = (fl & 1).astype(bool)
    if has_area.any():
        area[has_area] = af[has_area, 4]
    if not (np.isfinite(area).all() and (area >= 0).all()):
        return None
    crowd = (fl & 2).astype(bool)
    ignore = (fl & 4).astype(bool)
    sizes = np.ascontiguousarray(c["img_hw"])
    if not (np.isfinite(sizes).all() and (sizes >= 0).all()):
        return None
    ifl = c["img_flags"]
    neg = nex = None
    if len(ifl) and (ifl & 12).any():
        lists = []
        for key, span in (("neg", "img_neg"), ("nel", "img_nel")):
            flat, sp = c[key], c[span]
            if not _all_in(flat, cat_ids):
                return None
            a = sp[:, 0].tolist()
            b = (sp[:, 0] + sp[:, 1]).tolist()
            lists.append([flat[x:y] for x, y in zip(a, b)])
        neg, nex = lists
    cfl = c["cat_flags"]
    names = _strings(buf, c["cat_str"][:, 0:3])
    has_ic = (cfl & 1).astype(bool)
    img_count = inst = None
    if has_ic.any():
        if not has_ic.all() or (cfl & 2).any():
            return None
        img_count = np.ascontiguousarray(c["cat_int"][:, 1])
        has_inst = (cfl & 4).astype(bool)
        if has_inst.any():
            if not has_inst.all() or (cfl & 8).any():
                return None
            inst = np.ascontiguousarray(c["cat_int"][:, 2])
    freq = None
    fs = c["cat_str"][:, 3:6]
    if (fs[:, 0] > 0).any():
        if not (fs[:, 0] > 0).all():
            return None
        freq = np.array(_strings(buf, fs), dtype=object)
        if not all(f in ("r", "c", "f") for f in freq):
            return None
    has_seg = bool((fl[:100] & 8).any())
    return build_detection_gt(img_ids, sizes, ann_id, ann_img, ann_cat, bbox, area, crowd, cat_ids, names,
                              img_count, inst, freq, neg, nex, has_seg, None, src, ann_ignore=ignore)
