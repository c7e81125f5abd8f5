"""``python -m lt_core retrain``: retrain a classifier head on frozen features (cRT, LWS, τ-norm, NCM)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from ..bins import parse_bins
from ..data.assemble import resolve_classes
from ..data.loaders import load_classifier, load_features, load_labels
from ..errors import InputError
from .argtypes import FINITE, NONNEG, POSITIVE, SEED, UNIT_OPEN, int_in
from ..io import atomic_dir, write_csv, write_json, write_npy
from ..metrics import classification_report

NAME = "retrain"
HELP = "retrain a classifier head on frozen features (joint, cRT, LWS, tau-norm, NCM) with long-tail losses"
DESCRIPTION = """Retrain (or re-derive) the classifier on frozen features, the decoupled way of
Kang et al. 2020, with any long-tail loss and any sampler of the rebalancing toolkit.

Methods: joint (the --classifier as loaded, or a linear head trained with instance sampling),
crt (re-initialised head, class-balanced sampling), lws (learn one scale per class of the
joint classifier), tau-norm (W_i/||W_i||^tau, tau chosen on val), ncm (nearest class mean).
Losses: ce, cb (beta), cb-softmax-focal (beta, gamma; its old name focal still works),
balanced-softmax, ldam-drw, logit-adjusted (tau), seesaw (p 0.8, q 2.0), eqlv2 (gamma 12, mu 0.8,
alpha 4), and the sigmoid losses on one-hot targets: cb-focal (Cui et al. 2019's sigmoid
class-balanced focal loss, beta 0.9999, gamma 1), bce, db (distribution-balanced, Wu et al. 2020),
asl (asymmetric, Ridnik et al. 2021). Multi-label targets: the Retrain page or
lt_core.heads.retrain (this command stops with the choices when a label file is multi-label).

