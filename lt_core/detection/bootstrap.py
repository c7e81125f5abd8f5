"""Seeded image-bootstrap confidence intervals of COCO / LVIS AP from the per-image states.

Definition (what a resampled evaluation set is)
-----------------------------------------------
A replicate draws ``I`` images with replacement from the ``I`` evaluated images (seeded,
``numpy.random.default_rng(seed)``). An image drawn ``w`` times enters the replicate as ``w``
distinct copies: each copy brings its ground truth and its detections again. Matching is per
image, so a copy matches exactly as the original did (its rows of the per-image match table are
reused, never recomputed); in the per-class score order a detection therefore counts ``w``
times at its place (the copies of one detection are adjacent; among tied scores the order is
(score, image, copy, rank within the image)). ``npig`` of a class is the sum of its images'
non-ignored ground truths times their ``w``; a class whose images are all left out has no
ground truth in the replicate and, as in the references, is left out of every mean.
This is exactly what pycocotools / lvis-api compute on the resampled file (copies given new,
consecutive image ids) whenever no two detections of one image and class tie in score; the
tests check it replicate by replicate against re-running the evaluation.

Each replicate yields per-class APs (101-point interpolated precision, IoU 0.50:0.95, area all,
the headline maxDets). AP, AP50, APr / APc / APf and AP per frequency bin are means over a fixed
set of classes, but a class can vanish from a replicate (all its images left out: a third of the
replicates for a one-image class). The replicate value of a mean is therefore
``estimate + mean over the classes present in the replicate of (replicate AP - full-data AP)``:
the class set stays the estimate's, the variation is the one of image sampling. (The plain mean
over the present classes is biased: on LVIS-like data its interval misses the estimate, because
the rare classes, mostly at AP 0, drop out.) The interval is the percentile interval (2.5 %,
97.5 % at level 0.95) of ``n_boot`` replicate values, shifted by the offset of their median
from the estimate: replicate APs are biased upward (the interpolated precision is a running
maximum, and duplicated images steady the curve), so an unshifted interval of a large class can
miss its own estimate; the shifted one keeps the bootstrap spread around the data's estimate.
A paired comparison draws the same images for both results files (same ground truth) and
reports the percentile interval of the replicate differences.

Cost: one pass over the kept detections per replicate and IoU threshold (compiled, two
threads); no matching is redone. Detections that can never change AP are dropped first: those
ignored at every threshold, and a class's trailing false positives after its last true positive.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._jit import use_kernels
from .accumulate import class_order

__all__ = ["BootstrapResult", "bootstrap_ci", "paired_bootstrap", "CI_METRICS", "resample_weights",
           "replicate_class_ap"]

#: metrics that get an interval (plus ``AP[<bin>]`` per frequency bin)
CI_METRICS = ("AP", "AP50", "APr", "APc", "APf")


@dataclass
class BootstrapResult:
    """Intervals from :func:`bootstrap_ci` / :func:`paired_bootstrap`.

    Attributes
    ----------
    n_boot, seed : int
    level : float                           e.g. 0.95
    estimate : dict[str, float]             the value on the evaluated images (paired: the difference)
    ci : dict[str, tuple[float, float]]     percentile interval per metric
    replicates : dict[str, ndarray (B,)]    replicate values (NaN where undefined in a replicate)
    per_class : DataFrame or None           category_id, name, n_images, estimate, low, high
                                            (classes with at least ``min_images`` images)
    """

    n_boot: int
    seed: int
    level: float
    estimate: dict
    ci: dict
    replicates: dict = field(repr=False)
    per_class: object = None

    def to_json(self, paired: bool = False) -> dict:
        """``ci`` = {metric: [low, high]} or, paired, ``compare`` = {metric: {delta, low, high}}."""
        if paired:
            return {k: {"delta": _f(self.estimate[k]), "low": _f(lo), "high": _f(hi)} for k, (lo, hi) in self.ci.items()}
        return {k: [_f(lo), _f(hi)] for k, (lo, hi) in self.ci.items()}


def _f(v) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def resample_weights(n_images: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n_images) int32: times each image is drawn in each replicate (seeded)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, n_images), np.int32)
    for b in range(n_boot):
        out[b] = np.bincount(rng.integers(0, n_images, n_images), minlength=n_images)
    return out


def _tables(state):
    """The per-class detection and ground-truth tables the bootstrap kernel walks."""
    p = state.params
    T = p.n_thr
    if T > 16:
        raise ValueError("the bootstrap supports at most 16 IoU thresholds")
    order, starts = class_order(state)
    mi = p.headline_m
    img_ids = np.asarray(state.image_ids, np.int64)
    srt = np.argsort(img_ids, kind="stable")
    sorted_ids = img_ids[srt]

    def img_index(ids):
        pos = np.searchsorted(sorted_ids, ids)
        return srt[np.minimum(pos, len(srt) - 1)]

    sel = order
    keep = np.ones(len(sel), bool)
    if p.style == "coco":
        keep &= state.rank[sel] < p.max_dets[mi]
    mask = np.uint64((1 << T) - 1)
    m = state.matched[sel] & mask
    ig = state.ignored[sel] & mask
    tp = m & ~ig
    fp = ~m & ~ig & mask
    keep &= ig != mask
    cls = state.cat[sel].astype(np.int64)
    # trailing false positives of a class (after its last true positive at any threshold) never
    # change its interpolated precision: drop them
    any_tp = (tp != 0) & keep
    pos = np.arange(len(sel))
    last_tp = np.full(len(state.class_ids), -1, np.int64)
    if any_tp.any():
        np.maximum.at(last_tp, cls[any_tp], pos[any_tp])
    keep &= pos <= last_tp[cls]
    sel, tp, fp, cls = sel[keep], tp[keep], fp[keep], cls[keep]
    C = len(state.class_ids)
    d_starts = np.searchsorted(cls, np.arange(C + 1)).astype(np.int64)
    d_img = img_index(state.img[sel]).astype(np.int64)
    g_ok = state.gt_n[:, 0] > 0
    g_cat = state.gt_cat[g_ok]
    go = np.argsort(g_cat, kind="stable")
    g_cat = g_cat[go]
    g_img = img_index(state.gt_img[g_ok][go]).astype(np.int64)
    g_cnt = state.gt_n[g_ok, 0][go].astype(np.float64)
    g_starts = np.searchsorted(g_cat, np.arange(C + 1)).astype(np.int64)
    return (d_starts, d_img, tp.astype(np.uint16), fp.astype(np.uint16), g_starts, g_img, g_cnt)


def replicate_class_ap(state, weights: np.ndarray, threads: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Per-class AP and AP50 (B, C) of each replicate (``weights``: (B, I) draws per image, images
    in ``state.image_ids`` order); -1 where the class has no ground truth in the replicate."""
    from . import kernels

    tabs = _tables(state)
    B = weights.shape[0]
    C = len(state.class_ids)
    ap = np.empty((B, C))
    ap50 = np.empty((B, C))
    T = state.params.n_thr
    rec = np.asarray(state.params.rec_thrs, np.float64)
    w = np.ascontiguousarray(weights, dtype=np.int32)
    fn = kernels.bootstrap_ap if use_kernels() else kernels.bootstrap_ap.py_func
    if threads > 1 and B >= 8 and use_kernels():
        from concurrent.futures import ThreadPoolExecutor
        cuts = np.linspace(0, B, threads + 1).astype(int)
        with ThreadPoolExecutor(threads) as ex:
            futs = [ex.submit(fn, *tabs, w, T, rec, int(a), int(b), ap, ap50) for a, b in zip(cuts[:-1], cuts[1:])]
            for f in futs:
                f.result()
    else:
        fn(*tabs, w, T, rec, 0, B, ap, ap50)
    return ap, ap50


