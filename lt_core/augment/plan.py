"""The paste plan: which instance is pasted onto which image (seeded, decided once for the whole dataset).

Per class, ``add`` instances are drawn from the class's eligible annotations (non-crowd, at least
``min_source_area`` pixels; with a mask unless box-only) by cycling through seeded permutations, so
every source is used about equally. The pastes are then shuffled and dealt to the images in rounds
(every image gets one paste before any gets two, at most ``max_pastes_per_image``), never onto the
image an instance comes from. When the requested total exceeds the capacity, every class is cut in
proportion (the shortfall is reported, never silent).

Which images get the photometric options is decided here too (images holding a tail class of the
chosen bin scheme, before or through pasting), as are the partners of mosaics and mixups, so that
every image's work depends only on its own task and per-image generator.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..bins import parse_bins
from .config import CopyPasteConfig
from .targets import PasteTargets

__all__ = ["PastePlan", "plan_copy_paste", "plan_rng", "image_rng", "tail_category_mask"]


def plan_rng(seed: int) -> np.random.Generator:
    """The generator of the dataset-level plan: ``SeedSequence(seed, spawn_key=(0,))``."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(0,)))


def image_rng(seed: int, position: int) -> np.random.Generator:
    """The generator of one image's draws: ``SeedSequence(seed, spawn_key=(1, position))``."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(1, int(position))))


def tail_category_mask(gt, scheme: str) -> np.ndarray:
    """(C,) bool: categories in the scheme's last (tail) bin, by train images (``image_count``)."""
    sch = parse_bins(scheme)
    bins = gt.categories.bins(sch)
    return np.asarray(bins == sch.names[-1], dtype=bool)


@dataclass
class PastePlan:
    """The plan of a copy-paste run.

    Attributes
    ----------
    requested, planned : ndarray (C,) int64
        Instances per category asked for by the targets and planned (after capacity and sources).
    sources : ndarray (C,) int64
        Eligible source instances per category.
    per_image : list (I,) of ndarray of annotation rows (into the GT's annotation arrays)
    jitter : ndarray (I,) bool
    mosaic : dict {image position: [3 partner positions]}
    mixup : dict {image position: partner position}
    tail : ndarray (C,) bool
    notes : list of str
    """

    requested: np.ndarray
    planned: np.ndarray
    sources: np.ndarray
    per_image: list
    jitter: np.ndarray
    mosaic: dict
    mixup: dict
    tail: np.ndarray
    notes: list = field(default_factory=list)

    @property
    def n_pastes(self) -> int:
        return int(sum(len(p) for p in self.per_image))


def eligible_sources(gt, cfg: CopyPasteConfig) -> np.ndarray:
    """(A,) bool: annotations that may be copied (non-crowd, area and box large enough, a mask unless box-only)."""
    raw = gt.raw["annotations"] if gt.raw is not None else None
    ok = ~gt.ann_iscrowd
    ok &= gt.ann_bbox[:, 2] >= 2
    ok &= gt.ann_bbox[:, 3] >= 2
    ok &= gt.ann_area >= cfg.min_source_area
    if gt.has_segmentation and not cfg.box_only and raw is not None:
        has = np.array([bool(a.get("segmentation")) for a in raw], dtype=bool)
        ok &= has
    return ok


