"""LVIS-like benchmark files at LVIS v1 val scale, written in a streaming way.

Wraps ``lt_core.data.make_lvis_like`` (real LVIS v1 category profile, seeded) in chunks of
images so that 19,809 images x 300 detections never sit in memory as Python dicts: chunk ``c``
uses seed ``seed * 100_003 + c`` and image / annotation ids are renumbered to stay unique.

    python benchmarks/det_synth.py --images 2000 --dets 300 --seed 0 --out /tmp/det_bench
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lt_core.data import make_lvis_like  # noqa: E402


def write_lvis_like(out_dir: str | Path, n_images: int, dets_per_image: int = 300, seed: int = 0,
                    chunk: int = 500) -> tuple[Path, Path]:
    """Write ``gt.json`` (LVIS style) and ``dets.json`` (COCO results) under ``out_dir``.

    Returns the two paths. Same arguments, same bytes.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gt_path, dt_path = out / "gt.json", out / "dets.json"
    images, anns, cats = [], [], None
    img_off = ann_off = 0
    first = True
    with open(dt_path, "wb") as fh:
        fh.write(b"[")
        for c, lo in enumerate(range(0, n_images, chunk)):
            n = min(chunk, n_images - lo)
            gt, dets = make_lvis_like(n_images=n, seed=seed * 100_003 + c, dets_per_image=dets_per_image)
            for im in gt["images"]:
                im["id"] += img_off
                im["file_name"] = f"generated_{im['id']:06d}.jpg"
            for a in gt["annotations"]:
                a["id"] += ann_off
                a["image_id"] += img_off
                a.pop("segmentation", None)  # boxes only: keeps the GT small (bbox benchmark)
            for d in dets:
                d["image_id"] += img_off
            images += gt["images"]
            anns += gt["annotations"]
            cats = gt["categories"]
            body = orjson.dumps(dets)[1:-1]
            if body:
                if not first:
                    fh.write(b",")
                fh.write(body)
                first = False
            img_off += n
            ann_off += len(gt["annotations"])
        fh.write(b"]")
    gt_path.write_bytes(orjson.dumps({"info": {"description": f"GENERATED LVIS-like benchmark data (seed {seed}); "
                                                              "real LVIS v1 category profile"},
                                      "images": images, "annotations": anns, "categories": cats, "licenses": []}))
    return gt_path, dt_path


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--dets", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="/tmp/det_bench")
    a = ap.parse_args()
    g, d = write_lvis_like(a.out, a.images, a.dets, a.seed)
    print(g, g.stat().st_size, d, d.stat().st_size)