def _groups(ev, scheme) -> dict:
    """{metric: class indices}: APr / APc / APf from ``frequency``, ``AP[bin]`` per bin."""
    from ..bins import parse_bins

    out = {}
    freq = ev.columns.get("frequency")
    if freq is not None and any(f in ("r", "c", "f") for f in freq):
        f = np.asarray(freq, dtype=object)
        for lab in ("r", "c", "f"):
            out[f"AP{lab}"] = np.flatnonzero(f == lab)
    if scheme is not None:
        from .evaluator import detection_bins
        sch = parse_bins(scheme)
        bins = detection_bins(ev.columns, sch)
        for b in sch.order(bins):
            out[f"AP[{b}]"] = np.flatnonzero(bins == b)
    return out


def _centred_means(ap: np.ndarray, full: np.ndarray, point: float, idx: np.ndarray | None = None) -> np.ndarray:
    """``point + mean_k(ap[b, k] - full[k])`` over the classes k with ground truth in replicate b.

    A class whose images are all left out of a replicate has no AP there; comparing each
    replicate with the full-data AP of the *same* classes keeps the class set of the estimate
    fixed (otherwise the many one-image rare classes, mostly at AP 0, drop out of a third of the
    replicates and pull every mean up: an interval that misses its own estimate). NaN where no
    class of the group has ground truth in the replicate.
    """
    a = ap if idx is None else ap[:, idx]
    f = full if idx is None else full[idx]
    v = (a >= 0) & (f[None, :] >= 0)
    cnt = v.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(v, a - f[None, :], 0).sum(1) / np.maximum(cnt, 1)
    return np.where(cnt > 0, point + d, np.nan)


