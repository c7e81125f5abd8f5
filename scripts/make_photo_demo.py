"""Derive the real-photo copy-paste demo shipped in ``lt_core/assets/photo_demo/``.

Input: scikit-image's sample photographs that are inside its wheel (``skimage/data/*.png|jpg``,
no download; scikit-image 0.26.0 as pinned in requirements-dev.txt)::

    python scripts/make_photo_demo.py            # rewrites lt_core/assets/photo_demo/

What it does (deterministic):
1. takes seven photographs whose terms are stated in scikit-image (CC0, public domain or no known
   copyright restrictions): coins, coffee, rocket, camera (the cameraman), and the textures grass,
   gravel, brick (backgrounds with no object). chelsea (the cat) and astronaut were tried and left
   out (GrabCut from a box cuts only part of them), motorcycle_left too (Middlebury stereo data, no
   licence stated);
2. derives each object's mask:
   * the 24 coins: the region-based segmentation of scikit-image's gallery ("Comparing edge-based and
     region-based segmentation": Sobel elevation map, markers at grey < 30 / > 150, watershed, holes
     filled, connected components >= 200 px);
   * the cup (with its saucer), the rocket and the cameraman: OpenCV GrabCut
     (Rother et al. 2004; 8 iterations) started from a hand-set box around the object, largest
     connected component kept, holes filled;
3. cuts the coins photograph into four tiles of six coins (so "coin" is in four images, the others in
   one: a head class and three tail classes by train images);
4. writes the photographs as JPEG (quality 88) and a COCO JSON with one RLE mask per object.
The masks are segmentation-DERIVED (not hand-drawn annotations): good enough to cut objects out,
imperfect at the edges. Licences: see lt_core/assets/ATTRIBUTION.md (scikit-image data, each image's own).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lt_core import io as ltio  # noqa: E402
from lt_core.images import encode_image, encode_mask, mask_bbox  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "lt_core" / "assets" / "photo_demo"

#: file, loader name, [(category, GrabCut box x0, y0, x1, y1)]
PHOTOS = [
    ("coins.jpg", "coins", "coins"),
    ("coffee.jpg", "coffee", [("cup", (40, 40, 590, 370))]),
    ("rocket.jpg", "rocket", [("rocket", (290, 40, 345, 410))]),
    ("cameraman.jpg", "camera", [("person", (2, 40, 380, 510))]),
    ("grass.jpg", "grass", []),
    ("gravel.jpg", "gravel", []),
    ("brick.jpg", "brick", []),
]
CATEGORIES = ["coin", "person", "cup", "rocket"]


def _load(name: str) -> np.ndarray:
    import skimage.data as data

    a = getattr(data, name)()
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    return np.ascontiguousarray(a[..., :3].astype(np.uint8))


def _largest(m: np.ndarray) -> np.ndarray:
    from scipy import ndimage as ndi

    lab, n = ndi.label(m)
    if n == 0:
        return m
    sizes = ndi.sum(m, lab, range(1, n + 1))
    return ndi.binary_fill_holes(lab == (1 + int(np.argmax(sizes))))


def coin_masks(gray: np.ndarray) -> list[np.ndarray]:
    from scipy import ndimage as ndi
    from skimage.filters import sobel
    from skimage.segmentation import watershed

    elevation = sobel(gray)
    markers = np.zeros_like(gray, dtype=np.int32)
    markers[gray < 30] = 1
    markers[gray > 150] = 2
    seg = ndi.binary_fill_holes(watershed(elevation, markers) - 1)
    lab, n = ndi.label(seg)
    return [lab == k for k in range(1, n + 1) if (lab == k).sum() >= 200]


def grabcut(img: np.ndarray, box) -> np.ndarray:
    import cv2

    cv2.setRNGSeed(0)
    mask = np.zeros(img.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    x0, y0, x1, y1 = box
    cv2.grabCut(img[..., ::-1].copy(), mask, (x0, y0, x1 - x0, y1 - y0), bgd, fgd, 8, cv2.GC_INIT_WITH_RECT)
    return _largest((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD))


def main() -> int:
    cats = {n: k + 1 for k, n in enumerate(CATEGORIES)}
    images, anns, files = [], [], []
    pieces = []
    for fname, loader, objs in PHOTOS:
        img = _load(loader)
        if objs == "coins":  # four tiles of six coins each (the cuts fall between the coins)
            masks = coin_masks(img[..., 0])
            h2, w2 = img.shape[0] // 2, img.shape[1] // 2
            for k, (ys, xs) in enumerate([(slice(0, h2), slice(0, w2)), (slice(0, h2), slice(w2, None)),
                                          (slice(h2, None), slice(0, w2)), (slice(h2, None), slice(w2, None))]):
                tile = [("coin", m[ys, xs]) for m in masks if m[ys, xs].sum() >= 200]
                pieces.append((f"coins_{k + 1}.jpg", f"skimage.data.coins, tile {k + 1} of 4",
                               np.ascontiguousarray(img[ys, xs]), tile))
        else:
            pieces.append((fname, f"skimage.data.{loader}", img, [(c, grabcut(img, box)) for c, box in objs]))
    for i, (fname, src, img, masks) in enumerate(pieces, 1):
        h, w = img.shape[:2]
        images.append({"id": i, "file_name": fname, "height": h, "width": w, "source": src})
        for c, m in masks:
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": cats[c], "bbox": mask_bbox(m),
                         "area": float(m.sum()), "iscrowd": 0, "segmentation": encode_mask(m)})
        files.append((fname, encode_image(img, "jpeg", 88)))
    doc = {"info": {"description": "Real photographs from scikit-image's bundled sample data with "
                                   "segmentation-DERIVED masks (watershed for the coins, GrabCut from a hand-set box "
                                   "for the others); scripts/make_photo_demo.py", "generated_masks": True},
           "licenses": [], "images": images, "annotations": anns,
           "categories": [{"id": k, "name": n, "supercategory": "photo"} for n, k in cats.items()]}
    with ltio.atomic_dir(OUT) as tmp:
        (tmp / "images").mkdir()
        for fname, data in files:
            (tmp / "images" / fname).write_bytes(data)
        ltio.write_json(tmp / "annotations.json", doc, indent=None)
    (OUT / ltio.OUTPUT_MARKER).unlink()
    for f in [OUT, *OUT.rglob("*")]:
        f.chmod(0o755 if f.is_dir() else 0o644)
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"{len(images)} photos, {len(anns)} objects -> {OUT} ({total / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
