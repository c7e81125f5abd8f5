"""``python -m lt_core adjust``: logit adjustment of saved scores, tau given or tuned on validation."""
from __future__ import annotations

import numpy as np

from ..bins import parse_bins
from ..data.assemble import resolve_classes
from ..data.loaders import load_labels, load_predictions
from ..errors import InputError
from .argtypes import FINITE, NONNEG, PROBABILITY
from ..io import write_json, write_npy
from ..metrics import bin_accuracy
from ..posthoc import (DEFAULT_TAUS, OBJECTIVES, log_prior, logit_adjustment_spec, tune_tau)

NAME = "adjust"
HELP = "logit adjustment / probability rescaling of saved scores; tau given or tuned on a validation split"
DESCRIPTION = """Fix the decision without retraining: logit adjustment (Menon et al., ICLR 2021),
adjusted = logits - tau * log(prior), prior = TRAIN class frequencies; for probabilities the same
decision is p_c / prior_c ** tau (the rescaling form of threshold moving).

tau is given (--tau) or tuned on a VALIDATION split (--tune-on VAL_LABELS VAL_SCORES) by sweeping
41 values over [0, 2] for --objective: balanced_accuracy (default), macro_f1, or few_accuracy
(highest tail-bin accuracy whose head-bin accuracy drops at most --max-head-drop). Tuning reads
only the validation files; --labels (optional) only reports test accuracy before / after.

--out writes the adjusted N x C scores as .npy (logits + offset for logit input; rescaled and
renormalised probabilities for probability input). --export writes the adjustment file (JSON:
method, tau, per-class offset) that a deployment applies in two lines:

    adj = json.load(open("adjustment.json"))
    pred = (logits + np.asarray(adj["offset"])).argmax(1)

Input files are never modified. Bad input exits 2 with a message naming the file and field."""


def add_arguments(p) -> None:
    p.add_argument("--preds", required=True, metavar="SCORES", help="N x C logits or probabilities to adjust")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--train-counts", metavar="COUNTS", help="CSV with class_id,count[,name] (the prior)")
    g.add_argument("--train-labels", metavar="L", help="training labels, counted per class (the prior)")
    t = p.add_mutually_exclusive_group(required=True)
    t.add_argument("--tau", type=FINITE, metavar="T", help="adjustment strength (0 = none, 1 = Menon et al.'s default)")
    t.add_argument("--tune-on", nargs=2, metavar=("VAL_LABELS", "VAL_SCORES"),
                   help="tune tau on this validation split (labels and the same model's scores)")
    p.add_argument("--objective", default="balanced_accuracy", choices=OBJECTIVES,
                   help="what --tune-on maximises (default balanced_accuracy)")
    p.add_argument("--max-head-drop", type=PROBABILITY, default=0.05, metavar="D",
                   help="few_accuracy: allowed head-bin accuracy drop, absolute (default 0.05 = 5 points)")
    p.add_argument("--taus", default="0:2:41", metavar="A:B:K", type=_taus_spec,
                   help="sweep grid for --tune-on: K values from A to B (default 0:2:41)")
    p.add_argument("--bins", default="imagenet-lt", metavar="SCHEME",
                   help="imagenet-lt (default), lvis, quantile:K or custom:A,B: bins for reporting / few_accuracy")
    p.add_argument("--pseudo-count", type=NONNEG, default=0.0, metavar="A",
                   help="added to every train count (needed when a class has no training sample)")
    p.add_argument("--labels", metavar="TEST_LABELS", help="optional: report accuracy per bin before / after")
    p.add_argument("--out", metavar="ADJUSTED_NPY", help="write the adjusted N x C scores (.npy, atomically)")
    p.add_argument("--export", metavar="ADJUSTMENT_JSON", help="write the adjustment file (JSON, atomically)")


def _taus_spec(spec: str) -> str:
    """argparse type of --taus: the spec, checked (A <= B finite, 1 <= K <= 10001)."""
    import argparse

    try:
        _taus(spec)
    except InputError as e:
        raise argparse.ArgumentTypeError(e.message) from None
    return spec


def _taus(spec: str) -> np.ndarray:
    try:
        a, b, k = spec.split(":")
        a, b, k = float(a), float(b), int(k)
    except ValueError:
        raise InputError(f"expected A:B:K (e.g. 0:2:41), got '{spec}'", field="--taus")
    if not (np.isfinite(a) and np.isfinite(b) and a <= b and 1 <= k <= 10001):
        raise InputError(f"need A <= B and 1 <= K <= 10001, got '{spec}'", field="--taus")
    if k == 41 and a == 0 and b == 2:
        return DEFAULT_TAUS
    return np.round(np.linspace(a, b, k), 10)


def _log_scores(pred, what: str) -> np.ndarray:
    if pred.scores is None:
        raise InputError("holds predicted labels, not scores: logit adjustment needs N x C logits or "
                         "probabilities", pred.source or what, "scores")
    if pred.kind == "probs":
        with np.errstate(divide="ignore"):
            return np.log(np.clip(pred.scores.astype(np.float64), 1e-45, None))
    return pred.scores