def _means(ap: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
    """Plain mean over the valid (>= 0) classes per replicate; NaN where none is valid."""
    a = ap if idx is None else ap[:, idx]
    v = a >= 0
    cnt = v.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, np.where(v, a, 0).sum(1) / np.maximum(cnt, 1), np.nan)


def _interval(x: np.ndarray, level: float, point: float | None = None) -> tuple[float, float]:
    """Percentile interval of the replicates, shifted by their median's offset from ``point``.

    Replicate APs sit above the estimate (the interpolated precision takes a maximum over the
    curve, and duplicated images make curves steadier), so the raw percentile interval of a large
    class can miss its own estimate; the shift keeps the bootstrap spread and centres it where
    the data's estimate is. Without ``point`` the raw percentile interval.
    """
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return (float("nan"), float("nan"))
    a = (1 - level) / 2
    lo, med, hi = np.quantile(x, [a, 0.5, 1 - a])
    if point is not None and np.isfinite(point):
        return float(point + (lo - med)), float(point + (hi - med))
    return float(lo), float(hi)


def _replicate_metrics(ev, ap, ap50, groups, point) -> dict:
    full = np.asarray(ev.columns["AP"], dtype=float)
    full50 = np.asarray(ev.columns["AP50"], dtype=float)
    out = {"AP": _centred_means(ap, full, point["AP"]), "AP50": _centred_means(ap50, full50, point["AP50"])}
    for k, idx in groups.items():
        out[k] = _centred_means(ap, full, point[k], idx)
    return out


def _point(ev, groups) -> dict:
    from .accumulate import summarize_ap
    out = {"AP": ev.headline["AP"], "AP50": ev.headline["AP50"]}
    for k, idx in groups.items():
        out[k] = ev.headline[k] if k in ev.headline else summarize_ap(ev.acc, ev.params, classes=idx)
    return {k: (v if v is not None and v >= 0 else float("nan")) for k, v in out.items()}


def _class_images(state) -> np.ndarray:
    """Images with non-ignored ground truth per class (C,)."""
    ok = state.gt_n[:, 0] > 0
    return np.bincount(state.gt_cat[ok], minlength=len(state.class_ids))


def bootstrap_ci(ev, n_boot: int = 1000, seed: int = 0, scheme: str | None = "lvis", level: float = 0.95,
                 min_images: int = 5, threads: int = 2, replicates: tuple | None = None) -> BootstrapResult:
    """Percentile intervals of AP, AP50, APr / APc / APf and AP per bin by image bootstrap.

    Parameters
    ----------
    ev : DetectionEvaluation
    n_boot : int        replicates (1,000 for a 95 % interval)
    seed : int          seed of the image draws (same seed, same intervals)
    scheme : str        frequency-bin scheme of the ``AP[bin]`` metrics (from ``image_count``)
    level : float       coverage of the interval
    min_images : int    per-class intervals only for classes with ground truth on at least this
                        many images
    replicates : (ap, ap50), optional   the (B, C) replicate APs of :func:`replicate_class_ap`
                        computed elsewhere (the Dask path computes them per block of classes)
    """
    _check(n_boot, seed, level)
    if replicates is None:
        st = ev.state
        w = resample_weights(len(st.image_ids), n_boot, seed)
        ap, ap50 = replicate_class_ap(st, w, threads)
    else:
        ap, ap50 = replicates
    groups = _groups(ev, scheme)
    est = _point(ev, groups)
    reps = _replicate_metrics(ev, ap, ap50, groups, est)
    ci = {k: _interval(v, level, est[k]) for k, v in reps.items()}
    return BootstrapResult(n_boot, seed, level, est, ci, reps, _per_class_table(ev, ap, None, level, min_images))


