"""The JSON scanners' Python side: buffers, chunks, threads (the kernels are in
:mod:`lt_core.detection.kernels`, called through :func:`lt_core.detection._jit.kernel`; this
module does not import numba).

:func:`scan_results` reads a COCO results list, :func:`scan_gt` a COCO / LVIS ground-truth object,
both into NumPy columns; see :mod:`lt_core.detection.fastjson` for the readers built on them.
"""
from __future__ import annotations

import numpy as np

from ._jit import kernel

__all__ = ["scan_results", "scan_gt", "POW5"]


# ---------------------------------------------------------------------------------------------
# Eisel-Lemire: 128-bit truncated powers of five for 10^-342 .. 10^308 (the fast_float table)
# ---------------------------------------------------------------------------------------------
def _pow5_table() -> np.ndarray:
    out = []
    for q in range(-342, 0):
        p5 = 5 ** -q
        z = p5.bit_length()
        if (1 << (z - 1)) == p5:  # pragma: no cover - 5^k is never a power of two
            z -= 1
        if q >= -27:
            b = z + 127
            c = 2 ** b // p5 + 1
        else:
            b = 2 * z + 2 * 64
            c = 2 ** b // p5 + 1
            c >>= max(c.bit_length() - 128, 0)  # halved until below 2^128
        out.append(c)
    for q in range(0, 309):
        p5 = 5 ** q
        # doubled until at least 2^127, or halved until below 2^128: the top 128 bits
        nb = p5.bit_length()
        p5 = p5 << (128 - nb) if nb < 128 else p5 >> (nb - 128)
        out.append(p5)
    arr = np.empty(2 * len(out), np.uint64)
    for i, c in enumerate(out):
        arr[2 * i] = c >> 64
        arr[2 * i + 1] = c & ((1 << 64) - 1)
    return arr


POW5 = _pow5_table()

_P10 = np.array([10.0 ** k for k in range(23)])

_K_IMG = np.frombuffer(b"image_id", np.uint8).copy()
_K_CAT = np.frombuffer(b"category_id", np.uint8).copy()
_K_BOX = np.frombuffer(b"bbox", np.uint8).copy()
_K_SCORE = np.frombuffer(b"score", np.uint8).copy()
_K_SEG = np.frombuffer(b"segmentation", np.uint8).copy()


_GT_KEYS = (b"images", b"annotations", b"categories", b"id", b"height", b"width", b"neg_category_ids",
            b"not_exhaustive_category_ids", b"image_id", b"category_id", b"bbox", b"area", b"iscrowd", b"ignore",
            b"segmentation", b"name", b"frequency", b"image_count", b"instance_count")
_GT_KEY_BYTES = np.frombuffer(b"".join(_GT_KEYS), np.uint8).copy()
_GT_KEY_OFF = np.cumsum([0] + [len(k) for k in _GT_KEYS]).astype(np.int64)
_MAX_DEPTH = 512  # orjson refuses documents nested deeper than 1024


_CHUNK = 32 << 20  # bytes parsed per kernel call (consumed input can be released in between)



