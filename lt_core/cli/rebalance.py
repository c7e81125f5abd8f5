"""``python -m lt_core rebalance weights|rfs|sample|smote ...``: exports a training pipeline can use."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ..errors import InputError
from .argtypes import NONNEG_INT, POSITIVE_INT, PROBABILITY, SEED, float_in, int_in

THRESHOLD = float_in(0.0, 1.0, lo_open=True)

NAME = "rebalance"
HELP = "class weights, repeat factors, re-sampled index lists and SMOTE features for training"
DESCRIPTION = """Fix the data for training, without changing any input file.

  weights  per-class loss weights (effective number of samples, Cui et al. 2019; inverse; sqrt-inverse)
           -> JSON {"weights": [{class_id, name, count, weight}]}, CSV, or a .pt float32 tensor
  rfs      repeat factor sampling (Gupta et al. 2019, LVIS) from a COCO/LVIS training GT
           -> JSON {"images": [{image_id, repeat_factor}], "categories": [{category_id, image_fraction,
              repeat_factor}]} or CSV; optionally the GT JSON with each image's "repeat_factor" added
  sample   one seeded epoch of sample indices for a sampling strategy -> .npy (int64) or .csv
  smote    SMOTE / Borderline-SMOTE / ADASYN / random over-sampling of features (imbalanced-learn)
           -> .npz with X, y, class_id, is_synthetic, info_json

Examples
  python -m lt_core rebalance weights --train-counts counts.csv --scheme effective-number --beta 0.999 --out w.json
  python -m lt_core rebalance rfs --gt lvis_v1_train.json --threshold 0.001 --out factors.json
  python -m lt_core rebalance sample --train-labels train.csv --strategy class-balanced --seed 0 --out idx.npy
  python -m lt_core rebalance smote --features train.npy --train-labels train.csv --k-neighbors 5 --out aug.npz