def plan_copy_paste(gt, targets: PasteTargets, cfg: CopyPasteConfig) -> PastePlan:
    """Decide every paste of the run (see the module docstring)."""
    rng = plan_rng(cfg.seed)
    C = gt.categories.n_classes
    I = gt.n_images
    notes: list[str] = []
    requested = targets.add.astype(np.int64)
    ok = eligible_sources(gt, cfg)
    ci = gt.categories.index_of(gt.ann_category_id) if len(gt.ann_id) else np.zeros(0, np.int64)
    img_pos = {int(i): k for k, i in enumerate(gt.image_ids.tolist())}
    ann_pos = np.array([img_pos[int(i)] for i in gt.ann_image_id.tolist()], dtype=np.int64)
    by_class = [np.flatnonzero(ok & (ci == c)) for c in range(C)]
    sources = np.array([len(b) for b in by_class], dtype=np.int64)
    planned = requested.copy()
    no_src = (planned > 0) & (sources == 0)
    if no_src.any():
        notes.append(f"{int(no_src.sum()):,} categories have a target but no instance that can be copied "
                     f"({int(planned[no_src].sum()):,} pastes not possible)")
        planned[no_src] = 0
    capacity = I * int(cfg.max_pastes_per_image) if I > 1 else 0
    total = int(planned.sum())
    if total > capacity:
        scaled = np.floor(planned * (capacity / total)).astype(np.int64)
        left = capacity - int(scaled.sum())
        # the remainder goes to the classes with the fewest instances first
        order = np.argsort(targets.table["instances"].to_numpy(), kind="stable")
        for c in order:
            if left <= 0:
                break
            if planned[c] > scaled[c]:
                scaled[c] += 1
                left -= 1
        notes.append(f"the targets ask for {total:,} pastes but {I:,} images x {cfg.max_pastes_per_image} pastes "
                     f"per image hold {capacity:,}: every class is cut in proportion (raise "
                     "--max-pastes-per-image for more)")
        planned = scaled
    jobs: list[int] = []
    for c in range(C):
        k = int(planned[c])
        if k <= 0:
            continue
        src = by_class[c]
        reps = -(-k // len(src))
        picks = np.concatenate([rng.permutation(src) for _ in range(reps)])[:k]
        jobs.extend(picks.tolist())
    jobs_arr = np.asarray(jobs, dtype=np.int64)
    per_image: list[list[int]] = [[] for _ in range(I)]
    if jobs_arr.size:
        jobs_arr = jobs_arr[rng.permutation(jobs_arr.size)]
        rounds = -(-jobs_arr.size // I)
        slots = np.concatenate([rng.permutation(I) for _ in range(rounds)])[:jobs_arr.size]
        src_img = ann_pos[jobs_arr]
        # never onto its own image: swap with a later paste where both then differ
        for k in np.flatnonzero(src_img == slots).tolist():
            if src_img[k] != slots[k]:
                continue
            for j in range(jobs_arr.size):
                if j != k and src_img[j] != slots[k] and src_img[k] != slots[j]:
                    slots[k], slots[j] = slots[j], slots[k]
                    break
        load = np.bincount(slots, minlength=I)
        for k in np.flatnonzero(src_img == slots).tolist():  # no swap found: move it to the least-loaded image
            cand = np.flatnonzero((np.arange(I) != src_img[k]) & (load < int(cfg.max_pastes_per_image)))
            if cand.size:
                j = int(cand[np.argmin(load[cand])])
                load[slots[k]] -= 1
                load[j] += 1
                slots[k] = j
        for k in range(jobs_arr.size):
            per_image[int(slots[k])].append(int(jobs_arr[k]))
    per_image_arr = [np.asarray(p, dtype=np.int64) for p in per_image]
    # photometric: images holding a tail class (in the GT or through a paste)
    tail = tail_category_mask(gt, cfg.bins)
    holds = np.zeros(I, dtype=bool)
    if ci.size:
        holds[np.unique(ann_pos[tail[ci] & ~gt.ann_iscrowd])] = True
    for p, rows in enumerate(per_image_arr):
        if rows.size and tail[ci[rows]].any():
            holds[p] = True
    jitter = holds & (cfg.jitter > 0)
    mosaic: dict[int, list[int]] = {}
    mixup: dict[int, int] = {}
    others = np.arange(I)
    for p in np.flatnonzero(holds).tolist():
        if cfg.mosaic > 0 and I >= 4 and rng.random() < cfg.mosaic:
            mosaic[p] = rng.choice(others[others != p], size=3, replace=False).tolist()
        if cfg.mixup > 0 and I >= 2 and rng.random() < cfg.mixup:
            mixup[p] = int(rng.choice(others[others != p]))
    got = np.bincount(ci[jobs_arr], minlength=C) if jobs_arr.size else np.zeros(C, np.int64)
    return PastePlan(requested, got.astype(np.int64), sources, per_image_arr, jitter, mosaic, mixup, tail, notes)
