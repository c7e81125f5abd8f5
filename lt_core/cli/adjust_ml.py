"""``python -m lt_core adjust-ml``: multi-label decisions fixed on val, applied to test (per-class
thresholds, sigmoid prior correction)."""
from __future__ import annotations

NAME = "adjust-ml"
HELP = "multi-label (sigmoid) decisions: per-class thresholds or prior correction tuned on val, applied to test"
DESCRIPTION = """Fix multi-label (one-vs-rest / sigmoid) decisions without retraining, tuned on a
VALIDATION split and applied to the test scores.

--method thresholds: one threshold per class on the model's own scores, chosen on val by
--objective f1 (highest F1), precision (reach --target precision with the highest recall) or
recall (reach --target recall with the highest threshold), among the points of scikit-learn's
precision_recall_curve. Decision: score >= threshold.

--method prior: z' = z - tau * log(p_c / (1 - p_c)), p_c = TRAIN positives of class c / train
samples (the binary form of logit adjustment, Menon et al., ICLR 2021); tau tuned on val
(--tune-on; 41 values over [0, 2]) for --objective macro_f1 (default), micro_f1, samples_f1 or
tail_macro_f1 (the tail bin's macro-F1 with the head bin dropping at most --max-head-drop), or
given (--tau). Decision: sigmoid(z') >= --threshold. Probabilities are converted to logits first.
The train priors come from --train-labels (counted) or --train-counts with --n-train.

--labels TEST_LABELS reports macro-F1 per bin before (probability >= --threshold) and after,
with bootstrap CIs and paired CIs of the change (--bootstrap resamples of the samples, --seed).
--out writes the N x C decisions (.npy, uint8 0/1); --export the adjustment file (JSON, with the
two lines that apply it); --report the before / after table (JSON). Inputs are never modified."""


def add_arguments(p) -> None:
    p.add_argument("--preds", required=True, metavar="SCORES", help="test N x C per-class probabilities or logits")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--train-labels", metavar="L", help="multi-label train labels (priors and bins)")
    g.add_argument("--train-counts", metavar="COUNTS", help="CSV class_id,count[,name] of train positives")
    p.add_argument("--n-train", type=int, metavar="N", help="train samples (with --train-counts, for --method prior)")
    p.add_argument("--method", required=True, choices=("thresholds", "prior"), help="thresholds | prior")
    p.add_argument("--tune-on", nargs=2, metavar=("VAL_LABELS", "VAL_SCORES"),
                   help="the validation split (labels and the same model's scores) to tune on")
    p.add_argument("--tau", type=float, metavar="T", help="prior: a fixed tau instead of --tune-on")
    p.add_argument("--objective", default=None,
                   help="thresholds: f1 (default) | precision | recall; prior: macro_f1 (default) | micro_f1 | "
                        "samples_f1 | tail_macro_f1")
    p.add_argument("--target", type=float, default=0.5, metavar="P",
                   help="thresholds: the precision / recall target per class (default 0.5)")
    p.add_argument("--threshold", type=float, default=0.5, metavar="T",
                   help="probability threshold of the baseline and of the prior-corrected decisions (default 0.5)")
    p.add_argument("--max-head-drop", type=float, default=0.05, metavar="D",
                   help="tail_macro_f1: allowed head-bin macro-F1 drop, absolute (default 0.05)")
    p.add_argument("--pseudo-count", type=float, default=0.0, metavar="A",
                   help="prior: added to the train positives (needed when a class has none or all)")
    p.add_argument("--bins", default="quantile:3", metavar="SCHEME",
                   help="quantile:3 (default), imagenet-lt, lvis or custom:A,B (by train positives)")
    p.add_argument("--labels", metavar="TEST_LABELS", help="optional: report macro-F1 per bin before / after")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="bootstrap seed (default 0)")
    p.add_argument("--out", metavar="DECISIONS_NPY", help="write the N x C test decisions (.npy uint8, atomically)")
    p.add_argument("--export", metavar="ADJUSTMENT_JSON", help="write the adjustment file (JSON, atomically)")
    p.add_argument("--report", metavar="REPORT_JSON", help="write the before / after table (JSON, atomically)")


