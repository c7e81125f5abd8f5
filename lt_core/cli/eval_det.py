"""``python -m lt_core eval-det``: COCO / LVIS detection AP and AR, equal to pycocotools / lvis-api,
with image-bootstrap confidence intervals, a paired comparison and the TIDE error breakdown."""
from __future__ import annotations

import sys
import time

from ..errors import InputError
from .argtypes import SEED, int_in

NAME = "eval-det"
HELP = "evaluate COCO / LVIS detections: AP, AP50, AP75, APs/m/l, APr/c/f, AR and per-class AP"
DESCRIPTION = """Evaluate detection results against COCO or LVIS ground truth.

The numbers equal pycocotools COCOeval (--style coco) and lvis-api LVISEval (--style lvis):
IoU 0.50:0.05:0.95, 101-point interpolated precision, area ranges from the ground-truth
'area'; lvis: federated evaluation (neg_category_ids / not_exhaustive_category_ids) and at most
--max-dets (300) detections per image; coco: crowd boxes and maxDets 1/10/--max-dets (100)
per image and category.

Prints the headline table; with --out writes JSON with keys AP, AP50, AP75, APs, APm, APl
(APr, APc, APf when categories carry 'frequency'), the recall summary (coco: AR1, AR10, AR100,
ARs, ARm, ARl; lvis: AR@300, ARs@300, ARm@300, ARl@300; 100 / 300 = --max-dets) and per_class:
a list of {category_id, name, frequency, image_count, instance_count, AP} (AP -1 where the class
has no ground truth, as the references do).

--bootstrap N --seed S adds 'ci' = {metric: [low, high]} (95 %, image bootstrap from the
per-image match tables; metrics AP, AP50, APr / APc / APf, AP[bin] per --bins bin) and
'ci_per_class'. --compare OTHER.json evaluates a second results file on the same ground truth
and adds 'compare' = {metric: {delta, low, high}} (this file minus OTHER, paired bootstrap) and
'compare_per_class' (classes with ground truth on at least 5 images). --tide adds 'tide' (the
TIDE error breakdown, tidecv semantics, overall and per bin). --frequencies FILE takes the train
frequencies (a train GT JSON, an LVIS category file or a counts CSV) for the bins.

--examples N (with --out) also writes the N worst boxes of every category next to the report
(report.json -> report_examples.json and report_examples.csv), from the TIDE outcome table (IoU
0.5; --tide's thresholds): its highest-scoring false positives (outcome duplicate, wrong_class,
localization, both or background) then its missed ground truth (every box no detection of its
class matched; tide_miss: TIDE counts it as Miss). JSON: {style, bins, n_per_class, order,
per_class: [{category_id, name, bin, image_count, tp, fp, missed, examples: [{rank, image_id,
det_index, ann_id, true_category_id, true_category, score, iou, outcome, tide_miss, bbox,
ann_bbox}]}]}; det_index is the position of the detection in the results file (-1: a missed
box), ann_id the ground truth it is about (-1: none), bbox / ann_bbox [x, y, w, h]. CSV: one row
per example (rank, class_tp, class_fp, class_missed, image_id, det_index, ann_id, category_id,
category, bin, true_category_id, true_category, true_bin, score, iou, outcome, tide_miss, x, y,
w, h, ann_x, ann_y, ann_w, ann_h).

examples:
  python -m lt_core eval-det --gt lvis_v1_val.json --dt results.json --out report.json
  python -m lt_core eval-det --gt lvis_v1_val.json --dt new.json --compare old.json --bootstrap 1000 --seed 0 --out r.json"""


