"""``python -m lt_core augment copy-paste ...``: a copy-paste augmented copy of a COCO / LVIS dataset."""
from __future__ import annotations

import argparse
import os
import sys

from ..errors import InputError

NAME = "augment"
HELP = "tail-aware copy-paste (and photometric augmentation) of a COCO / LVIS dataset, written as a new dataset"
DESCRIPTION = """Fix the data for detectors: paste objects of under-represented classes onto other training images.

  copy-paste  per-class targets from repeat factors (rfs:T, Gupta et al. 2019), effective-number weights
              (effective-number:BETA, Cui et al. 2019) or a counts / weights file; instances drawn from the
              class's annotations (masks, or box crops with --box-only); random scale, flip and position;
              the target's GT loses the covered area (fully hidden objects dropped); feathered or Poisson
              edges; optional colour jitter / mosaic / mixup on images holding tail classes.
              -> OUT/images/, OUT/annotations.json (COCO / LVIS), OUT/manifest.json (every paste: source
                 annotation, source and target image, transform, blend, seed), OUT/distribution.csv

Examples
  python -m lt_core augment copy-paste --gt lvis_v1_train.json --images coco/ --target rfs:0.001 --out aug/ --seed 0
  python -m lt_core augment copy-paste --gt train.json --images images/ --target effective-number:0.999 \\
      --out aug/ --box-only --workers 2
  python -m lt_core augment copy-paste --gt train.json --images images/ --target counts.csv --out aug/ \\
      --blend poisson --jitter 0.3 --mosaic 0.5
The same command and seed give byte-identical files for any --workers. Bad input exits 2."""


def _pair(text: str, name: str) -> tuple[float, float]:
    try:
        parts = [float(v) for v in text.replace(" ", "").split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name} must be two numbers LO,HI, got '{text}'") from None
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"{name} must be two numbers LO,HI, got '{text}'")
    return parts[0], parts[1]


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..augment.paste import BLENDS

    sub = p.add_subparsers(dest="augment_command", metavar="{copy-paste}")
    sub.required = True
    c = sub.add_parser("copy-paste", help="paste tail objects onto other images, write a new COCO / LVIS dataset",
                       formatter_class=argparse.RawDescriptionHelpFormatter, description=DESCRIPTION)
    c.add_argument("--gt", required=True, metavar="GT.json", help="COCO / LVIS training ground truth (.json[.gz])")
    c.add_argument("--images", required=True, metavar="DIR",
                   help="image root: COCO file_name paths (or LVIS v1 coco_url split/name) are relative to it")
    c.add_argument("--target", required=True, metavar="SPEC",
                   help="rfs:T (add round((r(c) - 1) x instances), r(c) = max(1, sqrt(T / f(c)))), "
                        "effective-number:BETA (add round(n (E(n_max) / E(n) - 1))), or a file: a `rebalance "
                        "weights` / `rebalance rfs` export, or a CSV category_id,add | category_id,target")
    c.add_argument("--out", required=True, metavar="OUT_DIR",
                   help="output folder (new, empty, or an earlier Tailscope output): images/, annotations.json, "
                        "manifest.json, distribution.csv")
    c.add_argument("--seed", type=int, default=0, help="seed of the plan and of every image's draws (default 0)")
    c.add_argument("--box-only", action="store_true",
                   help="paste box crops (rectangles) even where masks exist; box-only GT boxes hidden beyond "
                        "--box-drop-fraction are dropped")
    c.add_argument("--blend", choices=BLENDS, default="feather",
                   help="edge smoothing: feather (alpha from a Gaussian-blurred mask, Ghiasi et al. 2021; "
                        "default), poisson (OpenCV seamlessClone, Pérez et al. 2003), none")
    c.add_argument("--feather-sigma", type=float, default=None,
                   help="sigma of the feathered edge in pixels (default: 1%% of the object's size, 0.75-3 px)")
    c.add_argument("--max-pastes-per-image", type=int, default=3, help="at most this many pastes per image (3)")
    c.add_argument("--scale-range", type=lambda s: _pair(s, "--scale-range"), default=(0.5, 2.0), metavar="LO,HI",
                   help="log-uniform factor on the object's relative size (default 0.5,2.0)")
    c.add_argument("--size-limits", type=lambda s: _pair(s, "--size-limits"), default=(0.05, 0.6),
                   metavar="LO,HI", help="pasted object's longer side over the target's shorter side "
                                         "(default 0.05,0.6)")
    c.add_argument("--flip", type=float, default=0.5, metavar="P", help="left-right flip probability (0.5)")
    c.add_argument("--min-source-area", type=float, default=64.0,
                   help="never copy instances smaller than this many pixels (64)")
    c.add_argument("--box-drop-fraction", type=float, default=0.7,
                   help="box-only GT: drop a box covered by more than this fraction (0.7)")
    c.add_argument("--jitter", type=float, default=0.0, metavar="J",
                   help="photometric: brightness / contrast / saturation factors in [1-J, 1+J] on images holding "
                        "tail classes (default 0: off)")
    c.add_argument("--mosaic", type=float, default=0.0, metavar="P",
                   help="photometric: probability an image holding tail classes also yields a 2x2 mosaic "
                        "(a new image; default 0)")
    c.add_argument("--mixup", type=float, default=0.0, metavar="P",
                   help="photometric: probability an image holding tail classes also yields a mixup with another "
                        "image (a new image; default 0)")
    c.add_argument("--bins", default="lvis",
                   help="bin scheme by train images whose last bin is the tail (photometric options, per-bin "
                        "table); default lvis (rare 1-10)")
    c.add_argument("--keep-originals", action="store_true",
                   help="keep every original image and add each changed image as a new one (default: replace)")
    c.add_argument("--jpeg-quality", type=int, default=95, help="quality of re-encoded JPEG images (95)")
    c.add_argument("--unchanged", choices=("copy", "hardlink"), default="copy",
                   help="images without a paste: copied (default) or hard-linked (shares the file with the input)")
    c.add_argument("--workers", type=int, default=None,
                   help="processes for the per-image work (default: the CPU count, at most 8); the output is the "
                        "same for any number")


