"""The pixel work of copy-paste: cut an instance, scale / flip / place it, blend it, update the target's GT.

Simple Copy-Paste (Ghiasi et al., CVPR 2021): objects cut out with their masks are pasted onto
another image; the pasted area is removed from the masks (and boxes) of the objects already there,
objects left without a visible pixel are dropped, boxes are recomputed from the remaining masks; the
paste's edges are smoothed with an alpha from a Gaussian-blurred mask. Box-only data (no masks)
pastes the box crop as a rectangle; an existing box hidden by more than ``box_drop_fraction`` is
dropped, a partly hidden one shrinks to the box of its visible pixels.

Geometry (what the manifest records)
------------------------------------
``crop = [x0, y0, x1, y1]``   the instance's pixels in the source (mask extents, or the box's pixels),
                              end exclusive.
``size = [w, h]``             its size in the target: ``w = round((x1 - x0) s)``, ``h = round((y1 - y0) s)``.
``offset = [x, y]``           the target pixel where the crop's top-left corner lands.
``flip``                      mirrored left-right (before placing).
Source pixel centres map linearly onto target pixel centres (``cv2.warpAffine``, bilinear); the pasted
mask is the warped source mask thresholded at 0.5 and is exactly the mask written into the JSON and
removed from the objects below it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..images.masks import annotation_mask, box_pixels, encode_mask, mask_bbox

__all__ = ["Instance", "Placement", "AnnState", "cut_instance", "sample_placement", "render_instance",
           "feather_sigma", "blend_window", "occlude", "BLENDS"]

BLENDS = ("feather", "poisson", "none")


@dataclass
class Instance:
    """An object cut from a source image.

    Attributes
    ----------
    image : ndarray (Hs, Ws, 3) uint8   the whole source image (margins around the crop come from it)
    mask : ndarray (Hs, Ws) bool or None  the object's mask; None for a box crop
    crop : (x0, y0, x1, y1)              pixel rectangle of the object in the source
    category_id, source_ann_id, source_image_id : int
    """

    image: np.ndarray
    mask: np.ndarray | None
    crop: tuple[int, int, int, int]
    category_id: int
    source_ann_id: int
    source_image_id: int

    @property
    def crop_wh(self) -> tuple[int, int]:
        return self.crop[2] - self.crop[0], self.crop[3] - self.crop[1]


@dataclass
class Placement:
    """Where and how an instance lands: its size (w, h), top-left ``offset`` and ``flip``; ``scale`` = w / crop w."""

    offset: tuple[int, int]
    size: tuple[int, int]
    flip: bool
    scale: float

    @property
    def rect(self) -> tuple[int, int, int, int]:
        return self.offset[0], self.offset[1], self.offset[0] + self.size[0], self.offset[1] + self.size[1]


def cut_instance(image: np.ndarray, ann: dict, *, box_only: bool, image_id: int, source: str = "") -> Instance:
    """Cut one annotation out of its (already read) image: its mask when it has one, else its box.

    Raises :class:`InputError` when the instance has no pixel.
    """
    H, W = image.shape[:2]
    if box_only or not ann.get("segmentation"):
        x0, y0, x1, y1 = box_pixels(ann["bbox"], H, W)
        mask = None
    else:
        mask = annotation_mask(ann, H, W, source=source)
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        if rows.size == 0:
            raise InputError(f"annotation {ann.get('id')} has an empty mask", source, "annotations.segmentation")
        x0, y0, x1, y1 = int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
    if x1 <= x0 or y1 <= y0:
        raise InputError(f"annotation {ann.get('id')} covers no pixel of its image", source, "annotations.bbox")
    return Instance(image, mask, (x0, y0, x1, y1), int(ann["category_id"]), int(ann["id"]), int(image_id))


def _overlap(a, b) -> int:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h)


def sample_placement(inst: Instance, target_hw: tuple[int, int], rng: np.random.Generator, *,
                     scale_range: tuple[float, float], size_limits: tuple[float, float], flip_p: float,
                     avoid: list[tuple[int, int, int, int]] = (), tries: int = 20, border: int = 0) -> Placement:
    """Draw a scale, flip and position for an instance on a target image.

    The object's relative size (longer side over the source's shorter side) is multiplied by a
    log-uniform factor in ``scale_range`` and clipped to ``size_limits`` (longer side over the target's
    shorter side); the position is uniform with the object inside the image (``border`` pixels
    away from its edges), preferring positions that overlap no rectangle in ``avoid`` (earlier
    pastes in the same image; the first of ``tries`` that overlaps none, else the least overlapping).
    Random draws, in order: scale factor, flip, then two integers per try.
    """
    Ht, Wt = int(target_hw[0]), int(target_hw[1])
    Hs, Ws = inst.image.shape[:2]
    cw, ch = inst.crop_wh
    lo, hi = float(scale_range[0]), float(scale_range[1])
    j = math.exp(rng.uniform(math.log(lo), math.log(hi))) if hi > lo else lo
    flip = bool(rng.random() < flip_p)
    rel = min(max(max(cw, ch) / min(Hs, Ws) * j, size_limits[0]), size_limits[1])
    s = rel * min(Ht, Wt) / max(cw, ch)
    s = min(s, (Wt - 2 * border) / cw, (Ht - 2 * border) / ch)
    if s <= 0:
        raise InputError(f"the target image ({Wt} x {Ht}) is too small to paste into", field="image")
    nw, nh = max(1, min(Wt - 2 * border, int(round(cw * s)))), max(1, min(Ht - 2 * border, int(round(ch * s))))
    best, best_ov = None, None
    for _ in range(max(1, tries)):
        ox = int(rng.integers(border, Wt - nw - border + 1))
        oy = int(rng.integers(border, Ht - nh - border + 1))
        r = (ox, oy, ox + nw, oy + nh)
        ov = sum(_overlap(r, a) for a in avoid)
        if best is None or ov < best_ov:
            best, best_ov = (ox, oy), ov
        if ov == 0:
            break
    return Placement(best, (nw, nh), flip, nw / cw)


def _inverse_affine(inst: Instance, pl: Placement, wx: int, wy: int) -> np.ndarray:
    """2 x 3 map from window pixel (u, v) to source pixel coordinates (pixel centres aligned)."""
    x0, y0, x1, y1 = inst.crop
    sx = pl.size[0] / (x1 - x0)
    sy = pl.size[1] / (y1 - y0)
    ox, oy = pl.offset
    # u_img = wx + u; source x = (u_img - ox + 0.5) / sx + x0 - 0.5 (mirrored: (ox + w - u_img - 0.5) / sx ...)
    if pl.flip:
        ax, bx = -1.0 / sx, (ox + pl.size[0] - wx - 0.5) / sx + x0 - 0.5
    else:
        ax, bx = 1.0 / sx, (wx - ox + 0.5) / sx + x0 - 0.5
    ay, by = 1.0 / sy, (wy - oy + 0.5) / sy + y0 - 0.5
    return np.array([[ax, 0.0, bx], [0.0, ay, by]], dtype=np.float64)


def render_instance(inst: Instance, pl: Placement, target_hw: tuple[int, int], pad: int
                    ) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]:
    """Warp an instance into a window of the target around its placement.

    Returns
    -------
    window : (wx0, wy0, wx1, wy1)   the target pixels covered (placement grown by ``pad``, clipped)
    pixels : ndarray (h, w, 3) uint8  the warped source (with its real surroundings as margin)
    mask : ndarray (h, w) bool       the pasted object's pixels (the box rectangle for a box crop)
    """
    import cv2

    H, W = int(target_hw[0]), int(target_hw[1])
    r = pl.rect
    wx0, wy0 = max(0, r[0] - pad), max(0, r[1] - pad)
    wx1, wy1 = min(W, r[2] + pad), min(H, r[3] + pad)
    M = _inverse_affine(inst, pl, wx0, wy0)
    size = (wx1 - wx0, wy1 - wy0)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    pixels = cv2.warpAffine(inst.image, M, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    if inst.mask is None:
        mask = np.zeros((size[1], size[0]), dtype=bool)
        mask[r[1] - wy0:r[3] - wy0, r[0] - wx0:r[2] - wx0] = True
    else:
        x0, y0, x1, y1 = inst.crop
        m = np.zeros(inst.mask.shape, dtype=np.float32)
        m[y0:y1, x0:x1] = inst.mask[y0:y1, x0:x1]
        warped = cv2.warpAffine(m, M, size, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        mask = warped >= 0.5
        inside = np.zeros_like(mask)
        inside[r[1] - wy0:r[3] - wy0, r[0] - wx0:r[2] - wx0] = True
        mask &= inside
        if not mask.any():  # a sliver thinner than a pixel after shrinking: nearest sampling keeps it
            near = cv2.warpAffine(m, M, size, flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
            mask = (near > 0) & inside
    return (wx0, wy0, wx1, wy1), pixels, mask


def feather_sigma(size: tuple[int, int], sigma: float | None) -> float:
    """The Gaussian sigma of the feathered edge: given, or 1 % of the pasted object's longer side (0.75–3 px)."""
    if sigma is not None:
        return float(sigma)
    return float(min(3.0, max(0.75, 0.01 * max(size))))


