"""``python -m lt_core eval-cls``: head / medium / tail classification metrics of one model."""
from __future__ import annotations

import numpy as np

from ..bins import parse_bins
from ._examples import examples_paths
from .argtypes import SEED, int_in
from ..data.assemble import resolve_classes
from ..data.loaders import load_labels, load_predictions
from ..errors import InputError
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
train_count, bin, support, precision, recall, f1}].

Multi-label targets (a sample carries several classes: an N x C 0/1 indicator .npy / .npz / wide
CSV, cells like "a,b" or "a|b", a Parquet list column, GoEmotions TSV rows, COCO / LVIS GT as
image-level labels) are detected, or forced with --multi-label. SCORES are then N x C per-class
probabilities (sigmoid outputs) or logits; bins come from TRAIN positives (samples carrying the
class); a class is predicted when its probability reaches --threshold (default 0.5; for logits
z >= log(t / (1 - t))). AP and ROC-AUC equal scikit-learn's average_precision_score /
roc_auc_score, the F1s f1_score with each average, hamming_loss; --bootstrap resamples SAMPLES.
--multi-label-rows first|drop evaluates single-label instead (first label kept / multi-label
rows dropped, counted). The multi-label JSON: multi_label true, threshold, overall {mAP,
macro_f1, micro_f1, samples_f1, weighted_f1, micro_precision, micro_recall, hamming_loss,
roc_auc, label_cardinality, label_density [, *_ci_low, *_ci_high]}, bins {name: {mAP,
n_classes, ci_low, ci_high, macro_f1, micro_f1, samples_f1, n_positives [, macro_f1_ci_low,
macro_f1_ci_high]}}, per_class [{class_id, name, train_count, bin, support, ap, roc_auc,
precision, recall, f1}] (support = positives on the evaluated split; mAP over the classes with
positives; n_classes = the classes averaged).

--examples N also writes the N worst samples of every class next to --out (OUT is report.json ->
report_examples.json and report_examples.csv): each class's most confident mistakes first, then
its least safe correct predictions (lt_core.examples.worst_per_class). JSON: {split, bins,
n_per_class, order, per_class: [{class_id, name, bin, train_count, support, errors, examples:
[{rank, row, sample_id, pred_id, pred_name, pred_bin, correct, confidence, true_prob, margin,
text?}]}]}; CSV: one row per example (rank, class_support, class_errors, row, sample_id, true_id,
true_name, true_bin, pred_id, pred_name, pred_bin, correct, confidence, true_prob, margin, text?).
confidence / true_prob are softmax probabilities (the scores as given when they are
probabilities), empty for predicted labels; row is the 0-based position in the label file.
Multi-label: per class its N most confident mistakes at --threshold, missed positives (outcome FN,
by 1 - p) and false positives (FP, by p): JSON {split, bins, multi_label, threshold, n_per_class,
order, per_class: [{class_id, name, bin, train_count, positives, missed, false_positives,
examples: [{rank, row, sample_id, outcome, probability, true_labels, predicted_labels,
text?}]}]}; CSV the same rows (rank, class_positives, class_missed, class_false_positives, ...)."""


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
    m = p.add_mutually_exclusive_group()
    m.add_argument("--multi-label", action="store_true",
                   help="multi-label evaluation (default: when the labels are multi-label)")
    m.add_argument("--multi-label-rows", choices=("first", "drop"),
                   help="evaluate single-label: keep the first label of rows with several, or drop them (counted)")
    p.add_argument("--threshold", type=float, default=0.5, metavar="T",
                   help="multi-label: predict a class when its probability >= T (default 0.5)")
    p.add_argument("--examples", type=int_in(1, 100_000), default=None, metavar="N",
                   help="also write the N worst samples of every class (JSON and CSV next to --out: "
                        "OUT_examples.json, OUT_examples.csv)")
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


def examples_report(table, classes, scheme, n: int, split: str) -> dict:
    """The JSON document of ``--examples`` from :func:`lt_core.examples.worst_per_class`'s table."""
    from ..examples import ORDER_NOTE

    bins = classes.bins(scheme)
    keep = [c for c in ("rank", "row", "sample_id", "pred_id", "pred_name", "pred_bin", "correct", "confidence",
                        "true_prob", "margin", "text") if c in table.columns]
    groups = {k: g for k, g in table.groupby("true_id", sort=False)}
    per_class = []
    for k in range(classes.n_classes):
        cid = int(classes.ids[k])
        g = groups.get(cid)
        recs = [] if g is None else [
            {c: (None if isinstance(v, float) and v != v else v) for c, v in r.items()}
            for r in g[keep].to_dict("records")]
        per_class.append({"class_id": cid, "name": str(classes.names[k]), "bin": str(bins[k]),
                          "train_count": int(classes.train_count[k]),
                          "support": int(g["class_support"].iloc[0]) if g is not None else 0,
                          "errors": int(g["class_errors"].iloc[0]) if g is not None else 0, "examples": recs})
    return {"split": split, "bins": scheme.spec, "n_per_class": int(n), "order": ORDER_NOTE, "per_class": per_class}


