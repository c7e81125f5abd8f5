"""Masks of COCO / LVIS annotations and results: polygons, RLE, uncompressed RLE (pycocotools.mask).

Semantics are pycocotools' own: a polygon is rasterised by ``frPyObjects`` (the rule COCOeval
uses), the parts of a multi-polygon are merged, an uncompressed RLE (``counts`` a list, as COCO
crowd annotations) is converted by ``frPyObjects``, a compressed RLE (``counts`` a string, as
results files) is decoded as is. Boxes are ``[x, y, width, height]`` in pixels.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..errors import InputError

__all__ = ["segmentation_to_rle", "decode_segmentation", "annotation_mask", "encode_mask", "mask_bbox",
           "box_mask", "box_pixels", "mask_outline", "rle_area"]


def _coco_mask():
    from pycocotools import mask as mask_utils

    return mask_utils


def segmentation_to_rle(seg: Any, height: int, width: int, *, source: str = "", field: str = "segmentation"
                        ) -> dict:
    """A single compressed RLE (pycocotools form, ``counts`` bytes) for any COCO segmentation.

    Parameters
    ----------
    seg : list of polygons, uncompressed RLE dict, or compressed RLE dict
    height, width : int
        The image size (pixels); an RLE's own ``size`` must agree with it.
    """
    mu = _coco_mask()
    h, w = int(height), int(width)
    try:
        if isinstance(seg, list):
            if not seg:
                raise InputError("empty polygon list", source, field)
            polys = [p for p in seg if isinstance(p, (list, tuple))]
            if len(polys) != len(seg) or any(len(p) < 6 or len(p) % 2 for p in polys):
                raise InputError("polygons must be lists of x, y pairs with at least 3 points", source, field)
            return mu.merge(mu.frPyObjects([[float(v) for v in p] for p in polys], h, w))
        if isinstance(seg, Mapping) and "counts" in seg and "size" in seg:
            size = [int(v) for v in seg["size"]]
            if size != [h, w]:
                raise InputError(f"RLE size {size} does not match the image size [{h}, {w}]", source, field)
            counts = seg["counts"]
            if isinstance(counts, list):
                if sum(int(c) for c in counts) != h * w:
                    raise InputError(f"uncompressed RLE counts sum to {sum(counts)}, not height x width = {h * w}",
                                     source, field)
                return mu.frPyObjects({"size": size, "counts": [int(c) for c in counts]}, h, w)
            if isinstance(counts, str):
                counts = counts.encode("ascii")
            if not isinstance(counts, bytes):
                raise InputError("RLE counts must be a string or a list of integers", source, field)
            return {"size": size, "counts": counts}
    except InputError:
        raise
    except (TypeError, ValueError, OverflowError) as e:
        raise InputError(f"not a valid segmentation ({e})", source, field) from None
    raise InputError(f"expected polygons (a list) or an RLE dict with size and counts, got {type(seg).__name__}",
                     source, field)


def decode_segmentation(seg: Any, height: int, width: int, *, source: str = "", field: str = "segmentation"
                        ) -> np.ndarray:
    """Binary mask (H, W) bool of a COCO segmentation (polygons, RLE or uncompressed RLE)."""
    rle = segmentation_to_rle(seg, height, width, source=source, field=field)
    try:
        return _coco_mask().decode(rle).astype(bool)
    except Exception as e:  # noqa: BLE001 - pycocotools raises plain Exceptions for corrupt counts
        raise InputError(f"the RLE cannot be decoded ({e})", source, field) from None


def rle_area(rle: Mapping) -> float:
    """Pixels of a compressed RLE (pycocotools ``area``)."""
    r = dict(rle)
    if isinstance(r.get("counts"), str):
        r["counts"] = r["counts"].encode("ascii")
    return float(_coco_mask().area(r))


def box_pixels(bbox, height: int, width: int) -> tuple[int, int, int, int]:
    """Integer pixel rectangle ``(x0, y0, x1, y1)`` (end exclusive) of a box, clipped to the image.

    A pixel belongs to the box when its centre lies inside it: ``x0 = round(x)``, ``x1 = round(x + w)``
    (half away from the box, so a box of integer coordinates gives exactly its pixels).
    """
    x, y, w, h = (float(v) for v in bbox)
    x0 = int(np.clip(np.floor(x + 0.5), 0, width))
    y0 = int(np.clip(np.floor(y + 0.5), 0, height))
    x1 = int(np.clip(np.floor(x + w + 0.5), 0, width))
    y1 = int(np.clip(np.floor(y + h + 0.5), 0, height))
    return x0, y0, max(x0, x1), max(y0, y1)


def box_mask(bbox, height: int, width: int) -> np.ndarray:
    """Binary mask (H, W) bool of the pixels of a box (:func:`box_pixels`)."""
    m = np.zeros((int(height), int(width)), dtype=bool)
    x0, y0, x1, y1 = box_pixels(bbox, height, width)
    m[y0:y1, x0:x1] = True
    return m


def annotation_mask(ann: Mapping, height: int, width: int, *, source: str = "") -> np.ndarray:
    """The mask of an annotation: its segmentation, or its box's pixels when it has none."""
    seg = ann.get("segmentation")
    if seg is None or (isinstance(seg, list) and not seg):
        return box_mask(ann["bbox"], height, width)
    return decode_segmentation(seg, height, width, source=source,
                               field=f"annotations[id={ann.get('id')}].segmentation")


def encode_mask(mask: np.ndarray) -> dict:
    """Compressed RLE of a binary mask as JSON-ready ``{"size": [h, w], "counts": str}``."""
    m = np.asfortranarray(np.asarray(mask, dtype=np.uint8))
    if m.ndim != 2:
        raise InputError(f"expected a 2-D mask, got shape {m.shape}", field="mask")
    rle = _coco_mask().encode(m)
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def mask_bbox(mask: np.ndarray) -> list[float]:
    """``[x, y, w, h]`` of the pixels of a mask (pycocotools ``toBbox``: pixel extents), zeros if empty."""
    m = np.asarray(mask, dtype=bool)
    rows = np.flatnonzero(m.any(1))
    if rows.size == 0:
        return [0.0, 0.0, 0.0, 0.0]
    cols = np.flatnonzero(m.any(0))
    return [float(cols[0]), float(rows[0]), float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1)]


def mask_outline(mask: np.ndarray, width: int = 1) -> np.ndarray:
    """The pixels of a mask within ``width`` pixels of its border (H, W) bool (inner outline)."""
    import cv2

    m = np.asarray(mask, dtype=np.uint8)
    if width <= 0 or not m.any():
        return np.zeros(m.shape, dtype=bool)
    k = np.ones((3, 3), np.uint8)
    inner = cv2.erode(m, k, iterations=int(width), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return (m > 0) & (inner == 0)