See docs/exports.md for using each output without Tailscope. Bad input exits 2."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..rebalance import SMOTE_METHODS, STRATEGIES, WEIGHT_SCHEMES

    sub = p.add_subparsers(dest="rebalance_command", metavar="{weights,rfs,sample,smote}")
    sub.required = True
    fmt = argparse.RawDescriptionHelpFormatter

    w = sub.add_parser("weights", help="per-class loss weights", formatter_class=fmt,
                       description="Per-class loss weights normalised to sum to the number of classes.")
    src = w.add_mutually_exclusive_group(required=True)
    src.add_argument("--train-labels", metavar="L", help="training label file (CSV/TSV/Parquet/text list)")
    src.add_argument("--train-counts", metavar="C", help="per-class counts CSV: class_id,count[,name]")
    w.add_argument("--scheme", choices=WEIGHT_SCHEMES, default="effective-number",
                   help="effective-number: (1-beta)/(1-beta^n) (Cui et al. 2019); inverse: 1/n; "
                        "sqrt-inverse: 1/sqrt(n); uniform (default: effective-number)")
    w.add_argument("--beta", type=PROBABILITY, default=0.999,
                   help="beta of the effective number, in [0, 1] (default 0.999; Cui et al. use 0.9-0.9999)")
    w.add_argument("--out", required=True, help="output .json, .csv or .pt (float32 tensor of shape (C,))")
    from .dask_run import add_dask_argument

    add_dask_argument(w)

    r = sub.add_parser("rfs", help="repeat factor sampling for detection (LVIS)", formatter_class=fmt,
                       description="r(c) = max(1, sqrt(t / f(c))), f(c) = fraction of training images with "
                                   "category c; image factor = max over its categories (1 without annotations).")
    r.add_argument("--gt", required=True, metavar="TRAIN.json",
                   help="COCO / LVIS training ground truth (.json[.gz]; with --dask also a folder written by 'convert gt')")
    r.add_argument("--threshold", type=THRESHOLD, default=0.001, help="t in (0, 1] (default 0.001, as LVIS / detectron2)")
    r.add_argument("--frequency", choices=("annotations", "image_count"), default="annotations",
                   help="f(c) from the file's annotations (default) or from the categories' image_count")
    r.add_argument("--n-train-images", type=POSITIVE_INT, default=None,
                   help="with --frequency image_count: training images behind image_count (LVIS v1: 100170)")
    r.add_argument("--out", required=True, help="output .json (images + categories) or .csv (image_id,repeat_factor)")
    r.add_argument("--annotated-out", default=None,
                   help="also write the GT JSON with each image's \"repeat_factor\" added (a new file)")
    r.add_argument("--epoch-out", default=None,
                   help="also write one seeded epoch of image ids (.npy int64 or .csv), stochastic rounding")
    r.add_argument("--seed", type=SEED, default=0, help="seed of --epoch-out, in [0, 2^32) (default 0)")
    r.add_argument("--epoch", type=NONNEG_INT, default=0, help="epoch of --epoch-out (default 0)")
    add_dask_argument(r)

    s = sub.add_parser("sample", help="one seeded epoch of re-sampled indices", formatter_class=fmt,
                       description="One epoch of sample indices (into the rows of the label file).")
    s.add_argument("--train-labels", required=True, metavar="L", help="training label file")
    s.add_argument("--strategy", choices=STRATEGIES, default="class-balanced",
                   help="instance, class-balanced / sqrt / progressive (Kang et al. 2020), label-shuffling "
                        "(Shen et al. 2016), over / under (random), rfs (Gupta et al. 2019)")
    s.add_argument("--seed", type=SEED, default=0, help="random seed, in [0, 2^32) (default 0)")
    s.add_argument("--epoch", type=NONNEG_INT, default=0, help="epoch number (default 0): each epoch is a fresh list")
    s.add_argument("--num-epochs", type=POSITIVE_INT, default=None, help="T of progressive sampling")
    s.add_argument("--num-samples", type=POSITIVE_INT, default=None,
                   help="epoch length of class-balanced/sqrt/progressive (1 .. 1,000,000,000)")
    s.add_argument("--target", type=POSITIVE_INT, default=None, help="over / under: samples per class (default max / min)")
    s.add_argument("--threshold", type=THRESHOLD, default=0.001, help="rfs: t in (0, 1] (default 0.001)")
    s.add_argument("--out", required=True, help="output .npy (int64) or .csv (column index)")

    m = sub.add_parser("smote", help="SMOTE family on features (imbalanced-learn)", formatter_class=fmt,
                       description="Over-sample feature vectors; identical to imbalanced-learn for the same seed.")
    m.add_argument("--features", required=True, metavar="F", help="features .npy / .npz / .parquet (N x D)")
    m.add_argument("--train-labels", required=True, metavar="L", help="labels of the same N rows")
    m.add_argument("--method", choices=SMOTE_METHODS, default="smote",
                   help="smote (Chawla et al. 2002), borderline-smote (Han et al. 2005), adasyn (He et al. 2008), "
                        "random-over")
    m.add_argument("--sampling-strategy", default="auto",
                   help="imbalanced-learn sampling_strategy: auto, minority, not majority, all, or a JSON "
                        "object {class_id: target count}")
    m.add_argument("--k-neighbors", type=int_in(1, 10_000), default=5, help="neighbours for interpolation (default 5)")
    m.add_argument("--seed", type=SEED, default=0, help="random_state, in [0, 2^32) (default 0)")
    m.add_argument("--out", required=True, help="output .npz")


def _check_out(out: str, exts: tuple[str, ...], flag: str = "--out") -> Path:
    """The output's format from its extension (overlaps with inputs are refused by the guard)."""
    p = Path(out)
    if p.suffix.lower() not in exts:
        raise InputError(f"unknown output format '{p.suffix or '(no extension)'}'", out, flag,
                         hint="use " + " or ".join(exts))
    return p


