"""Thumbnails made on demand into a cache folder, capped in size, written atomically.

A thumbnail is keyed by the source file's resolved path, modification time and size plus every
drawing parameter, so an edited image or a changed overlay never returns a stale picture. Files
are written with :func:`lt_core.io.write_bytes` (a reader never sees half a file); when the folder
grows past ``max_bytes`` the least recently used thumbnails are removed.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .. import io as ltio
from ..errors import InputError
from .draw import draw_annotations, generated_canvas
from .read import encode_image, image_size, read_image

__all__ = ["ThumbnailCache", "thumbnail_array", "THUMB_VERSION"]

#: bump when the drawing changes, so old cached thumbnails are not reused
THUMB_VERSION = 2


def _resize_to(arr: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    from PIL import Image

    h, w = arr.shape[:2]
    s = min(1.0, float(max_side) / max(h, w))
    if s >= 1.0:
        return arr, 1.0
    nw, nh = max(1, int(round(w * s))), max(1, int(round(h * s)))
    out = np.asarray(Image.fromarray(arr, "RGB").resize((nw, nh), Image.Resampling.BILINEAR, reducing_gap=2.0))
    return out, nw / w


def thumbnail_array(source, max_side: int = 256, overlay: Mapping[str, Any] | None = None, *,
                    size_hw: tuple[int, int] | None = None, label: str = "generated") -> np.ndarray:
    """A thumbnail as an array, with an optional overlay drawn at thumbnail resolution.

    Parameters
    ----------
    source : path or None
        The image file; None draws on :func:`~lt_core.images.draw.generated_canvas` of ``size_hw``.
    max_side : int
        Longer side of the thumbnail in pixels (never enlarged).
    overlay : dict, optional
        Keyword arguments of :func:`~lt_core.images.draw.draw_annotations` (``boxes``, ``labels``,
        ``scores``, ``outcomes``, ``masks``, ``highlight``, ...), in original-image coordinates.
    size_hw : (H, W)
        Original size: required without a source; for a file, the size the annotations refer to.
    """
    if source is None:
        if size_hw is None:
            raise InputError("a thumbnail without an image file needs the image size", field="size_hw")
        h, w = int(size_hw[0]), int(size_hw[1])
        s = min(1.0, float(max_side) / max(h, w))
        th, tw = max(1, int(round(h * s))), max(1, int(round(w * s)))
        small, scale, src_hw = generated_canvas(th, tw, label), tw / w, (h, w)
    else:
        shown_hw = image_size(source)
        if size_hw is not None and tuple(int(v) for v in size_hw) != shown_hw:
            arr = read_image(source, expected_hw=size_hw)  # orientation fallback, or a clear size error
            src_hw = arr.shape[:2]
        else:
            arr = read_image(source, draft_max_side=max_side)
            src_hw = shown_hw
        small, _ = _resize_to(arr, max_side)
        scale = small.shape[1] / src_hw[1]
    if overlay:
        kw = dict(overlay)
        boxes = kw.pop("boxes")
        small = draw_annotations(small, boxes, scale=scale, source_hw=src_hw, **kw)
    return small


class ThumbnailCache:
    """Thumbnails on disk under ``folder``, made on first request, least-recently-used eviction.

    Parameters
    ----------
    folder : path
        The cache folder (created). One per workspace in the app.
    max_bytes : int
        Cap of the folder's thumbnails (default 256 MiB); the oldest are removed beyond it.
    fmt : {"jpeg", "png", "webp"}
    quality : int
        JPEG / WebP quality.
    """

    def __init__(self, folder, max_bytes: int = 256 * 1024 ** 2, fmt: str = "jpeg", quality: int = 85):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = int(max_bytes)
        self.fmt = fmt.lower()
        self.quality = int(quality)
        self.ext = {"jpeg": ".jpg", "jpg": ".jpg", "png": ".png", "webp": ".webp"}.get(self.fmt)
        if self.ext is None:
            raise InputError(f"unknown thumbnail format '{fmt}'", field="fmt", hint="jpeg, png or webp")
        self.hits = self.misses = 0

    def key(self, source, max_side: int, overlay: Mapping[str, Any] | None = None,
            size_hw: tuple[int, int] | None = None, label: str = "generated") -> str:
        """The cache key: source path + mtime + size, and every parameter (a hex digest)."""
        if source is not None:
            p = Path(source).resolve()
            try:
                st = p.stat()
            except FileNotFoundError:
                raise InputError("no such image file", str(source)) from None
            src = [str(p), st.st_mtime_ns, st.st_size]
        else:
            src = None
        doc = {"v": THUMB_VERSION, "src": src, "side": int(max_side), "hw": list(size_hw) if size_hw else None,
               "label": label, "fmt": self.fmt, "q": self.quality, "overlay": _key_of(overlay)}
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:40]

    def path_for(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}{self.ext}"

    def get(self, source, max_side: int = 256, overlay: Mapping[str, Any] | None = None, *,
            size_hw: tuple[int, int] | None = None, label: str = "generated") -> Path:
        """The thumbnail file of ``source`` (made now if it is not cached); see :func:`thumbnail_array`."""
        k = self.key(source, max_side, overlay, size_hw, label)
        p = self.path_for(k)
        if p.is_file():
            self.hits += 1
            try:
                os.utime(p)  # recently used
            except OSError:
                pass
            return p
        self.misses += 1
        arr = thumbnail_array(source, max_side, overlay, size_hw=size_hw, label=label)
        ltio.write_bytes(p, encode_image(arr, self.fmt, self.quality))
        self.enforce_cap()
        return p

    def total_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.folder.rglob(f"*{self.ext}") if f.is_file())

    def enforce_cap(self) -> int:
        """Remove least recently used thumbnails until the folder is under 90 % of the cap; returns removed."""
        files = []
        total = 0
        for f in self.folder.rglob(f"*{self.ext}"):
            try:
                st = f.stat()
            except FileNotFoundError:
                continue
            files.append((st.st_mtime, st.st_size, f))
            total += st.st_size
        if total <= self.max_bytes:
            return 0
        removed = 0
        for _, size, f in sorted(files, key=lambda t: (t[0], str(t[2]))):
            if total <= 0.9 * self.max_bytes:
                break
            try:
                f.unlink()
                total -= size
                removed += 1
            except FileNotFoundError:
                pass
        return removed

    def clear(self) -> None:
        for f in self.folder.rglob(f"*{self.ext}"):
            f.unlink(missing_ok=True)


def _key_of(obj: Any) -> Any:
    """A JSON-able fingerprint of an overlay (arrays by content hash)."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return {str(k): _key_of(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, np.ndarray):
        return ["nd", list(obj.shape), str(obj.dtype), hashlib.sha1(np.ascontiguousarray(obj).tobytes()).hexdigest()]
    if isinstance(obj, (list, tuple)):
        return [_key_of(v) for v in obj]
    if isinstance(obj, (bytes, bytearray)):
        return hashlib.sha1(bytes(obj)).hexdigest()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj

