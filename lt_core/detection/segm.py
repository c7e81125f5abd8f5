"""Mask helpers for segm evaluation (pycocotools' RLE routines, as both references use them)."""
from __future__ import annotations

from .prepare import GTTable

__all__ = ["gt_rle", "to_rle"]


def to_rle(segm, h: int, w: int):
    """RLE of a COCO segmentation (polygons, uncompressed or compressed RLE), as ``annToRLE``."""
    from pycocotools import mask as mask_utils

    if isinstance(segm, list):
        return mask_utils.merge(mask_utils.frPyObjects(segm, h, w))
    if isinstance(segm, dict) and isinstance(segm.get("counts"), list):
        return mask_utils.frPyObjects(segm, h, w)
    if isinstance(segm, dict) and isinstance(segm.get("counts"), str):
        return {"size": segm["size"], "counts": segm["counts"].encode("ascii")}
    return segm


def gt_rle(gtt: GTTable, k: int):
    """RLE of ground-truth annotation ``k`` (sorted order of ``gtt``)."""
    h, w = gtt.img_hw[gtt.img[k]]
    return to_rle(gtt.segm[k], int(h), int(w))