def _train_labels(path: str):
    from ..data.loaders import load_label_splits

    out, classes = load_label_splits(path)
    if "train" in out:
        labels = out["train"]
    elif len(out) == 1:
        labels = next(iter(out.values()))
        print(f"note: {path} has no train split; using its {labels.split} rows as training labels", file=sys.stderr)
    else:
        raise InputError(f"no train rows (splits found: {list(out)})", path, "split")
    return labels, classes


def _weights(args) -> int:
    from ..data.loaders import load_train_counts
    from ..rebalance import weights_table
    from ..rebalance.exports import write_weights

    out = _check_out(args.out, (".json", ".csv", ".pt", ".pth"))
    table = None
    if args.train_counts:
        classes = load_train_counts(args.train_counts)
        counts = classes.train_count
        if getattr(args, "dask", None):
            print("note: --dask: nothing to count with --train-counts (the counts are given); computed here",
                  file=sys.stderr)
    elif getattr(args, "dask", None):  # counted on a Dask cluster (lt_core.distributed)
        from .dask_run import rebalance_weights

        table, counts, classes = rebalance_weights(args)
    else:
        labels, classes = _train_labels(args.train_labels)
        counts = labels.counts(classes.n_classes)
    try:
        if table is None:
            table = weights_table(counts, args.scheme, args.beta, class_ids=classes.ids, names=classes.names)
    except InputError as e:
        raise InputError(e.message, args.train_counts or args.train_labels, "count" if args.train_counts else "label",
                         e.hint) from None
    write_weights(out, table, args.scheme, args.beta)
    w = table["weight"].to_numpy()
    pos = counts > 0
    print(f"{args.scheme}" + (f" (beta={args.beta})" if args.scheme == "effective-number" else "")
          + f": {len(w)} classes, weights {w[pos].min():.4g} (largest class) .. {w[pos].max():.4g} "
            f"(smallest class), sum {w.sum():.6g} -> {out}")
    return 0


def _rfs(args) -> int:
    from ..data.loaders import load_detection_gt, read_json
    from ..rebalance import repeat_factors
    from ..rebalance.exports import write_rfs, write_rfs_gt

    out = _check_out(args.out, (".json", ".csv"))
    if args.annotated_out:
        _check_out(args.annotated_out, (".json",), "--annotated-out")
    if args.epoch_out:
        _check_out(args.epoch_out, (".npy", ".csv"), "--epoch-out")
    if getattr(args, "dask", None):  # image counts and factors on a Dask cluster (lt_core.distributed)
        from .dask_run import rebalance_rfs

        rf, gt = rebalance_rfs(args)
    else:
        gt = load_detection_gt(args.gt)
        rf = repeat_factors(gt, args.threshold, frequency=args.frequency, n_train_images=args.n_train_images)
    write_rfs(out, rf)
    if args.annotated_out:
        raw = gt.raw if gt.raw is not None else read_json(args.gt)
        write_rfs_gt(args.annotated_out, raw, rf)
    if args.epoch_out:
        from ..rebalance import rfs_epoch_indices
        from ..rebalance.exports import write_indices

        write_indices(args.epoch_out, rf.image_ids[rfs_epoch_indices(rf.image_factors, epoch=args.epoch,
                                                                      seed=args.seed)])
    print(f"t={args.threshold}: {rf.n_images:,} images for f(c); {int((rf.category_factors > 1).sum()):,} of "
          f"{len(rf.category_ids):,} categories repeated (max r = {rf.category_factors.max():.4g}); "
          f"{int((rf.image_factors > 1).sum()):,} of {len(rf.image_ids):,} images repeated; expected epoch "
          f"{rf.expected_epoch_length:,.1f} images -> {out}"
          + (f", {args.annotated_out}" if args.annotated_out else "")
          + (f", {args.epoch_out} (seed {args.seed}, epoch {args.epoch})" if args.epoch_out else ""))
    return 0


