"""One image's work: read, paste the planned instances, update its GT, photometric options, write.

A task holds everything the image needs (its record, annotations, the planned source instances and
the partners of a mosaic / mixup), so it runs the same in this process or in a worker process, and
its output depends only on the task and the generator of ``(seed, image position)``.
"""
from __future__ import annotations

import os
import shutil
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from ..images.read import encode_image, read_image
from .config import CopyPasteConfig
from .paste import AnnState, blend_window, cut_instance, feather_sigma, occlude, render_instance, sample_placement
from .photometric import color_jitter, jitter_factors, mixup, mosaic
from .plan import image_rng

__all__ = ["ImageTask", "ImageResult", "run_task", "output_format"]


@dataclass
class SourceRef:
    """A planned paste: the source annotation and where its image is."""

    ann: dict
    image_id: int
    path: str
    hw: tuple[int, int]
    file: str


@dataclass
class PartnerRef:
    """An image used as a mosaic / mixup partner (its input pixels and GT)."""

    position: int
    image_id: int
    path: str
    hw: tuple[int, int]
    anns: list


@dataclass
class ImageTask:
    position: int
    image: dict
    path: str
    out_rel: str
    anns: list
    pastes: list
    jitter: bool = False
    mosaic: list | None = None
    mixup: PartnerRef | None = None
    out_root: str | None = None     # None: return pixels, write nothing (preview)
    has_masks: bool = False
    source: str = ""
    original_rel: str | None = None  # keep_originals: also copy the input image here, unchanged


@dataclass
class ImageResult:
    position: int
    changed: bool
    out_rel: str
    anns: list | None               # final annotations (pasted ones carry "_paste": k and no id); None: unchanged
    pastes: list                    # manifest entries (without the new annotation ids)
    dropped: list
    photometric: dict
    new_images: list = field(default_factory=list)
    pixels: np.ndarray | None = None
    n_bytes: int = 0


def output_format(rel: str) -> tuple[str, str]:
    """(relative path, format) an image is written as: JPEG / PNG / WebP keep their names, others become PNG."""
    p = PurePosixPath(rel)
    ext = p.suffix.lower()
    if ext in (".jpg", ".jpeg"):
        return rel, "jpeg"
    if ext == ".png":
        return rel, "png"
    if ext == ".webp":
        return rel, "webp"
    return str(p.with_suffix(".png")), "png"


_CACHE: "OrderedDict[tuple[str, int, int], np.ndarray]" = OrderedDict()


def _read(path: str, hw: tuple[int, int]) -> np.ndarray:
    key = (path, int(hw[0]), int(hw[1]))
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    arr = read_image(path, expected_hw=hw)
    arr.setflags(write=False)
    _CACHE[key] = arr
    while len(_CACHE) > 24:
        _CACHE.popitem(last=False)
    return arr


def _states(anns: list, h: int, w: int) -> list[AnnState]:
    return [AnnState(a, "mask" if a.get("segmentation") else "box", h, w) for a in anns]