def blend_window(target: np.ndarray, window, pixels: np.ndarray, mask: np.ndarray, blend: str,
                 sigma: float) -> None:
    """Blend warped pixels into ``target`` (in place) over ``window``.

    ``feather``: alpha = Gaussian blur (``sigma`` px) of the mask (Ghiasi et al. 2021, Sec. 3);
    ``poisson``: ``cv2.seamlessClone`` (Pérez et al. 2003, normal clone) of the masked pixels;
    ``none``: the mask's pixels replaced.
    """
    import cv2

    wx0, wy0, wx1, wy1 = window
    dst = target[wy0:wy1, wx0:wx1]
    if blend == "none" or not mask.any():
        dst[mask] = pixels[mask]
        return
    if blend == "feather":
        a = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigmaX=sigma, sigmaY=sigma,
                             borderType=cv2.BORDER_CONSTANT)
        a = np.clip(a, 0.0, 1.0)[..., None]
        out = pixels.astype(np.float32) * a + dst.astype(np.float32) * (1.0 - a)
        dst[...] = np.clip(np.rint(out), 0, 255).astype(np.uint8)
        return
    if blend == "poisson":
        H, W = target.shape[:2]
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        bx0, by0, bx1, by1 = cols[0], rows[0], cols[-1] + 1, rows[-1] + 1
        # OpenCV clears the mask's outer pixel ring and needs the region inside the image: pad by 1
        src = cv2.copyMakeBorder(pixels, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
        m = cv2.copyMakeBorder(mask.astype(np.uint8) * 255, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
        gx0, gy0 = wx0 + bx0, wy0 + by0  # the mask's box in target pixels
        bw, bh = bx1 - bx0, by1 - by0
        if gx0 < 1 or gy0 < 1 or gx0 + bw > W - 1 or gy0 + bh > H - 1:
            # too close to the image border for seamlessClone: fall back to a feathered edge
            blend_window(target, window, pixels, mask, "feather", sigma)
            return
        center = (int(gx0 + bw // 2), int(gy0 + bh // 2))
        full = cv2.seamlessClone(np.ascontiguousarray(src), np.ascontiguousarray(target), m, center,
                                 cv2.NORMAL_CLONE)
        # keep only the object's pixels (seamlessClone also touches its box)
        region = target[wy0:wy1, wx0:wx1]
        region[mask] = full[wy0:wy1, wx0:wx1][mask]
        return
    raise InputError(f"unknown blend '{blend}'", field="blend", hint=" or ".join(BLENDS))


@dataclass
class AnnState:
    """An annotation of the image being edited, with its current mask (decoded on first need).

    ``kind`` is "mask" (it has a segmentation: its pixels are updated) or "box" (box-only data: its box
    loses the covered pixels).
    """

    ann: dict
    kind: str
    height: int
    width: int
    pasted: bool = False
    mask: np.ndarray | None = None
    changed: bool = False
    dropped: str | None = None
    lost_pixels: int = 0
    _rect: tuple[int, int, int, int] | None = None
    _vis: np.ndarray | None = None      # box kind: uncovered pixels of the original box
    _vis_rect: tuple[int, int, int, int] | None = None
    _bbox: list | None = None

    def rect(self) -> tuple[int, int, int, int]:
        """A pixel rectangle holding every pixel of the object (exact once the mask is decoded)."""
        if self._rect is None:
            if self.mask is not None:
                b = mask_bbox(self.mask)
                self._rect = (int(b[0]), int(b[1]), int(b[0] + b[2]), int(b[1] + b[3]))
            else:  # from the box, one pixel wider (polygon rasterisation may touch the next pixel)
                x, y, w, h = (float(v) for v in self.ann["bbox"])
                self._rect = (max(0, int(math.floor(x)) - 1), max(0, int(math.floor(y)) - 1),
                              min(self.width, int(math.ceil(x + w)) + 1), min(self.height, int(math.ceil(y + h)) + 1))
        return self._rect

    def full_mask(self, source: str = "") -> np.ndarray:
        if self.mask is None:
            self.mask = annotation_mask(self.ann, self.height, self.width, source=source)
            self._rect = None
        return self.mask

    def current_bbox(self) -> list[float]:
        if not self.changed:
            return [float(v) for v in self.ann["bbox"]]
        if self.kind == "mask":
            return mask_bbox(self.mask)
        return list(self._bbox)

    def finish(self) -> dict:
        """The annotation dict to write (segmentation / bbox / area recomputed when changed)."""
        if not self.changed:
            return self.ann
        out = dict(self.ann)
        if self.kind == "mask":
            m = self.mask
            out["segmentation"] = encode_mask(m)
            out["bbox"] = mask_bbox(m)
            out["area"] = float(m.sum())
        else:
            out["bbox"] = [float(v) for v in self._bbox]
            out["area"] = float(out["bbox"][2] * out["bbox"][3])
        return out


def occlude(states: list[AnnState], window, mask: np.ndarray, *, box_drop_fraction: float, by: str,
            source: str = "") -> list[AnnState]:
    """Remove a pasted object's pixels from the annotations below it (in place); returns those affected.

    ``window`` and ``mask`` are the paste's target rectangle and its object pixels there. A mask
    annotation loses exactly ``mask``'s pixels and is dropped when none is left; a box annotation
    (box-only data) shrinks to the box of its uncovered pixels and is dropped when more than
    ``box_drop_fraction`` of its pixels are covered. ``by`` names the paste in the drop reason.
    """
    wx0, wy0 = window[0], window[1]
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if rows.size == 0:
        return []
    px0, py0, px1, py1 = wx0 + cols[0], wy0 + rows[0], wx0 + cols[-1] + 1, wy0 + rows[-1] + 1
    hit = []
    for st in states:
        if st.dropped is not None:
            continue
        if st.kind == "mask":
            r = st.rect()
            if min(r[2], px1) <= max(r[0], px0) or min(r[3], py1) <= max(r[1], py0):
                continue
            m = st.full_mask(source)
            r = st.rect()  # exact now
            ix0, iy0, ix1, iy1 = max(r[0], px0), max(r[1], py0), min(r[2], px1), min(r[3], py1)
            if ix1 <= ix0 or iy1 <= iy0:
                continue
            sub = mask[iy0 - wy0:iy1 - wy0, ix0 - wx0:ix1 - wx0]
            region = m[iy0:iy1, ix0:ix1]
            lost = int(np.count_nonzero(region & sub))
            if lost == 0:
                continue
            region &= ~sub
            st.changed = True
            st.lost_pixels += lost
            st._rect = None
            hit.append(st)
            if not m[r[1]:r[3], r[0]:r[2]].any():
                st.dropped = f"fully covered by {by}"
        else:
            if st._vis is None:
                bx0, by0, bx1, by1 = box_pixels(st.current_bbox(), st.height, st.width)
                st._vis = np.ones((by1 - by0, bx1 - bx0), dtype=bool)
                st._vis_rect = (bx0, by0, bx1, by1)
            bx0, by0, bx1, by1 = st._vis_rect
            jx0, jy0, jx1, jy1 = max(bx0, px0), max(by0, py0), min(bx1, px1), min(by1, py1)
            if jx1 <= jx0 or jy1 <= jy0:
                continue
            region = st._vis[jy0 - by0:jy1 - by0, jx0 - bx0:jx1 - bx0]
            cover = mask[jy0 - wy0:jy1 - wy0, jx0 - wx0:jx1 - wx0]
            lost = int(np.count_nonzero(region & cover))
            if lost == 0:
                continue
            region &= ~cover
            st.changed = True
            st.lost_pixels += lost
            hit.append(st)
            left = int(st._vis.sum())
            hidden = 1.0 - left / max(1, st._vis.size)
            if left == 0 or hidden > box_drop_fraction:
                st.dropped = f"{100 * hidden:.1f}% of its box covered by {by} (> {100 * box_drop_fraction:g}%)"
            else:
                b = mask_bbox(st._vis)
                st._bbox = [b[0] + bx0, b[1] + by0, b[2], b[3]]
    return hit
