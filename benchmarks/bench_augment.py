"""Copy-paste throughput: images written per second at 640 px, with masks and box-only.

Claim: :func:`lt_core.augment.copy_paste` writes a copy-paste augmented dataset faster than a plain
loop of the same operations in OpenCV / Pillow / pycocotools (the way copy-paste scripts usually do
it: whole-frame alpha, every mask of the target decoded and re-encoded, every source image read
again), and uses every core.

Both do the same work on the same data: generated 480 x 640 JPEG scenes with known masks (about 3
objects each), the same plan (``effective-number:0.999`` targets, at most 3 pastes per image, the
same source instance per paste), feathered edges (Gaussian sigma 1.5 px), random scale / flip /
position, occlusion update of the target's masks (or boxes), JPEG quality 95; unchanged images are
copied. The plain loop runs in one process; Tailscope runs with 1 worker and with all cores.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_augment.py                 # 200 images, masks and box-only
    .venv/bin/python benchmarks/bench_augment.py --images 500 --repeat 3
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def plain_loop(prep, out: Path, seed: int, sigma: float = 1.5, box_only: bool = False) -> int:
    """The same operations, written the plain way (whole frames, no caching, one process)."""
    import cv2
    from PIL import Image
    from pycocotools import mask as mu

    from lt_core.images import resolve_gt_images

    gt = prep.gt
    raw = gt.raw
    idx = resolve_gt_images(gt, prep.index.root)
    (out / "images").mkdir(parents=True)
    rng = np.random.default_rng(seed)
    anns_by_img = {}
    for a in raw["annotations"]:
        anns_by_img.setdefault(a["image_id"], []).append(a)

    def to_mask(a, h, w):
        if box_only or not a.get("segmentation"):
            m = np.zeros((h, w), np.uint8)
            x, y, bw, bh = (int(round(v)) for v in a["bbox"])
            m[y:y + bh, x:x + bw] = 1
            return m
        seg = a["segmentation"]
        rle = dict(seg, counts=seg["counts"].encode()) if isinstance(seg["counts"], str) else seg
        return mu.decode(rle)

    new_anns = []
    for pos, rec in enumerate(raw["images"]):
        rows = prep.plan.per_image[pos]
        dst = out / "images" / idx.relpaths[pos]
        if not len(rows):
            shutil.copyfile(idx.paths[pos], dst)
            new_anns.extend(anns_by_img.get(rec["id"], []))
            continue
        img = np.asarray(Image.open(idx.paths[pos]).convert("RGB")).astype(np.float32)
        H, W = img.shape[:2]
        masks = [(a, to_mask(a, H, W)) for a in anns_by_img.get(rec["id"], [])]
        for r in rows.tolist():
            a = raw["annotations"][r]
            sp = idx.position(a["image_id"])
            src = np.asarray(Image.open(idx.paths[sp]).convert("RGB"))
            sm = to_mask(a, src.shape[0], src.shape[1])
            ys, xs = np.nonzero(sm)
            x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
            crop, cm = src[y0:y1, x0:x1], sm[y0:y1, x0:x1].astype(np.float32)
            s = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
            nw, nh = max(1, min(W, int(round((x1 - x0) * s)))), max(1, min(H, int(round((y1 - y0) * s))))
            crop = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_LINEAR)
            cm = cv2.resize(cm, (nw, nh), interpolation=cv2.INTER_LINEAR) >= 0.5
            if rng.random() < 0.5:
                crop, cm = crop[:, ::-1], cm[:, ::-1]
            ox, oy = int(rng.integers(0, W - nw + 1)), int(rng.integers(0, H - nh + 1))
            full_src = np.zeros_like(img)
            full_src[oy:oy + nh, ox:ox + nw] = crop
            pm = np.zeros((H, W), np.uint8)
            pm[oy:oy + nh, ox:ox + nw] = cm if not box_only else 1
            alpha = cv2.GaussianBlur(pm.astype(np.float32), (0, 0), sigma)[..., None]
            img = full_src * alpha + img * (1 - alpha)
            masks = [(b, m & (1 - pm)) for b, m in masks]
            masks.append(({"category_id": a["category_id"], "image_id": rec["id"]}, pm))
        for b, m in masks:
            if m.any():
                e = mu.encode(np.asfortranarray(m))
                new_anns.append({**b, "segmentation": {"size": e["size"], "counts": e["counts"].decode()},
                                 "bbox": mu.toBbox(e).tolist(), "area": float(mu.area(e))})
        Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8)).save(dst, quality=95)
    return len(raw["images"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=1, help="best of N runs (shared machines)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)

    from lt_core.augment import CopyPasteConfig, copy_paste, prepare_copy_paste
    from lt_core.data.scenes import make_scenes

    tmp = Path(tempfile.mkdtemp(prefix="bench_augment_"))
    print(f"{args.images} generated 480 x 640 JPEG scenes, {os.cpu_count()} CPUs; best of {args.repeat}")
    rows = []
    try:
        for mode in ("masks", "box-only"):
            gt = make_scenes(tmp / f"data_{mode}", args.images, height=480, width=640, n_classes=10, alpha=1.2,
                             objects_per_image=(2, 4), seed=0, masks=mode == "masks", fmt="jpeg")
            root = gt.parent / "images"
            cfg = CopyPasteConfig(target="effective-number:0.999", seed=0, max_pastes_per_image=3,
                                  feather_sigma=1.5, bins="quantile:3", box_only=mode == "box-only")
            prep = prepare_copy_paste(gt, root, cfg)
            n_changed = sum(1 for p in prep.plan.per_image if len(p))
            times = {}
            for name, fn in (
                    ("plain loop (OpenCV / Pillow, 1 process)",
                     lambda o: plain_loop(prep, o, 0, 1.5, mode == "box-only")),
                    ("Tailscope, 1 worker", lambda o: copy_paste(gt, root, o, cfg, workers=1, prepared=prep)),
                    (f"Tailscope, {args.workers} workers",
                     lambda o: copy_paste(gt, root, o, cfg, workers=args.workers, prepared=prep))):
                best = float("inf")
                for k in range(args.repeat):
                    o = tmp / f"out_{mode}_{len(times)}_{k}"
                    t0 = time.perf_counter()
                    fn(o)
                    best = min(best, time.perf_counter() - t0)
                    shutil.rmtree(o, ignore_errors=True)
                times[name] = best
            base = next(iter(times.values()))
            for name, t in times.items():
                rows.append((mode, name, args.images / t, n_changed / t, base / t))
            print(f"  {mode}: {prep.plan.n_pastes:,} pastes on {n_changed:,} of {args.images:,} images")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n| data | implementation | images written / s | pasted images / s | vs plain loop |")
    print("|---|---|---:|---:|---:|")
    for mode, name, ips, cps, ratio in rows:
        print(f"| {mode} | {name} | {ips:,.1f} | {cps:,.1f} | {ratio:,.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
