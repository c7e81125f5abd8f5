"""Settings of a copy-paste run (one dataclass, validated, recorded in the manifest)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import InputError
from .paste import BLENDS

__all__ = ["CopyPasteConfig", "UNCHANGED_MODES"]

UNCHANGED_MODES = ("copy", "hardlink")


@dataclass
class CopyPasteConfig:
    """Everything that decides a copy-paste dataset (the same settings and seed give the same bytes).

    Attributes
    ----------
    target : str
        ``rfs:T``, ``effective-number:BETA`` or a counts / weights / repeat-factor file
        (:func:`lt_core.augment.paste_targets`).
    seed : int
        Seeds the plan (which instance goes onto which image) and, per image, a generator from
        ``(seed, image position)`` for scale, flip, position and photometric draws.
    box_only : bool
        Paste box crops (rectangles) even where masks exist.
    blend : {"feather", "poisson", "none"}
        Edge smoothing: alpha from a Gaussian-blurred mask (Ghiasi et al. 2021), Poisson image editing
        (Pérez et al. 2003, OpenCV ``seamlessClone``), or a hard paste.
    feather_sigma : float or None
        Gaussian sigma in target pixels (default: 1 % of the pasted object's longer side, 0.75–3 px).
    max_pastes_per_image : int
        At most this many objects pasted onto one image (pastes are spread evenly over the images).
    scale_range : (lo, hi)
        Log-uniform factor on the object's size relative to its image (1 keeps its relative size).
    size_limits : (lo, hi)
        Limits of the pasted object's longer side relative to the target image's shorter side.
    flip_p : float
        Probability of a left-right flip.
    min_source_area : float
        Instances smaller than this (pixels) are never copied.
    box_drop_fraction : float
        Box-only annotations covered by more than this fraction are dropped (masks: when fully covered).
    placement_tries : int
        Positions tried per paste to avoid overlapping earlier pastes on the same image.
    jitter : float
        Colour jitter strength for images holding tail classes (0 = off): brightness, contrast and
        saturation factors in ``[1 - jitter, 1 + jitter]``.
    mosaic, mixup : float
        Probability that an image holding tail classes also yields a mosaic (with three other images) /
        a mixup (with one other image), written as new images.
    mixup_alpha : float
        ``lam ~ Beta(alpha, alpha)`` of mixup (32 as YOLOv5: lam near 0.5).
    bins : str
        Bin scheme (by train images per class) whose last bin is the "tail" for the photometric options
        and the per-bin tables (default ``lvis``: rare = 1–10 images).
    keep_originals : bool
        Keep every original image unchanged and write each changed image as a new image (new id,
        ``..._cp`` file name) instead of replacing it.
    jpeg_quality : int
        Quality of re-encoded JPEG images (PNG inputs stay PNG, lossless).
    unchanged : {"copy", "hardlink"}
        How images without a paste get into the output (a hard link shares the file with the input).
    """

    target: str = "rfs:0.001"
    seed: int = 0
    box_only: bool = False
    blend: str = "feather"
    feather_sigma: float | None = None
    max_pastes_per_image: int = 3
    scale_range: tuple[float, float] = (0.5, 2.0)
    size_limits: tuple[float, float] = (0.05, 0.6)
    flip_p: float = 0.5
    min_source_area: float = 64.0
    box_drop_fraction: float = 0.7
    placement_tries: int = 20
    jitter: float = 0.0
    mosaic: float = 0.0
    mixup: float = 0.0
    mixup_alpha: float = 32.0
    bins: str = "lvis"
    keep_originals: bool = False
    jpeg_quality: int = 95
    unchanged: str = "copy"

    def validate(self) -> "CopyPasteConfig":
        """Check every setting; :class:`InputError` naming the field otherwise. Returns self."""
        from ..bins import parse_bins

        def need(ok: bool, name: str, msg: str) -> None:
            if not ok:
                raise InputError(msg, field=name)

        need(isinstance(self.seed, int) and self.seed >= 0, "seed", f"the seed must be an integer >= 0, got {self.seed}")
        need(self.blend in BLENDS, "blend", f"unknown blend '{self.blend}' (use {', '.join(BLENDS)})")
        need(self.feather_sigma is None or self.feather_sigma > 0, "feather_sigma", "the feather sigma must be > 0")
        need(int(self.max_pastes_per_image) >= 1, "max_pastes_per_image", "at least one paste per image")
        lo, hi = (float(v) for v in self.scale_range)
        need(0 < lo <= hi, "scale_range", f"scale range must be 0 < lo <= hi, got {self.scale_range}")
        a, b = (float(v) for v in self.size_limits)
        need(0 < a <= b <= 1, "size_limits", f"size limits must be 0 < lo <= hi <= 1, got {self.size_limits}")
        need(0 <= self.flip_p <= 1, "flip_p", "the flip probability must be in [0, 1]")
        need(self.min_source_area >= 0, "min_source_area", "the minimum source area must be >= 0")
        need(0 <= self.box_drop_fraction <= 1, "box_drop_fraction", "the box drop fraction must be in [0, 1]")
        need(int(self.placement_tries) >= 1, "placement_tries", "at least one placement try")
        need(0 <= self.jitter < 1, "jitter", "the jitter strength must be in [0, 1)")
        need(0 <= self.mosaic <= 1 and 0 <= self.mixup <= 1, "mosaic/mixup", "probabilities must be in [0, 1]")
        need(self.mixup_alpha > 0, "mixup_alpha", "mixup alpha must be > 0")
        need(1 <= int(self.jpeg_quality) <= 100, "jpeg_quality", "JPEG quality must be in 1..100")
        need(self.unchanged in UNCHANGED_MODES, "unchanged", f"use one of {', '.join(UNCHANGED_MODES)}")
        parse_bins(self.bins)
        self.scale_range = (lo, hi)
        self.size_limits = (a, b)
        return self

    def to_json(self) -> dict:
        d = asdict(self)
        d["scale_range"] = list(self.scale_range)
        d["size_limits"] = list(self.size_limits)
        return d
