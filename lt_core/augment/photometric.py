"""Photometric and mixing augmentation for images that hold tail classes.

* :func:`color_jitter` — brightness, contrast, saturation factors in ``[1 - j, 1 + j]``, applied in that
  order with torchvision's ``ColorJitter`` definitions (brightness scales, contrast blends with the
  mean grey level, saturation blends with the grey image; ITU-R 601 luma; clipped after each step).
* :func:`mosaic` — four images tiled around a random centre (Bochkovskiy et al., YOLOv4, 2020): each is
  scaled to cover its quadrant and cropped at a random offset; boxes / masks follow.
* :func:`mixup` — two images blended with a weight ``lam ~ Beta(alpha, alpha)`` and their objects
  kept together (Zhang et al., "Bag of Freebies for Training Object Detection Neural Networks", 2019).

Annotations are given and returned as :class:`~lt_core.augment.paste.AnnState` lists; an object
cropped out of a mosaic follows the occlusion rule (masks dropped when no pixel is left, boxes when
more than ``box_drop_fraction`` is cut away).
"""
from __future__ import annotations

import numpy as np

from ..images.masks import box_pixels
from .paste import AnnState

__all__ = ["color_jitter", "jitter_factors", "mosaic", "mixup"]


def jitter_factors(rng: np.random.Generator, strength: float) -> tuple[float, float, float]:
    """(brightness, contrast, saturation) factors, each uniform in ``[1 - strength, 1 + strength]``."""
    j = float(strength)
    lo, hi = max(0.0, 1.0 - j), 1.0 + j
    return float(rng.uniform(lo, hi)), float(rng.uniform(lo, hi)), float(rng.uniform(lo, hi))


def _gray(x: np.ndarray) -> np.ndarray:
    return x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114


def color_jitter(image: np.ndarray, brightness: float, contrast: float, saturation: float) -> np.ndarray:
    """Brightness, contrast and saturation factors applied in order (torchvision semantics), uint8 out."""
    x = image.astype(np.float32)
    x = np.clip(x * brightness, 0, 255)
    m = float(_gray(x).mean())
    x = np.clip((x - m) * contrast + m, 0, 255)
    g = _gray(x)[..., None]
    x = np.clip((x - g) * saturation + g, 0, 255)
    return np.rint(x).astype(np.uint8)