Writes into --out: head.safetensors (or head.pt with --format torch) and head.json (the
settings, architecture and training curves), history.csv, val_scores.npy / test_scores.npy
(N x C logits, column j = class index j) and report.json (the eval-cls JSON for the test split;
bins by the TRAIN counts). Re-use the head elsewhere:

    from lt_core.heads import load_head
    logits = load_head(OUT).predict(X)"""


def add_arguments(p) -> None:
    from ..heads import HEAD_FORMATS, LOSSES, METHODS, SAMPLERS
    from ..rebalance import SMOTE_METHODS

    g = p.add_argument_group("inputs")
    g.add_argument("--train-features", required=True, metavar="F", help="train features N x D (.npy/.npz/.parquet)")
    g.add_argument("--train-labels", required=True, metavar="L", help="train labels (any format the loaders read)")
    g.add_argument("--val-features", metavar="F", help="validation features (curves, tau of tau-norm)")
    g.add_argument("--val-labels", metavar="L", help="validation labels")
    g.add_argument("--test-features", metavar="F", help="test features (scores and report.json)")
    g.add_argument("--test-labels", metavar="L", help="test labels")
    g.add_argument("--classifier", metavar="W", help="the joint classifier W (C x D), b (.pt/.safetensors/.npz)")
    m = p.add_argument_group("method")
    m.add_argument("--method", required=True, choices=METHODS, help="joint | crt | lws | tau-norm | ncm")
    m.add_argument("--loss", default="ce", choices=LOSSES, help="training loss (default ce)")
    m.add_argument("--sampler", choices=SAMPLERS, default=None,
                   help="epoch sampler (default: instance for joint, class-balanced for crt and lws)")
    m.add_argument("--epochs", type=int_in(1, 100_000), default=10, metavar="E", help="epochs (default 10, as cRT)")
    m.add_argument("--seed", type=SEED, default=0, metavar="S",
                   help="seed of init, sampling and shuffling, in [0, 2^32) (default 0)")
    m.add_argument("--lr", type=POSITIVE, default=2.0, help="SGD learning rate, cosine schedule (default 2.0)")
    m.add_argument("--batch-size", type=int_in(1, 10_000_000), default=512, help="mini-batch size (default 512)")
    m.add_argument("--weight-decay", type=NONNEG, default=0.0, help="SGD weight decay (default 0)")
    m.add_argument("--model", choices=("linear", "mlp"), default="linear", help="head (default linear)")
    m.add_argument("--hidden", type=int_in(1, 65_536), default=512, help="MLP hidden width, 1 .. 65536 (default 512)")
    m.add_argument("--beta", type=UNIT_OPEN, help="effective-number beta of cb / cb-softmax-focal / cb-focal / ldam-drw, "
                                                  "in [0, 1) (default 0.9999)")
    m.add_argument("--gamma", type=NONNEG, help="focal gamma of cb-softmax-focal / cb-focal (default 1), db (2) or "
                                                "eqlv2 (12)")
    m.add_argument("--tau", type=FINITE, help="tau of the logit-adjusted loss (default 1)")
    m.add_argument("--tau-norm", type=NONNEG, help="fixed tau of tau-norm (default: chosen on val)")
    m.add_argument("--smote", choices=SMOTE_METHODS,
                   help="augment the train features first (lt_core.rebalance.smote_resample)")
    m.add_argument("--smote-k", type=int_in(1, 10_000), default=5, help="SMOTE neighbours (default 5)")
    m.add_argument("--device", default="auto", help="auto (CUDA when available) | cpu | cuda")
    o = p.add_argument_group("output")
    o.add_argument("--out", required=True, metavar="DIR", help="output folder")
    o.add_argument("--format", choices=HEAD_FORMATS, default="safetensors", help="head weights format")
    o.add_argument("--bins", default="imagenet-lt", metavar="SCHEME",
                   help="imagenet-lt (default), lvis, quantile:K or custom:A,B (by train count)")
    o.add_argument("--bootstrap", type=int_in(0, 1_000_000), default=0, metavar="N",
                   help="bootstrap resamples for report CIs (0 = none)")
    o.add_argument("--quiet", action="store_true", help="no per-epoch lines")


def _pair(args, split: str):
    f, lab = getattr(args, f"{split}_features"), getattr(args, f"{split}_labels")
    if (f is None) != (lab is None):
        give = f"--{split}-labels" if lab is None else f"--{split}-features"
        raise InputError(f"{split} features and labels go together: {give} is missing", field=give)
    return f, lab


def _pct(x) -> str:
    return "    –" if x is None or x != x else f"{100 * x:5.1f}%"


def run(args) -> int:
    from ..heads import RetrainSettings, retrain, save_head

    scheme = parse_bins(args.bins)
    settings = RetrainSettings(method=args.method, loss=args.loss, sampler=args.sampler, epochs=args.epochs,
                               seed=args.seed, lr=args.lr, batch_size=args.batch_size,
                               weight_decay=args.weight_decay, model=args.model, hidden=args.hidden,
                               beta=args.beta, gamma=args.gamma, tau=args.tau, tau_norm=args.tau_norm,
                               smote=args.smote, smote_k=args.smote_k, device=args.device)
    classes, train = resolve_classes(args.train_labels, None, None, ())
    present = np.flatnonzero(train.counts(classes.n_classes) > 0)
    if len(present) < 2:
        only = f" (only class {classes.names[present[0]]!r})" if len(present) else ""
        raise InputError(f"the training labels hold {len(present)} class{'es' if len(present) != 1 else ''}{only}; "
                         "a classifier needs at least two classes with training samples", args.train_labels, "label",
                         hint="give the labels of every class you want the head to tell apart")
    feats, labs = {}, {}
    for split in ("train", "val", "test"):
        f, lab = _pair(args, split)
        if f is None:
            continue
        F = load_features(f, split)
        Y = train if split == "train" else load_labels(lab, classes, split=split)[0]
        if len(F.X) != len(Y.y):
            raise InputError(f"{len(F.X):,} feature rows but {len(Y.y):,} labels in {lab}", f, "rows",
                             hint=f"the {split} features and labels must list the same samples")
        feats[split], labs[split] = F.X, Y.y
    for split, X in feats.items():
        if X.shape[1] != feats["train"].shape[1]:
            raise InputError(f"{X.shape[1]} feature dimensions, the train features have {feats['train'].shape[1]}",
                             getattr(args, f"{split}_features"), "columns")
    clf = load_classifier(args.classifier) if args.classifier else None
    if clf is not None and clf.W.shape != (classes.n_classes, feats["train"].shape[1]):
        raise InputError(f"classifier W has shape {tuple(clf.W.shape)}, expected "
                         f"({classes.n_classes}, {feats['train'].shape[1]}) (classes x feature dimensions)",
                         args.classifier, "weight")
    if args.method in ("lws", "tau-norm") and clf is None:
        print(f"note: no --classifier: {args.method} starts from a joint linear head trained here", file=sys.stderr)

    last = [0.0]

    def progress(p):
        if args.quiet or p.step != p.steps:
            return
        if time.perf_counter() - last[0] > 0.0:
            last[0] = time.perf_counter()
            print(f"  epoch {p.epoch:>3}/{p.epochs}  loss {p.loss:.4f}  {p.elapsed_s:6.1f} s  "
                  f"~{p.eta_s:,.0f} s left", file=sys.stderr)

    res = retrain(feats, labs, classes.n_classes, settings, classifier=clf, train_counts=classes.train_count,
                  bin_scheme=scheme.spec, progress=progress)
    out = Path(args.out)
    rep = None
    if "test" in res.scores:
        rep = classification_report(labs["test"], None, classes, scheme, scores=res.scores["test"], kind="logits",
                                    bootstrap=args.bootstrap, seed=args.seed)
    # the folder is written as a whole: a killed run leaves the old folder (or none), never a
    # folder that looks complete without report.json
    with atomic_dir(out) as tmp:
        paths = save_head(res, tmp, args.format)
        written = [paths["weights"].name, paths["settings"].name]
        if res.history:
            write_csv(tmp / "history.csv", res.history_frame())
            written.append("history.csv")
        for split, sc in res.scores.items():
            write_npy(tmp / f"{split}_scores.npy", sc.astype(np.float32, copy=False))
            written.append(f"{split}_scores.npy")
        if rep is not None:
            write_json(tmp / "report.json", rep.to_dict())
            written.append("report.json")
    print(f"{res.name}: {len(feats['train']):,} train samples, {classes.n_classes:,} classes, "
          f"{res.elapsed_s:.1f} s on {res.device}" + (f", tau {res.tau:g}" if res.tau is not None else ""))
    for n in res.notes:
        print(f"  note: {n}")
    if rep is not None:
        o = rep.overall
        print(f"test: accuracy {_pct(o['accuracy']).strip()}, balanced accuracy {_pct(o['balanced_accuracy']).strip()}"
              " | " + ", ".join(f"{name} {_pct(r['accuracy']).strip()}" for name, r in rep.bins.iterrows()))
    else:
        print("no test split given: no test scores and no report.json")
    print(f"wrote {out}/: {', '.join(written)}")
    return 0


#: every file retrain may write into --out
OUT_FILES = ("head.safetensors", "head.pt", "head.json", "history.csv", "train_scores.npy", "val_scores.npy",
             "test_scores.npy", "report.json")


def io_paths(args):
    from ..io import IOPaths

    return IOPaths(inputs={f"--{k.replace('_', '-')}": getattr(args, k) for k in
                           ("train_features", "train_labels", "val_features", "val_labels", "test_features",
                            "test_labels", "classifier")},
                   output_dirs={"--out": (args.out, OUT_FILES)})