def add_arguments(p) -> None:
    p.add_argument("--gt", required=True, metavar="GT.json", help="COCO / LVIS ground truth (.json or .json.gz)")
    p.add_argument("--dt", required=True, metavar="RESULTS.json",
                   help="COCO results: a list of {image_id, category_id, bbox, score} (+ RLE segmentation for segm); "
                        "with --dask also a folder written by 'convert detections'")
    p.add_argument("--iou-type", choices=["bbox", "segm"], default="bbox",
                   help="bbox (default) or segm (masks: RLE in the results, polygons / RLE in the ground truth)")
    p.add_argument("--style", choices=["lvis", "coco"], default=None,
                   help="protocol: lvis (LVISEval, Gupta et al. 2019) or coco (COCOeval, Lin et al. 2014); "
                        "default lvis when the ground truth has LVIS fields, else coco")
    p.add_argument("--max-dets", type=int_in(1, 1_000_000), default=None, metavar="N",
                   help="lvis: detections per image (default 300); coco: the last maxDets (default 100)")
    p.add_argument("--bootstrap", type=int_in(1, 1_000_000), default=None, metavar="N",
                   help="image-bootstrap replicates for 95 %% confidence intervals (e.g. 1000)")
    p.add_argument("--seed", type=SEED, default=0, metavar="S", help="seed of the bootstrap draws (default 0)")
    p.add_argument("--compare", metavar="OTHER.json", default=None,
                   help="a second results file on the same ground truth: paired bootstrap of this file minus it")
    p.add_argument("--bins", default="lvis", metavar="SCHEME",
                   help="frequency bins of the AP[bin] intervals: lvis (default), imagenet-lt, quantile:K, custom:A,B")
    p.add_argument("--frequencies", metavar="FILE", default=None,
                   help="train frequencies: a train GT JSON, an LVIS category file or a counts CSV (class_id,count)")
    p.add_argument("--tide", action="store_true",
                   help="add the TIDE error breakdown (Bolya et al. 2020; tidecv semantics) overall and per bin")
    p.add_argument("--out", metavar="report.json", help="write the JSON report here (atomically)")
    p.add_argument("--examples", type=int_in(1, 100_000), default=None, metavar="N",
                   help="also write the N worst boxes of every category (false positives by score, then missed "
                        "boxes) next to --out: OUT_examples.json and OUT_examples.csv")
    from .dask_run import add_dask_argument

    add_dask_argument(p)


def _fmt(v: float) -> str:
    return "  n/a" if v is None or v != v or v < 0 else f"{100 * v:5.1f}"


_LABELS = {"AP": "IoU=0.50:0.95 all", "AP50": "IoU=0.50", "AP75": "IoU=0.75", "APs": "small", "APm": "medium",
           "APl": "large", "APr": "rare", "APc": "common", "APf": "frequent", "ARs": "recall, small",
           "ARm": "recall, medium", "ARl": "recall, large"}


def _check_args(args) -> None:
    if args.max_dets is not None and args.max_dets < 1:
        raise InputError(f"must be a positive integer, got {args.max_dets}", "command line", "--max-dets")
    if args.bootstrap is not None and not 1 <= args.bootstrap <= 1_000_000:
        raise InputError(f"must be an integer in [1, 1000000], got {args.bootstrap}", "command line", "--bootstrap")
    if not 0 <= args.seed < 2 ** 32:
        raise InputError(f"must be an integer in [0, 2^32), got {args.seed}", "command line", "--seed")
    from ..bins import parse_bins
    try:
        parse_bins(args.bins)
    except (InputError, ValueError) as e:
        raise InputError(str(e), "command line", "--bins")


def run(args) -> int:
    import gc

    # the large data are NumPy arrays: the cyclic garbage collector would only walk the objects of
    # the imports and of the JSON report again and again (0.1-0.3 s); on again when done (in-process
    # callers, tests)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(args)
    finally:
        if was_enabled:
            gc.enable()


