"""Compiled kernels (numba, ``nogil``, cached on disk) of the detection evaluator.

Called through :func:`lt_core.detection._jit.kernel` (which runs their machine code from the
native cache without importing numba when it can, see :mod:`lt_core.detection._native`); the
JSON scanners' Python side is :mod:`lt_core.detection.jsonscan`. Every kernel has a pure-NumPy
counterpart (the reference path the tests compare against):

================================  ===========================================================
kernel                            reference path
================================  ===========================================================
:func:`_scan_region` (scanner)    ``orjson`` + :func:`lt_core.data.loaders._results_from_list`
:func:`_scan_gt_kernel` (scanner) ``orjson`` + :func:`lt_core.data.loaders.load_detection_gt`
:func:`match_bbox`                :func:`lt_core.detection.matching.match_shard` (NumPy)
:func:`accumulate_classes`        :func:`lt_core.detection.accumulate.accumulate` (NumPy)
:func:`bootstrap_ap`              naive resampling (re-running the evaluation), in the tests
:func:`bootstrap_lanes`           :func:`bootstrap_ap` (bit for bit), in the tests
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

from ._jit import import_numba, light_loading

import_numba()  # without SciPy / PyYAML (see lt_core.detection._jit)
from numba import njit, types  # noqa: E402
from numba.core.dispatcher import Dispatcher  # noqa: E402
from numba.extending import intrinsic, overload  # noqa: E402


# ---------------------------------------------------------------------------------------------
# Raw data pointers for the inner loops
# ---------------------------------------------------------------------------------------------
# numba reference-counts every array a function receives, inlined helpers included: a helper
# called per byte or per box with an array argument puts atomic increments / decrements (and an
# optimisation barrier) into the innermost loop (measured: the results scanner spent two thirds
# of its time in NRT_incref / NRT_decref). The helpers therefore take the arrays' data pointers
# (``_ptr``: ``p[i]`` reads / writes element i, no wraparound of negative indices, no count); the
# arrays stay alive in the kernel that passes them. In plain Python (``py_func``) ``_ptr`` is the
# array itself.
def _ptr(a):
    return a


@intrinsic
def _data_pointer(typingctx, arr):
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, args):
        return context.make_array(arr)(context, builder, value=args[0]).data

    return types.CPointer(arr.dtype)(arr), codegen


@overload(_ptr, inline="always")
def _ptr_impl(a):
    if isinstance(a, types.Array):
        return lambda a: _data_pointer(a)
    return None


def _f64_from_bits(u):
    return np.array([u], np.uint64).view(np.float64)[0]


@intrinsic
def _bits_as_f64(typingctx, u):
    if u != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.uint64), codegen


@overload(_f64_from_bits, inline="always")
def _f64_from_bits_impl(u):
    return lambda u: _bits_as_f64(u)

__all__ = ["match_bbox", "match_scratch", "accumulate_classes", "bootstrap_ap", "bootstrap_lanes", "lookup_ids",
           "first_bad_values",
           "federated_keep", "shift_down", "tide_images", "tide_class_ap", "scan_results", "scan_gt", "POW5"]


# ---------------------------------------------------------------------------------------------
# Eisel-Lemire (the table of powers of five: lt_core.detection.jsonscan.POW5)
# ---------------------------------------------------------------------------------------------
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


_TWO53 = np.uint64(1 << 53)
_EPS = np.spacing(1.0)  # the references' eps (a compile-time constant: no libm call in the kernels)


@njit(cache=True, nogil=True)
def _el_float(w, q, neg, pow5):
    """Eisel-Lemire as a float (``pow5``: :data:`POW5`'s data pointer)."""
    return _f64_from_bits(_eisel_lemire(w, q, neg, pow5))


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
def _key_is(buf, s, e, key, klen):
    """``buf[s:e]`` equals the ``klen`` bytes of ``key`` (both data pointers)."""
    if e - s != klen:
        return False
    for k in range(klen):
        if buf[s + k] != key[k]:
            return False
    return True


@njit(cache=True, nogil=True)
def _scan_region(buf_a, i, stop_at, pow5_a, p10_a, k_img_a, k_cat_a, k_box_a, k_score_a, k_seg_a,
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
    n = len(buf_a)
    cap = len(img)
    buf, pow5, p10 = _ptr(buf_a), _ptr(pow5_a), _ptr(p10_a)
    k_img, k_cat, k_box, k_score, k_seg = _ptr(k_img_a), _ptr(k_cat_a), _ptr(k_box_a), _ptr(k_score_a), _ptr(k_seg_a)
    n_img, n_cat, n_box, n_score, n_seg = len(k_img_a), len(k_cat_a), len(k_box_a), len(k_score_a), len(k_seg_a)
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
            if _key_is(buf, ks, ke, k_img, n_img) or _key_is(buf, ks, ke, k_cat, n_cat):
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
            elif _key_is(buf, ks, ke, k_score, n_score):
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
                    # Clinger's exact fast path (w <= 2^53, |q| <= 22: one correctly rounded operation)
                    v = np.float64(w)
                    if q < 0:
                        v = v / p10[-q]
                    else:
                        v = v * p10[q]
                    if neg and (kind == 1 or w != _U0):  # the integer -0 is 0 in Python
                        v = -v
                    score[r] = v
                else:
                    score[r] = _el_float(w, q, neg, pow5)
                have |= 4
                i = e
            elif _key_is(buf, ks, ke, k_box, n_box):
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
                        if neg and (kind == 1 or w != _U0):
                            v = -v
                        box[r * 4 + k] = v
                    else:
                        box[r * 4 + k] = _el_float(w, q, neg, pow5)
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
            elif _key_is(buf, ks, ke, k_seg, n_seg):
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
def _find_split(buf_a, lo, hi):
    """First ``}`` ws* ``,`` ws* ``{`` at or after ``lo``; returns the '{' position or -1."""
    n = len(buf_a)
    buf = _ptr(buf_a)
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


@njit(cache=True, nogil=True)
def shift_down(a, dst, src, count):
    """``a[dst:dst + count] = a[src:src + count]`` for ``dst <= src`` (overlap allowed), in place."""
    for k in range(count):
        a[dst + k] = a[src + k]
    return 0


# ---------------------------------------------------------------------------------------------
# COCO / LVIS ground-truth JSON scanner (strict JSON; anything unusual goes to the Python reader)
# ---------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _cont(buf, i, n, lo, hi):
    """True when ``buf[i]`` is a UTF-8 continuation byte in [lo, hi]."""
    return i < n and lo <= buf[i] <= hi


@njit(cache=True, nogil=True)
def _hex4(buf, i, n):
    """Value of 4 hex digits at ``i`` (-1 if not hex)."""
    if i + 4 > n:
        return -1
    v = 0
    for k in range(4):
        c = buf[i + k]
        if 48 <= c <= 57:
            d = c - 48
        elif 97 <= c <= 102:
            d = c - 87
        elif 65 <= c <= 70:
            d = c - 55
        else:
            return -1
        v = v * 16 + d
    return v


@njit(cache=True, nogil=True)
def _json_string(buf, i, n):
    """A strict JSON string at ``i`` (the opening quote): valid UTF-8, no control characters,
    valid escapes. Returns ``(end after the closing quote, has escapes)``; end -1 when invalid or
    when an escape encodes a UTF-16 surrogate (left to the Python reader)."""
    i += 1
    esc = False
    while i < n:
        c = buf[i]
        if c == 34:
            return i + 1, esc
        if c == 92:
            esc = True
            if i + 1 >= n:
                return -1, esc
            e = buf[i + 1]
            if e == 117:  # \uXXXX
                v = _hex4(buf, i + 2, n)
                if v < 0 or 0xD800 <= v <= 0xDFFF:
                    return -1, esc
                i += 6
                continue
            if e == 34 or e == 92 or e == 47 or e == 98 or e == 102 or e == 110 or e == 114 or e == 116:
                i += 2
                continue
            return -1, esc
        if c < 32:
            return -1, esc
        if c < 128:
            i += 1
            continue
        # UTF-8 sequences (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF)
        if 0xC2 <= c <= 0xDF:
            if not _cont(buf, i + 1, n, 0x80, 0xBF):
                return -1, esc
            i += 2
        elif c == 0xE0 or c == 0xED or 0xE1 <= c <= 0xEF:
            lo = 0xA0 if c == 0xE0 else 0x80
            hi = 0x9F if c == 0xED else 0xBF
            if not (_cont(buf, i + 1, n, lo, hi) and _cont(buf, i + 2, n, 0x80, 0xBF)):
                return -1, esc
            i += 3
        elif 0xF0 <= c <= 0xF4:
            lo = 0x90 if c == 0xF0 else 0x80
            hi = 0x8F if c == 0xF4 else 0xBF
            if not (_cont(buf, i + 1, n, lo, hi) and _cont(buf, i + 2, n, 0x80, 0xBF)
                    and _cont(buf, i + 3, n, 0x80, 0xBF)):
                return -1, esc
            i += 4
        else:
            return -1, esc
    return -1, esc


@njit(cache=True, nogil=True)
def _json_literal(buf, i, n):
    """``true`` / ``false`` / ``null`` at ``i``: (end, 1 true / 0 false / 2 null), end -1 if none."""
    if i + 4 <= n and buf[i] == 116 and buf[i + 1] == 114 and buf[i + 2] == 117 and buf[i + 3] == 101:
        return i + 4, 1
    if i + 5 <= n and buf[i] == 102 and buf[i + 1] == 97 and buf[i + 2] == 108 and buf[i + 3] == 115 \
            and buf[i + 4] == 101:
        return i + 5, 0
    if i + 4 <= n and buf[i] == 110 and buf[i + 1] == 117 and buf[i + 2] == 108 and buf[i + 3] == 108:
        return i + 4, 2
    return -1, 0


@njit(cache=True, nogil=True, inline="always")
def _number_ok(kind, q):
    """A number the Python reader reads as a finite value: not more than 19 significant digits
    (those go to Python) and an exponent far from overflow."""
    return kind >= 0 and kind != 2 and -300 <= q <= 300


@njit(cache=True, nogil=True)
def _skip_json(buf, i, n, stack, max_depth):
    """Skip one strict JSON value at ``i`` (no whitespace before it); returns its end, -1 when the
    text is not strict JSON (or nests deeper than ``max_depth``, the size of ``stack``)."""
    depth = 0
    while True:
        # a value at i
        if i >= n:
            return -1
        c = buf[i]
        if c == 123 or c == 91:
            if depth >= max_depth:
                return -1
            stack[depth] = c
            depth += 1
            i = _skip_ws(buf, i + 1, n)
            if i >= n:
                return -1
            if (c == 123 and buf[i] == 125) or (c == 91 and buf[i] == 93):
                depth -= 1
                i += 1
            elif c == 123:
                if buf[i] != 34:
                    return -1
                i, esc = _json_string(buf, i, n)
                if i < 0:
                    return -1
                i = _skip_ws(buf, i, n)
                if i >= n or buf[i] != 58:
                    return -1
                i = _skip_ws(buf, i + 1, n)
                continue
            else:
                continue
        elif c == 34:
            i, esc = _json_string(buf, i, n)
            if i < 0:
                return -1
        elif c == 45 or 48 <= c <= 57:
            e, w, q, neg, kind = _lex_number(buf, i, n)
            if not _number_ok(kind, q):
                return -1
            i = e
        else:
            i, v = _json_literal(buf, i, n)
            if i < 0:
                return -1
        # after a value: close containers, or go on to the next element
        while True:
            if depth == 0:
                return i
            i = _skip_ws(buf, i, n)
            if i >= n:
                return -1
            c = buf[i]
            top = stack[depth - 1]
            if c == 44:
                i = _skip_ws(buf, i + 1, n)
                if top == 123:
                    if i >= n or buf[i] != 34:
                        return -1
                    i, esc = _json_string(buf, i, n)
                    if i < 0:
                        return -1
                    i = _skip_ws(buf, i, n)
                    if i >= n or buf[i] != 58:
                        return -1
                    i = _skip_ws(buf, i + 1, n)
                break
            if (c == 125 and top == 123) or (c == 93 and top == 91):
                depth -= 1
                i += 1
                continue
            return -1


@njit(cache=True, nogil=True)
def _gt_key(buf, ks, ke, keys, off, lo, hi):
    """Index in [lo, hi) of the key ``buf[ks:ke]`` among the known keys, -1 if none."""
    ln = ke - ks
    for k in range(lo, hi):
        a = off[k]
        if off[k + 1] - a != ln:
            continue
        same = True
        for j in range(ln):
            if buf[ks + j] != keys[a + j]:
                same = False
                break
        if same:
            return k
    return -1


@njit(cache=True, nogil=True)
def _gt_int(buf, i, n):
    """A JSON integer (|v| < 2^53) at ``i``: (end, value); end -1 otherwise."""
    e, w, q, neg, kind = _lex_number(buf, i, n)
    if kind != 0 or w > np.uint64(9007199254740991):
        return -1, np.int64(0)
    v = np.int64(w)
    return e, -v if neg else v


@njit(cache=True, nogil=True)
def _gt_float(buf, i, n, pow5, p10):
    """A JSON number at ``i`` as float64, the value Python's reader gives: (end, value, is an
    integer); end -1 when it is not a number or is left to Python."""
    e, w, q, neg, kind = _lex_number(buf, i, n)
    if not _number_ok(kind, q):
        return -1, 0.0, False
    if kind == 0:
        v = np.float64(w)  # int -> float: round to nearest even, as float(int); -0 is 0
        return e, -v if neg and w != _U0 else v, True
    if w <= _TWO53 and -22 <= q <= 22:
        v = np.float64(w)
        if q < 0:
            v = v / p10[-q]
        else:
            v = v * p10[q]
        return e, -v if neg else v, False
    return e, _el_float(w, q, neg, pow5), False


@njit(cache=True, nogil=True)
def _gt_int_list(buf, i, n, out, cap, at):
    """``[int, ...]`` at ``i`` into ``out[at:cap]``: (end, count); end -1 when not a flat list of
    integers, -2 when ``out`` is full."""
    if i >= n or buf[i] != 91:
        return -1, 0
    i = _skip_ws(buf, i + 1, n)
    cnt = 0
    if i < n and buf[i] == 93:
        return i + 1, 0
    while True:
        e, v = _gt_int(buf, i, n)
        if e < 0:
            return -1, cnt
        if at + cnt >= cap:
            return -2, cnt
        out[at + cnt] = v
        cnt += 1
        i = _skip_ws(buf, e, n)
        if i >= n:
            return -1, cnt
        if buf[i] == 93:
            return i + 1, cnt
        if buf[i] != 44:
            return -1, cnt
        i = _skip_ws(buf, i + 1, n)


@njit(cache=True, nogil=True)
def _scan_gt_kernel(buf_a, pow5_a, p10_a, keys_a, off_a, stack_a,
                    img_i, img_f, img_fl, img_neg, img_nel, neg_buf, nel_buf,
                    ann_i, ann_f, ann_fl, cat_i, cat_s, cat_fl, counts):
    """Parse a COCO / LVIS ground-truth object into columns (see :func:`scan_gt`).

    ``counts`` gets: images, annotations, categories, negative ids, not-exhaustive ids, status
    (0 done, 1 left to the Python reader, 3 an output is full: ``counts[6]`` says which),
    position.
    """
    n = len(buf_a)
    buf, pow5, p10, keys, off, stack = _ptr(buf_a), _ptr(pow5_a), _ptr(p10_a), _ptr(keys_a), _ptr(off_a), _ptr(stack_a)
    max_depth = len(stack_a)
    neg_p, neg_cap, nel_p, nel_cap = _ptr(neg_buf), len(neg_buf), _ptr(nel_buf), len(nel_buf)
    ni = 0
    na = 0
    nc = 0
    nneg = 0
    nnel = 0
    counts[5] = 1
    i = _skip_ws(buf, 0, n)
    if i >= n or buf[i] != 123:
        return
    i = _skip_ws(buf, i + 1, n)
    seen_top = 0
    first = True
    while True:
        if i >= n:
            return
        if first and buf[i] == 125:
            return  # {} : no images / annotations / categories
        first = False
        if buf[i] != 34:
            return
        ks = i + 1
        i, esc = _json_string(buf, i, n)
        if i < 0 or esc:
            return
        ke = i - 1
        i = _skip_ws(buf, i, n)
        if i >= n or buf[i] != 58:
            return
        i = _skip_ws(buf, i + 1, n)
        if i >= n:
            return
        top = _gt_key(buf, ks, ke, keys, off, 0, 3)
        if top < 0:
            i = _skip_json(buf, i, n, stack, max_depth)
            if i < 0:
                return
        else:
            if seen_top & (1 << top):
                return  # a repeated key: the last one counts in Python; left to it
            seen_top |= 1 << top
            if buf[i] != 91:
                return
            i = _skip_ws(buf, i + 1, n)
            if i >= n:
                return
            empty = buf[i] == 93
            if empty:
                i += 1
            while not empty:
                if buf[i] != 123:
                    return
                i = _skip_ws(buf, i + 1, n)
                have = 0
                if top == 0 and ni >= len(img_i):
                    counts[5] = 3
                    counts[6] = 0
                    return
                if top == 1 and na >= len(ann_i):
                    counts[5] = 3
                    counts[6] = 1
                    return
                if top == 2 and nc >= len(cat_i):
                    counts[5] = 3
                    counts[6] = 2
                    return
                if top == 0:
                    img_f[ni, 0] = 0.0
                    img_f[ni, 1] = 0.0
                    img_fl[ni] = 0
                    img_neg[ni, 0] = nneg
                    img_neg[ni, 1] = 0
                    img_nel[ni, 0] = nnel
                    img_nel[ni, 1] = 0
                elif top == 1:
                    ann_f[na, 4] = 0.0
                    ann_fl[na] = 0
                else:
                    cat_i[nc, 1] = 0
                    cat_i[nc, 2] = 0
                    cat_fl[nc] = 0
                obj_first = True
                while True:
                    if i >= n:
                        return
                    if obj_first and buf[i] == 125:
                        break  # {}: required keys are missing, seen below
                    obj_first = False
                    if buf[i] != 34:
                        return
                    ks = i + 1
                    i, esc = _json_string(buf, i, n)
                    if i < 0 or esc:
                        return
                    ke = i - 1
                    i = _skip_ws(buf, i, n)
                    if i >= n or buf[i] != 58:
                        return
                    i = _skip_ws(buf, i + 1, n)
                    if i >= n:
                        return
                    k = _gt_key(buf, ks, ke, keys, off, 3, 19)
                    if k >= 0:
                        if have & (1 << k):
                            return  # repeated key
                        have |= 1 << k
                    e = -1
                    if top == 0:  # ------------------------------------------------ an image
                        if k == 3:
                            e, v = _gt_int(buf, i, n)
                            img_i[ni] = v
                        elif k == 4 or k == 5:
                            e, x, is_int = _gt_float(buf, i, n, pow5, p10)
                            img_f[ni, k - 4] = x
                            img_fl[ni] |= 1 << (k - 4)
                        elif k == 6:
                            e, cnt = _gt_int_list(buf, i, n, neg_p, neg_cap, nneg)
                            if e == -2:
                                counts[5] = 3
                                counts[6] = 3
                                return
                            img_neg[ni, 1] = cnt
                            nneg += cnt
                            img_fl[ni] |= 4
                        elif k == 7:
                            e, cnt = _gt_int_list(buf, i, n, nel_p, nel_cap, nnel)
                            if e == -2:
                                counts[5] = 3
                                counts[6] = 4
                                return
                            img_nel[ni, 1] = cnt
                            nnel += cnt
                            img_fl[ni] |= 8
                        else:
                            e = _skip_json(buf, i, n, stack, max_depth)
                    elif top == 1:  # ------------------------------------------ an annotation
                        if k == 3 or k == 8 or k == 9:
                            e, v = _gt_int(buf, i, n)
                            ann_i[na, 0 if k == 3 else k - 7] = v
                        elif k == 10:
                            if buf[i] != 91:
                                return
                            i = _skip_ws(buf, i + 1, n)
                            for b in range(4):
                                e, x, is_int = _gt_float(buf, i, n, pow5, p10)
                                if e < 0:
                                    return
                                ann_f[na, b] = x
                                i = _skip_ws(buf, e, n)
                                if i >= n:
                                    return
                                if b < 3:
                                    if buf[i] != 44:
                                        return
                                    i = _skip_ws(buf, i + 1, n)
                            if buf[i] != 93:
                                return
                            e = i + 1
                        elif k == 11:
                            e, x, is_int = _gt_float(buf, i, n, pow5, p10)
                            ann_f[na, 4] = x
                            ann_fl[na] |= 1
                        elif k == 12 or k == 13:
                            # iscrowd: an integer or a boolean; ignore: any number, boolean or null
                            c = buf[i]
                            if c == 116 or c == 102 or c == 110:
                                e, lit = _json_literal(buf, i, n)
                                if lit == 2 and k == 12:
                                    return
                                truth = lit == 1
                            else:
                                e, x, is_int = _gt_float(buf, i, n, pow5, p10)
                                if k == 12 and not is_int:
                                    return
                                truth = x != 0.0
                            if truth:
                                ann_fl[na] |= 2 if k == 12 else 4
                        elif k == 14:
                            e = _skip_json(buf, i, n, stack, max_depth)
                            ann_fl[na] |= 8
                        else:
                            e = _skip_json(buf, i, n, stack, max_depth)
                    else:  # --------------------------------------------------------- a category
                        if k == 3:
                            e, v = _gt_int(buf, i, n)
                            cat_i[nc, 0] = v
                        elif k == 15 or k == 16:
                            if buf[i] != 34:
                                return  # a name / frequency that is not a string: Python
                            j = 0 if k == 15 else 3
                            cat_s[nc, j] = i + 1
                            e, esc = _json_string(buf, i, n)
                            cat_s[nc, j + 1] = e - 1
                            cat_s[nc, j + 2] = 1 if esc else 0
                        elif k == 17 or k == 18:
                            # a count: an integer >= 0, else marked bad (an error only where used)
                            bit = 1 if k == 17 else 4
                            c = buf[i]
                            if c == 45 or 48 <= c <= 57:
                                e, v = _gt_int(buf, i, n)
                                if e < 0 or v < 0:
                                    e = _skip_json(buf, i, n, stack, max_depth)
                                    cat_fl[nc] |= bit << 1
                                else:
                                    cat_i[nc, k - 16] = v
                            else:
                                e = _skip_json(buf, i, n, stack, max_depth)
                                cat_fl[nc] |= bit << 1
                            cat_fl[nc] |= bit
                        else:
                            e = _skip_json(buf, i, n, stack, max_depth)
                    if e < 0:
                        return
                    i = _skip_ws(buf, e, n)
                    if i >= n:
                        return
                    if buf[i] == 44:
                        i = _skip_ws(buf, i + 1, n)
                        continue
                    if buf[i] == 125:
                        break
                    return
                i += 1  # past '}'
                if top == 0:
                    if not (have & (1 << 3)):
                        return
                    ni += 1
                elif top == 1:
                    if (have & 0x708) != 0x708:  # id, image_id, category_id, bbox
                        return
                    na += 1
                else:
                    if (have & ((1 << 3) | (1 << 15))) != ((1 << 3) | (1 << 15)):
                        return
                    nc += 1
                i = _skip_ws(buf, i, n)
                if i >= n:
                    return
                if buf[i] == 44:
                    i = _skip_ws(buf, i + 1, n)
                    continue
                if buf[i] == 93:
                    i += 1
                    break
                return
        i = _skip_ws(buf, i, n)
        if i >= n:
            return
        if buf[i] == 44:
            i = _skip_ws(buf, i + 1, n)
            continue
        if buf[i] == 125:
            i = _skip_ws(buf, i + 1, n)
            if i != n or seen_top != 7:
                return
            break
        return
    counts[0] = ni
    counts[1] = na
    counts[2] = nc
    counts[3] = nneg
    counts[4] = nnel
    counts[5] = 0
    counts[7] = i


# ---------------------------------------------------------------------------------------------
# Matching (pycocotools COCOeval.evaluateImg / lvis-api LVISEval.evaluate_img), all groups
# ---------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _bb_iou4(d0, d1, d2, d3, g0, g1, g2, g3, crowd):
    """maskApi.c ``bbIou`` for one pair of boxes (x, y, w, h), same operation order (scalars: no
    row views, whose reference counts would sit in the innermost loop)."""
    da = d2 * d3
    w = min(d2 + d0, g2 + g0) - max(d0, g0)
    if w <= 0:
        return 0.0
    h = min(d3 + d1, g3 + g1) - max(d1, g1)
    if h <= 0:
        return 0.0
    i = w * h
    if crowd:
        u = da
    else:
        ga = g2 * g3
        u = da + ga - i
    return i / u



@njit(cache=True, nogil=True)
def match_scratch(d_key, g_key, d_lo, d_hi, g_lo, g_hi):
    """Scratch sizes of :func:`match_bbox` on ``d_lo:d_hi``: the largest (detections x ground
    truth) and ground truth of one (image, category) group."""
    gi = g_lo
    d = d_lo
    pairs = 0
    gmax = 0
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
        pairs = max(pairs, (de - d) * (ge - gi))
        gmax = max(gmax, ge - gi)
        d = de
        gi = ge
    return pairs, gmax


@njit(cache=True, nogil=True)
def match_bbox(d_key, d_box, d_area, d_nel, g_key, g_box, g_area, g_ignore, g_crowd,
               thr, area_lo, area_hi, d_lo, d_hi, g_lo, g_hi,
               matched, ignored, match_g, best_iou, iou, order, gig, taken):
    """Greedy matching of every (image, category) group of detections ``d_lo:d_hi``.

    Detections are sorted by key, then score (desc, stable); ground truth by key (file order).
    Writes, per detection: ``matched`` / ``ignored`` bits ``a * T + t``; ``match_g``: the ground
    truth (index) matched at IoU threshold 0 and area range 0, -1 if none; ``best_iou``: the
    largest IoU with a ground truth of its group (0 if none). Scratch (sizes from
    :func:`match_scratch`): ``iou`` (pairs,) float64, ``order`` (ng,) int64, ``gig`` /
    ``taken`` (ng,) bool.
    """
    T = len(thr)
    A = len(area_lo)
    gi = g_lo
    d = d_lo
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
            for j in range(nd):
                bi = 0.0
                dx, dy, dw, dh = d_box[d + j, 0], d_box[d + j, 1], d_box[d + j, 2], d_box[d + j, 3]
                for q in range(ng):
                    v = _bb_iou4(dx, dy, dw, dh, g_box[gi + q, 0], g_box[gi + q, 1], g_box[gi + q, 2],
                                 g_box[gi + q, 3], g_crowd[gi + q])
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
                       precision, recall, sel, pr, rc):
    """Fill ``precision`` (T, R, C, A, M) and ``recall`` (T, C, A, M) for classes ``k_lo:k_hi``.

    ``order[starts[k]:starts[k + 1]]`` are the detections of class k in (score desc, image, rank)
    order. Entries of classes without ground truth in an area range stay as they are (-1).
    Scratch: ``sel`` int64, ``pr`` / ``rc`` float64, each at least the largest class.
    """
    A = gt_count.shape[1]
    R = len(rec_thrs)
    eps = _EPS
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
def _n_le(thr, R, x):
    """Number of the ``R`` thresholds ``thr`` (a data pointer; 0, 0.01, ..., 1) that are <= x
    (``searchsorted(thr, x, "right")``)."""
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
    thr_p = _ptr(rec_thrs)
    eps = _EPS
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
                    c = _n_le(thr_p, R, rc[t, i])
                    c_prev = _n_le(thr_p, R, rc[t, i - 1]) if i > 0 else 0
                    if c > c_prev:
                        s += (c - c_prev) * run_max
                if t == 0:
                    out_ap50[b, k] = s / R
                total += s
            out_ap[b, k] = total / (T * R)
    return 0


#: replicates per call of :func:`bootstrap_lanes` (the lanes of its vector loops)
BOOT_LANES = 64
# rows of its scratch (BOOT_LANES values each): ground truth, 100 / ground truth, detections so
# far, then 16 rows (one per IoU threshold) each of true positives, the largest precision's
# numerator and denominator, the AP sum, ignored detections
_F_NPIG, _F_INV, _F_N, _F_TP, _F_MT, _F_MD, _F_S, _F_IGN = 0, 1, 2, 3, 19, 35, 51, 67
BOOT_ROWS = 83


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _c_exact(a, ng, inv, tie_lo, tie_hi):
    """Recall thresholds r / 100 (r = 0..100, the references' 101 points) reached by recall
    ``a / ng`` (integer-valued a >= 0, ng >= a), counted without a division; 0 for a = 0.

    m = #{r : r * ng < 100 a} (exact integer products; within one of floor(a * 100 / ng));
    where r = m is a tie (m * ng = 100 a) threshold m is reached when ``thr[m] <= fl(m / 100)``:
    bit m of ``tie_lo`` / ``tie_hi``. Equal to ``searchsorted(thr, fl(a / ng), "right")``.
    """
    x = a * 100.0
    k = np.floor(a * inv)
    m = (k - 1.0) + np.float64((k - 1.0) * ng < x) + np.float64(k * ng < x) + np.float64((k + 1.0) * ng < x)
    mi = np.int64(m)
    tie = m * ng == x
    bits = (tie_lo >> np.uint64(mi)) if mi < 64 else (tie_hi >> np.uint64(mi - 64))
    ok = tie and (bits & np.uint64(1)) != np.uint64(0)
    c = m + np.float64(ok)
    c = c if c < 101.0 else 101.0
    return c if a > 0.0 else 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def bootstrap_lanes(starts_a, d_img_a, tpl_ptr_a, tpl_a, d_ign_a, g_starts_a, g_img_a, g_cnt_a, wt_a, T, R,
                    tie_lo, tie_hi, b0, out_ap, out_ap50, st_a):
    """:func:`bootstrap_ap` for the ``BOOT_LANES`` replicates ``b0 ..``, all at once: the same
    numbers, bit for bit, with the replicates as the lanes of vector loops.

    ``wt[image, replicate]``: the draws, transposed; ``tpl_ptr`` / ``tpl``: per detection the
    thresholds at which it is a true positive; ``d_ign``: bit t, ignored at threshold t;
    ``st``: scratch (``BOOT_ROWS * BOOT_LANES``); thresholds r / 100 (``_c_exact``).

    Per class: pass 1 sums each replicate's weights (detections, true positives, ignored);
    pass 2 walks the detections from the last to the first, the counts so far obtained by
    subtraction, and treats every true-positive entry in every lane as a point of the curve.
    An entry whose detection is not drawn in a lane repeats the previous point's true positives
    with as many or more detections: it reaches no new recall threshold (adds exactly 0) and its
    precision is at most the previous point's, so it never raises the running maximum of a point
    that counts; an entry before the lane's first true positive counts no threshold. The running
    maximum of the precision ``tp / (den + eps)`` is kept as the quotient (exact integer
    comparisons: den + eps is den for den >= 2, and 1 / (1 + eps) lies just below 1) and divided
    once per entry, as the reference divides once per point.
    """
    NB = BOOT_LANES
    C = len(starts_a) - 1
    BW = wt_a.shape[1]
    eps = _EPS
    starts, d_img, tpl_ptr, tpl, d_ign = _ptr(starts_a), _ptr(d_img_a), _ptr(tpl_ptr_a), _ptr(tpl_a), _ptr(d_ign_a)
    g_starts, g_img, g_cnt = _ptr(g_starts_a), _ptr(g_img_a), _ptr(g_cnt_a)
    wt = _ptr(wt_a)
    st = _ptr(st_a)
    for k in range(C):
        for b in range(NB):
            st[_F_NPIG * NB + b] = 0.0
        for p in range(g_starts[k], g_starts[k + 1]):
            o = g_img[p] * BW + b0
            c = g_cnt[p]
            for b in range(NB):
                st[_F_NPIG * NB + b] += wt[o + b] * c
        if starts[k] == starts[k + 1]:
            for b in range(NB):
                v = -1.0 if st[_F_NPIG * NB + b] == 0.0 else 0.0
                out_ap[b0 + b, k] = v
                out_ap50[b0 + b, k] = v
            continue
        for b in range(NB):
            ng = st[_F_NPIG * NB + b]
            st[_F_INV * NB + b] = 100.0 / (ng if ng > 0.0 else 1.0)
            st[_F_N * NB + b] = 0.0
        for t in range(T):
            for b in range(NB):
                st[(_F_TP + t) * NB + b] = 0.0
                st[(_F_MT + t) * NB + b] = 0.0
                st[(_F_MD + t) * NB + b] = 1.0
                st[(_F_S + t) * NB + b] = 0.0
                st[(_F_IGN + t) * NB + b] = 0.0
        # pass 1: per replicate, the detections, true positives and ignored detections in all
        for j in range(starts[k], starts[k + 1]):
            o = d_img[j] * BW + b0
            for b in range(NB):
                st[_F_N * NB + b] += wt[o + b]
            ig = d_ign[j]
            if ig:
                for t in range(T):
                    if (ig >> t) & 1:
                        for b in range(NB):
                            st[(_F_IGN + t) * NB + b] += wt[o + b]
            for q in range(tpl_ptr[j], tpl_ptr[j + 1]):
                z = (_F_TP + tpl[q]) * NB
                for b in range(NB):
                    st[z + b] += wt[o + b]
        # pass 2: the points from the last detection to the first
        for j in range(starts[k + 1] - 1, starts[k] - 1, -1):
            o = d_img[j] * BW + b0
            for q in range(tpl_ptr[j], tpl_ptr[j + 1]):
                t = tpl[q]
                zt, zm, zd, zs, zi = (_F_TP + t) * NB, (_F_MT + t) * NB, (_F_MD + t) * NB, (_F_S + t) * NB, \
                    (_F_IGN + t) * NB
                for b in range(NB):
                    w = np.float64(wt[o + b])
                    a = st[zt + b]                       # true positives up to this detection
                    d = st[_F_N * NB + b] - st[zi + b]   # (fpc + fp) + tp of the reference kernel
                    mt = st[zm + b]
                    md = st[zd + b]
                    d1 = d == 1.0 and a == 1.0
                    m1 = md == 1.0 and mt == 1.0
                    if d1 == m1:
                        up = (a * md > mt * d) and not d1
                    else:
                        up = (mt < md) if d1 else (a == d)
                    mt = a if up else mt
                    md = d if up else md
                    st[zm + b] = mt
                    st[zd + b] = md
                    ng = st[_F_NPIG * NB + b]
                    ng = ng if ng > 0.0 else 1.0  # a class without ground truth in the lane: no AP
                    inv = st[_F_INV * NB + b]
                    c = _c_exact(a, ng, inv, tie_lo, tie_hi)
                    c_prev = _c_exact(a - w, ng, inv, tie_lo, tie_hi)
                    st[zs + b] += (c - c_prev) * (mt / (md + eps))
                    st[zt + b] = a - w
            for b in range(NB):
                st[_F_N * NB + b] -= wt[o + b]
            ig = d_ign[j]
            if ig:
                for t in range(T):
                    if (ig >> t) & 1:
                        for b in range(NB):
                            st[(_F_IGN + t) * NB + b] -= wt[o + b]
        for b in range(NB):
            if st[_F_NPIG * NB + b] == 0.0:
                out_ap[b0 + b, k] = -1.0
                out_ap50[b0 + b, k] = -1.0
                continue
            total = 0.0
            for t in range(T):
                total += st[(_F_S + t) * NB + b]
            out_ap[b0 + b, k] = total / (T * R)
            out_ap50[b0 + b, k] = st[_F_S * NB + b] / R
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
                iou[i * n_g + j] = _bb_iou4(p_box[p0 + i, 0], p_box[p0 + i, 1], p_box[p0 + i, 2], p_box[p0 + i, 3],
                                            g_box[g0 + j, 0], g_box[g0 + j, 1], g_box[g0 + j, 2], g_box[g0 + j, 3],
                                            False)
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
                if c_cls[c] == p_cls[p] and _bb_iou4(p_box[p, 0], p_box[p, 1], p_box[p, 2], p_box[p, 3],
                                                     c_box[c, 0], c_box[c, 1], c_box[c, 2], c_box[c, 3],
                                                     True) > pos_thr:
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
def lookup_ids(ids, lo, table, out):
    """``out[i] = table[ids[i] - lo]`` (-1 outside the table): image / class index of each
    detection."""
    n = len(ids)
    m = len(table)
    for i in range(n):
        o = ids[i] - lo
        out[i] = table[o] if 0 <= o < m else -1
    return 0


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
def federated_keep(img, cat, C, allowed, pos, key):
    """Positions (and keys ``img * C + cat``) of detections of a known class whose (image, class)
    pair is evaluated (``allowed[key]``: positive or verified negative), in file order, written to
    ``pos`` / ``key`` (room for every detection; untouched pages cost no memory); returns their
    number."""
    n = len(img)
    j = 0
    for i in range(n):
        c = cat[i]
        if c >= 0:
            k = img[i] * C + c
            if allowed[k]:
                pos[j] = i
                key[j] = k
                j += 1
    return j


from .jsonscan import (_K_BOX, _K_CAT, _K_IMG, _K_SCORE, _K_SEG, _P10, POW5,  # noqa: E402,F401
                       scan_gt, scan_results)  # the scanners' Python side and constants

# load from the disk cache without refreshing numba's registries (lt_core.detection._jit)
for _f in list(globals().values()):
    if isinstance(_f, Dispatcher):
        light_loading(_f)
del _f