def paired_bootstrap(ev_a, ev_b, n_boot: int = 1000, seed: int = 0, scheme: str | None = "lvis",
                     level: float = 0.95, min_images: int = 5, threads: int = 2,
                     replicates: tuple | None = None) -> BootstrapResult:
    """Paired image bootstrap of ``ev_a - ev_b`` (two results files on the same ground truth).

    Both evaluations see the same drawn images in every replicate. ``estimate`` holds the
    difference on the evaluated images, ``ci`` its percentile interval; ``per_class`` the
    per-class AP difference for classes with at least ``min_images`` images.
    """
    _check(n_boot, seed, level)
    sa, sb = ev_a.state, ev_b.state
    if not (np.array_equal(sa.image_ids, sb.image_ids) and np.array_equal(sa.class_ids, sb.class_ids)
            and ev_a.params == ev_b.params):
        raise ValueError("a paired comparison needs two evaluations of the same ground truth with the same protocol")
    if replicates is None:
        w = resample_weights(len(sa.image_ids), n_boot, seed)
        ap_a, ap50_a = replicate_class_ap(sa, w, threads)
        ap_b, ap50_b = replicate_class_ap(sb, w, threads)
    else:  # ((ap_a, ap50_a), (ap_b, ap50_b)) from the same seed (the Dask path)
        (ap_a, ap50_a), (ap_b, ap50_b) = replicates
    groups = _groups(ev_a, scheme)
    pa, pb = _point(ev_a, groups), _point(ev_b, groups)
    ra = _replicate_metrics(ev_a, ap_a, ap50_a, groups, pa)
    rb = _replicate_metrics(ev_b, ap_b, ap50_b, groups, pb)
    reps = {k: ra[k] - rb[k] for k in ra}
    est = {k: pa[k] - pb[k] for k in pa}
    ci = {k: _interval(v, level, est[k]) for k, v in reps.items()}
    return BootstrapResult(n_boot, seed, level, est, ci, reps, _per_class_table(ev_a, ap_a, (ev_b, ap_b), level,
                                                                              min_images))


def _per_class_table(ev, ap, other, level, min_images):
    import pandas as pd

    n_img = _class_images(ev.state)
    keep = np.flatnonzero(n_img >= min_images)
    c = ev.columns
    est = np.asarray(c["AP"], dtype=float)
    reps = ap
    if other is not None:
        ev_b, ap_b = other
        est = est - np.asarray(ev_b.columns["AP"], dtype=float)
        reps = np.where((ap >= 0) & (ap_b >= 0), ap - ap_b, np.nan)
    else:
        reps = np.where(ap >= 0, ap, np.nan)
    lo = np.full(len(keep), np.nan)
    hi = np.full(len(keep), np.nan)
    for j, k in enumerate(keep):
        lo[j], hi[j] = _interval(reps[:, k], level, est[k])
    return pd.DataFrame({"category_id": np.asarray(c["category_id"])[keep], "name": np.asarray(c["name"])[keep],
                         "n_images": n_img[keep], "estimate": est[keep], "low": lo, "high": hi})


def _check(n_boot, seed, level):
    from ..errors import InputError
    if int(n_boot) != n_boot or not 1 <= n_boot <= 1_000_000:
        raise InputError(f"the number of bootstrap replicates must be an integer in [1, 1000000], got {n_boot}",
                         field="bootstrap")
    if int(seed) != seed or not 0 <= seed < 2 ** 32:
        raise InputError(f"the seed must be an integer in [0, 2^32), got {seed}", field="seed")
    if not 0 < level < 1:
        raise InputError(f"the level must be in (0, 1), got {level}", field="level")
