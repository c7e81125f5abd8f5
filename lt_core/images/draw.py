"""Draw boxes, mask outlines, class names and scores on an image (Pillow + NumPy).

Coordinates are COCO ``[x, y, width, height]`` in the pixels of the original image; ``scale``
maps them onto a resized copy (a thumbnail). A box covers the pixels whose centres lie inside it
(:func:`lt_core.images.masks.box_pixels`); its outline is drawn *inside* those pixels, ``line_width``
thick, so the outer ring of drawn pixels is exactly the box's border. Line widths and fonts scale
with the image (:func:`line_width_for`).

Colours: by outcome (:data:`OUTCOME_COLORS`: TP, FP kinds, missed GT, pasted, ...) or by class
(:func:`class_color`, a fixed palette by class id), the same in the app and the notebooks.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from ..errors import InputError
from .masks import box_pixels, decode_segmentation, mask_outline

__all__ = ["OUTCOME_COLORS", "CLASS_PALETTE", "class_color", "line_width_for", "font_size_for", "draw_annotations",
           "generated_canvas", "hex_to_rgb", "contact_sheet", "outcome_legend"]

#: colour of each box outcome (detection matching, issue 12) and of copy-paste roles
OUTCOME_COLORS: dict[str, str] = {
    "tp": "#2ca02c",            # green: a true positive
    "fp": "#d62728",            # red: a false positive (any kind)
    "background": "#d62728",    # red: FP on background
    "duplicate": "#ff7f0e",     # orange: FP, a second detection of a matched object
    "wrong class": "#9467bd",   # purple: FP, overlaps an object of another class
    "localisation": "#e377c2",  # pink: FP, right class, IoU too low
    "wrong_class": "#9467bd",   # the outcome names of lt_core.detection.detection_outcomes (TIDE)
    "localization": "#e377c2",
    "both": "#8c564b",          # brown: FP, wrong class and a poor box
    "ignored": "#9e9e9e",       # grey: in a crowd region / a class not evaluated in the image
    "missed": "#17becf",        # cyan: a GT object no detection found
    "gt": "#f0f0f0",            # near white: a ground-truth object
    "pasted": "#ffd400",        # yellow: an object copy-pasted into the image
    "occluded": "#ff7f0e",      # orange: a GT object that lost area to a paste
}
#: a fixed 20-colour palette (tab20 order) for colours by class id
CLASS_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
                 "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"]


def hex_to_rgb(color: str | Sequence[int]) -> tuple[int, int, int]:
    """``"#rrggbb"`` (or an (r, g, b) triple) -> (r, g, b) ints."""
    if isinstance(color, str):
        c = color.lstrip("#")
        if len(c) != 6:
            raise InputError(f"not a #rrggbb colour: {color!r}", field="color")
        return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
    r, g, b = (int(v) for v in color)
    return r, g, b


def class_color(class_id: int) -> str:
    """Stable colour of a class id (the same everywhere): ``CLASS_PALETTE[id mod 20]``."""
    return CLASS_PALETTE[int(class_id) % len(CLASS_PALETTE)]


def line_width_for(height: int, width: int) -> int:
    """Box line width in pixels for an image of this size: 1 px per 320 px of the longer side (>= 1)."""
    return max(1, int(round(max(int(height), int(width)) / 320)))


def font_size_for(height: int, width: int) -> int:
    """Label font size in pixels: 1/45 of the longer side, at least 10."""
    return max(10, int(round(max(int(height), int(width)) / 45)))


@lru_cache(maxsize=16)
def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # pragma: no cover - Pillow without FreeType: fixed-size bitmap font
        return ImageFont.load_default()


def _text_color(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return (0, 0, 0) if lum > 140 else (255, 255, 255)


def _resize_mask(m: np.ndarray, h: int, w: int) -> np.ndarray:
    if m.shape == (h, w):
        return m
    import cv2

    return cv2.resize(m.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)


def _as_mask(m: Any, src_hw: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray | None:
    if m is None:
        return None
    if isinstance(m, np.ndarray):
        a = m.astype(bool, copy=False)
    else:
        a = decode_segmentation(m, src_hw[0], src_hw[1])
    return _resize_mask(a, *out_hw)


def draw_annotations(image: np.ndarray, boxes, *, labels: Sequence[str] | None = None,
                     scores: Sequence[float] | None = None, colors: Sequence[str] | None = None,
                     outcomes: Sequence[str] | None = None, class_ids: Sequence[int] | None = None,
                     masks: Sequence[Any] | None = None, highlight: int | None = None, scale: float = 1.0,
                     source_hw: tuple[int, int] | None = None, line_width: int | None = None,
                     mask_fill: float = 0.0, dim_others: float = 0.45, title: str | None = None,
                     also: Sequence[int] = ()) -> np.ndarray:
    """Draw boxes (and mask outlines, labels, scores) on a copy of an RGB image.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
        The image to draw on (a copy is returned; the input is not changed).
    boxes : array-like (N, 4)
        ``[x, y, w, h]`` in the pixels of the original image.
    labels, scores : sequences (N,), optional
        Text on each box: ``"label 0.87"``.
    colors, outcomes, class_ids : sequences (N,), optional
        The colour of each box: ``colors[i]`` if given, else ``OUTCOME_COLORS[outcomes[i]]``, else
        ``class_color(class_ids[i])``, else the "gt" colour.
    masks : sequence (N,) of bool arrays (H0, W0), COCO segmentations, or None
        Drawn as outlines (and filled with ``mask_fill`` opacity).
    highlight : int, optional
        Index of the box to stand out: drawn last, twice as thick; the others are blended
        ``dim_others`` of the way towards the image.
    also : sequence of int
        Boxes drawn undimmed (normal width) next to the highlight, e.g. the object a detection is about.
    scale : float
        Factor from original-image coordinates to ``image`` (thumbnail / original size).
    source_hw : (H0, W0), optional
        Size of the original image (for decoding polygon / RLE masks); default ``image``'s size / scale.
    line_width : int, optional
        Default :func:`line_width_for` of ``image``.
    title : str, optional
        A caption in the top-left corner (e.g. "generated").

    Returns
    -------
    ndarray (H, W, 3) uint8
    """
    from PIL import Image, ImageDraw

    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise InputError(f"expected an (H, W, 3) uint8 image, got {img.shape} {img.dtype}", field="image")
    H, W = img.shape[:2]
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    n = len(b)
    for name, seq in (("labels", labels), ("scores", scores), ("colors", colors), ("outcomes", outcomes),
                      ("class_ids", class_ids), ("masks", masks)):
        if seq is not None and len(seq) != n:
            raise InputError(f"{name} has {len(seq)} entries for {n} boxes", field=name)
    if highlight is not None and not 0 <= int(highlight) < n:
        raise InputError(f"highlight index {highlight} is outside 0..{n - 1}", field="highlight")
    lw = int(line_width) if line_width else line_width_for(H, W)
    src_hw = source_hw or (int(round(H / scale)), int(round(W / scale)))
    rgb = []
    for i in range(n):
        if colors is not None and colors[i]:
            c = colors[i]
        elif outcomes is not None and outcomes[i] in OUTCOME_COLORS:
            c = OUTCOME_COLORS[outcomes[i]]
        elif class_ids is not None:
            c = class_color(class_ids[i])
        else:
            c = OUTCOME_COLORS["gt"]
        rgb.append(np.array(hex_to_rgb(c), dtype=np.float64))
    bright = {int(i) for i in also if 0 <= int(i) < n}
    order = ([i for i in range(n) if i != highlight and i not in bright] + sorted(bright - {highlight})
             + ([int(highlight)] if highlight is not None else []))
    out = img.astype(np.float64)

    def col(i: int) -> np.ndarray:
        if highlight is None or i == highlight or i in bright or dim_others <= 0:
            return rgb[i]
        return rgb[i] * (1.0 - dim_others) + 127.5 * dim_others

    if masks is not None:
        for i in order:
            m = _as_mask(masks[i], src_hw, (H, W))
            if m is None or not m.any():
                continue
            if mask_fill > 0:
                out[m] = out[m] * (1.0 - mask_fill) + col(i) * mask_fill
            edge = mask_outline(m, max(1, lw if i != highlight else 2 * lw))
            out[edge] = col(i)
    pil = Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(pil)
    font = _font(font_size_for(H, W))
    for i in order:
        x0, y0, x1, y1 = box_pixels(b[i] * scale, H, W)
        if x1 <= x0 or y1 <= y0:
            continue
        c = tuple(int(round(v)) for v in col(i))
        width = lw * (2 if i == highlight else 1)
        draw.rectangle([x0, y0, x1 - 1, y1 - 1], outline=c, width=min(width, max(1, (min(x1 - x0, y1 - y0) + 1) // 2)))
        text = " ".join(t for t in ((labels[i] if labels is not None else None),
                                     (f"{float(scores[i]):.2f}" if scores is not None and scores[i] is not None
                                      and scores[i] == scores[i] else None)) if t)
        if text:
            tb = draw.textbbox((0, 0), text, font=font)
            tw, th = tb[2] - tb[0] + 4, tb[3] - tb[1] + 4
            ty = y0 - th if y0 - th >= 0 else y0
            tx = min(x0, max(0, W - tw))
            draw.rectangle([tx, ty, tx + tw - 1, ty + th - 1], fill=c)
            draw.text((tx + 2 - tb[0], ty + 2 - tb[1]), text, fill=_text_color(c), font=font)
    if title:
        tb = draw.textbbox((0, 0), title, font=font)
        draw.rectangle([0, 0, tb[2] - tb[0] + 6, tb[3] - tb[1] + 6], fill=(40, 40, 40))
        draw.text((3 - tb[0], 3 - tb[1]), title, fill=(255, 255, 255), font=font)
    return np.asarray(pil, dtype=np.uint8).copy()


def generated_canvas(height: int, width: int, label: str = "generated") -> np.ndarray:
    """A plain light-grey canvas of an image's size, with a faint 64-px grid and ``label`` in a corner.

    For data without image files (the generated detection demo): its boxes are drawn on this.

    Returns
    -------
    ndarray (height, width, 3) uint8
    """
    from PIL import Image, ImageDraw

    h, w = int(height), int(width)
    if h <= 0 or w <= 0:
        raise InputError(f"a canvas needs a positive size, got {h} x {w}", field="height/width")
    a = np.full((h, w, 3), 236, dtype=np.uint8)
    a[::64, :] = 222
    a[:, ::64] = 222
    if label:
        pil = Image.fromarray(a, "RGB")
        d = ImageDraw.Draw(pil)
        font = _font(font_size_for(h, w))
        tb = d.textbbox((0, 0), label, font=font)
        d.text((w - (tb[2] - tb[0]) - 6 - tb[0], h - (tb[3] - tb[1]) - 6 - tb[1]), label, fill=(150, 150, 150),
               font=font)
        a = np.asarray(pil, dtype=np.uint8).copy()
    return a


def contact_sheet(images: Sequence[np.ndarray], captions: Sequence[str] | None = None, cols: int = 4,
                  cell: int = 224, pad: int = 6, caption_px: int = 14) -> np.ndarray:
    """Images in a grid (for notebooks: the examples of a selection, as the app pages them).

    Each image is fitted into a ``cell`` x ``cell`` square (aspect kept, never enlarged), on white,
    with its caption (one line, cut to fit) underneath.

    Returns
    -------
    ndarray (H, W, 3) uint8
    """
    from PIL import Image, ImageDraw

    n = len(images)
    if n == 0:
        return np.full((cell, cell, 3), 255, np.uint8)
    if captions is not None and len(captions) != n:
        raise InputError(f"{len(captions)} captions for {n} images", field="captions")
    cols = max(1, min(int(cols), n))
    rows = (n + cols - 1) // cols
    cap_h = caption_px + 6 if captions is not None else 0
    W, H = cols * (cell + pad) + pad, rows * (cell + cap_h + pad) + pad
    sheet = Image.new("RGB", (W, H), (255, 255, 255))
    d = ImageDraw.Draw(sheet)
    font = _font(caption_px)
    for i, arr in enumerate(images):
        a = np.asarray(arr)
        if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
            raise InputError(f"image {i}: expected (H, W, 3) uint8, got {a.shape} {a.dtype}", field="images")
        im = Image.fromarray(a, "RGB")
        s_ = min(1.0, cell / max(im.width, im.height))
        if s_ < 1.0:
            im = im.resize((max(1, round(im.width * s_)), max(1, round(im.height * s_))), Image.Resampling.BILINEAR)
        r, c = divmod(i, cols)
        x0, y0 = pad + c * (cell + pad), pad + r * (cell + cap_h + pad)
        sheet.paste(im, (x0 + (cell - im.width) // 2, y0 + (cell - im.height) // 2))
        if captions is not None:
            text = str(captions[i])
            while text and d.textlength(text, font=font) > cell:
                text = text[:-2] + "…" if len(text) > 2 else ""
            d.text((x0, y0 + cell + 3), text, fill=(40, 40, 40), font=font)
    return np.asarray(sheet, dtype=np.uint8).copy()


def outcome_legend(items: Sequence[tuple[str, str]], height: int = 22, font_px: int = 13, gap: int = 14,
                   max_width: int = 900) -> np.ndarray:
    """The colour key of the drawn boxes: a swatch in :data:`OUTCOME_COLORS` and its words per item.

    Parameters
    ----------
    items : sequence of (outcome, words)
        e.g. ``[("tp", "true positive"), ("missed", "missed ground truth")]``.
    height : int
        Height of one line of the key, pixels; items wrap onto more lines past ``max_width``.

    Returns
    -------
    ndarray (H, W, 3) uint8, white background (each swatch bordered in grey, so the near-white
    ground-truth colour shows).
    """
    from PIL import Image, ImageDraw

    if not items:
        raise InputError("a legend needs at least one item", field="items")
    font = _font(int(font_px))
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    sw = max(8, int(height) - 8)
    cells = []
    for outcome, words in items:
        if outcome not in OUTCOME_COLORS:
            raise InputError(f"unknown outcome {outcome!r}", field="items", hint=", ".join(sorted(OUTCOME_COLORS)))
        cells.append((outcome, str(words), sw + 5 + int(round(probe.textlength(str(words), font=font)))))
    lines, cur, width = [], [], 0
    for c in cells:
        if cur and width + gap + c[2] > max_width:
            lines.append(cur)
            cur, width = [], 0
        width += (gap if cur else 0) + c[2]
        cur.append(c)
    lines.append(cur)
    W = max(sum(c[2] for c in ln) + gap * (len(ln) - 1) for ln in lines) + 4
    H = int(height) * len(lines)
    img = Image.new("RGB", (W, H), (255, 255, 255))
    d = ImageDraw.Draw(img)
    for li, ln in enumerate(lines):
        x, y0 = 2, li * int(height)
        top = y0 + (int(height) - sw) // 2
        for outcome, words, w in ln:
            d.rectangle([x, top, x + sw - 1, top + sw - 1], fill=hex_to_rgb(OUTCOME_COLORS[outcome]),
                        outline=(120, 120, 120))
            tb = d.textbbox((0, 0), words, font=font)
            d.text((x + sw + 5 - tb[0], y0 + (int(height) - (tb[3] - tb[1])) // 2 - tb[1]), words, fill=(40, 40, 40),
                   font=font)
            x += w + gap
    return np.asarray(img, dtype=np.uint8).copy()