def _run(args) -> int:
    from ..data.loaders import load_detection_gt
    from ..detection.evaluator import default_style, evaluate_detections
    from ..detection.fastjson import load_gt_fast, load_results_fast
    from ..io import write_json

    _check_args(args)
    if args.examples is not None and not args.out:
        raise InputError("--examples writes its files next to --out: give --out report.json too", field="--examples")
    if args.examples is not None and getattr(args, "dask", None):
        raise InputError("--examples classifies every box in this process: run it without --dask", field="--examples",
                         hint="the report is the same; the examples need the detections here")
    from ..memory import no_hugepage_madvise
    no_hugepage_madvise()
    t0 = time.perf_counter()
    # boxes: the compiled reader (no Python objects of the JSON); masks need the parsed JSON
    gt = load_gt_fast(args.gt) if args.iou_type == "bbox" else load_detection_gt(args.gt)
    if args.frequencies:
        from ..detection.frequencies import with_train_frequencies
        gt, notes = with_train_frequencies(gt, args.frequencies)
        for note in notes:
            print(f"note: {note}")
    style = args.style or default_style(gt)
    if style == "lvis" and gt.neg_category_ids is None:
        raise InputError("--style lvis needs LVIS ground truth (images with 'neg_category_ids')", args.gt,
                         "images.neg_category_ids", hint="use --style coco")
    if args.iou_type == "segm" and not gt.has_segmentation:
        raise InputError("--iou-type segm needs 'segmentation' in the ground-truth annotations", args.gt,
                         "annotations.segmentation", hint="use --iou-type bbox")
    on_dask = None
    if getattr(args, "dask", None):  # matched, accumulated and bootstrapped on a Dask cluster (same numbers)
        from .dask_run import eval_det

        res, ev, ev_other, on_dask = eval_det(args, gt, style)
        other = ev_other
    else:
        res = load_results_fast(args.dt, gt)
        if args.iou_type == "segm" and res.segmentation is None:
            raise InputError("--iou-type segm needs RLE 'segmentation' in every detection", args.dt, "segmentation",
                             hint="use --iou-type bbox")
        other = None
        if args.compare:
            other = load_results_fast(args.compare, gt)
            if args.iou_type == "segm" and other.segmentation is None:
                raise InputError("--iou-type segm needs RLE 'segmentation' in every detection", args.compare,
                                 "segmentation", hint="use --iou-type bbox")
        ev = evaluate_detections(gt, res, iou_type=args.iou_type, style=style, max_dets=args.max_dets)
        ev_other = evaluate_detections(gt, other, iou_type=args.iou_type, style=style, max_dets=args.max_dets) \
            if other is not None else None
    dt_s = time.perf_counter() - t0
    p = ev.params
    md = p.headline_dets
    print(f"{args.dt}: {len(res):,} detections on {gt.n_images:,} images, {gt.categories.n_classes:,} categories")
    print(f"style {style}, iou {args.iou_type}, max detections {md} per "
          f"{'image' if style == 'lvis' else 'image and category'}  ({dt_s:.1f} s)")
    print(f"class counts: {gt.categories.count_source or 'unknown'}")
    for note in ev.notes:
        print(f"note: {note}")
    report = ev.to_json()
    boot = cmp = None
    n_boot = args.bootstrap if args.bootstrap is not None else (1000 if other is not None else None)
    if n_boot:
        from ..detection.bootstrap import bootstrap_ci
        t1 = time.perf_counter()
        boot = on_dask.boot if on_dask else bootstrap_ci(ev, n_boot=n_boot, seed=args.seed, scheme=args.bins)
        report["ci"] = boot.to_json()
        report["ci_level"] = boot.level
        report["bootstrap"] = {"n": n_boot, "seed": args.seed, "unit": "image"}
        report["ci_per_class"] = _records(boot.per_class)
        print(f"bootstrap: {n_boot:,} image resamples, seed {args.seed} ({time.perf_counter() - t1:.1f} s)")
    if ev_other is not None:
        from ..detection.bootstrap import paired_bootstrap
        cmp = on_dask.paired if on_dask else paired_bootstrap(ev, ev_other, n_boot=n_boot, seed=args.seed,
                                                              scheme=args.bins)
        report["compare"] = cmp.to_json(paired=True)
        report["compare_file"] = str(args.compare)
        report["compare_per_class"] = _records(cmp.per_class)
    print(f"{'metric':8s} {'x100':>6s}  {'95% CI':>13s}  what")
    ci = report.get("ci", {})
    for k, v in ev.headline.items():
        c = ci.get(k)
        cs = f"[{_fmt(c[0])}, {_fmt(c[1])}]" if c and c[0] is not None else ""
        print(f"{k:8s} {_fmt(v):>6s}  {cs:>13s}  {_LABELS.get(k, _LABELS.get(k.split('@')[0], 'recall' if k.startswith('AR') else ''))}")
    for k, (lo, hi) in (boot.ci.items() if boot else []):
        if k.startswith("AP["):
            print(f"{k:16s} {_fmt(boot.estimate[k]):>6s}  [{_fmt(lo)}, {_fmt(hi)}]")
    if cmp is not None:
        print(f"compare: {args.dt} minus {args.compare} (paired, {n_boot:,} resamples)")
        for k, d in report["compare"].items():
            dd = d["delta"]
            print(f"  d{k:14s} {'n/a' if dd is None else f'{100 * dd:+6.1f}'}  "
                  f"[{_fmt_signed(d['low'])}, {_fmt_signed(d['high'])}]")
    td = None
    if args.tide:
        from ..detection.tide import tide_errors
        td = tide_errors(gt, res, style=style, scheme=args.bins)
        report["tide"] = td.to_json()
        print(f"TIDE (tidecv, IoU {td.params['pos_thr']}): AP {td.ap:.1f}; dAP " +
              ", ".join(f"{k} {v:.1f}" for k, v in td.main.items()))
    aps = ev.columns["AP"]
    have = aps >= 0
    print(f"per-class AP: {int(have.sum()):,} of {len(aps):,} categories have ground truth; "
          f"{int((aps[have] == 0).sum()):,} of them at 0.0")
    if args.out:
        write_json(args.out, report)
        print(f"wrote {args.out}")
    if args.examples is not None:
        _write_examples(args, gt, res, style, td)
    sys.stdout.flush()
    return 0


