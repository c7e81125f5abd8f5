"""``python -m lt_core eval-cls``: head / medium / tail classification metrics of one model."""
from __future__ import annotations

from ..bins import parse_bins
from .argtypes import SEED, int_in
from ..data.assemble import resolve_classes
from ..data.loaders import load_labels, load_predictions
from ..io import write_json
from ..metrics import classification_report

NAME = "eval-cls"
HELP = "per-class, per-bin (many/medium/few) and overall classification metrics, with bootstrap CIs"
DESCRIPTION = """Evaluate one model's predictions on labelled samples, by frequency bin.

SCORES is an N x C array (column j = class id j; logits or probabilities) or one predicted
class per sample. Bins come from TRAIN counts: --train-labels (counted) or --train-counts (CSV
class_id,count[,name]). Label files: any format the loaders read; integer labels are class ids.

Metrics match scikit-learn (precision_recall_fscore_support, balanced_accuracy_score,
top_k_accuracy_score) and imbalanced-learn (geometric_mean_score); bin accuracy is the mean
per-class recall of the bin (Kang et al. 2020); ECE uses 15 equal-width bins (Guo et al. 2017).
--bootstrap N adds seeded percentile CIs resampling test samples within each class. A CI is
shown only when it contains its estimate: the G-mean's often does not with few test samples per
class (one zero-recall class makes it 0), and then a note says so instead of a misleading interval.

--out writes JSON: overall {accuracy, balanced_accuracy, macro_f1, gmean, ece},
bins {name: {accuracy, n_classes, n_samples, ci_low, ci_high}}, per_class [{class_id, name,
train_count, bin, support, precision, recall, f1}]."""


def add_arguments(p) -> None:
    p.add_argument("--labels", required=True, metavar="TEST_LABELS", help="true labels of the evaluated samples")
    p.add_argument("--preds", required=True, metavar="SCORES",
                   help="N x C scores or N predicted class ids (with --dask also a folder written by 'convert scores')")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--train-labels", metavar="TRAIN_LABELS", help="training labels (counted per class)")
    g.add_argument("--train-counts", metavar="COUNTS", help="CSV with class_id,count[,name]")
    p.add_argument("--bins", default="imagenet-lt", metavar="SCHEME",
                   help="imagenet-lt (default), lvis, quantile:K or custom:A,B (by train count)")
    p.add_argument("--bootstrap", type=int_in(0, 1_000_000), default=0, metavar="N",
                   help="bootstrap resamples for CIs (0 = none, at most 1,000,000)")
    p.add_argument("--seed", type=SEED, default=0, metavar="S", help="seed of the bootstrap, in [0, 2^32) (default 0)")
    p.add_argument("--out", metavar="REPORT_JSON", help="write the report as JSON (atomically)")
    p.add_argument("--per-class", action="store_true", help="also print the per-class table")
    from .dask_run import add_dask_argument

    add_dask_argument(p)


def _pct(x) -> str:
    return "    –" if x is None or x != x else f"{100 * x:5.1f}%"


def format_report(rep, n_classes: int, kind: str, scheme: str) -> str:
    """The readable text table printed by ``eval-cls``."""
    o = rep.overall
    lines = [f"{o['n_samples']:,} samples, {n_classes:,} classes, predictions: {kind}, bins {scheme} (by TRAIN count)"
             + (f", bootstrap {rep.bootstrap:,} resamples, seed {rep.seed}" if rep.bootstrap else ""), ""]
    items = [("accuracy", "accuracy"), ("balanced accuracy", "balanced_accuracy"), ("macro-F1", "macro_f1"),
             ("G-mean", "gmean"), ("ECE", "ece")] + [(f"top-{k}", f"top{k}") for k in (1, 5) if f"top{k}" in o]
    notes = rep.extra.get("ci_notes", {})
    for label, key in items:
        ci = ""
        if f"{key}_ci_low" in o:
            if o[key + "_ci_low"] == o[key + "_ci_low"]:
                ci = f"   95% CI [{_pct(o[key + '_ci_low']).strip()}, {_pct(o[key + '_ci_high']).strip()}]"
            elif key in notes:
                ci = "   no CI (see note)"
        lines.append(f"  {label:<18}{_pct(o[key])}{ci}")
    lines += ["", f"  {'bin':<18}{'classes':>8}{'samples':>10}{'accuracy':>10}{'95% CI':>18}{'macro-F1':>10}"]
    for name, r in rep.bins.iterrows():
        ci = f"[{_pct(r['ci_low']).strip()}, {_pct(r['ci_high']).strip()}]" if r["ci_low"] == r["ci_low"] else "–"
        lines.append(f"  {name:<18}{int(r['n_classes']):>8,}{int(r['n_samples']):>10,}{_pct(r['accuracy']):>10}"
                     f"{ci:>18}{_pct(r['macro_f1']):>10}")
    lines.append("  (bin accuracy = mean per-class recall over the bin's classes with samples)")
    for k, text in notes.items():
        lines.append(f"  note: {text}")
    return "\n".join(lines)


def format_per_class(rep) -> str:
    pc = rep.per_class
    out = [f"  {'class_id':>8}  {'name':<28}{'bin':<10}{'train':>8}{'support':>9}{'prec':>8}{'recall':>8}{'f1':>8}"]
    for r in pc.itertuples(index=False):
        out.append(f"  {r.class_id:>8}  {str(r.name)[:27]:<28}{str(r.bin)[:9]:<10}{r.train_count:>8,}{r.support:>9,}"
                   f"{_pct(r.precision):>8}{_pct(r.recall):>8}{_pct(r.f1):>8}")
    return "\n".join(out)


def run(args) -> int:
    scheme = parse_bins(args.bins)
    if getattr(args, "dask", None):  # the same report, computed on a Dask cluster (lt_core.distributed)
        from .dask_run import eval_cls

        rep, classes, kind = eval_cls(args, scheme)
    else:
        classes, _ = resolve_classes(args.train_labels, args.train_counts, None, (args.labels,))
        labels, _ = load_labels(args.labels, classes, split="test")
        preds = load_predictions(args.preds, classes, "test", labels)
        rep = classification_report(labels.y, preds.labels, classes, scheme, scores=preds.scores,
                                    kind=preds.kind if preds.scores is not None else "auto",
                                    bootstrap=args.bootstrap, seed=args.seed)
        kind = preds.kind
    print(format_report(rep, classes.n_classes, kind, scheme.spec))
    if args.per_class:
        print()
        print(format_per_class(rep))
    if args.out:
        write_json(args.out, rep.to_dict())
        print(f"\nwrote {args.out}")
    return 0


def io_paths(args):
    from ..io import IOPaths

    return IOPaths(inputs={"--labels": args.labels, "--preds": args.preds, "--train-labels": args.train_labels,
                           "--train-counts": args.train_counts},
                   outputs={"--out": args.out})
