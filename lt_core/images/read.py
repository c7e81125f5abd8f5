"""Read images as RGB arrays (Pillow): EXIF orientation applied, every mode converted to 8-bit RGB.

A missing, empty, truncated or unreadable file is an :class:`~lt_core.errors.InputError` naming
the file; images are only ever opened for reading.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["read_image", "image_size", "encode_image", "ALPHA_BACKGROUND", "MAX_IMAGE_PIXELS"]

#: colour transparent pixels are composited onto (RGBA / LA / P with transparency -> RGB)
ALPHA_BACKGROUND = (255, 255, 255)
#: images above this many pixels are refused (a decompression bomb guard; 16k x 16k)
MAX_IMAGE_PIXELS = 16384 * 16384


def _open(path):
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    if not p.exists():
        raise InputError("no such image file", str(p), hint="check the image root and the file names")
    if p.is_dir():
        raise InputError("expected an image file, got a folder", str(p))
    if p.stat().st_size == 0:
        raise InputError("the image file is empty", str(p))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(p)
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise InputError(f"the image is {im.width} x {im.height} pixels, above the "
                                 f"{MAX_IMAGE_PIXELS:,}-pixel limit", str(p))
            return im
    except InputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise InputError(f"cannot be read as an image ({e})", str(p),
                         hint="is it an image file (JPEG, PNG, ...) and not truncated?") from None
    except OSError as e:
        raise InputError(f"cannot be opened ({e})", str(p)) from None


def _to_rgb(im) -> "Image.Image":  # noqa: F821
    from PIL import Image

    mode = im.mode
    if mode == "RGB":
        return im
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        hi = 65535.0 if mode.startswith("I;16") else max(float(a.max()), 1.0)
        if mode in ("I", "F") and a.max() <= 255:
            hi = 255.0
        g = np.clip(np.round(a * (255.0 / hi)), 0, 255).astype(np.uint8)
        return Image.fromarray(np.repeat(g[..., None], 3, axis=2), "RGB")
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
        if mode == "RGB":
            return im
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, ALPHA_BACKGROUND + (255,))
        return Image.alpha_composite(bg, rgba).convert("RGB")
    return im.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV


def read_image(path, *, expected_hw: tuple[int, int] | None = None, draft_max_side: int | None = None
               ) -> np.ndarray:
    """Read an image file as an RGB array.

    Parameters
    ----------
    path : path
    expected_hw : (height, width), optional
        The size the annotations were made on (the GT's ``height`` / ``width``). When the EXIF-rotated
        image does not have it but the stored one does, the stored orientation is used (the annotations
        refer to it); when neither matches, :class:`InputError`.
    draft_max_side : int, optional
        Let JPEG decoding reduce the image by a power of two while keeping its longer side >= this
        (for thumbnails; the result is then smaller than the file).

    Returns
    -------
    ndarray (H, W, 3) uint8
        RGB, in display orientation (EXIF ``Orientation`` applied), 8 bits per channel.
    """
    from PIL import ImageOps

    im = _open(path)
    try:
        if draft_max_side is not None and im.format == "JPEG":
            im.draft("RGB", (draft_max_side, draft_max_side))
        im.load()
        raw_size = im.size
        rot = ImageOps.exif_transpose(im)
        if expected_hw is not None and draft_max_side is None:
            eh, ew = int(expected_hw[0]), int(expected_hw[1])
            if eh > 0 and ew > 0 and (rot.height, rot.width) != (eh, ew):
                if (raw_size[1], raw_size[0]) == (eh, ew):
                    rot = im
                else:
                    raise InputError(f"the image is {rot.height} x {rot.width} (height x width) but the "
                                     f"annotations say {eh} x {ew}", str(path), "images.height/width",
                                     hint="is this the image the ground truth was made on?")
        return np.ascontiguousarray(np.asarray(_to_rgb(rot), dtype=np.uint8))
    except InputError:
        raise
    except (OSError, ValueError, SyntaxError) as e:
        raise InputError(f"cannot be decoded as an image ({e})", str(path),
                         hint="the file may be truncated or corrupt") from None
    finally:
        im.close()


def image_size(path) -> tuple[int, int]:
    """(height, width) in display orientation (EXIF applied), reading only the header."""
    im = _open(path)
    try:
        w, h = im.size
        try:
            orient = im.getexif().get(0x0112, 1)
        except Exception:  # noqa: BLE001 - a broken EXIF block is ignored, as exif_transpose does
            orient = 1
        return (w, h) if orient in (5, 6, 7, 8) else (h, w)
    finally:
        im.close()


def encode_image(arr: np.ndarray, fmt: str = "jpeg", quality: int = 95) -> bytes:
    """Encode an (H, W, 3) uint8 array as JPEG (Pillow defaults, ``quality``), PNG or WebP bytes.

    Deterministic: the same pixels and parameters give the same bytes (no timestamps, no EXIF).
    """
    import io

    from PIL import Image

    a = np.asarray(arr)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
        raise InputError(f"expected an (H, W, 3) uint8 image, got {a.shape} {a.dtype}", field="image")
    buf = io.BytesIO()
    f = fmt.lower()
    im = Image.fromarray(a, "RGB")
    if f in ("jpeg", "jpg"):
        im.save(buf, format="JPEG", quality=int(quality), optimize=False)
    elif f == "png":
        im.save(buf, format="PNG", compress_level=1)
    elif f == "webp":
        im.save(buf, format="WEBP", quality=int(quality), method=4)
    else:
        raise InputError(f"unknown image format '{fmt}'", field="format", hint="jpeg, png or webp")
    return buf.getvalue()