def _place_original(src: str, dst: Path, mode: str) -> None:
    """An input image into the output unchanged: copied, or hard-linked (falling back to a copy)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if mode == "hardlink":
        try:
            os.link(src, dst)
            return
        except OSError:
            pass
    shutil.copyfile(src, dst)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def _finish(states: list[AnnState]) -> tuple[list, list]:
    anns, dropped = [], []
    for st in states:
        if st.dropped is not None:
            if not st.pasted:
                dropped.append({"annotation_id": st.ann.get("id"), "category_id": st.ann["category_id"],
                                "reason": st.dropped})
            else:
                dropped.append({"paste": st.ann.get("_paste"), "category_id": st.ann["category_id"],
                                "reason": st.dropped})
            continue
        anns.append(st.finish())
    return anns, dropped


def run_task(task: ImageTask, cfg: CopyPasteConfig) -> ImageResult:
    """Do one image's work (see the module docstring)."""
    rng = image_rng(cfg.seed, task.position)
    H, W = int(task.image.get("height") or 0), int(task.image.get("width") or 0)
    out_rel, fmt = output_format(task.out_rel)
    changes = bool(task.pastes) or task.jitter or task.mosaic or task.mixup is not None
    if not changes:
        if task.out_root is not None:
            _place_original(task.path, Path(task.out_root) / task.out_rel, cfg.unchanged)
            return ImageResult(task.position, False, task.out_rel, None, [], [], {})  # the parent has the anns
        img = _read(task.path, (H, W)) if H and W else read_image(task.path)
        return ImageResult(task.position, False, task.out_rel, list(task.anns), [], [], {}, pixels=np.array(img))
    base = _read(task.path, (H, W)) if H and W else read_image(task.path)
    H, W = base.shape[:2]
    img = np.array(base)  # writable copy
    states = _states(task.anns, H, W)
    entries, placed = [], []
    for k, ref in enumerate(task.pastes):
        src_img = _read(ref.path, ref.hw)
        inst = cut_instance(src_img, ref.ann, box_only=cfg.box_only, image_id=ref.image_id, source=ref.file)
        border = 2 if cfg.blend == "poisson" else 0
        pl = sample_placement(inst, (H, W), rng, scale_range=cfg.scale_range, size_limits=cfg.size_limits,
                              flip_p=cfg.flip_p, avoid=placed, tries=cfg.placement_tries, border=border)
        sigma = feather_sigma(pl.size, cfg.feather_sigma) if cfg.blend != "none" else 0.0
        pad = int(np.ceil(3 * sigma)) + 2
        window, pixels, mask = render_instance(inst, pl, (H, W), pad)
        blend_window(img, window, pixels, mask, cfg.blend, sigma)
        by = f"paste {k} (category {inst.category_id})"
        hit = occlude(states, window, mask, box_drop_fraction=cfg.box_drop_fraction, by=by, source=task.source)
        full = np.zeros((H, W), dtype=bool)
        full[window[1]:window[3], window[0]:window[2]] = mask
        kind = "mask" if (task.has_masks or inst.mask is not None) else "box"
        ann = {"image_id": task.image["id"], "category_id": inst.category_id, "_paste": k}
        if "iscrowd" in ref.ann:  # COCO style; LVIS annotations have no iscrowd
            ann["iscrowd"] = 0
        st = AnnState(ann, kind, H, W, pasted=True)
        st.changed = True
        if kind == "mask":
            st.mask = full
        else:
            r = pl.rect
            st._bbox = [float(r[0]), float(r[1]), float(r[2] - r[0]), float(r[3] - r[1])]
        states.append(st)
        placed.append(pl.rect)
        entries.append({
            "paste": k, "category_id": inst.category_id, "source_annotation_id": inst.source_ann_id,
            "source_image_id": inst.source_image_id, "source_file": ref.file,
            "mode": "mask" if inst.mask is not None else "box",
            "transform": {"crop": list(inst.crop), "scale": pl.scale, "size": list(pl.size), "flip": pl.flip,
                          "offset": list(pl.offset)},
            "blend": cfg.blend, "sigma": sigma,
            "occluded": [{"annotation_id": h.ann.get("id"), "paste": h.ann.get("_paste"), "lost_pixels": h.lost_pixels,
                          "dropped": h.dropped is not None} for h in hit],
        })
    photo: dict = {}
    if task.jitter:
        f = jitter_factors(rng, cfg.jitter)
        img = color_jitter(img, *f)
        photo["jitter"] = {"brightness": f[0], "contrast": f[1], "saturation": f[2]}
    new_images = []
    if task.mosaic:
        parts = [(img, states)]
        for ref in task.mosaic:
            parts.append((_read(ref.path, ref.hw), _states(ref.anns, *ref.hw)))
        m_img, m_states, m_drop, geo = mosaic(parts, (H, W), rng, box_drop_fraction=cfg.box_drop_fraction,
                                              source=task.source)
        new_images.append(_new_image("mosaic", task, m_img, m_states, m_drop, geo,
                                     [task.image["id"]] + [r.image_id for r in task.mosaic], fmt, out_rel))
    if task.mixup is not None:
        ref = task.mixup
        x_img, x_states, geo = mixup((img, states), (_read(ref.path, ref.hw), _states(ref.anns, *ref.hw)), rng,
                                     cfg.mixup_alpha, source=task.source)
        new_images.append(_new_image("mixup", task, x_img, x_states, [], geo, [task.image["id"], ref.image_id],
                                     fmt, out_rel))
    anns, dropped = _finish(states)
    for e in entries:
        e["bbox"] = next((a["bbox"] for a in anns if a.get("_paste") == e["paste"]), None)
        e["area"] = next((a["area"] for a in anns if a.get("_paste") == e["paste"]), None)
    changed = bool(task.pastes) or task.jitter
    res = ImageResult(task.position, changed, out_rel if changed else task.out_rel, anns if changed else None,
                      entries, dropped if changed else [], photo, new_images)
    if task.out_root is None:
        res.pixels = img
        for n in new_images:
            n["pixels"] = n.pop("_pixels")
        return res
    if changed:
        data = encode_image(img, fmt, cfg.jpeg_quality)
        _write(Path(task.out_root) / out_rel, data)
        res.n_bytes = len(data)
    if not changed or task.original_rel is not None:
        _place_original(task.path, Path(task.out_root) / (task.original_rel or task.out_rel), cfg.unchanged)
    for n in new_images:
        data = encode_image(n.pop("_pixels"), n["format"], cfg.jpeg_quality)
        _write(Path(task.out_root) / n["file_name"], data)
        res.n_bytes += len(data)
    return res


def _new_image(kind: str, task: ImageTask, pixels: np.ndarray, states: list, dropped: list, geo: dict,
               sources: list, fmt: str, out_rel: str) -> dict:
    p = PurePosixPath(out_rel)
    name = f"augmented/{p.stem}_{kind}{p.suffix}"
    anns = [st.finish() for st in states]
    return {"kind": kind, "file_name": name, "format": fmt, "height": int(pixels.shape[0]),
            "width": int(pixels.shape[1]), "sources": sources, "anns": anns, "dropped": dropped, "geometry": geo,
            "_pixels": pixels}