def _write_examples(args, gt, res, style: str, td) -> None:
    """``--examples N``: the N worst boxes per category, JSON and CSV next to --out."""
    import numpy as np

    from ..examples import DETECTION_ORDER, FP_KINDS, box_table, worst_boxes_per_class
    from ..examples.detection import _bins_of
    from ..io import write_csv, write_json
    from ._examples import examples_paths

    if td is not None:  # --tide: the outcomes at its thresholds
        table = box_table(gt, res, args.bins, outcomes=td.outcomes)
    else:
        table = box_table(gt, res, args.bins, style=style)
    worst = worst_boxes_per_class(table, gt.categories, args.examples)
    jpath, cpath = examples_paths(args.out)
    cls = gt.categories
    bins = _bins_of(cls, args.bins)
    o = table["outcome"].to_numpy(dtype=object)
    ci = cls.index_of(table["category_id"].to_numpy(np.int64)) if len(table) else np.zeros(0, np.int64)
    n_tp = np.bincount(ci[o == "tp"], minlength=cls.n_classes)
    n_fp = np.bincount(ci[np.isin(o, FP_KINDS)], minlength=cls.n_classes)
    n_miss = np.bincount(ci[o == "missed"], minlength=cls.n_classes)
    groups = {int(k): g for k, g in worst.groupby("category_id", sort=False)} if len(worst) else {}

    def num(v):
        return None if v is None or v != v else float(v)

    per_class = []
    for k in range(cls.n_classes):
        g = groups.get(int(cls.ids[k]))
        ex = [] if g is None else [{
            "rank": int(r.rank), "image_id": int(r.image_id), "det_index": int(r.det_index), "ann_id": int(r.ann_id),
            "true_category_id": int(r.true_category_id), "true_category": r.true_category
            if isinstance(r.true_category, str) else None, "score": num(r.score), "iou": num(r.iou),
            "outcome": str(r.outcome), "tide_miss": bool(r.tide_miss), "bbox": [num(r.x), num(r.y), num(r.w), num(r.h)],
            "ann_bbox": None if r.ann_id < 0 else [num(r.ann_x), num(r.ann_y), num(r.ann_w), num(r.ann_h)]}
            for r in g.itertuples(index=False)]
        per_class.append({"category_id": int(cls.ids[k]), "name": str(cls.names[k]), "bin": str(bins[k]),
                          "image_count": int(cls.train_count[k]), "tp": int(n_tp[k]), "fp": int(n_fp[k]),
                          "missed": int(n_miss[k]), "examples": ex})
    write_json(jpath, {"style": style, "bins": args.bins, "n_per_class": int(args.examples), "order": DETECTION_ORDER,
                       "outcomes": "TIDE (tidecv) at IoU 0.5" if td is None else
                       f"TIDE (tidecv) at IoU {td.params['pos_thr']}, background {td.params['bg_thr']}",
                       "per_class": per_class})
    write_csv(cpath, worst)
    print(f"wrote {jpath} and {cpath}: the {args.examples:,} worst boxes of each category ({len(worst):,} rows; "
          "highest-scoring false positives first, then missed boxes)")


def _fmt_signed(v) -> str:
    return "n/a" if v is None else f"{100 * v:+.1f}"


def _records(df) -> list:
    if df is None:
        return []
    out = []
    for r in df.itertuples(index=False):
        out.append({"category_id": int(r.category_id), "name": str(r.name), "n_images": int(r.n_images),
                    "estimate": _num(r.estimate), "low": _num(r.low), "high": _num(r.high)})
    return out


def _num(v):
    return None if v is None or v != v else float(v)


def io_paths(args):
    from ..io import IOPaths

    outputs = {"--out": args.out}
    if getattr(args, "examples", None) is not None and args.out:
        from ._examples import examples_paths

        outputs["--examples (JSON, next to --out)"], outputs["--examples (CSV, next to --out)"] = \
            examples_paths(args.out)
    return IOPaths(inputs={"--gt": args.gt, "--dt": args.dt, "--compare": getattr(args, "compare", None),
                           "--frequencies": getattr(args, "frequencies", None)},
                   outputs=outputs)
