"""The ``--dask`` option of eval-cls / eval-det / rebalance, and what each command does with it.

Not a subcommand: the subcommand modules add the option with :func:`add_dask_argument` and,
when it is given, hand their parsed arguments to the function here, which returns the same
result objects the single-process path builds (so the printed tables and JSON are the same).
Dask is imported only inside these functions.
"""
from __future__ import annotations

import argparse
import sys

__all__ = ["add_dask_argument", "DASK_HELP", "eval_cls", "eval_det", "rebalance_weights", "rebalance_rfs", "describe"]

DASK_HELP = ("run on Dask: local:N (a LocalCluster of N worker processes, started and closed by this command) or "
             "tcp://HOST:PORT (a running scheduler). Inputs may then be folders written by 'convert' (every worker "
             "reads its partitions); files are converted into a temporary folder first (TAILSCOPE_DASK_TMP; with a "
             "remote cluster it must be shared). The numbers equal the single-process ones exactly")


def _spec(text: str):
    from ..distributed.cluster import parse_dask_spec
    from ..errors import InputError

    try:
        return parse_dask_spec(text)
    except InputError as e:
        raise argparse.ArgumentTypeError(f"{e.message} ({e.hint})" if e.hint else e.message) from None


_spec.__name__ = "dask address"


def add_dask_argument(p) -> None:
    """Add ``--dask local:N|tcp://HOST:PORT`` to a parser."""
    p.add_argument("--dask", type=_spec, default=None, metavar="local:N|tcp://HOST:PORT", help=DASK_HELP)


def describe(client, spec) -> str:
    """One line about the cluster: address and workers."""
    info = client.scheduler_info()
    workers = info.get("workers", {})
    threads = sum(int(w.get("nthreads", 1)) for w in workers.values())
    return f"dask {spec.text}: {len(workers)} worker(s), {threads} thread(s) at {info.get('address', '?')}"


def _note(text: str) -> None:
    print(text, file=sys.stderr)
    sys.stderr.flush()


def eval_cls(args, scheme) -> int:
    """``eval-cls --dask``: the single-label or multi-label report computed on Dask, printed and
    written exactly as the single-process path does (the JSON is the same)."""
    from pathlib import Path

    from ..data.assemble import resolve_classes
    from ..data.loaders import load_labels
    from ..distributed.classification import evaluate_classification
    from ..distributed.cluster import dask_client
    from ..distributed.layout import is_dataset, open_dataset
    from ..errors import InputError
    from ..io import write_json
    from .eval_cls import format_ml_report, format_per_class, format_report

    policy = "multi" if args.multi_label else (args.multi_label_rows or "auto")
    labels, notes = None, ()
    if is_dataset(args.labels):
        if not (is_dataset(args.preds) and Path(args.labels).resolve() == Path(args.preds).resolve()):
            raise InputError("a dataset folder as --labels must be the --preds dataset itself (converted with "
                             "--labels)", args.labels, "--labels", hint="give the label file instead")
        ds = open_dataset(args.preds)
        if not ds.has_labels:
            raise InputError("the dataset holds no labels", args.preds, "label",
                             hint="convert with --labels, or give the label file as --labels")
        multi = ds.multi_label
        if multi and args.multi_label_rows:
            raise InputError("the dataset holds multi-label targets; --multi-label-rows needs the label file",
                             args.labels, "--multi-label-rows")
        classes, _ = resolve_classes(args.train_labels, args.train_counts, None, (), multi_label="multi" if multi
                                     else policy)
    else:
        classes, train = resolve_classes(args.train_labels, args.train_counts, None, (args.labels,),
                                         multi_label=policy)
        labels, _ = load_labels(args.labels, classes, split="test", multi_label=policy)
        multi = bool(getattr(labels, "multi_label", False) or getattr(train, "multi_label", False))
        if multi and policy != "multi":  # as the single-process path: read again as multi-label
            classes, _ = resolve_classes(args.train_labels, args.train_counts, None, (args.labels,), multi_label="multi")
            labels, _ = load_labels(args.labels, classes, split="test", multi_label="multi")
        if multi and not args.multi_label:
            print(f"multi-label targets detected in {args.labels if labels.multi_label else args.train_labels} "
                  "(pass --multi-label-rows first|drop for a single-label evaluation)")
        notes = tuple(getattr(labels, "notes", ()))
        if not multi:
            for n in notes:
                print(f"note: {n}")
    if multi:
        from ..distributed.multilabel import evaluate_multilabel

        if not 0.0 <= args.threshold <= 1.0:
            raise InputError(f"--threshold is a probability in [0, 1], got {args.threshold}", field="--threshold")
        with dask_client(args.dask) as client:
            _note(describe(client, args.dask))
            rep = evaluate_multilabel(client, args.preds, classes, scheme, labels, threshold=args.threshold,
                                      bootstrap=args.bootstrap)
        kind = rep.extra["kind"]
        print(format_ml_report(rep, classes.n_classes, kind, scheme.spec, notes))
        if args.per_class:
            from .eval_cls import _pct

            print()
            print(f"  {'class_id':>8}  {'name':<28}{'bin':<10}{'train':>8}{'support':>9}{'AP':>8}{'F1':>8}")
            for r in rep.per_class.itertuples(index=False):
                print(f"  {r.class_id:>8}  {str(r.name)[:27]:<28}{str(r.bin)[:9]:<10}{r.train_count:>8,}"
                      f"{r.support:>9,}{_pct(r.ap):>8}{_pct(r.f1):>8}")
    else:
        with dask_client(args.dask) as client:
            _note(describe(client, args.dask))
            rep = evaluate_classification(client, args.preds, classes, scheme, labels, bootstrap=args.bootstrap,
                                          seed=args.seed)
        print(format_report(rep, classes.n_classes, rep.extra["score_kind"], scheme.spec))
        if args.per_class:
            print()
            print(format_per_class(rep))
    if args.out:
        write_json(args.out, rep.to_dict())
        print(f"\nwrote {args.out}")
    return 0