def _sample(args) -> int:
    from ..rebalance import epoch_indices
    from ..rebalance.exports import write_indices

    out = _check_out(args.out, (".npy", ".csv"))
    labels, classes = _train_labels(args.train_labels)
    params = {}
    if args.strategy in ("over", "under"):
        params["target"] = args.target
    if args.strategy == "rfs":
        params["threshold"] = args.threshold
    idx = epoch_indices(labels.y, classes.n_classes, args.strategy, epoch=args.epoch, seed=args.seed,
                        num_epochs=args.num_epochs, num_samples=args.num_samples, **params)
    write_indices(out, idx)
    drawn = np.bincount(labels.y[idx], minlength=classes.n_classes)
    pos = labels.counts(classes.n_classes) > 0
    print(f"{args.strategy} (seed {args.seed}, epoch {args.epoch}): {idx.size:,} indices of {len(labels):,} samples; "
          f"per class {drawn[pos].min():,} .. {drawn[pos].max():,} -> {out}")
    return 0


def _smote(args) -> int:
    from ..data.loaders import load_features
    from ..rebalance import smote_resample
    from ..rebalance.exports import write_smote_npz

    out = _check_out(args.out, (".npz",))
    labels, classes = _train_labels(args.train_labels)
    feats = load_features(args.features, "train")
    X = feats.X
    if X.shape[0] != len(labels):
        raise InputError(f"{X.shape[0]} feature rows but {len(labels)} training labels in {args.train_labels}",
                         args.features, hint="features and labels must describe the same rows")
    if feats.sample_ids is not None and labels.sample_ids is not None:
        pos = {k: i for i, k in enumerate(feats.sample_ids.tolist())}
        try:
            X = X[np.array([pos[k] for k in labels.sample_ids.tolist()])]
        except KeyError as e:
            raise InputError(f"sample id {e.args[0]!r} of the labels is not in the features", args.features,
                             "id") from None
    strategy: object = args.sampling_strategy
    try:
        strategy = float(args.sampling_strategy)  # a ratio (binary problems only, as imbalanced-learn)
    except ValueError:
        pass
    if isinstance(strategy, str) and strategy.strip().startswith("{"):
        try:
            raw = json.loads(strategy)
            strategy = {int(classes.index_of([int(k)], "", "--sampling-strategy")[0]): int(v)
                        for k, v in raw.items()}
        except (ValueError, TypeError) as e:
            if isinstance(e, InputError):
                raise
            raise InputError(f"not a JSON object of class_id: count ({e})", "--sampling-strategy") from None
    try:
        X_res, y_res, info = smote_resample(X, labels.y, args.method, strategy, args.k_neighbors, args.seed)
    except InputError as e:
        if e.source:
            raise
        raise InputError(e.message, args.train_labels if e.field in (None, "y") else None,
                         "label" if e.field in (None, "y") else e.field, e.hint) from None
    write_smote_npz(out, X_res, y_res, info, class_ids=classes.ids)
    for note in info["notes"]:
        print(f"note: {note}", file=sys.stderr)
    print(f"{args.method} (k={args.k_neighbors}, seed {args.seed}): {info['n_original']:,} rows + "
          f"{info['n_synthetic']:,} synthetic -> {out}")
    return 0


def run(args) -> int:
    return {"weights": _weights, "rfs": _rfs, "sample": _sample, "smote": _smote}[args.rebalance_command](args)


def io_paths(args):
    """What each of weights / rfs / sample / smote reads and writes, by option."""
    from ..io import IOPaths

    cmd = args.rebalance_command
    if cmd == "weights":
        return IOPaths(inputs={"--train-labels": args.train_labels, "--train-counts": args.train_counts},
                       outputs={"--out": args.out})
    if cmd == "rfs":
        return IOPaths(inputs={"--gt": args.gt},
                       outputs={"--out": args.out, "--annotated-out": args.annotated_out,
                                "--epoch-out": args.epoch_out})
    if cmd == "sample":
        return IOPaths(inputs={"--train-labels": args.train_labels}, outputs={"--out": args.out})
    return IOPaths(inputs={"--features": args.features, "--train-labels": args.train_labels},
                   outputs={"--out": args.out})
