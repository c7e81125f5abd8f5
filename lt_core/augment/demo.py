"""The two copy-paste demos: real photographs (shipped) and generated scenes (made at run time).

* :func:`photo_demo` — seven real photographs from scikit-image's bundled sample data (coins, a cup,
  a rocket, the cameraman and three textures) with segmentation-DERIVED masks (watershed for the 24
  coins, GrabCut from a hand-set box for the others), 0.5 MB in ``lt_core/assets/photo_demo/``,
  derived by ``scripts/make_photo_demo.py``. A long tail of 24 coins against one cup, one rocket and
  one person.
* :func:`scenes_demo` — GENERATED scenes (:func:`lt_core.data.scenes.make_scenes`, LVIS style, known
  masks), written once per (size, seed) into a cache folder, deterministically.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

__all__ = ["photo_demo", "scenes_demo", "DEMOS", "PHOTO_ATTRIBUTION"]

ASSETS = Path(__file__).resolve().parents[1] / "assets"
PHOTO_ATTRIBUTION = ("Photographs from scikit-image's sample data (coins: Brooklyn Museum, no known copyright "
                     "restrictions; coffee: Rachel Michetti, CC0; rocket: SpaceX, public domain; camera: Lav "
                     "Varshney, CC0; grass, gravel, brick: CC0 textures). Masks derived by segmentation "
                     "(scripts/make_photo_demo.py).")
DEMOS = {
    "photos": "real photos (scikit-image samples), segmentation-derived masks",
    "scenes": "generated scenes (LVIS style, known masks)",
}


def photo_demo() -> tuple[Path, Path]:
    """(annotations.json, image folder) of the shipped real-photo demo."""
    root = ASSETS / "photo_demo"
    return root / "annotations.json", root / "images"


def scenes_demo(n_images: int = 48, seed: int = 0, folder=None) -> tuple[Path, Path]:
    """(annotations.json, image folder) of the generated-scenes demo, made on first use (about 2 s).

    ``folder`` defaults to ``<tmp>/tailscope/scenes_v1_<n>_<seed>``; an existing complete copy is reused.
    """
    from ..data.scenes import make_scenes

    out = Path(folder) if folder is not None else (Path(tempfile.gettempdir()) / "tailscope"
                                                   / f"scenes_v1_{int(n_images)}_{int(seed)}")
    gt = out / "annotations.json"
    if not gt.is_file():
        make_scenes(out, n_images, height=384, width=512, n_classes=10, alpha=1.1, objects_per_image=(1, 5),
                    seed=seed, lvis=True, tail_class_images=2)
    return gt, out / "images"
