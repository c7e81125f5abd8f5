"""GENERATED image scenes with known masks: a small COCO / LVIS dataset written to a folder.

Each image is a smooth two-colour gradient with faint noise; each object a filled shape (disc,
square, triangle, diamond, hexagon, star, cross, pentagon, ...) of its class's colour with a soft
shading. Classes are long-tailed (class k drawn with probability proportional to ``(k + 1) ** -alpha``).
Objects drawn later hide the ones below them, and every mask in the JSON is exactly the object's
visible pixels (compressed RLE), so tests can check pixels against annotations. Labelled generated.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["make_scenes", "SCENE_CLASSES"]

#: (name, shape, RGB colour) of the generated classes, head first
SCENE_CLASSES = [
    ("red disc", "disc", (214, 39, 40)), ("blue square", "square", (31, 119, 180)),
    ("green triangle", "triangle", (44, 160, 44)), ("orange diamond", "diamond", (255, 127, 14)),
    ("purple hexagon", "hexagon", (148, 103, 189)), ("yellow star", "star", (230, 200, 20)),
    ("cyan cross", "cross", (23, 190, 207)), ("pink pentagon", "pentagon", (227, 119, 194)),
    ("brown ring", "ring", (140, 86, 75)), ("olive arrow", "arrow", (128, 128, 0)),
    ("navy heart", "heart", (20, 30, 110)), ("lime moon", "moon", (150, 220, 60)),
]


def _shape_mask(shape: str, h: int, w: int, cx: float, cy: float, r: float, rot: float) -> np.ndarray:
    import cv2

    m = np.zeros((h, w), dtype=np.uint8)
    S = 16  # fixed-point subpixel bits for cv2 (shift 4)

    def poly(pts: np.ndarray) -> None:
        c, s = math.cos(rot), math.sin(rot)
        R = np.array([[c, -s], [s, c]])
        q = pts @ R.T * r + np.array([cx, cy])
        cv2.fillPoly(m, [np.round(q * S).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)

    def regular(n: int, start: float = 0.0) -> np.ndarray:
        a = start + np.arange(n) * 2 * np.pi / n
        return np.stack([np.cos(a), np.sin(a)], 1)

    if shape == "disc":
        cv2.ellipse(m, (int(round(cx * S)), int(round(cy * S))), (int(round(r * S)), int(round(0.8 * r * S))),
                    math.degrees(rot), 0, 360, 1, -1, cv2.LINE_8, 4)
    elif shape == "ring":
        cv2.ellipse(m, (int(round(cx * S)), int(round(cy * S))), (int(round(r * S)), int(round(r * S))), 0, 0, 360,
                    1, -1, cv2.LINE_8, 4)
        cv2.ellipse(m, (int(round(cx * S)), int(round(cy * S))), (int(round(0.5 * r * S)), int(round(0.5 * r * S))),
                    0, 0, 360, 0, -1, cv2.LINE_8, 4)
    elif shape == "square":
        poly(np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * 0.8)
    elif shape == "triangle":
        poly(regular(3, -np.pi / 2))
    elif shape == "diamond":
        poly(np.array([[0, -1], [0.65, 0], [0, 1], [-0.65, 0]]))
    elif shape == "hexagon":
        poly(regular(6))
    elif shape == "pentagon":
        poly(regular(5, -np.pi / 2))
    elif shape == "star":
        a = -np.pi / 2 + np.arange(10) * np.pi / 5
        rad = np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
        poly(np.stack([np.cos(a) * rad, np.sin(a) * rad], 1))
    elif shape == "cross":
        t = 0.3
        poly(np.array([[-t, -1], [t, -1], [t, -t], [1, -t], [1, t], [t, t], [t, 1], [-t, 1], [-t, t], [-1, t],
                       [-1, -t], [-t, -t]]))
    elif shape == "arrow":
        poly(np.array([[-1, -0.3], [0.2, -0.3], [0.2, -0.7], [1, 0], [0.2, 0.7], [0.2, 0.3], [-1, 0.3]]))
    elif shape == "heart":
        a = np.linspace(0, 2 * np.pi, 40, endpoint=False)
        x = 16 * np.sin(a) ** 3
        y = -(13 * np.cos(a) - 5 * np.cos(2 * a) - 2 * np.cos(3 * a) - np.cos(4 * a))
        poly(np.stack([x, y], 1) / 17.0)
    elif shape == "moon":
        cv2.circle(m, (int(round(cx * S)), int(round(cy * S))), int(round(r * S)), 1, -1, cv2.LINE_8, 4)
        cv2.circle(m, (int(round((cx + 0.45 * r) * S)), int(round((cy - 0.2 * r) * S))), int(round(0.8 * r * S)), 0,
                   -1, cv2.LINE_8, 4)
    else:  # pragma: no cover - SCENE_CLASSES only names the shapes above
        raise ValueError(shape)
    return m.astype(bool)


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    c0 = rng.uniform(60, 200, 3)
    c1 = rng.uniform(60, 200, 3)
    ang = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx * math.cos(ang) + yy * math.sin(ang))
    t = (t - t.min()) / max(float(t.max() - t.min()), 1.0)
    img = c0[None, None, :] * (1 - t[..., None]) + c1[None, None, :] * t[..., None]
    img += rng.normal(0, 4.0, (h, w, 1)).astype(np.float32)
    return img


def make_scenes(out_dir, n_images: int = 24, *, height: int = 480, width: int = 640, n_classes: int = 8,
                alpha: float = 1.3, objects_per_image: tuple[int, int] = (1, 5), seed: int = 0, masks: bool = True,
                fmt: str = "png", lvis: bool = False, min_visible: int = 80, jpeg_quality: int = 92,
                tail_class_images: int | None = None) -> Path:
    """Write ``n_images`` generated scenes and their COCO (or LVIS) JSON into ``out_dir`` (as a whole).

    Parameters
    ----------
    out_dir : path
        The folder to write: ``images/scene_0001.png``... and ``annotations.json`` (LVIS v1 layout with
        ``lvis=True``: ``images/train2017/...`` named by ``coco_url``, no ``file_name``).
    masks : bool
        Write ``segmentation`` (compressed RLE of each object's visible pixels); False writes box-only
        annotations (boxes are the visible pixels' extents).
    lvis : bool
        LVIS fields: categories' ``frequency`` / ``image_count`` / ``instance_count``, images'
        ``neg_category_ids`` (absent categories) and ``not_exhaustive_category_ids``.
    tail_class_images : int, optional
        Put the last class in exactly this many images (one object each): a controllable tail.

    Returns
    -------
    Path of ``annotations.json``.
    """
    from .. import io as ltio
    from ..images.masks import encode_mask, mask_bbox
    from ..images.read import encode_image

    n_classes = int(min(max(1, n_classes), len(SCENE_CLASSES)))
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(7,)))
    p = (np.arange(n_classes) + 1.0) ** -float(alpha)
    if tail_class_images is not None:
        p[-1] = 0.0
    p /= p.sum()
    ext = ".jpg" if fmt in ("jpeg", "jpg") else ".png"
    images, anns = [], []
    ann_id = 1
    pixels = []
    tail_at = set()
    if tail_class_images:
        tail_at = set(rng.choice(n_images, size=min(n_images, int(tail_class_images)), replace=False).tolist())
    for i in range(n_images):
        h, w = int(height), int(width)
        img = _background(rng, h, w)
        k = int(rng.integers(objects_per_image[0], objects_per_image[1] + 1))
        classes = rng.choice(n_classes, size=k, p=p).tolist()
        if i in tail_at:
            classes.append(n_classes - 1)
        objs = []
        for c in classes:
            r = rng.uniform(0.07, 0.18) * min(h, w)
            cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
            m = _shape_mask(SCENE_CLASSES[c][1], h, w, cx, cy, r, rng.uniform(0, 2 * np.pi))
            if not m.any():
                continue
            for o in objs:
                o["mask"] &= ~m
            ys, xs = np.nonzero(m)
            shade = 0.8 + 0.2 * ((xs - (cx - r)) / (2 * r)).clip(0, 1)
            col = np.asarray(SCENE_CLASSES[c][2], np.float32)
            img[ys, xs] = (col[None, :] * shade[:, None]).clip(0, 255)
            objs.append({"c": c, "mask": m})
        name = f"scene_{i + 1:04d}{ext}"
        rec = {"id": i + 1, "height": h, "width": w}
        if lvis:
            rec["coco_url"] = f"generated://tailscope/train2017/{name}"
        else:
            rec["file_name"] = name
        present = set()
        for o in objs:
            if int(o["mask"].sum()) < min_visible:
                continue
            b = mask_bbox(o["mask"])
            a = {"id": ann_id, "image_id": i + 1, "category_id": o["c"] + 1, "bbox": b,
                 "area": float(o["mask"].sum()) if masks else b[2] * b[3]}
            if not lvis:
                a["iscrowd"] = 0
            if masks:
                a["segmentation"] = encode_mask(o["mask"])
            anns.append(a)
            present.add(o["c"] + 1)
            ann_id += 1
        if lvis:
            absent = [c + 1 for c in range(n_classes) if c + 1 not in present]
            rec["neg_category_ids"] = sorted(rng.choice(absent, size=min(len(absent), 2), replace=False).tolist()) \
                if absent else []
            rec["not_exhaustive_category_ids"] = [min(present)] if present and rng.random() < 0.1 else []
        images.append(rec)
        pixels.append((name, np.clip(np.rint(img), 0, 255).astype(np.uint8)))
    cats = []
    ci = np.array([a["category_id"] for a in anns], dtype=np.int64)
    ii = np.array([a["image_id"] for a in anns], dtype=np.int64)
    for c in range(n_classes):
        cat = {"id": c + 1, "name": SCENE_CLASSES[c][0], "supercategory": "generated shape"}
        if lvis:
            ic = int(np.unique(ii[ci == c + 1]).size)
            cat.update({"image_count": ic, "instance_count": int((ci == c + 1).sum()),
                        "frequency": "r" if ic <= 10 else ("c" if ic <= 100 else "f"), "synset": f"generated.{c}",
                        "synonyms": [SCENE_CLASSES[c][0]], "def": "a generated shape"})
        cats.append(cat)
    doc = {"info": {"description": f"GENERATED scenes (Tailscope lt_core.data.scenes, seed {seed}): shapes with "
                                   "known masks", "generated": True},
           "licenses": [], "images": images, "annotations": anns, "categories": cats}
    with ltio.atomic_dir(out_dir) as tmp:
        folder = tmp / "images" / ("train2017" if lvis else "")
        folder.mkdir(parents=True, exist_ok=True)
        for name, arr in pixels:
            (folder / name).write_bytes(encode_image(arr, "jpeg" if ext == ".jpg" else "png", jpeg_quality))
        ltio.write_json(tmp / "annotations.json", doc, indent=None)
    return Path(out_dir) / "annotations.json"
