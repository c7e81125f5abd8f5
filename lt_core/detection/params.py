"""Evaluation parameters of the two reference protocols (COCO ``COCOeval`` and ``LVISEval``).

The threshold grids are built with the very same ``np.linspace`` expressions as pycocotools
and lvis-api, so that threshold comparisons (``iou < thr``, ``rc < rec_thr``) agree bit for bit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..errors import InputError

__all__ = ["EvalParams", "AREA_LABELS", "Style", "IouType"]

Style = Literal["coco", "lvis"]
IouType = Literal["bbox", "segm"]
AREA_LABELS = ("all", "small", "medium", "large")


def _iou_thrs() -> np.ndarray:
    return np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)


def _rec_thrs() -> np.ndarray:
    return np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)


def _area_rngs() -> np.ndarray:
    return np.array([[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]],
                    dtype=np.float64)


@dataclass(frozen=True)
class EvalParams:
    """Protocol of one evaluation.

    Attributes
    ----------
    style : {"coco", "lvis"}
        ``coco``: pycocotools ``COCOeval`` (crowd boxes, maxDets 1/10/100 per image *and*
        category). ``lvis``: lvis-api ``LVISEval`` (federated: negative / not-exhaustive sets,
        at most ``max_dets`` detections per image across categories).
    iou_type : {"bbox", "segm"}
    max_dets : tuple of int
        ``coco``: the sorted maxDets list (matching keeps the largest per image and category).
        ``lvis``: one value (per image, across categories; -1 = no limit).
    headline_dets : int
        coco: the maxDets value the headline numbers are read at (100 by default).
    iou_thrs : ndarray (T,)   IoU thresholds 0.50:0.05:0.95
    rec_thrs : ndarray (R,)   recall thresholds 0:0.01:1 (101-point interpolation)
    area_rngs : ndarray (A, 2)  area ranges in pixels^2 (all, small, medium, large)
    """

    style: Style = "coco"
    iou_type: IouType = "bbox"
    max_dets: tuple = (1, 10, 100)
    headline_dets: int = 100
    iou_thrs: np.ndarray = field(default_factory=_iou_thrs, compare=False)
    rec_thrs: np.ndarray = field(default_factory=_rec_thrs, compare=False)
    area_rngs: np.ndarray = field(default_factory=_area_rngs, compare=False)

    @staticmethod
    def make(style: str = "coco", iou_type: str = "bbox", max_dets: int | None = None) -> "EvalParams":
        """Parameters of a protocol; ``max_dets`` replaces the last maxDets (coco) or the
        per-image limit (lvis, default 300)."""
        if style not in ("coco", "lvis"):
            raise InputError(f"unknown style '{style}'", field="style", hint="use lvis or coco")
        if iou_type not in ("bbox", "segm"):
            raise InputError(f"unknown IoU type '{iou_type}'", field="iou_type", hint="use bbox or segm")
        if max_dets is not None and (int(max_dets) != max_dets or (max_dets < 1 and not (style == "lvis" and max_dets == -1))):
            raise InputError(f"max detections must be a positive integer, got {max_dets}", field="max_dets")
        if style == "coco":
            # pycocotools' maxDets list with its last entry replaced; COCOeval.evaluate sorts it
            # and matches with the largest. Headline numbers are read at ``max_dets``.
            n = 100 if max_dets is None else int(max_dets)
            md = tuple(sorted([1, 10, n]))
        else:
            n = 300 if max_dets is None else int(max_dets)
            md = (n,)
        return EvalParams(style=style, iou_type=iou_type, max_dets=md, headline_dets=n)

    @property
    def n_thr(self) -> int:
        return len(self.iou_thrs)

    @property
    def n_area(self) -> int:
        return len(self.area_rngs)

    @property
    def per_group_limit(self) -> int:
        """Detections kept per (image, category) before matching (coco: maxDets[-1]; lvis: none)."""
        return int(self.max_dets[-1]) if self.style == "coco" else -1

    @property
    def per_image_limit(self) -> int:
        """Detections kept per image across categories (lvis: max_dets; coco: none)."""
        return int(self.max_dets[0]) if self.style == "lvis" else -1

    @property
    def headline_m(self) -> int:
        """Index into ``max_dets`` where the headline numbers are read (coco; lvis: 0)."""
        if self.style == "lvis":
            return 0
        return len(self.max_dets) - 1 - list(self.max_dets)[::-1].index(self.headline_dets)
