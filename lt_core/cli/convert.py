"""``python -m lt_core convert scores|labels|gt ...``: files -> partitioned Parquet for ``--dask``."""
from __future__ import annotations

import argparse
import sys
import time

from .argtypes import int_in

NAME = "convert"
HELP = "stream scores (.npy / .npz), labels, COCO / LVIS ground truth or results into partitioned Parquet for --dask"
DESCRIPTION = """Write a dataset folder of Parquet partitions (+ tailscope_dataset.json) that --dask reads.

  scores      N x C scores or N predicted ids (.npy / .npz; memory-mapped / streamed: one block of
              rows in memory whatever the size) -> partitions of rows: row, [sample_id], [label],
              scores (fixed_size_list<float32>[C]) or pred. With --labels the true labels are
              stored too (rows aligned by sample id or order, as eval-cls aligns them), so eval-cls
              --dask reads everything from the folder: --preds DIR --labels DIR.
  labels      a label file -> partitions of row, [sample_id], label (for rebalance weights --dask)
  gt          COCO / LVIS ground truth -> categories.parquet, images/ and annotations/ partitioned by
              image (for rebalance rfs --dask)
  detections  a COCO results JSON (any layout, .json / .json.gz, boxes and RLE masks; read one chunk
              at a time) -> partitions by image: det_index, image_id, category_id, score, x, y, w, h
              [, segm_h, segm_w, segm_counts] (for eval-det --dask)

The folder is written as a whole (it appears complete or not at all) and never over an input.
Every file is plain Parquet: pandas.read_parquet / pyarrow.parquet read it without Tailscope
(docs/distributed.md shows the layout).

examples:
  python -m lt_core convert scores --preds test_logits.npy --labels ImageNet_LT_test.txt \\
      --train-counts counts.csv --out test_scores/
  python -m lt_core eval-cls --preds test_scores/ --labels test_scores/ --train-counts counts.csv --dask local:4
  python -m lt_core convert gt --gt lvis_v1_train.json --out lvis_train_gt/
  python -m lt_core convert detections --dt results.json --gt lvis_v1_val.json --out dets/
  python -m lt_core eval-det --gt lvis_v1_val.json --dt dets/ --dask tcp://scheduler:8786"""

ROWS = int_in(1, 1_000_000_000)


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="convert_command", metavar="{scores,labels,gt,detections}")
    sub.required = True
    fmt = argparse.RawDescriptionHelpFormatter

    s = sub.add_parser("scores", help="N x C scores or N predicted ids (.npy / .npz) -> Parquet partitions of rows",
                       formatter_class=fmt, description="Stream a score array into Parquet partitions of rows.")
    s.add_argument("--preds", required=True, metavar="SCORES", help="N x C scores or N predicted class ids (.npy / .npz)")
    s.add_argument("--labels", metavar="TEST_LABELS", help="true labels to store with the scores (any label format)")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--train-labels", metavar="TRAIN_LABELS", help="training labels: the class table (counted)")
    g.add_argument("--train-counts", metavar="COUNTS", help="CSV class_id,count[,name]: the class table")
    s.add_argument("--rows-per-partition", type=ROWS, default=None, metavar="N",
                   help="rows per partition (default: ~64 MiB of values, at most 4,000,000 rows)")
    s.add_argument("--out", required=True, metavar="DIR", help="the dataset folder to write (new, or an earlier output)")

    lab = sub.add_parser("labels", help="a label file -> Parquet partitions of rows", formatter_class=fmt,
                         description="Write labels as Parquet partitions (row, [sample_id], label).")
    lab.add_argument("--labels", required=True, metavar="LABELS", help="a label file (CSV / TSV / Parquet / text list)")
    g = lab.add_mutually_exclusive_group()
    g.add_argument("--train-labels", metavar="TRAIN_LABELS", help="training labels: the class table (counted)")
    g.add_argument("--train-counts", metavar="COUNTS", help="CSV class_id,count[,name]: the class table")
    lab.add_argument("--split", default=None, help="the split to keep when the file holds several (default: train)")
    lab.add_argument("--rows-per-partition", type=ROWS, default=None, metavar="N", help="rows per partition")
    lab.add_argument("--out", required=True, metavar="DIR", help="the dataset folder to write")

    gt = sub.add_parser("gt", help="COCO / LVIS ground truth -> images, annotations partitioned by image",
                        formatter_class=fmt, description="Write a COCO / LVIS ground truth as Parquet.")
    gt.add_argument("--gt", required=True, metavar="GT.json", help="COCO / LVIS ground truth (.json / .json.gz)")
    gt.add_argument("--partitions", type=int_in(1, 1_000_000), default=None, metavar="P",
                    help="number of partitions (default: ~2,000,000 annotations each)")
    gt.add_argument("--out", required=True, metavar="DIR", help="the dataset folder to write")

    dt = sub.add_parser("detections", help="COCO results JSON -> Parquet partitions by image (streamed)",
                        formatter_class=fmt, description="Stream a COCO results JSON (any layout of records, "
                        ".json / .json.gz, boxes and RLE masks) into Parquet partitions by image, one chunk in memory.")
    dt.add_argument("--dt", required=True, metavar="RESULTS.json", help="COCO results: a list of {image_id, category_id, "
                    "bbox, score} (+ RLE segmentation)")
    dt.add_argument("--gt", metavar="GT.json", help="check image and category ids against this ground truth")
    dt.add_argument("--partitions", type=int_in(1, 1_000_000), default=None, metavar="P",
                    help="number of partitions (default: ~1,000,000 detections each)")
    dt.add_argument("--chunk-mb", type=int_in(1, 4096), default=64, metavar="MB",
                    help="bytes of JSON read at a time, in MiB (default 64)")
    dt.add_argument("--out", required=True, metavar="DIR", help="the dataset folder to write")