def format_ml_report(rep, n_classes: int, kind: str, scheme: str, notes=()) -> str:
    """The readable text table printed by ``eval-cls`` for multi-label targets."""
    o = rep.overall
    thr = rep.threshold if np.ndim(rep.threshold) == 0 else "per-class"
    lines = [f"{o['n_samples']:,} samples (multi-label, {o['label_cardinality']:.2f} labels each), {n_classes:,} classes, "
             f"scores: {kind}, threshold {thr}, bins {scheme} (by TRAIN positives)"
             + (f", bootstrap {rep.bootstrap:,} resamples of the samples, seed {rep.seed}" if rep.bootstrap else "")]
    lines += [f"  note: {n}" for n in notes] + [""]
    for label, key in (("mAP", "mAP"), ("macro-F1", "macro_f1"), ("micro-F1", "micro_f1"), ("samples-F1", "samples_f1"),
                       ("weighted-F1", "weighted_f1"), ("ROC-AUC", "roc_auc")):
        ci = ""
        if f"{key}_ci_low" in o:
            ci = f"   95% CI [{_pct(o[key + '_ci_low']).strip()}, {_pct(o[key + '_ci_high']).strip()}]"
        lines.append(f"  {label:<18}{_pct(o[key])}{ci}")
    lines.append(f"  {'hamming loss':<18}{o['hamming_loss']:.4f}")
    lines += ["", f"  {'bin':<18}{'classes':>8}{'positives':>10}{'mAP':>8}{'95% CI':>18}{'macro-F1':>10}"
                  f"{'micro-F1':>10}{'samples-F1':>12}"]
    for name, r in rep.bins.iterrows():
        ci = f"[{_pct(r['ci_low']).strip()}, {_pct(r['ci_high']).strip()}]" if r["ci_low"] == r["ci_low"] else "–"
        lines.append(f"  {name:<18}{int(r['n_classes']):>8,}{int(r['n_positives']):>10,}{_pct(r['mAP']):>8}{ci:>18}"
                     f"{_pct(r['macro_f1']):>10}{_pct(r['micro_f1']):>10}{_pct(r['samples_f1']):>12}")
    lines.append("  (bin mAP = mean AP over the bin's classes with positives; F1 at the threshold)")
    return "\n".join(lines)


def _run_multilabel(args, scheme) -> int:
    from ..data.multilabel import multilabel_score_kind
    from ..metrics import multilabel_report

    policy = "multi"
    classes, _ = resolve_classes(args.train_labels, args.train_counts, None, (args.labels,), multi_label=policy)
    labels, _ = load_labels(args.labels, classes, split="test", multi_label=policy)
    preds = load_predictions(args.preds, classes, "test", labels)
    if preds.scores is None:
        raise InputError("holds one predicted class per sample; multi-label evaluation needs N x C scores (per-class "
                         "probabilities or logits)", args.preds, "scores")
    if not 0.0 <= args.threshold <= 1.0:
        raise InputError(f"--threshold is a probability in [0, 1], got {args.threshold}", field="--threshold")
    kind = multilabel_score_kind(preds.scores)
    rep = multilabel_report(labels, preds.scores, classes, scheme, kind=kind, threshold=args.threshold,
                            bootstrap=args.bootstrap, seed=args.seed)
    print(format_ml_report(rep, classes.n_classes, kind, scheme.spec, labels.notes))
    if args.per_class:
        pc = rep.per_class
        print()
        print(f"  {'class_id':>8}  {'name':<28}{'bin':<10}{'train':>8}{'support':>9}{'AP':>8}{'F1':>8}")
        for r in pc.itertuples(index=False):
            print(f"  {r.class_id:>8}  {str(r.name)[:27]:<28}{str(r.bin)[:9]:<10}{r.train_count:>8,}{r.support:>9,}"
                  f"{_pct(r.ap):>8}{_pct(r.f1):>8}")
    if args.out:
        write_json(args.out, rep.to_dict())
        print(f"\nwrote {args.out}")
    if args.examples is not None:
        from ..examples import multilabel_worst_per_class
        from ..io import write_csv

        table = multilabel_worst_per_class(labels, preds.scores, classes, args.examples, kind=kind,
                                           threshold=args.threshold)
        jpath, cpath = examples_paths(args.out)
        write_json(jpath, ml_examples_report(table, classes, scheme, args.examples, labels.split, args.threshold,
                                             labels.counts(classes.n_classes)))
        write_csv(cpath, table)
        print(f"wrote {jpath} and {cpath}: the {args.examples:,} most confident mistakes of each class (missed "
              f"positives and false positives at probability >= {args.threshold:g}; {len(table):,} rows)")
    return 0