class _Sized:
    """Stands for the results the single-process path loads: only their number is printed."""

    def __init__(self, n: int):
        self.n = int(n)

    def __len__(self) -> int:
        return self.n


def eval_det(args, gt, style):
    """``eval-det --dask``: (results stand-in, evaluation, other evaluation or None, intervals)
    as the single-process path builds them; the intervals object has ``boot`` and ``paired``."""
    from types import SimpleNamespace

    from ..distributed.cluster import dask_client
    from ..distributed.detection import evaluate_detections
    from ..errors import InputError

    if args.tide:
        raise InputError("--tide needs every detection's overlaps with its image's ground truth in one process; it is "
                         "not computed on Dask", "command line", "--tide", hint="run --tide without --dask")
    n_boot = args.bootstrap if args.bootstrap is not None else (1000 if args.compare else None)
    with dask_client(args.dask) as client:
        _note(describe(client, args.dask))
        kw = dict(iou_type=args.iou_type, style=style, max_dets=args.max_dets, n_boot=int(n_boot or 0),
                  seed=args.seed, scheme=args.bins)
        run = evaluate_detections(client, gt, args.dt, **kw)
        other = evaluate_detections(client, gt, args.compare, **kw) if args.compare else None
    paired = None
    if other is not None:
        from ..detection.bootstrap import paired_bootstrap

        paired = paired_bootstrap(run.ev, other.ev, n_boot=n_boot, seed=args.seed, scheme=args.bins,
                                  replicates=(run.replicates, other.replicates))
    return (_Sized(run.n_detections), run.ev, other.ev if other else None,
            SimpleNamespace(boot=run.boot, paired=paired))


def _labels_dataset_classes(ds):
    import numpy as np

    from ..data.schema import ClassTable

    ids = ds.class_ids if ds.class_ids is not None else np.arange(ds.n_classes)
    names = ds.meta.get("class_names") or [str(i) for i in ids]
    return ClassTable(ids, names, np.zeros(len(ids), np.int64), source=str(ds.root))


def rebalance_weights(args):
    """``rebalance weights --dask``: (weights table, counts, class table); counts from the workers."""
    from ..distributed.cluster import dask_client
    from ..distributed.layout import is_dataset, open_dataset
    from ..distributed.rebalance import class_weights_table
    from .rebalance import _train_labels

    if is_dataset(args.train_labels):
        src = open_dataset(args.train_labels, ("labels", "scores"))
        classes = _labels_dataset_classes(src)
    else:
        src, classes = _train_labels(args.train_labels)
    with dask_client(args.dask) as client:
        _note(describe(client, args.dask))
        table, counts = class_weights_table(client, src, args.scheme, args.beta, classes=classes)
    return table, counts, classes


def rebalance_rfs(args):
    """``rebalance rfs --dask``: (RepeatFactors, the loaded GT or None for a converted folder)."""
    from ..data.loaders import load_detection_gt
    from ..distributed.cluster import dask_client
    from ..distributed.layout import is_dataset
    from ..distributed.rebalance import repeat_factors
    from ..errors import InputError

    gt = None
    src = args.gt
    if is_dataset(args.gt):
        if args.annotated_out:
            raise InputError("--annotated-out writes the GT JSON with the factors added: give the JSON as --gt",
                             args.gt, "--annotated-out")
    else:
        gt = src = load_detection_gt(args.gt)
    with dask_client(args.dask) as client:
        _note(describe(client, args.dask))
        rf = repeat_factors(client, src, args.threshold, frequency=args.frequency, n_train_images=args.n_train_images)
    return rf, gt
