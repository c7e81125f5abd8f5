"""Compiled kernels (numba, ``nogil``, cached on disk) of the detection evaluator.

Imported only when :func:`lt_core.detection._jit.use_kernels` says so; every kernel has a
pure-NumPy counterpart (the reference path the tests compare against):

================================  ===========================================================
kernel                            reference path
================================  ===========================================================
:func:`scan_results`              ``orjson`` + :func:`lt_core.data.loaders._results_from_list`
:func:`match_bbox`                :func:`lt_core.detection.matching.match_shard` (NumPy)
:func:`accumulate_classes`        :func:`lt_core.detection.accumulate.accumulate` (NumPy)
:func:`bootstrap_ap`              naive resampling (re-running the evaluation), in the tests
================================  ===========================================================

Floating point: the kernels do the very operations of pycocotools / lvis-api in the same
order (IoU as ``maskApi.c``'s ``bbIou``, precision ``tp / (tp + fp + eps)``, recall
``tp / npig``), so their numbers are bit-identical. Decimal numbers of the results JSON are
converted with the Eisel-Lemire algorithm (Lemire 2021, "Number parsing at a gigabyte per
second"; as in fast_float and Rust's core library), which is correctly rounded like Python's
``float``; inputs with more than 19 significant digits go to Python's ``float``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["scan_results", "match_bbox", "accumulate_classes", "bootstrap_ap", "POW5"]


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
            while c >= (1 << 128):
                c //= 2
        out.append(c)
    for q in range(0, 309):
        p5 = 5 ** q
        while p5 < (1 << 127):
            p5 *= 2
        while p5 >= (1 << 128):
            p5 //= 2
        out.append(p5)
    arr = np.empty(2 * len(out), np.uint64)
    for i, c in enumerate(out):
        arr[2 * i] = c >> 64
        arr[2 * i + 1] = c & ((1 << 64) - 1)
    return arr


POW5 = _pow5_table()

_U0 = np.uint64(0)
_U1 = np.uint64(1)
_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_S52 = np.uint64(52)
_S63 = np.uint64(63)
_MASK9 = np.uint64(0x1FF)
_HIDDEN = np.uint64(1 << 52)
_INF_BITS = np.uint64(0x7FF0000000000000)
_SIGN = np.uint64(1 << 63)


@njit(cache=True, nogil=True, inline="always")
def _mul128(a, b):
    al = a & _M32
    ah = a >> _S32
    bl = b & _M32
    bh = b >> _S32
    p0 = al * bl
    p1 = al * bh
    p2 = ah * bl
    p3 = ah * bh
    mid = (p0 >> _S32) + (p1 & _M32) + (p2 & _M32)
    lo = (p0 & _M32) | (mid << _S32)
    hi = p3 + (p1 >> _S32) + (p2 >> _S32) + (mid >> _S32)
    return hi, lo


@njit(cache=True, nogil=True, inline="always")
def _clz(x):
    n = 0
    if (x >> np.uint64(32)) == _U0:
        n += 32
        x = x << np.uint64(32)
    if (x >> np.uint64(48)) == _U0:
        n += 16
        x = x << np.uint64(16)
    if (x >> np.uint64(56)) == _U0:
        n += 8
        x = x << np.uint64(8)
    if (x >> np.uint64(60)) == _U0:
        n += 4
        x = x << np.uint64(4)
    if (x >> np.uint64(62)) == _U0:
        n += 2
        x = x << np.uint64(2)
    if (x >> np.uint64(63)) == _U0:
        n += 1
    return n


@njit(cache=True, nogil=True)
def _eisel_lemire(w, q, neg, pow5):
    """IEEE-754 bits of ``(-1)^neg * w * 10^q`` correctly rounded (w has at most 19 digits)."""
    sign = _SIGN if neg else _U0
    if w == _U0 or q < -342:
        return sign
    if q > 308:
        return sign | _INF_BITS
    lz = _clz(w)
    w = w << np.uint64(lz)
    idx = 2 * (q + 342)
    hi, lo = _mul128(w, pow5[idx])
    if (hi & _MASK9) == _MASK9:
        hi2, lo2 = _mul128(w, pow5[idx + 1])
        lo = lo + hi2
        if hi2 > lo:
            hi = hi + _U1
    upperbit = np.int64(hi >> _S63)
    shift = np.uint64(upperbit + 9)
    mant = hi >> shift
    power2 = ((217706 * q) >> 16) + 63 + upperbit - lz + 1023
    if power2 <= 0:
        if -power2 + 1 >= 64:
            return sign
        mant = mant >> np.uint64(-power2 + 1)
        mant = mant + (mant & _U1)
        mant = mant >> _U1
        p2 = _U0 if mant < _HIDDEN else _U1
        return sign | (p2 << _S52) | mant
    if lo <= _U1 and q >= -4 and q <= 23 and (mant & np.uint64(3)) == _U1:
        if (mant << shift) == hi:
            mant = mant & ~_U1
    mant = mant + (mant & _U1)
    mant = mant >> _U1
    if mant >= (np.uint64(2) << _S52):
        mant = _HIDDEN
        power2 += 1
    mant = mant & ~_HIDDEN
    if power2 >= 2047:
        return sign | _INF_BITS
    return sign | (np.uint64(power2) << _S52) | mant


_P10 = np.array([10.0 ** k for k in range(23)])
_TWO53 = np.uint64(1 << 53)


@njit(cache=True, nogil=True)
def _el_float(w, q, neg, pow5, u1, f1):
    """Eisel-Lemire, its IEEE bits turned into the float through a view (``f1`` views ``u1``)."""
    u1[0] = _eisel_lemire(w, q, neg, pow5)
    return f1[0]


@njit(cache=True, nogil=True, inline="always")
def _is_ws(c):
    return c == 32 or c == 10 or c == 13 or c == 9


@njit(cache=True, nogil=True, inline="always")
def _skip_ws(buf, i, n):
    while i < n and (buf[i] == 32 or buf[i] == 10 or buf[i] == 13 or buf[i] == 9):
        i += 1
    return i


@njit(cache=True, nogil=True, inline="always")
def _lex_number(buf, i, n):
    """Scan a JSON number at ``i``.

    Returns ``(end, w, q, neg, kind)``; kind 0 = integer, 1 = decimal (w * 10^q exact digits),
    2 = more than 19 significant digits (use Python's float on the span), -1 = not a number.
    """
    neg = False
    if i < n and buf[i] == 45:  # '-'
        neg = True
        i += 1
    if i >= n:
        return i, _U0, 0, neg, -1
    c = buf[i]
    if c < 48 or c > 57:
        return i, _U0, 0, neg, -1
    w = _U0
    nd = 0          # significant digits taken into w
    too_many = False
    q = 0
    if c == 48:     # a leading zero must stand alone
        i += 1
        if i < n and 48 <= buf[i] <= 57:
            return i, _U0, 0, neg, -1
    else:
        while i < n and 48 <= buf[i] <= 57:
            if nd < 19:
                w = w * np.uint64(10) + np.uint64(buf[i] - 48)
                nd += 1
            else:
                too_many = True
                q += 1
            i += 1
    kind = 0
    if i < n and buf[i] == 46:  # '.'
        kind = 1
        i += 1
        if i >= n or not (48 <= buf[i] <= 57):
            return i, _U0, 0, neg, -1
        while i < n and 48 <= buf[i] <= 57:
            d = buf[i] - 48
            if nd == 0 and d == 0:
                q -= 1
            elif nd < 19:
                w = w * np.uint64(10) + np.uint64(d)
                nd += 1
                q -= 1
            else:
                too_many = True
            i += 1
    if i < n and (buf[i] == 101 or buf[i] == 69):  # e E
        kind = 1
        i += 1
        eneg = False
        if i < n and (buf[i] == 43 or buf[i] == 45):
            eneg = buf[i] == 45
            i += 1
        if i >= n or not (48 <= buf[i] <= 57):
            return i, _U0, 0, neg, -1
        e = 0
        while i < n and 48 <= buf[i] <= 57:
            if e < 100000:
                e = e * 10 + (buf[i] - 48)
            i += 1
        q += -e if eneg else e
    if too_many:
        return i, w, q, neg, 2
    return i, w, q, neg, kind


@njit(cache=True, nogil=True)
def _skip_string(buf, i, n):
    """``i`` at the opening quote; returns the index after the closing quote (-1 if none)."""
    i += 1
    while i < n:
        c = buf[i]
        if c == 34:
            return i + 1
        if c == 92:
            i += 2
            continue
        if c < 32:
            return -1
        i += 1
    return -1


@njit(cache=True, nogil=True)
def _skip_value(buf, i, n):
    """Skip any JSON value at ``i``; returns the end index, -1 on malformed input."""
    c = buf[i]
    if c == 34:
        return _skip_string(buf, i, n)
    if c == 123 or c == 91:
        depth = 0
        while i < n:
            c = buf[i]
            if c == 34:
                i = _skip_string(buf, i, n)
                if i < 0:
                    return -1
                continue
            if c == 123 or c == 91:
                depth += 1
            elif c == 125 or c == 93:
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return -1
    # number or literal
    j = i
    while j < n and not (_is_ws(buf[j]) or buf[j] == 44 or buf[j] == 125 or buf[j] == 93):
        j += 1
    return j if j > i else -1


@njit(cache=True, nogil=True, inline="always")
def _key_is(buf, s, e, key):
    if e - s != len(key):
        return False
    for k in range(len(key)):
        if buf[s + k] != key[k]:
            return False
    return True


_K_IMG = np.frombuffer(b"image_id", np.uint8).copy()
_K_CAT = np.frombuffer(b"category_id", np.uint8).copy()
_K_BOX = np.frombuffer(b"bbox", np.uint8).copy()
_K_SCORE = np.frombuffer(b"score", np.uint8).copy()
_K_SEG = np.frombuffer(b"segmentation", np.uint8).copy()


@njit(cache=True, nogil=True)
def _scan_region(buf, i, stop_at, pow5, p10, u1, f1, k_img, k_cat, k_box, k_score, k_seg,
                 img, cat, box, score, slow_pos, slow_len, slow_slot):
    """Parse records ``{...}`` from ``i`` (at a '{') on.

    Stops after the closing ']' of the list (status 0) or, when ``stop_at >= 0``, at the first
    record that starts at or after ``stop_at`` (status 4, returns its position). ``box`` holds
    4 float64 per record (x, y, w, h), ``score`` one; a number with more than 19 significant
    digits is left to the caller (``slow_*``: its span and slot ``r * 5 + k``, k = 4 the score).
    Status: 0 done, 1 malformed / not plain numbers (the caller falls back to the validating
    reader), 2 masks present, 3 out of capacity.
    Returns ``(status, end position, records, slow numbers)``.
    """
    n = len(buf)
    cap = len(img)
    ns = 0
    r = 0
    while True:
        if stop_at >= 0 and i >= stop_at:
            return 4, i, r, ns
        if i >= n or buf[i] != 123:
            return 1, i, r, ns
        if r >= cap:
            return 3, i, r, ns
        i += 1
        have = 0
        while True:
            i = _skip_ws(buf, i, n)
            if i >= n:
                return 1, i, r, ns
            if buf[i] == 125 and have == 0:  # empty object
                return 1, i, r, ns
            if buf[i] != 34:
                return 1, i, r, ns
            ks = i + 1
            ke = ks
            while ke < n and buf[ke] != 34:
                if buf[ke] == 92:
                    return 1, i, r, ns
                ke += 1
            if ke >= n:
                return 1, i, r, ns
            i = _skip_ws(buf, ke + 1, n)
            if i >= n or buf[i] != 58:
                return 1, i, r, ns
            i = _skip_ws(buf, i + 1, n)
            if i >= n:
                return 1, i, r, ns
            if _key_is(buf, ks, ke, k_img) or _key_is(buf, ks, ke, k_cat):
                e, w, q, neg, kind = _lex_number(buf, i, n)
                if kind != 0 or w > np.uint64(9007199254740991):
                    return 1, i, r, ns
                v = np.int64(w)
                if neg:
                    v = -v
                if ke - ks == 8:
                    img[r] = v
                    have |= 1
                else:
                    cat[r] = v
                    have |= 2
                i = e
            elif _key_is(buf, ks, ke, k_score):
                e, w, q, neg, kind = _lex_number(buf, i, n)
                if kind < 0:
                    return 1, i, r, ns
                if kind == 2:
                    if ns >= len(slow_pos):
                        return 3, i, r, ns
                    slow_pos[ns] = i
                    slow_len[ns] = e - i
                    slow_slot[ns] = r * 5 + 4
                    ns += 1
                elif w <= _TWO53 and q >= -22 and q <= 22:
                    # Clinger's exact fast path (w <= 2^53, |q| <= 22: one correctly rounded
                    # operation), written out here: numba's inlining of a helper for it was 3x slower
                    v = np.float64(w)
                    if q < 0:
                        v = v / p10[-q]
                    else:
                        v = v * p10[q]
                    if neg:
                        v = -v
                    score[r] = v
                else:
                    score[r] = _el_float(w, q, neg, pow5, u1, f1)
                have |= 4
                i = e
            elif _key_is(buf, ks, ke, k_box):
                if buf[i] != 91:
                    return 1, i, r, ns
                i += 1
                for k in range(4):
                    i = _skip_ws(buf, i, n)
                    if i >= n:
                        return 1, i, r, ns
                    e, w, q, neg, kind = _lex_number(buf, i, n)
                    if kind < 0:
                        return 1, i, r, ns
                    if kind == 2:
                        if ns >= len(slow_pos):
                            return 3, i, r, ns
                        slow_pos[ns] = i
                        slow_len[ns] = e - i
                        slow_slot[ns] = r * 5 + k
                        ns += 1
                    elif w <= _TWO53 and q >= -22 and q <= 22:
                        v = np.float64(w)
                        if q < 0:
                            v = v / p10[-q]
                        else:
                            v = v * p10[q]
                        if neg:
                            v = -v
                        box[r * 4 + k] = v
                    else:
                        box[r * 4 + k] = _el_float(w, q, neg, pow5, u1, f1)
                    i = _skip_ws(buf, e, n)
                    if i >= n:
                        return 1, i, r, ns
                    if k < 3:
                        if buf[i] != 44:
                            return 1, i, r, ns
                        i += 1
                if buf[i] != 93:
                    return 1, i, r, ns
                i += 1
                have |= 8
            elif _key_is(buf, ks, ke, k_seg):
                return 2, i, r, ns
            else:
                e = _skip_value(buf, i, n)
                if e < 0:
                    return 1, i, r, ns
                i = e
            i = _skip_ws(buf, i, n)
            if i >= n:
                return 1, i, r, ns
            if buf[i] == 44:
                i += 1
                continue
            if buf[i] == 125:
                i += 1
                break
            return 1, i, r, ns
        if have != 15:
            return 1, i, r, ns
        r += 1
        i = _skip_ws(buf, i, n)
        if i >= n:
            return 1, i, r, ns
        if buf[i] == 44:
            i = _skip_ws(buf, i + 1, n)
            continue
        if buf[i] == 93:
            j = _skip_ws(buf, i + 1, n)
            if j != n:
                return 1, i, r, ns
            return 0, i + 1, r, ns
        return 1, i, r, ns


@njit(cache=True, nogil=True)
def _find_split(buf, lo, hi):
    """First ``}`` ws* ``,`` ws* ``{`` at or after ``lo``; returns the '{' position or -1."""
    n = len(buf)
    i = lo
    while i < hi:
        if buf[i] == 125:
            j = _skip_ws(buf, i + 1, n)
            if j < n and buf[j] == 44:
                j = _skip_ws(buf, j + 1, n)
                if j < n and buf[j] == 123:
                    return j
        i += 1
    return -1


def scan_results(buf: np.ndarray, threads: int = 2):
    """Parse a COCO results list (bytes as a uint8 array) into columns.

    Returns ``(image_id int64 (N,), category_id int64 (N,), bbox float64 (N, 4), score float64
    (N,))`` or ``None`` when the file is not a plain list of flat records with integer ids and
    numeric boxes / scores (the caller then uses the validating reader, which names the
    offending entry). Any layout of whitespace, key order and extra keys is read here. Large
    buffers are split in two halves parsed by two threads (the kernels release the GIL); the
    split is checked to fall between two records.
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
    cap = (n - i) // 57 + 2
    keys = (_K_IMG, _K_CAT, _K_BOX, _K_SCORE, _K_SEG)
    split = -1
    if threads > 1 and n > (16 << 20):
        split = int(_find_split(buf, i + (n - i) // 2, n))
    regions = [(i, split)] + ([(split, -1)] if split > 0 else [])
    if split > 0:
        cap = (max(split - i, n - split)) // 57 + 2

    def run(lo, stop):
        img = np.empty(cap, np.int64)
        cat = np.empty(cap, np.int64)
        box = np.empty(cap * 4, np.float64)
        score = np.empty(cap, np.float64)
        u1 = np.zeros(1, np.uint64)
        f1 = u1.view(np.float64)
        scap = max(cap // 16, 1024)
        while True:
            sp = np.empty(scap, np.int64)
            sl = np.empty(scap, np.int64)
            ss = np.empty(scap, np.int64)
            st, end, r, ns = _scan_region(buf, lo, stop, POW5, _P10, u1, f1, *keys, img, cat, box, score, sp, sl, ss)
            if st == 3 and ns >= scap and r < cap:
                scap *= 8
                continue
            return st, end, r, ns, img, cat, box, score, sp, sl, ss

    if len(regions) == 2:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(2) as ex:
            futs = [ex.submit(run, lo, stop) for lo, stop in regions]
            outs = [f.result() for f in futs]
        if not (outs[0][0] == 4 and outs[0][1] == split and outs[1][0] == 0):
            if outs[0][0] in (1, 2) or outs[1][0] == 2:
                return None
            outs = [run(i, -1)]  # the split was not between two records: one pass
    else:
        outs = [run(i, -1)]
    if any(o[0] not in (0, 4) for o in outs):
        return None
    imgs, cats, boxes, scores = [], [], [], []
    for st, end, r, ns, img, cat, box, score, sp, sl, ss in outs:
        for k in range(ns):  # more than 19 significant digits: Python's float
            p, ln, slot = int(sp[k]), int(sl[k]), int(ss[k])
            v = float(bytes(buf[p:p + ln]))
            if slot % 5 == 4:
                score[slot // 5] = v
            else:
                box[(slot // 5) * 4 + slot % 5] = v
        imgs.append(img[:r])
        cats.append(cat[:r])
        boxes.append(box[:r * 4].reshape(r, 4))
        scores.append(score[:r])
    if len(outs) == 1:
        return imgs[0], cats[0], boxes[0], scores[0]
    return (np.concatenate(imgs), np.concatenate(cats), np.concatenate(boxes), np.concatenate(scores))


# ---------------------------------------------------------------------------------------------
# Matching (pycocotools COCOeval.evaluateImg / lvis-api LVISEval.evaluate_img), all groups
# ---------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _bb_iou(d, g, crowd):
    """maskApi.c ``bbIou`` for one pair (same operation order)."""
    da = d[2] * d[3]
    w = min(d[2] + d[0], g[2] + g[0]) - max(d[0], g[0])
    if w <= 0:
        return 0.0
    h = min(d[3] + d[1], g[3] + g[1]) - max(d[1], g[1])
    if h <= 0:
        return 0.0
    i = w * h
    if crowd:
        u = da
    else:
        ga = g[2] * g[3]
        u = da + ga - i
    return i / u


@njit(cache=True, nogil=True)
def match_bbox(d_key, d_box, d_area, d_nel, g_key, g_box, g_area, g_ignore, g_crowd,
               thr, area_lo, area_hi, d_lo, d_hi, g_lo, g_hi,
               matched, ignored, match_g, best_iou):
    """Greedy matching of every (image, category) group of detections ``d_lo:d_hi``.

    Detections are sorted by key, then score (desc, stable); ground truth by key (file order).
    Writes, per detection: ``matched`` / ``ignored`` bits ``a * T + t``; ``match_g``: the ground
    truth (index) matched at IoU threshold 0 and area range 0, -1 if none; ``best_iou``: the
    largest IoU with a ground truth of its group (0 if none).
    """
    T = len(thr)
    A = len(area_lo)
    gi = g_lo
    d = d_lo
    iou = np.empty(64 * 64)
    order = np.empty(64, np.int64)
    gig = np.empty(64, np.bool_)
    taken = np.empty(64, np.bool_)
    while d < d_hi:
        k = d_key[d]
        de = d
        while de < d_hi and d_key[de] == k:
            de += 1
        while gi < g_hi and g_key[gi] < k:
            gi += 1
        ge = gi
        while ge < g_hi and g_key[ge] == k:
            ge += 1
        nd = de - d
        ng = ge - gi
        for j in range(nd):
            matched[d + j] = np.uint64(0)
            ignored[d + j] = np.uint64(0)
            match_g[d + j] = -1
            best_iou[d + j] = 0.0
        if ng > 0:
            if nd * ng > len(iou):
                iou = np.empty(max(nd * ng, 2 * len(iou)))
            if ng > len(order):
                order = np.empty(2 * ng, np.int64)
                gig = np.empty(2 * ng, np.bool_)
                taken = np.empty(2 * ng, np.bool_)
            for j in range(nd):
                bi = 0.0
                for q in range(ng):
                    v = _bb_iou(d_box[d + j], g_box[gi + q], g_crowd[gi + q])
                    iou[j * ng + q] = v
                    if v > bi:
                        bi = v
                best_iou[d + j] = bi
        for a in range(A):
            lo = area_lo[a]
            hi = area_hi[a]
            # ground truth order: not ignored first, then ignored (stable), as argsort(gtIg)
            no = 0
            for q in range(ng):
                ig = g_ignore[gi + q] or g_area[gi + q] < lo or g_area[gi + q] > hi
                gig[q] = ig
                if not ig:
                    order[no] = q
                    no += 1
            m2 = no
            for q in range(ng):
                if gig[q]:
                    order[m2] = q
                    m2 += 1
            for t in range(T):
                bit = np.uint64(a * T + t)
                for q in range(ng):
                    taken[q] = False
                for j in range(nd):
                    m = -1
                    cur = thr[t]
                    for oo in range(ng):
                        q = order[oo]
                        if taken[q] and not g_crowd[gi + q]:
                            continue
                        if m > -1 and not gig[m] and gig[q]:
                            break
                        v = iou[j * ng + q]
                        if v < cur:
                            continue
                        cur = v
                        m = q
                    if m > -1:
                        taken[m] = True
                        matched[d + j] |= np.uint64(1) << bit
                        if gig[m]:
                            ignored[d + j] |= np.uint64(1) << bit
                        if a == 0 and t == 0:
                            match_g[d + j] = gi + m
                    else:
                        if d_area[d + j] < lo or d_area[d + j] > hi or d_nel[d + j]:
                            ignored[d + j] |= np.uint64(1) << bit
        d = de
        gi = ge
    return 0


# ---------------------------------------------------------------------------------------------
# Accumulation (COCOeval.accumulate / LVISEval.accumulate) for all classes
# ---------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def accumulate_classes(order, starts, rank, mbits, ibits, gt_count, T, mds, coco, rec_thrs, k_lo, k_hi,
                       precision, recall):
    """Fill ``precision`` (T, R, C, A, M) and ``recall`` (T, C, A, M) for classes ``k_lo:k_hi``.

    ``order[starts[k]:starts[k + 1]]`` are the detections of class k in (score desc, image, rank)
    order. Entries of classes without ground truth in an area range stay as they are (-1).
    """
    A = gt_count.shape[1]
    R = len(rec_thrs)
    eps = np.spacing(1.0)
    nmax = 0
    for k in range(k_lo, k_hi):
        nmax = max(nmax, starts[k + 1] - starts[k])
    sel = np.empty(nmax, np.int64)
    pr = np.empty(nmax)
    rc = np.empty(nmax)
    for k in range(k_lo, k_hi):
        s0 = starts[k]
        s1 = starts[k + 1]
        for mi in range(len(mds)):
            md = mds[mi]
            nd = 0
            for p in range(s0, s1):
                o = order[p]
                if coco and rank[o] >= md:
                    continue
                sel[nd] = o
                nd += 1
            for a in range(A):
                npig = gt_count[k, a]
                if npig == 0:
                    continue
                for t in range(T):
                    bit = np.uint64(a * T + t)
                    tp = 0.0
                    fp = 0.0
                    n = 0
                    for j in range(nd):
                        o = sel[j]
                        ig = (ibits[o] >> bit) & np.uint64(1)
                        if ig:
                            continue
                        if (mbits[o] >> bit) & np.uint64(1):
                            tp += 1.0
                        else:
                            fp += 1.0
                        pr[n] = tp / (fp + tp + eps)
                        rc[n] = tp / npig
                        n += 1
                    # pycocotools keeps ignored detections in the arrays (tp / fp unchanged there);
                    # dropping them leaves the same (recall, precision) steps
                    recall[t, k, a, mi] = rc[n - 1] if n else 0.0
                    for i in range(n - 1, 0, -1):
                        if pr[i] > pr[i - 1]:
                            pr[i - 1] = pr[i]
                    i = 0
                    for r in range(R):
                        while i < n and rc[i] < rec_thrs[r]:
                            i += 1
                        precision[t, r, k, a, mi] = pr[i] if i < n else 0.0
    return 0


# ---------------------------------------------------------------------------------------------
# Image bootstrap of per-class AP from the per-image states
# ---------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _n_le(thr, x):
    """Number of thresholds <= x (``searchsorted(thr, x, "right")``), thr = 0, 0.01, ..., 1."""
    R = len(thr)
    k = int(x * (R - 1))
    if k < 0:
        k = 0
    if k > R - 1:
        k = R - 1
    while k < R and thr[k] <= x:
        k += 1
    while k > 0 and thr[k - 1] > x:
        k -= 1
    return k


@njit(cache=True, nogil=True)
def bootstrap_ap(starts, d_img, d_tp, d_fp, g_starts, g_img, g_cnt, weights, T, rec_thrs, b_lo, b_hi,
                 out_ap, out_ap50):
    """Per-class AP (IoU 0.50:0.95) and AP50 of each bootstrap replicate ``b_lo:b_hi``.

    Class k's detections ``starts[k]:starts[k+1]`` are in score order with their image index
    ``d_img`` and per-threshold true / false positive bits (``d_tp`` / ``d_fp``, bit t; neither =
    ignored). Its ground truth: ``g_starts[k]:g_starts[k+1]`` pairs (image index, non-ignored
    count). ``weights[b, i]``: how many times image i is drawn in replicate b; each copy of an
    image brings its detections and ground truth again, so a detection counts ``w`` times at its
    place in the score order. ``out_ap[b, k]`` = -1 where the class has no ground truth in the
    replicate (left out of every mean, as the references do).
    """
    C = len(starts) - 1
    R = len(rec_thrs)
    eps = np.spacing(1.0)
    nmax = 1
    for k in range(C):
        nmax = max(nmax, starts[k + 1] - starts[k])
    pr = np.empty((T, nmax))
    rc = np.empty((T, nmax))
    tp = np.empty(T)
    fp = np.empty(T)
    nn = np.empty(T, np.int64)
    full = np.uint16((1 << T) - 1)
    for b in range(b_lo, b_hi):
        w = weights[b]
        for k in range(C):
            npig = 0.0
            for p in range(g_starts[k], g_starts[k + 1]):
                npig += w[g_img[p]] * g_cnt[p]
            if npig == 0.0:
                out_ap[b, k] = -1.0
                out_ap50[b, k] = -1.0
                continue
            if starts[k] == starts[k + 1]:
                out_ap[b, k] = 0.0
                out_ap50[b, k] = 0.0
                continue
            for t in range(T):
                tp[t] = 0.0
                fp[t] = 0.0
                nn[t] = 0
            # precision is only read at true positives (a false positive's precision is below the
            # true positive before it), so the curve is kept at those points only; a detection that
            # is a false positive at every threshold adds to one shared count
            fpc = 0.0
            for j in range(starts[k], starts[k + 1]):
                wj = w[d_img[j]]
                if wj == 0:
                    continue
                bt = d_tp[j]
                bf = d_fp[j]
                if bt == 0:
                    if bf == full:
                        fpc += wj
                    else:
                        for t in range(T):
                            if (bf >> t) & 1:
                                fp[t] += wj
                    continue
                for t in range(T):
                    if (bt >> t) & 1:
                        tp[t] += wj
                        n = nn[t]
                        pr[t, n] = tp[t] / ((fpc + fp[t]) + tp[t] + eps)
                        rc[t, n] = tp[t] / npig
                        nn[t] = n + 1
                    elif (bf >> t) & 1:
                        fp[t] += wj
            total = 0.0
            for t in range(T):
                n = nn[t]
                if n == 0 or tp[t] == 0.0:
                    if t == 0:
                        out_ap50[b, k] = 0.0
                    continue
                # interpolated precision read at the recall thresholds: threshold r is read at the
                # first point whose recall reaches it, i.e. point i takes the thresholds in
                # (rc[i-1], rc[i]]; walk the points (few) instead of the 101 thresholds
                s = 0.0
                run_max = 0.0  # the interpolated precision: running maximum from the right
                for i in range(n - 1, -1, -1):
                    if pr[t, i] > run_max:
                        run_max = pr[t, i]
                    # thresholds <= rc[i]: searchsorted(rec_thrs, rc[i], "right")
                    c = _n_le(rec_thrs, rc[t, i])
                    c_prev = _n_le(rec_thrs, rc[t, i - 1]) if i > 0 else 0
                    if c > c_prev:
                        s += (c - c_prev) * run_max
                if t == 0:
                    out_ap50[b, k] = s / R
                total += s
            out_ap[b, k] = total / (T * R)
    return 0


# ---------------------------------------------------------------------------------------------
# TIDE (Bolya et al. 2020, tidecv): per-image matching at one IoU and the error of each negative
# ---------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def tide_images(p_ptr, p_box, p_cls, p_all_ignored, g_ptr, g_box, g_cls, c_ptr, c_box, c_cls, pos_thr, bg_thr,
                used, p_iou, etype, egt, g_used):
    """tidecv ``TIDEExample`` + the error tests of ``TIDERun._eval_image`` for every image.

    Per image i: predictions ``p_ptr[i]:p_ptr[i+1]`` sorted by score (stable) and cut to the
    maximum number of detections; non-ignored ground truth ``g_ptr``; crowd / ignore regions
    ``c_ptr`` (boxes; a class-specific region that covers the whole image is encoded by
    ``p_all_ignored``: the prediction's class is ignored in its image).
    Writes ``used`` (1 true positive, 0 false positive, -1 ignored), ``p_iou`` (largest IoU
    with a ground truth of its class), ``etype`` (0 none, 1 Cls, 2 Loc, 3 Both, 4 Dupe, 5 Bkg),
    ``egt`` (the ground truth matched by a true positive or pointed at by a Cls / Loc error,
    global index; -1) and ``g_used``.
    """
    I = len(p_ptr) - 1
    iou = np.empty(1024)
    for im in range(I):
        p0 = p_ptr[im]
        p1 = p_ptr[im + 1]
        g0 = g_ptr[im]
        g1 = g_ptr[im + 1]
        n_p = p1 - p0
        n_g = g1 - g0
        for j in range(g0, g1):
            g_used[j] = False
        if n_p == 0:
            continue
        if n_p * n_g > len(iou):
            iou = np.empty(max(n_p * n_g, 2 * len(iou)))
        for i in range(n_p):
            for j in range(n_g):
                iou[i * n_g + j] = _bb_iou(p_box[p0 + i], g_box[g0 + j], False)
        # class-aware greedy matching in score order (argmax: the first of equal IoUs)
        for i in range(n_p):
            p = p0 + i
            best = 0
            bv = -1.0
            same_max = 0.0
            for j in range(n_g):
                v = iou[i * n_g + j] if g_cls[g0 + j] == p_cls[p] else 0.0
                if v > same_max:
                    same_max = v
                if g_used[g0 + j]:
                    v = 0.0
                if v > bv:
                    bv = v
                    best = j
            p_iou[p] = same_max
            used[p] = 0
            etype[p] = 0
            egt[p] = -1
            if n_g > 0 and bv >= pos_thr:
                used[p] = 1
                g_used[g0 + best] = True
                egt[p] = g0 + best
        # ignore regions: crowd boxes (IoU over the prediction's area > pos_thr) and whole-image
        # class-specific regions
        for i in range(n_p):
            p = p0 + i
            if used[p] != 0:
                continue
            if p_all_ignored[p]:
                used[p] = -1
                continue
            for c in range(c_ptr[im], c_ptr[im + 1]):
                if c_cls[c] == p_cls[p] and _bb_iou(p_box[p], c_box[c], True) > pos_thr:
                    used[p] = -1
                    break
        # the error of each negative (false positive or ignored)
        for i in range(n_p):
            p = p0 + i
            if used[p] == 1:
                continue
            if n_g == 0:
                etype[p] = 5
                continue
            # Loc: bg <= best IoU with a ground truth of its class <= pos
            bj = 0
            bv = -1.0
            for j in range(n_g):
                v = iou[i * n_g + j] if g_cls[g0 + j] == p_cls[p] else 0.0
                if v > bv:
                    bv = v
                    bj = j
            if bg_thr <= bv <= pos_thr:
                etype[p] = 2
                egt[p] = g0 + bj
                continue
            # Cls: IoU >= pos with a ground truth of another class
            bj = 0
            bv = -1.0
            for j in range(n_g):
                v = iou[i * n_g + j] if g_cls[g0 + j] != p_cls[p] else 0.0
                if v > bv:
                    bv = v
                    bj = j
            if bv >= pos_thr:
                etype[p] = 1
                egt[p] = g0 + bj
                continue
            # Dupe: IoU >= pos with an already matched ground truth of its class
            bv = -1.0
            for j in range(n_g):
                v = iou[i * n_g + j] if (g_cls[g0 + j] == p_cls[p] and g_used[g0 + j]) else 0.0
                if v > bv:
                    bv = v
            if bv >= pos_thr:
                etype[p] = 4
                continue
            # Bkg: IoU <= bg with every ground truth; else Both
            bv = -1.0
            for j in range(n_g):
                v = iou[i * n_g + j]
                if v > bv:
                    bv = v
            if bv <= bg_thr:
                etype[p] = 5
            else:
                etype[p] = 3
    return 0


@njit(cache=True, nogil=True)
def tide_class_ap(starts, correct, n_gt, x_range):
    """tidecv ``APDataObject.get_ap`` for classes whose points ``starts[k]:starts[k+1]`` are sorted
    by (-score, insertion order): 101-point AP x 100 (0 where the class has no ground truth)."""
    C = len(starts) - 1
    out = np.zeros(C)
    nmax = 1
    for k in range(C):
        nmax = max(nmax, starts[k + 1] - starts[k])
    pr = np.empty(nmax)
    rc = np.empty(nmax)
    R = len(x_range)
    for k in range(C):
        g = n_gt[k]
        if g == 0:
            continue
        nt = 0
        nf = 0
        n = 0
        for j in range(starts[k], starts[k + 1]):
            if correct[j]:
                nt += 1
            else:
                nf += 1
            pr[n] = nt / (nt + nf)
            rc[n] = nt / g
            n += 1
        for i in range(n - 1, 0, -1):
            if pr[i] > pr[i - 1]:
                pr[i - 1] = pr[i]
        s = 0.0
        i = 0
        for r in range(R):
            while i < n and rc[i] < x_range[r]:
                i += 1
            s += pr[i] if i < n else 0.0
        out[k] = s / R * 100
    return out


# ---------------------------------------------------------------------------------------------
# Preparation passes over all detections without full-size temporaries
# ---------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def lookup_ids(ids, lo, table):
    """``table[id - lo]`` per id (-1 outside the table): image / class index of each detection."""
    n = len(ids)
    out = np.empty(n, np.int64)
    m = len(table)
    for i in range(n):
        o = ids[i] - lo
        out[i] = table[o] if 0 <= o < m else -1
    return out


@njit(cache=True, nogil=True)
def first_bad_values(box, score):
    """First entry with a non-finite score, a non-finite box, a box with w or h <= 0 (-1: none),
    and the number of such boxes."""
    n = len(score)
    bad_s = -1
    bad_b = -1
    bad_wh = -1
    n_wh = 0
    n_s = 0
    for i in range(n):
        s = score[i]
        if not np.isfinite(s):
            n_s += 1
            if bad_s < 0:
                bad_s = i
        x, y, w, h = box[i, 0], box[i, 1], box[i, 2], box[i, 3]
        if not (np.isfinite(x) and np.isfinite(y) and np.isfinite(w) and np.isfinite(h)):
            if bad_b < 0:
                bad_b = i
        elif w <= 0 or h <= 0:
            n_wh += 1
            if bad_wh < 0:
                bad_wh = i
    return bad_s, n_s, bad_b, bad_wh, n_wh


@njit(cache=True, nogil=True)
def federated_keep(img, cat, C, allowed):
    """Positions (and keys ``img * C + cat``) of detections of a known class whose (image, class)
    pair is evaluated (``allowed[key]``: positive or verified negative), in file order."""
    n = len(img)
    cnt = 0
    for i in range(n):
        c = cat[i]
        if c >= 0 and allowed[img[i] * C + c]:
            cnt += 1
    pos = np.empty(cnt, np.int64)
    key = np.empty(cnt, np.int64)
    j = 0
    for i in range(n):
        c = cat[i]
        if c >= 0:
            k = img[i] * C + c
            if allowed[k]:
                pos[j] = i
                key[j] = k
                j += 1
    return pos, key