def ml_examples_report(table, classes, scheme, n: int, split: str, threshold: float, positives) -> dict:
    """The multi-label JSON of ``--examples``: per class its missed positives and false positives."""
    bins = classes.bins(scheme)
    keep = [c for c in ("rank", "row", "sample_id", "outcome", "probability", "true_labels", "predicted_labels",
                        "text") if c in table.columns]
    groups = {k: g for k, g in table.groupby("class_id", sort=False)} if len(table) else {}
    per_class = []
    for k in range(classes.n_classes):
        g = groups.get(int(classes.ids[k]))
        recs = [] if g is None else g[keep].to_dict("records")
        first = None if g is None else g.iloc[0]
        per_class.append({"class_id": int(classes.ids[k]), "name": str(classes.names[k]), "bin": str(bins[k]),
                          "train_count": int(classes.train_count[k]),
                          "positives": int(positives[k]),
                          "missed": 0 if first is None else int(first["class_missed"]),
                          "false_positives": 0 if first is None else int(first["class_false_positives"]),
                          "examples": recs})
    return {"split": split, "bins": scheme.spec, "multi_label": True, "threshold": threshold, "n_per_class": int(n),
            "order": "most confident mistakes first (a missed positive by 1 - p, a false positive by p)",
            "per_class": per_class}


def run(args) -> int:
    if args.examples is not None and not args.out:
        raise InputError("--examples writes its files next to --out: give --out REPORT_JSON too", field="--examples")
    if args.examples is not None and getattr(args, "dask", None):
        raise InputError("--examples reads the samples' rows in this process: run it without --dask",
                         field="--examples", hint="the report is the same; the examples need the scores here")
    scheme = parse_bins(args.bins)
    if getattr(args, "dask", None):  # the same report, computed on a Dask cluster (lt_core.distributed)
        from .dask_run import eval_cls

        return eval_cls(args, scheme)
    if args.multi_label:
        return _run_multilabel(args, scheme)
    policy = args.multi_label_rows or "auto"
    classes, train = resolve_classes(args.train_labels, args.train_counts, None, (args.labels,), multi_label=policy)
    labels, _ = load_labels(args.labels, classes, split="test", multi_label=policy)
    if getattr(labels, "multi_label", False) or getattr(train, "multi_label", False):
        print(f"multi-label targets detected in {args.labels if labels.multi_label else args.train_labels} "
              "(pass --multi-label-rows first|drop for a single-label evaluation)")
        return _run_multilabel(args, scheme)
    for n in labels.notes:
        print(f"note: {n}")
    preds = load_predictions(args.preds, classes, "test", labels)
    rep = classification_report(labels.y, preds.labels, classes, scheme, scores=preds.scores,
                                kind=preds.kind if preds.scores is not None else "auto",
                                bootstrap=args.bootstrap, seed=args.seed)
    print(format_report(rep, classes.n_classes, preds.kind, scheme.spec))
    if args.per_class:
        print()
        print(format_per_class(rep))
    if args.out:
        write_json(args.out, rep.to_dict())
        print(f"\nwrote {args.out}")
    if args.examples is not None:
        from ..examples import sample_table, worst_per_class
        from ..io import write_csv

        table = worst_per_class(sample_table(labels, preds, classes, scheme), classes, args.examples)
        jpath, cpath = examples_paths(args.out)
        write_json(jpath, examples_report(table, classes, scheme, args.examples, labels.split))
        write_csv(cpath, table)
        print(f"wrote {jpath} and {cpath}: the {args.examples:,} worst samples of each class "
              f"({len(table):,} rows; most confident mistakes first)")
    return 0


def io_paths(args):
    from ..io import IOPaths

    outputs = {"--out": args.out}
    if getattr(args, "examples", None) is not None and args.out:
        outputs["--examples (JSON, next to --out)"], outputs["--examples (CSV, next to --out)"] = \
            examples_paths(args.out)
    return IOPaths(inputs={"--labels": args.labels, "--preds": args.preds, "--train-labels": args.train_labels,
                           "--train-counts": args.train_counts},
                   outputs=outputs)