def _pct(x) -> str:
    return "    –" if x is None or x != x else f"{100 * x:5.1f}%"


def run(args) -> int:
    import numpy as np

    from ..bins import parse_bins
    from ..data.assemble import resolve_classes
    from ..data.loaders import load_labels, load_predictions
    from ..data.multilabel import multilabel_score_kind
    from ..errors import InputError
    from ..io import write_json, write_npy
    from ..metrics import decisions
    from ..posthoc import (DEFAULT_TAUS, ML_OBJECTIVES, THRESHOLD_OBJECTIVES, as_logits, compare_decisions,
                           prior_correction_spec, prior_corrected, sigmoid_log_prior, threshold_decisions,
                           thresholds_spec, tune_prior_tau, tune_thresholds)

    scheme = parse_bins(args.bins)
    if not 0.0 < args.threshold < 1.0:
        raise InputError(f"--threshold is a probability in (0, 1), got {args.threshold}", field="--threshold")
    if args.bootstrap < 0:
        raise InputError(f"--bootstrap must be >= 0, got {args.bootstrap}", field="--bootstrap")
    objective = args.objective or ("f1" if args.method == "thresholds" else "macro_f1")
    allowed = THRESHOLD_OBJECTIVES if args.method == "thresholds" else ML_OBJECTIVES
    if objective not in allowed:
        raise InputError(f"--method {args.method} takes --objective {' | '.join(allowed)}, got '{objective}'",
                         field="--objective")
    if args.method == "thresholds" and not args.tune_on:
        raise InputError("per-class thresholds are tuned on a validation split: give --tune-on VAL_LABELS VAL_SCORES",
                         field="--tune-on")
    if args.method == "prior" and not args.tune_on and args.tau is None:
        raise InputError("give --tune-on VAL_LABELS VAL_SCORES or a fixed --tau", field="--tau")
    classes, train = resolve_classes(args.train_labels, args.train_counts, None, (), multi_label="multi")
    counts = classes.train_count
    n_train = len(train) if train is not None else args.n_train
    test_labels = load_labels(args.labels, classes, split="test", multi_label="multi")[0] if args.labels else None
    preds = load_predictions(args.preds, classes, "test", test_labels)
    if preds.scores is None:
        raise InputError("holds predicted classes, not N x C scores", args.preds, "scores")
    kind = multilabel_score_kind(preds.scores)
    val = None
    if args.tune_on:
        vl, vs = args.tune_on
        vlab = load_labels(vl, classes, split="val", multi_label="multi")[0]
        vpred = load_predictions(vs, classes, "val", vlab)
        if vpred.scores is None:
            raise InputError("holds predicted classes, not N x C scores", vs, "scores")
        vkind = multilabel_score_kind(vpred.scores)
        if vkind != kind:
            raise InputError(f"validation scores are {vkind} but --preds are {kind}", vs, "scores",
                             hint="tune on the same model's outputs")
        val = (vlab, vpred)
    D0 = decisions(preds.scores, args.threshold, kind)
    info: dict = {"method": args.method, "objective": objective, "input_kind": kind, "threshold": args.threshold}
    if args.method == "thresholds":
        vlab, vpred = val
        res = tune_thresholds(vlab.dense(), vpred.scores, objective, None if objective == "f1" else args.target)
        D1 = threshold_decisions(preds.scores, res.thresholds)
        print(f"per-class thresholds ({objective}) tuned on val ({len(vlab):,} samples): targets reached for "
              f"{int(res.reached.sum())} of {len(res.reached)} classes")
        spec = thresholds_spec(res.thresholds, objective=objective, targets=res.targets, class_ids=classes.ids,
                               class_names=classes.names, tuning={"tuned_on": args.tune_on[0], "input_kind": kind})
    else:
        if n_train is None:
            raise InputError("the prior needs the number of train samples: give --train-labels, or --n-train with "
                             "--train-counts", field="--n-train")
        if args.tune_on:
            vlab, vpred = val
            tuned = tune_prior_tau(vlab.dense(), vpred.scores, kind, counts, n_train, classes, scheme, objective,
                                   DEFAULT_TAUS, args.threshold, args.max_head_drop, "val", args.pseudo_count)
            tau = tuned.tau
            row = tuned.table[np.isclose(tuned.table["tau"], tau)].iloc[0]
            base = tuned.table.iloc[0]
            print(f"prior correction tuned on val ({len(vlab):,} samples, 41 taus in [0, 2]) for {objective}: tau = "
                  f"{tau:g}")
            for k in ("macro_f1", "micro_f1", "samples_f1", f"f1 {tuned.tail_bin}"):
                print(f"  val {k:<24}{_pct(base[k])} -> {_pct(row[k])}")
            info["tuning"] = tuned.to_dict()
        else:
            tau = float(args.tau)
            if not np.isfinite(tau):
                raise InputError(f"must be finite, got {args.tau}", field="--tau")
        lp = sigmoid_log_prior(counts, n_train, args.pseudo_count)
        D1 = decisions(prior_corrected(as_logits(preds.scores, kind), lp, tau), args.threshold, "logits")
        info["tau"] = tau
        spec = prior_correction_spec(counts, n_train, tau, threshold=args.threshold, input_kind=kind,
                                     pseudo_count=args.pseudo_count, class_ids=classes.ids, class_names=classes.names,
                                     tuning=info.get("tuning") or {"tau_given": True})
    n, c = D1.shape
    print(f"{args.method}: {int((D0 != D1).sum()):,} of {n * c:,} test decisions changed; labels per sample "
          f"{D0.sum() / max(n, 1):.2f} -> {D1.sum() / max(n, 1):.2f}")
    report = None
    if test_labels is not None:
        table = compare_decisions(test_labels.dense(), preds.scores, D0, D1, classes, scheme, int(args.bootstrap),
                                  args.seed)
        print(f"test macro-F1 per bin ({scheme.spec}, by train positives; before = probability >= {args.threshold:g}; "
              f"the test labels were not used for tuning)" + (f", bootstrap {args.bootstrap:,} resamples of the samples, "
                                                              f"seed {args.seed}" if args.bootstrap else "") + ":")
        print(f"  {'bin':<10}{'classes':>8}{'before':>9}{'95% CI':>17}{'after':>9}{'95% CI':>17}{'change':>9}"
              f"{'paired 95% CI':>20}")
        for r in table.itertuples(index=False):
            ci0 = f"[{_pct(r.f1_before_ci_low).strip()}, {_pct(r.f1_before_ci_high).strip()}]"
            ci1 = f"[{_pct(r.f1_after_ci_low).strip()}, {_pct(r.f1_after_ci_high).strip()}]"
            cid = (f"[{100 * r.delta_ci_low:+.1f}, {100 * r.delta_ci_high:+.1f}]" if r.delta_ci_low == r.delta_ci_low
                   else "–")
            print(f"  {r.bin:<10}{r.n_classes:>8}{_pct(r.f1_before):>9}{ci0:>17}{_pct(r.f1_after):>9}{ci1:>17}"
                  f"{100 * r.delta:>+8.1f} {cid:>19}")
        report = {**info, "bins": {r["bin"]: {k: (None if isinstance(v, float) and v != v else v)
                                              for k, v in r.items() if k != "bin"}
                                   for r in table.to_dict("records")},
                  "bootstrap": int(args.bootstrap), "seed": int(args.seed)}
    if args.out:
        write_npy(args.out, D1.astype(np.uint8))
        print(f"wrote {args.out}")
    if args.export:
        write_json(args.export, spec)
        print(f"wrote {args.export}")
    if args.report:
        if report is None:
            raise InputError("--report needs --labels (the test labels to report on)", field="--report")
        write_json(args.report, report)
        print(f"wrote {args.report}")
    return 0


def io_paths(args):
    from ..io import IOPaths

    return IOPaths(inputs={"--preds": args.preds, "--train-labels": args.train_labels,
                           "--train-counts": args.train_counts, "--labels": args.labels,
                           "--tune-on": list(args.tune_on or [])},
                   outputs={"--out": args.out, "--export": args.export, "--report": args.report})