def _target_file(args) -> str | None:
    """The --target file (None for rfs:T / effective-number:B), the spec checked before any work: a bad
    target is reported first, not after the ground truth was read."""
    from ..augment.targets import parse_target_spec

    kind, value = parse_target_spec(args.target)
    return str(value) if kind == "file" else None


def run(args) -> int:
    from ..augment import CopyPasteConfig, copy_paste

    workers = args.workers if args.workers is not None else min(8, os.cpu_count() or 1)
    if workers < 1:
        raise InputError(f"--workers must be >= 1, got {workers}", field="--workers")
    cfg = CopyPasteConfig(target=args.target, seed=args.seed, box_only=args.box_only, blend=args.blend,
                          feather_sigma=args.feather_sigma, max_pastes_per_image=args.max_pastes_per_image,
                          scale_range=tuple(args.scale_range), size_limits=tuple(args.size_limits), flip_p=args.flip,
                          min_source_area=args.min_source_area, box_drop_fraction=args.box_drop_fraction,
                          jitter=args.jitter, mosaic=args.mosaic, mixup=args.mixup, bins=args.bins,
                          keep_originals=args.keep_originals, jpeg_quality=args.jpeg_quality, unchanged=args.unchanged)
    last = [0.0]

    def progress(done: int, total: int, msg: str) -> None:
        import time

        now = time.time()
        if sys.stderr.isatty() and (now - last[0] > 0.5 or done == total):
            last[0] = now
            print(f"\r{msg}\033[K", end="" if done < total else "\n", file=sys.stderr, flush=True)

    rep = copy_paste(args.gt, args.images, args.out, cfg, workers=workers, progress=progress)
    for note in rep.notes:
        print(f"note: {note}", file=sys.stderr)
    pb = rep.per_bin
    print(rep.summary())
    print("instances per bin (before -> after): " + ", ".join(
        f"{r.bin} {int(r.instances_before):,} -> {int(r.instances_after):,}" for r in pb.itertuples()))
    return 0


def io_paths(args):
    from ..augment.pipeline import OUTPUT_NAMES
    from ..io import IOPaths

    return IOPaths(inputs={"--gt": args.gt, "--images": args.images, "--target": _target_file(args)},
                   output_dirs={"--out": (args.out, OUTPUT_NAMES)})
