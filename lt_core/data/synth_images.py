"""A GENERATED ImageNet-LT-style image dataset (for the examples' notebook, tests and benchmark).

:func:`make_image_list_dataset` writes an image folder ``root/train/<wnid>/<name>.png`` of generated
pictures (a hue and a shape per class, the sample number written in a corner), a ``test.txt`` list
of ``relative/path label`` lines (the ImageNet-LT / Places-LT layout), a counts CSV with long-tailed
train counts and N x C logits of a head-biased model. Nothing here is real data.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["make_image_list_dataset", "draw_sample", "class_colour"]

SHAPES = ("circle", "square", "triangle", "diamond", "bar")


def class_colour(k: int, n: int) -> tuple[int, int, int]:
    import colorsys

    r, g, b = colorsys.hsv_to_rgb((k / max(n, 1)) % 1.0, 0.55, 0.9)
    return int(r * 255), int(g * 255), int(b * 255)


def draw_sample(k: int, n_classes: int, i: int, size=(160, 120), seed: int = 0) -> np.ndarray:
    """A generated picture of class ``k``: its hue as background, its shape, ``#i`` in a corner."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng([seed, k, i])
    w, h = size
    bg = class_colour(k, n_classes)
    im = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(im)
    s = int(rng.integers(min(w, h) // 4, min(w, h) // 2))
    x0, y0 = int(rng.integers(4, w - s - 4)), int(rng.integers(4, h - s - 4))
    fg = tuple(255 - c for c in bg)
    shape = SHAPES[k % len(SHAPES)]
    if shape == "circle":
        d.ellipse([x0, y0, x0 + s, y0 + s], fill=fg)
    elif shape == "square":
        d.rectangle([x0, y0, x0 + s, y0 + s], fill=fg)
    elif shape == "triangle":
        d.polygon([(x0 + s // 2, y0), (x0, y0 + s), (x0 + s, y0 + s)], fill=fg)
    elif shape == "diamond":
        d.polygon([(x0 + s // 2, y0), (x0 + s, y0 + s // 2), (x0 + s // 2, y0 + s), (x0, y0 + s // 2)], fill=fg)
    else:
        d.rectangle([x0, y0 + s // 3, x0 + s, y0 + 2 * s // 3], fill=fg)
    d.text((4, 4), f"#{i} c{k}", fill=(0, 0, 0))
    return np.asarray(im)


def make_image_list_dataset(root, n_classes: int = 12, n_test: int = 240, seed: int = 0, size=(160, 120),
                            fmt: str = "png") -> dict:
    """Write the generated ImageNet-LT-style dataset under ``root``; return its paths and arrays.

    Returns
    -------
    dict with ``root`` (the image root), ``list`` (test.txt), ``counts`` (counts CSV), ``scores``
    (logits .npy), ``y`` (true class ids), ``logits``, ``paths`` (relative paths).
    """
    from PIL import Image

    root = Path(root)
    rng = np.random.default_rng(seed)
    counts = np.round(1000 * 0.6 ** np.arange(n_classes)).astype(int) + 2
    y = np.concatenate([np.arange(n_classes), rng.integers(0, n_classes, max(0, n_test - n_classes))])[:n_test]
    rels = []
    for i, k in enumerate(y):
        rel = f"train/n{k:08d}/n{k:08d}_{i:05d}.{fmt}"
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(draw_sample(int(k), n_classes, i, size, seed)).save(p)
        rels.append(rel)
    lst = root / "test.txt"
    lst.write_text("".join(f"{r} {int(k)}\n" for r, k in zip(rels, y)))
    cpath = root / "counts.csv"
    pd.DataFrame({"class_id": np.arange(n_classes), "count": counts,
                  "name": [f"n{k:08d}" for k in range(n_classes)]}).to_csv(cpath, index=False)
    logits = rng.normal(size=(n_test, n_classes)).astype(np.float32)
    logits += np.log(counts / counts.sum()).astype(np.float32)[None, :] * 0.8  # a head-biased model
    logits[np.arange(n_test), y] += rng.uniform(0.5, 3.0, n_test).astype(np.float32)
    spath = root / "scores.npy"
    np.save(spath, logits)
    return {"root": root, "list": lst, "counts": cpath, "scores": spath, "y": y, "logits": logits, "paths": rels}