def _classes(args, policy: str = "error"):
    from ..data.assemble import resolve_classes

    if args.train_labels or args.train_counts:
        return resolve_classes(args.train_labels, args.train_counts, multi_label=policy)[0]
    return None


def _progress(label: str):
    tty = sys.stderr.isatty()
    t0 = time.perf_counter()
    last = [0.0]

    def cb(done: int, total: int) -> None:
        now = time.perf_counter()
        if tty and (now - last[0] > 0.2 or done >= total):
            last[0] = now
            sys.stderr.write(f"\r{label}: {done:,}/{total:,} rows ({now - t0:.1f} s)")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()
    return cb


def _scores(args) -> int:
    from ..data.loaders import load_labels
    from ..distributed.convert import convert_scores

    classes = _classes(args, "auto")
    labels = None
    if args.labels:
        if classes is None:
            from ..data.assemble import resolve_classes

            classes = resolve_classes(None, None, None, (args.labels,), multi_label="auto")[0]
            print("note: no --train-counts / --train-labels: the class table comes from the labels (its train counts "
                  "are then 0; eval-cls takes the train counts at evaluation)", file=sys.stderr)
        labels, _ = load_labels(args.labels, classes, split="test", multi_label="auto")
        if getattr(labels, "multi_label", False):
            print(f"note: {args.labels} holds multi-label targets: stored as a list of class indices per row",
                  file=sys.stderr)
    t0 = time.perf_counter()
    ds = convert_scores(args.preds, args.out, classes, labels, rows=args.rows_per_partition,
                        progress=_progress("convert"))
    sk = ds.meta.get("multilabel_score_kind") if ds.multi_label else ds.score_kind
    what = f"{ds.n_rows:,} x {ds.n_classes:,} scores ({sk})" if ds.values == "scores" else \
        f"{ds.n_rows:,} predicted class ids"
    print(f"{args.preds}: {what}{(', with multi-label targets' if ds.multi_label else ', with labels') if ds.has_labels else ''} -> {args.out}: {ds.n_partitions:,} "
          f"partition(s) ({time.perf_counter() - t0:.1f} s)")
    return 0


def _labels(args) -> int:
    from ..data.loaders import load_label_splits
    from ..distributed.convert import convert_labels
    from ..errors import InputError

    classes = _classes(args)
    out, cls = load_label_splits(args.labels, classes, args.split)
    if len(out) == 1:
        labels = next(iter(out.values()))
    elif "train" in out:
        labels = out["train"]
        print(f"note: {args.labels} holds the splits {list(out)}; writing its train rows (--split chooses)",
              file=sys.stderr)
    else:
        raise InputError(f"the file holds several splits {list(out)}; say which one", args.labels, "--split")
    ds = convert_labels(labels, cls, args.out, rows=args.rows_per_partition)
    print(f"{args.labels}: {ds.n_rows:,} {labels.split} labels of {cls.n_classes:,} classes -> {args.out}: "
          f"{ds.n_partitions:,} partition(s)")
    return 0


def _gt(args) -> int:
    from ..data.loaders import load_detection_gt
    from ..distributed.convert import convert_gt

    gt = load_detection_gt(args.gt)
    ds = convert_gt(gt, args.out, n_partitions=args.partitions)
    print(f"{args.gt}: {ds.meta['n_images']:,} images, {ds.n_rows:,} annotations, {ds.n_classes:,} categories -> "
          f"{args.out}: {ds.n_partitions:,} partition(s) by image")
    return 0


def _detections(args) -> int:
    from ..data.loaders import load_detection_gt
    from ..distributed.convert import convert_detections

    gt = load_detection_gt(args.gt) if args.gt else None
    t0 = time.perf_counter()
    tty = sys.stderr.isatty()

    def progress(done: int, _total: int) -> None:  # the total is not known before the end of the file
        if tty:
            sys.stderr.write(f"\rconvert: {done:,} detections ({time.perf_counter() - t0:.1f} s)")
            sys.stderr.flush()

    ds = convert_detections(args.dt, args.out, gt=gt, n_partitions=args.partitions, chunk_bytes=args.chunk_mb << 20,
                            progress=progress)
    if tty:
        sys.stderr.write("\n")
    masks = " with RLE masks" if ds.meta.get("has_segmentation") else ""
    print(f"{args.dt}: {ds.n_rows:,} detections{masks} -> {args.out}: {ds.n_partitions:,} partition(s) by image "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def run(args) -> int:
    return {"scores": _scores, "labels": _labels, "gt": _gt, "detections": _detections}[args.convert_command](args)


def io_paths(args):
    """What each of scores / labels / gt reads, and the folder it writes (with its manifest)."""
    from ..distributed.layout import MANIFEST
    from ..io import IOPaths

    cmd = args.convert_command
    inputs = {"--preds": getattr(args, "preds", None), "--labels": getattr(args, "labels", None),
              "--train-labels": getattr(args, "train_labels", None),
              "--train-counts": getattr(args, "train_counts", None), "--gt": getattr(args, "gt", None),
              "--dt": getattr(args, "dt", None)}
    names = [MANIFEST] if cmd else []
    return IOPaths(inputs=inputs, output_dirs={"--out": (args.out, names)})