def _pct(x) -> str:
    return "    –" if x is None or x != x else f"{100 * x:5.1f}%"


def run(args) -> int:
    scheme = parse_bins(args.bins)
    classes, _ = resolve_classes(args.train_labels, args.train_counts, None, ())
    counts = classes.train_count
    try:
        log_prior(counts, args.pseudo_count)
    except InputError as e:
        raise InputError(e.message, args.train_counts or args.train_labels, "count",
                         hint="pass --pseudo-count 1 to give classes without training samples a small prior")
    test_labels = load_labels(args.labels, classes, split="test")[0] if args.labels else None
    preds = load_predictions(args.preds, classes, "test", test_labels)
    Z = _log_scores(preds, args.preds)
    tuning = {}
    if args.tune_on:
        vl_path, vs_path = args.tune_on
        vlab, _ = load_labels(vl_path, classes, split="val")
        vpred = load_predictions(vs_path, classes, "val", vlab)
        if vpred.kind != preds.kind and vpred.scores is not None:
            raise InputError(f"validation scores are {vpred.kind} but --preds are {preds.kind}", vs_path, "scores",
                             hint="tune on the same model's outputs")
        Zv = _log_scores(vpred, vs_path)
        res = tune_tau(Zv, vlab.y, counts, scheme, args.objective, _taus(args.taus), args.max_head_drop,
                       "val", args.pseudo_count)
        tau = res.tau
        row = res.table[np.isclose(res.table["tau"], tau)].iloc[0]
        tuning = {**res.to_dict(), "val_labels": vl_path, "val_scores": vs_path,
                  "val_at_tau": {k: (None if v != v else float(v)) for k, v in row.items()
                                 if k not in ("tau", "feasible")}}
        print(f"tuned on val ({len(vlab):,} samples, {_taus(args.taus).size} taus in "
              f"[{res.table.tau.min():g}, {res.table.tau.max():g}]) for {args.objective}: tau = {tau:g}")
        base = res.table.iloc[int(np.argmin(np.abs(res.table["tau"].to_numpy())))]
        for k in ("balanced_accuracy", "macro_f1", f"acc {res.head_bin}", f"acc {res.tail_bin}"):
            print(f"  val {k:<24}{_pct(base[k])} -> {_pct(row[k])}")
        if args.objective == "few_accuracy" and not row.get("feasible", True):
            print(f"  note: no tau keeps the {res.head_bin}-bin drop within {args.max_head_drop:g}")
    else:
        tau = float(args.tau)
    lp = log_prior(counts, args.pseudo_count)
    offset = -tau * lp
    adj_pred = (Z + offset).argmax(1)
    n = len(adj_pred)
    changed = int((adj_pred != preds.labels).sum())
    print(f"logit adjustment, tau = {tau:g}, input {preds.kind} ({n:,} x {classes.n_classes:,}): "
          f"{changed:,} of {n:,} predictions changed ({100 * changed / max(n, 1):.1f}%)")
    bins = classes.bins(scheme)
    for b in scheme.order(bins):
        m = bins == b
        before = int(np.isin(preds.labels, np.flatnonzero(m)).sum())
        after = int(np.isin(adj_pred, np.flatnonzero(m)).sum())
        print(f"  predicted as {b:<18}{before:>10,} -> {after:>10,}")
    report = {}
    if test_labels is not None:
        b0 = bin_accuracy(test_labels.y, preds.labels, counts, scheme)
        b1 = bin_accuracy(test_labels.y, adj_pred, counts, scheme)
        print(f"test accuracy per bin ({scheme.spec}, mean per-class recall; the test labels were not used "
              "for tuning):")
        for b in b0:
            print(f"  {b:<18}{_pct(b0[b])} -> {_pct(b1[b])}")
        report = {"test_bins_before": b0, "test_bins_after": b1}
    if args.out:
        if preds.kind == "probs":
            R = preds.scores.astype(np.float64) * np.exp(offset)
            R /= R.sum(1, keepdims=True)
            write_npy(args.out, R.astype(np.float32))
        else:
            write_npy(args.out, (preds.scores + offset).astype(np.float32))
        print(f"wrote {args.out}")
    if args.export:
        spec = logit_adjustment_spec(counts, tau, input_kind="probs" if preds.kind == "probs" else "logits",
                                     pseudo_count=args.pseudo_count, class_ids=classes.ids, class_names=classes.names,
                                     tuning={**tuning, **report} if (tuning or report) else {"tau_given": True})
        write_json(args.export, spec)
        print(f"wrote {args.export}")
    return 0


def io_paths(args):
    from ..io import IOPaths

    return IOPaths(inputs={"--preds": args.preds, "--train-counts": args.train_counts,
                           "--train-labels": args.train_labels, "--labels": args.labels,
                           "--tune-on": list(args.tune_on or [])},
                   outputs={"--out": args.out, "--export": args.export})