def scan_results(buf: np.ndarray, threads: int = 2, release=None, chunk: int = _CHUNK,
                 two_threads_from: int = 16 << 20):
    """Parse a COCO results list (bytes as a uint8 array) into columns.

    Returns ``(image_id int64 (N,), category_id int64 (N,), bbox float64 (N, 4), score float64
    (N,))`` or ``None`` when the file is not a plain list of flat records with integer ids and
    numeric boxes / scores (the caller then uses the validating reader, which names the
    offending entry). Any layout of whitespace, key order and extra keys is read here. Large
    buffers are split in two halves parsed by two threads (the kernels release the GIL); the
    split is checked to fall between two records. Both halves are written into one set of
    columns (the second half's rows are moved down once, in place: no concatenated copies).
    The input is parsed in chunks of about ``chunk`` bytes; ``release(lo, hi)``, when given, is
    called with each consumed byte range (the caller may drop those pages of a memory map).
    ``two_threads_from``: the smallest input split in two.
    """
    n = len(buf)
    i = 0
    while i < n and buf[i] in (32, 9, 10, 13):
        i += 1
    if i >= n or buf[i] != 91:
        return None
    i += 1
    while i < n and buf[i] in (32, 9, 10, 13):
        i += 1
    if i >= n or buf[i] != 123:
        return None
    keys = (_K_IMG, _K_CAT, _K_BOX, _K_SCORE, _K_SEG)
    split = -1
    if threads > 1 and n > two_threads_from:
        split = int(kernel("_find_split")(buf, i + (n - i) // 2, n))
    # at most one record per 57 bytes (the shortest record); untouched capacity costs no memory
    if split > 0:
        regions = [(i, split, 0, (split - i) // 57 + 2)]
        regions.append((split, -1, regions[0][3], (n - split) // 57 + 2))
    else:
        regions = [(i, -1, 0, (n - i) // 57 + 2)]
    total = sum(r[3] for r in regions)
    img = np.empty(total, np.int64)
    cat = np.empty(total, np.int64)
    box = np.empty(total * 4, np.float64)
    score = np.empty(total, np.float64)

    def run(lo, stop, base, cap):
        """Rows ``base:base + cap`` from the records in ``[lo, stop)`` (stop -1: to the end)."""
        r = 0
        slow = []
        pos = lo
        scap = 1024
        while True:
            last = (stop < 0 and pos + chunk >= n) or (stop >= 0 and pos + chunk >= stop)
            at = stop if last else pos + chunk
            sp = np.empty(scap, np.int64)
            sl = np.empty(scap, np.int64)
            ss = np.empty(scap, np.int64)
            a, z = base + r, base + cap
            st, end, rr, ns = kernel("_scan_region")(buf, pos, at, POW5, _P10, *keys, img[a:z], cat[a:z], box[4 * a:4 * z],
                                           score[a:z], sp, sl, ss)
            if st == 3 and ns >= scap and r + rr < cap:
                scap *= 8  # more numbers of over 19 digits than room: this chunk again
                continue
            if ns:  # their slots as absolute rows
                slow.append((sp[:ns].copy(), sl[:ns].copy(), ss[:ns] + 5 * a))
            r += rr
            if st == 4 and not last:
                if release is not None:
                    release(pos, end)
                pos = end
                continue
            return st, end, r, slow

    if len(regions) == 2:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(2) as ex:
            futs = [ex.submit(run, lo, stop, base, cap) for lo, stop, base, cap in regions]
            outs = [f.result() for f in futs]
        if not (outs[0][0] == 4 and outs[0][1] == split and outs[1][0] == 0):
            if outs[0][0] in (1, 2) or outs[1][0] == 2:
                return None
            regions = [(i, -1, 0, total)]
            outs = [run(i, -1, 0, total)]  # the split was not between two records: one pass
    else:
        outs = [run(*regions[0])]
    if any(o[0] not in (0, 4) for o in outs):
        return None
    r1 = outs[0][2]
    rows = r1
    if len(outs) == 2:  # the second half's rows right after the first half's
        base, r2 = regions[1][2], outs[1][2]
        for col, w in ((img, 1), (cat, 1), (box, 4), (score, 1)):
            kernel("shift_down")(col, w * r1, w * base, w * r2)
        rows = r1 + r2
    for (st, end, r, slow), (lo, stop, base, cap) in zip(outs, regions):
        for sp, sl, ss in slow:  # more than 19 significant digits: Python's float
            for p, ln, slot in zip(sp.tolist(), sl.tolist(), ss.tolist()):
                row, k = divmod(slot, 5)
                if base:
                    row = row - base + r1
                v = float(bytes(buf[p:p + ln]))
                if k == 4:
                    score[row] = v
                else:
                    box[row * 4 + k] = v
    return img[:rows], cat[:rows], box[:rows * 4].reshape(rows, 4), score[:rows]


def scan_gt(buf: np.ndarray):
    """Parse a COCO / LVIS ground-truth JSON object (bytes as a uint8 array) into columns.

    Returns a dict of arrays (see below) or ``None`` when the text is not strict JSON, a value
    is not of the type the reader expects, a known key repeats, or anything else that the
    validating reader (:func:`lt_core.data.loaders.load_detection_gt`) must look at (it names
    the offending entry and field). Numbers are converted exactly as Python's ``json`` / orjson
    do (correctly rounded).

    Columns: ``img_id`` (I,), ``img_hw`` (I, 2) height / width (0 when missing), ``img_flags``
    (I,) bits 1 height, 2 width, 4 neg_category_ids, 8 not_exhaustive_category_ids present;
    ``img_neg`` / ``img_nel`` (I, 2) (start, count) into ``neg`` / ``nel``; ``ann_int`` (A, 3) id,
    image_id, category_id; ``ann_f`` (A, 5) bbox x, y, w, h and area; ``ann_flags`` (A,) bits 1
    area present, 2 iscrowd true, 4 ignore true, 8 segmentation present; ``cat_int`` (C, 3) id,
    image_count, instance_count; ``cat_str`` (C, 6) name start, end, escaped, frequency start,
    end, escaped; ``cat_flags`` (C,) bits 1 / 4 image_count / instance_count present, 2 / 8 of
    them not an integer >= 0.
    """
    n = len(buf)
    caps = [n // 40 + 16, n // 48 + 16, n // 40 + 16, n // 4 + 16, n // 8 + 16]
    stack = np.empty(_MAX_DEPTH, np.uint8)
    while True:
        ci, ca, cc, cn, cl = caps
        out = dict(img_id=np.empty(ci, np.int64), img_hw=np.empty((ci, 2)), img_flags=np.empty(ci, np.uint8),
                   img_neg=np.empty((ci, 2), np.int64), img_nel=np.empty((ci, 2), np.int64),
                   neg=np.empty(cn, np.int64), nel=np.empty(cl, np.int64),
                   ann_int=np.empty((ca, 3), np.int64), ann_f=np.empty((ca, 5)), ann_flags=np.empty(ca, np.uint8),
                   cat_int=np.empty((cc, 3), np.int64), cat_str=np.zeros((cc, 6), np.int64),
                   cat_flags=np.empty(cc, np.uint8))
        counts = np.zeros(8, np.int64)
        kernel("_scan_gt_kernel")(buf, POW5, _P10, _GT_KEY_BYTES, _GT_KEY_OFF, stack,
                        out["img_id"], out["img_hw"], out["img_flags"], out["img_neg"], out["img_nel"], out["neg"],
                        out["nel"], out["ann_int"], out["ann_f"], out["ann_flags"], out["cat_int"], out["cat_str"],
                        out["cat_flags"], counts)
        if counts[5] == 3:
            caps[int(counts[6])] *= 4
            continue
        if counts[5] != 0:
            return None
        ni, na, nc, nn, nl = (int(x) for x in counts[:5])
        for k in ("img_id", "img_hw", "img_flags", "img_neg", "img_nel"):
            out[k] = out[k][:ni]
        for k in ("ann_int", "ann_f", "ann_flags"):
            out[k] = out[k][:na]
        for k in ("cat_int", "cat_str", "cat_flags"):
            out[k] = out[k][:nc]
        out["neg"] = out["neg"][:nn]
        out["nel"] = out["nel"][:nl]
        return out
