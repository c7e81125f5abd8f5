"""``python -m lt_core eval-det``: COCO / LVIS detection AP, equal to pycocotools / lvis-api."""
from __future__ import annotations

import sys
import time

from ..errors import InputError
from .argtypes import int_in

NAME = "eval-det"
HELP = "evaluate COCO / LVIS detections: AP, AP50, AP75, APs/m/l, APr/c/f and per-class AP"
DESCRIPTION = """Evaluate detection results against COCO or LVIS ground truth.

The numbers equal pycocotools COCOeval (--style coco) and lvis-api LVISEval (--style lvis):
IoU 0.50:0.05:0.95, 101-point interpolated precision, area ranges from the ground-truth
'area'; lvis: federated evaluation (neg_category_ids / not_exhaustive_category_ids) and at most
--max-dets (300) detections per image; coco: crowd boxes and maxDets 1/10/--max-dets (100)
per image and category.

Prints the headline table; with --out writes JSON with keys AP, AP50, AP75, APs, APm, APl
(APr, APc, APf when categories carry 'frequency') and per_class: a list of
{category_id, name, frequency, image_count, instance_count, AP} (AP -1 where the class has no
ground truth, as the references do).

example:
  python -m lt_core eval-det --gt lvis_v1_val.json --dt results.json --out report.json"""


def add_arguments(p) -> None:
    p.add_argument("--gt", required=True, metavar="GT.json", help="COCO / LVIS ground truth (.json or .json.gz)")
    p.add_argument("--dt", required=True, metavar="RESULTS.json",
                   help="COCO results: a list of {image_id, category_id, bbox, score} (+ RLE segmentation for segm)")
    p.add_argument("--iou-type", choices=["bbox", "segm"], default="bbox",
                   help="bbox (default) or segm (masks: RLE in the results, polygons / RLE in the ground truth)")
    p.add_argument("--style", choices=["lvis", "coco"], default=None,
                   help="protocol: lvis (LVISEval, Gupta et al. 2019) or coco (COCOeval, Lin et al. 2014); "
                        "default lvis when the ground truth has LVIS fields, else coco")
    p.add_argument("--max-dets", type=int_in(1, 1_000_000), default=None, metavar="N",
                   help="lvis: detections per image (default 300); coco: the last maxDets (default 100)")
    p.add_argument("--out", metavar="report.json", help="write the JSON report here (atomically)")


def _fmt(v: float) -> str:
    return "  n/a" if v is None or v < 0 else f"{100 * v:5.1f}"


def run(args) -> int:
    from ..data.loaders import load_detection_gt
    from ..detection import default_style, evaluate_detections
    from ..detection.fastjson import load_results_fast
    from ..io import write_json

    t0 = time.perf_counter()
    gt = load_detection_gt(args.gt)
    style = args.style or default_style(gt)
    if style == "lvis" and gt.neg_category_ids is None:
        raise InputError("--style lvis needs LVIS ground truth (images with 'neg_category_ids')", args.gt,
                         "images.neg_category_ids", hint="use --style coco")
    if args.iou_type == "segm" and not gt.has_segmentation:
        raise InputError("--iou-type segm needs 'segmentation' in the ground-truth annotations", args.gt,
                         "annotations.segmentation", hint="use --iou-type bbox")
    res = load_results_fast(args.dt, gt)
    if args.iou_type == "segm" and res.segmentation is None:
        raise InputError("--iou-type segm needs RLE 'segmentation' in every detection", args.dt, "segmentation",
                         hint="use --iou-type bbox")
    ev = evaluate_detections(gt, res, iou_type=args.iou_type, style=style, max_dets=args.max_dets)
    dt_s = time.perf_counter() - t0
    p = ev.params
    md = p.headline_dets
    print(f"{args.dt}: {len(res):,} detections on {gt.n_images:,} images, {gt.categories.n_classes:,} categories")
    print(f"style {style}, iou {args.iou_type}, max detections {md} per "
          f"{'image' if style == 'lvis' else 'image and category'}  ({dt_s:.1f} s)")
    for note in ev.notes:
        print(f"note: {note}")
    labels = {"AP": "IoU=0.50:0.95 all", "AP50": "IoU=0.50", "AP75": "IoU=0.75", "APs": "small",
              "APm": "medium", "APl": "large", "APr": "rare", "APc": "common", "APf": "frequent"}
    print(f"{'metric':7s} {'AP x100':>7s}  what")
    for k, v in ev.headline.items():
        print(f"{k:7s} {_fmt(v):>7s}  {labels.get(k, '')}")
    pc = ev.per_class
    have = pc[pc["AP"] >= 0]
    print(f"per-class AP: {len(have):,} of {len(pc):,} categories have ground truth; "
          f"{int((have['AP'] == 0).sum()):,} of them at 0.0")
    if args.out:
        write_json(args.out, ev.to_json())
        print(f"wrote {args.out}")
    sys.stdout.flush()
    return 0


def io_paths(args):
    from ..io import IOPaths

    return IOPaths(inputs={"--gt": args.gt, "--dt": args.dt}, outputs={"--out": args.out})