def _resize(img: np.ndarray, w: int, h: int, nearest: bool = False) -> np.ndarray:
    import cv2

    if img.shape[1] == w and img.shape[0] == h:
        return img
    if nearest:
        return cv2.resize(img.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
    shrink = w < img.shape[1] and h < img.shape[0]
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _moved(st: AnnState, sx: float, sy: float, dx: float, dy: float, out_hw: tuple[int, int],
           clip: tuple[int, int, int, int], box_drop_fraction: float, source: str, why: str) -> AnnState | None:
    """An annotation scaled by (sx, sy), shifted by (dx, dy) into an out_hw canvas, cut to ``clip``.

    None when it is cut away (recorded by the caller)."""
    H, W = out_hw
    cx0, cy0, cx1, cy1 = clip
    ann = {k: v for k, v in st.ann.items() if k not in ("segmentation", "bbox", "area", "id", "image_id")}
    new = AnnState(ann, st.kind, H, W, pasted=st.pasted)
    new.changed = True
    if st.kind == "mask":
        m = st.full_mask(source)
        sw, sh = max(1, int(round(m.shape[1] * sx))), max(1, int(round(m.shape[0] * sy)))
        ms = _resize(m, sw, sh, nearest=True)
        full = np.zeros((H, W), dtype=bool)
        ox, oy = int(round(dx)), int(round(dy))
        x0, y0 = max(cx0, ox), max(cy0, oy)
        x1, y1 = min(cx1, ox + sw), min(cy1, oy + sh)
        if x1 > x0 and y1 > y0:
            full[y0:y1, x0:x1] = ms[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
        if not full.any():
            return None
        new.mask = full
        return new
    x, y, w, h = (float(v) for v in st.current_bbox())
    bx0, by0, bx1, by1 = x * sx + dx, y * sy + dy, (x + w) * sx + dx, (y + h) * sy + dy
    area = max(0.0, bx1 - bx0) * max(0.0, by1 - by0)
    vx0, vy0, vx1, vy1 = max(bx0, cx0), max(by0, cy0), min(bx1, cx1), min(by1, cy1)
    vis = max(0.0, vx1 - vx0) * max(0.0, vy1 - vy0)
    if vis <= 0 or area <= 0 or 1.0 - vis / area > box_drop_fraction:
        return None
    px = box_pixels([vx0, vy0, vx1 - vx0, vy1 - vy0], H, W)
    if px[2] <= px[0] or px[3] <= px[1]:
        return None
    new._bbox = [vx0, vy0, vx1 - vx0, vy1 - vy0]
    return new


def mosaic(parts: list[tuple[np.ndarray, list[AnnState]]], out_hw: tuple[int, int], rng: np.random.Generator, *,
           box_drop_fraction: float, source: str = "") -> tuple[np.ndarray, list[AnnState], list[dict], dict]:
    """Tile four images around a random centre.

    Parameters
    ----------
    parts : 4 x (image (H, W, 3) uint8, annotations)
        Top-left, top-right, bottom-left, bottom-right.
    out_hw : (H, W)
        Size of the mosaic.

    Returns
    -------
    image, annotations, dropped ({part, annotation_id, reason}), geometry ({center, parts: [{quadrant,
    scale, crop_offset}]})
    """
    H, W = int(out_hw[0]), int(out_hw[1])
    cx = int(round(rng.uniform(0.25, 0.75) * W))
    cy = int(round(rng.uniform(0.25, 0.75) * H))
    quads = [(0, 0, cx, cy), (cx, 0, W, cy), (0, cy, cx, H), (cx, cy, W, H)]
    out = np.zeros((H, W, 3), dtype=np.uint8)
    anns: list[AnnState] = []
    dropped: list[dict] = []
    geo = {"center": [cx, cy], "parts": []}
    for k, ((img, sts), q) in enumerate(zip(parts, quads)):
        qw, qh = q[2] - q[0], q[3] - q[1]
        if qw <= 0 or qh <= 0:
            for st in sts:
                dropped.append({"part": k, "annotation_id": st.ann.get("id"), "reason": "its mosaic tile is empty"})
            geo["parts"].append({"quadrant": list(q), "scale": 0.0, "crop_offset": [0, 0]})
            continue
        h, w = img.shape[:2]
        s = max(qw / w, qh / h)
        sw, sh = max(qw, int(round(w * s))), max(qh, int(round(h * s)))
        u0 = int(rng.integers(0, sw - qw + 1))
        v0 = int(rng.integers(0, sh - qh + 1))
        scaled = _resize(img, sw, sh)
        out[q[1]:q[3], q[0]:q[2]] = scaled[v0:v0 + qh, u0:u0 + qw]
        sx, sy = sw / w, sh / h
        geo["parts"].append({"quadrant": list(q), "scale": [sx, sy], "crop_offset": [u0, v0]})
        for st in sts:
            if st.dropped is not None:
                continue
            m = _moved(st, sx, sy, q[0] - u0, q[1] - v0, (H, W), q, box_drop_fraction, source, "mosaic")
            if m is None:
                dropped.append({"part": k, "annotation_id": st.ann.get("id"), "category_id": st.ann["category_id"],
                                "reason": "cropped out of the mosaic"})
            else:
                m.ann["_from"] = {"part": k, "annotation_id": st.ann.get("id")}
                anns.append(m)
    return out, anns, dropped, geo


def mixup(a: tuple[np.ndarray, list[AnnState]], b: tuple[np.ndarray, list[AnnState]], rng: np.random.Generator,
          alpha: float, *, source: str = "") -> tuple[np.ndarray, list[AnnState], dict]:
    """Blend image ``a`` with image ``b`` (resized to ``a``'s size): ``lam a + (1 - lam) b``, objects of both kept."""
    ia, sa = a
    ib, sb = b
    H, W = ia.shape[:2]
    lam = float(rng.beta(alpha, alpha))
    rb = _resize(ib, W, H)
    img = np.rint(ia.astype(np.float32) * lam + rb.astype(np.float32) * (1.0 - lam)).clip(0, 255).astype(np.uint8)
    sx, sy = W / ib.shape[1], H / ib.shape[0]
    anns = []
    for part, sts, (fx, fy) in ((0, sa, (1.0, 1.0)), (1, sb, (sx, sy))):
        for st in sts:
            if st.dropped is not None:
                continue
            m = _moved(st, fx, fy, 0.0, 0.0, (H, W), (0, 0, W, H), 1.0, source, "mixup")
            if m is not None:
                m.ann["_from"] = {"part": part, "annotation_id": st.ann.get("id")}
                anns.append(m)
    return img, anns, {"lambda": lam, "alpha": float(alpha), "partner_scale": [sx, sy]}

