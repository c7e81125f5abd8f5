"""Decoupled classifier re-training (Kang et al. 2020) and the long-tail losses, wired together.

:func:`retrain` takes frozen features and labels per split (and optionally the joint classifier)
and returns a :class:`RetrainResult`: the new head, its settings, per-epoch training curves and
its logits on val and test. Methods:

``joint``     the classifier as loaded (or, without one / with another loss, a linear head
              trained with instance-balanced sampling and the chosen loss)
``crt``       classifier re-training: re-initialise the head, train it with class-balanced sampling
``lws``       learnable weight scaling: keep W, b; learn a per-class scale (class-balanced sampling)
``tau-norm``  no training: ``W_i / ||W_i||^τ`` with τ chosen on validation (bias dropped)
``ncm``       nearest class mean on L2-normalised features

Any loss of :data:`~lt_core.heads.losses.LOSSES` combines with any sampler of the rebalancing
toolkit and optionally SMOTE-augmented training features.

Multi-label training data ((N, C) 0/1 targets or :class:`~lt_core.data.schema.MultiLabels`):
``joint``, ``crt`` and ``lws`` with the sigmoid losses (:data:`~lt_core.heads.losses.ML_LOSSES`:
BCE, the class-balanced focal loss of Cui et al. 2019, distribution-balanced, asymmetric) and the
multi-label samplers (instance, class-aware per label, repeat factors over labels); cRT / LWS
default to class-aware sampling (as Wu et al. 2020 train). τ-norm and NCM pick one class per
sample (argmax) and are single-label methods.
"""
from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..data.schema import ClassificationDataset, ClassifierWeights, Predictions, Run
from ..errors import InputError
from ._deps import smote_resample, tau_normalize
from .losses import LOSSES, ML_LOSSES, make_loss
from .models import HEAD_MODELS, LinearHead, LWSHead, MLPHead, fold_lws
from .ncm import ncm_compute, ncm_head, ncm_init, ncm_update
from .train import (ML_SAMPLERS, SAMPLERS, SMALL_STEP_FLOPS, Progress, _threads, fit_head, per_bin_accuracy,
                    per_bin_map, predict_logits, resolve_device)

__all__ = ["METHODS", "ML_METHODS", "METHOD_LABELS", "METHOD_HELP", "DEFAULT_SAMPLER", "ML_DEFAULT_SAMPLER",
           "RetrainSettings", "RetrainResult", "retrain", "retrain_dataset", "choose_tau"]

METHODS = ("joint", "crt", "lws", "tau-norm", "ncm")
METHOD_LABELS = {"joint": "Joint", "crt": "cRT", "lws": "LWS", "tau-norm": "τ-norm", "ncm": "NCM"}
METHOD_HELP = {
    "joint": "The classifier as loaded; with another loss (or none loaded), a linear head trained with "
             "instance-balanced sampling (Kang et al. 2020, 'Joint').",
    "crt": "Classifier re-training: re-initialise the head and train it with class-balanced sampling "
           "(Kang et al. 2020).",
    "lws": "Learnable weight scaling: keep the joint W, b and learn one scale per class with class-balanced "
           "sampling (Kang et al. 2020).",
    "tau-norm": "τ-normalised classifier W_i/||W_i||^τ, no training; τ chosen on validation (Kang et al. 2020).",
    "ncm": "Nearest class mean: cosine similarity to the mean of the L2-normalised train features "
           "(Kang et al. 2020).",
}
DEFAULT_SAMPLER = {"joint": "instance", "crt": "class-balanced", "lws": "class-balanced",
                   "tau-norm": "instance", "ncm": "instance"}
#: the methods and default samplers for multi-label targets
ML_METHODS = ("joint", "crt", "lws")
ML_DEFAULT_SAMPLER = {"joint": "instance", "crt": "class-aware", "lws": "class-aware"}
DEFAULT_TAU_GRID = tuple(round(0.1 * i, 1) for i in range(21))  # 0.0 .. 2.0


@dataclass
class RetrainSettings:
    """Everything that defines one retraining (stored as the head's settings JSON).

    Attributes
    ----------
    method : {"joint", "crt", "lws", "tau-norm", "ncm"}
    loss : one of :data:`~lt_core.heads.losses.LOSSES`
    sampler : str or None
        A strategy of :func:`lt_core.rebalance.epoch_indices`; None = the method's default
        (instance for joint, class-balanced for cRT and LWS).
    epochs, batch_size, lr, momentum, weight_decay, schedule : SGD settings (Kang et al. 2020's
        cRT: 10 epochs, batch 512, cosine schedule).
    seed : int
        Seeds the head initialisation (``torch.manual_seed``), the sampler and the shuffling.
    model : {"linear", "mlp"}; hidden : MLP width.
    beta, gamma, tau : loss parameters (effective-number β; focal γ or EQLv2 γ; logit-adjusted τ).
    tau_norm : float or None
        Fixed τ of τ-norm; None = choose it on validation from ``tau_grid`` by ``tau_metric``.
    smote : str or None
        A method of :func:`lt_core.rebalance.smote_resample` ("smote", ...) to augment the
        training features; ``smote_k`` neighbours, ``smote_strategy`` its sampling strategy.
    use_loaded : bool
        Joint: use the loaded classifier as is (when the loss is ``ce`` and nothing is augmented).
    device : "auto", "cpu" or "cuda".
    name : str or None
        The run name (default: built from method, loss and sampler).
    multi_label : bool
        Multi-label targets (set by :func:`retrain` from the labels): sigmoid losses, the
        multi-label samplers and their defaults (class-aware for cRT / LWS).
    """

    method: str = "crt"
    loss: str = "ce"
    sampler: str | None = None
    epochs: int = 10
    batch_size: int = 512
    lr: float = 2.0
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "cosine"
    seed: int = 0
    model: str = "linear"
    hidden: int = 512
    beta: float | None = None
    gamma: float | None = None
    tau: float | None = None
    loss_params: dict = field(default_factory=dict)
    sampler_params: dict = field(default_factory=dict)
    tau_norm: float | None = None
    tau_grid: tuple = DEFAULT_TAU_GRID
    tau_metric: str = "balanced-accuracy"
    smote: str | None = None
    smote_k: int = 5
    smote_strategy: str = "auto"
    use_loaded: bool = True
    device: str = "auto"
    name: str | None = None
    multi_label: bool = False

    def __post_init__(self) -> None:
        self.method = str(self.method).strip().lower()
        self.loss = str(self.loss).strip().lower()
        if self.method not in METHODS:
            raise InputError(f"unknown method '{self.method}'", field="method", hint=f"use one of {', '.join(METHODS)}")
        if self.loss not in LOSSES:
            raise InputError(f"unknown loss '{self.loss}'", field="loss", hint=f"use one of {', '.join(LOSSES)}")
        if self.sampler is not None and self.sampler not in SAMPLERS and self.sampler not in ML_SAMPLERS:
            raise InputError(f"unknown sampler '{self.sampler}'", field="sampler",
                             hint=f"use one of {', '.join(SAMPLERS)} (multi-label: {', '.join(ML_SAMPLERS)})")
        if self.multi_label:
            self._check_multi_label()
        if self.model not in HEAD_MODELS:
            raise InputError(f"unknown head model '{self.model}'", field="model", hint="use linear or mlp")
        if self.model == "mlp" and self.method in ("lws", "tau-norm", "ncm"):
            raise InputError(f"{METHOD_LABELS[self.method]} works on a linear classifier, not an MLP",
                             field="model", hint="use --model linear, or method crt / joint for an MLP")
        if int(self.epochs) < 1:
            raise InputError(f"epochs must be >= 1, got {self.epochs}", field="epochs")
        if int(self.batch_size) < 1:
            raise InputError(f"batch size must be >= 1, got {self.batch_size}", field="batch_size")
        if not (float(self.lr) > 0 and np.isfinite(float(self.lr))):
            raise InputError(f"learning rate must be a positive number, got {self.lr}", field="lr")
        if self.beta is not None and not 0 <= float(self.beta) < 1:
            raise InputError(f"beta must be in [0, 1), got {self.beta}", field="beta")
        if self.gamma is not None and float(self.gamma) < 0:
            raise InputError(f"gamma must be >= 0, got {self.gamma}", field="gamma")
        if self.tau_metric not in ("balanced-accuracy", "accuracy"):
            raise InputError(f"unknown tau metric '{self.tau_metric}'", field="tau_metric",
                             hint="use balanced-accuracy or accuracy")
        self.epochs, self.batch_size, self.seed = int(self.epochs), int(self.batch_size), int(self.seed)
        self.tau_grid = tuple(float(t) for t in self.tau_grid)

    def _check_multi_label(self) -> None:
        if self.method not in ML_METHODS:
            raise InputError(f"{METHOD_LABELS[self.method]} picks one class per sample: a single-label method",
                             field="method", hint=f"multi-label methods: {', '.join(ML_METHODS)}")
        if self.loss not in ML_LOSSES:
            raise InputError(f"the loss '{self.loss}' is a softmax (single-label) loss", field="loss",
                             hint=f"multi-label losses: {', '.join(ML_LOSSES)}")
        if self.sampler is not None and self.sampler not in ML_SAMPLERS:
            raise InputError(f"sampler '{self.sampler}' is for single-label data", field="sampler",
                             hint=f"multi-label samplers: {', '.join(ML_SAMPLERS)}")
        if self.smote:
            raise InputError("SMOTE interpolates single-label samples; it is not defined for multi-label targets",
                             field="smote")

    @property
    def resolved_sampler(self) -> str:
        """The sampler actually used (the method's default when ``sampler`` is None)."""
        if self.multi_label:
            return self.sampler or ML_DEFAULT_SAMPLER[self.method]
        return self.sampler or DEFAULT_SAMPLER[self.method]

    @property
    def _joint_as_loaded_possible(self) -> bool:
        base = "bce" if self.multi_label else "ce"
        return self.use_loaded and self.loss == base and self.smote is None and self.sampler in (None, "instance")

    def label(self) -> str:
        """A short run name, e.g. ``cRT·ce·class-balanced·s0``."""
        if self.name:
            return self.name
        m = METHOD_LABELS[self.method]
        if self.method in ("tau-norm", "ncm"):
            return m
        parts = [m, self.loss, self.resolved_sampler]
        if self.model == "mlp":
            parts.append("mlp")
        if self.smote:
            parts.append(self.smote)
        return "·".join(parts) + f"·s{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tau_grid"] = list(self.tau_grid)
        d["resolved_sampler"] = self.resolved_sampler
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RetrainSettings":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class RetrainResult:
    """The outcome of one retraining.

    Attributes
    ----------
    name : str                      run name
    settings : RetrainSettings
    head : nn.Module                a plain :class:`LinearHead` or :class:`MLPHead` on CPU (LWS folded)
    history : list of dict          per epoch: epoch, loss, lr, time_s, samples, val_all, val_<bin>
    scores : dict split -> ndarray (N, C) float32   logits of the new head
    tau : float or None             τ of τ-norm
    tau_search : list of dict       τ-norm: tau and the validation metric for each grid value
    elapsed_s : float               wall time of the whole retraining (s)
    device : str
    notes : list of str             what was decided on the way (e.g. "τ chosen on val")
    """

    name: str
    settings: RetrainSettings
    head: nn.Module
    history: list[dict]
    scores: dict[str, np.ndarray]
    tau: float | None = None
    tau_search: list[dict] = field(default_factory=list)
    elapsed_s: float = 0.0
    device: str = "cpu"
    notes: list[str] = field(default_factory=list)
    bin_scheme: str = "imagenet-lt"

    def history_frame(self) -> pd.DataFrame:
        """The training curves as a DataFrame (one row per epoch)."""
        return pd.DataFrame(self.history)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Logits (N, C) float32 of the head on features X (N, D)."""
        return predict_logits(self.head, X, device=torch.device("cpu"))

    def to_run(self) -> Run:
        """A :class:`~lt_core.data.Run` with the val / test logits, for the Metrics page."""
        desc = f"retrained head: {self.settings.label()}"
        return Run(self.name, {s: Predictions(s, "logits", scores=v) for s, v in self.scores.items()},
                   source="lt_core.heads", description=desc)

    def summary(self, y_true: np.ndarray, train_counts: np.ndarray, split: str = "test") -> dict[str, float]:
        """Bin accuracies of the new head on one split (see :func:`~lt_core.heads.per_bin_accuracy`)."""
        return per_bin_accuracy(np.asarray(y_true), self.scores[split].argmax(1), train_counts, self.bin_scheme)


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray, n_classes: int) -> float:
    total = np.bincount(y, minlength=n_classes)
    correct = np.bincount(y[y == pred], minlength=n_classes)
    m = total > 0
    return float((correct[m] / total[m]).mean())


def choose_tau(X_val: np.ndarray, y_val: np.ndarray, W: np.ndarray, grid=DEFAULT_TAU_GRID,
               metric: str = "balanced-accuracy") -> tuple[float, list[dict]]:
    """Pick τ of τ-norm on validation (Kang et al. 2020 tune τ on the val split).

    Parameters
    ----------
    X_val : ndarray (N, D); y_val : ndarray (N,); W : ndarray (C, D)
    grid : sequence of float
    metric : ``balanced-accuracy`` (mean per-class recall; equals accuracy on a class-balanced
        val set such as ImageNet-LT's) or ``accuracy``.

    Returns
    -------
    (tau, search) : the best τ (the smallest on ties) and one ``{"tau", metric}`` dict per value.
    """
    y_val = np.asarray(y_val, dtype=np.int64)
    Xv = torch.as_tensor(np.asarray(X_val, dtype=np.float32))
    search = []
    for t in grid:
        Wn = torch.as_tensor(tau_normalize(W, t), dtype=torch.float32)
        pred = (Xv @ Wn.T).argmax(1).numpy()
        val = _balanced_accuracy(y_val, pred, W.shape[0]) if metric == "balanced-accuracy" \
            else float((pred == y_val).mean())
        search.append({"tau": float(t), metric: val})
    best = max(search, key=lambda r: (r[metric], -r["tau"]))
    return best["tau"], search


def _as_wb(classifier) -> tuple[np.ndarray, np.ndarray] | None:
    if classifier is None:
        return None
    if isinstance(classifier, ClassifierWeights):
        return np.asarray(classifier.W, np.float32), np.asarray(classifier.b, np.float32)
    W, b = classifier
    W = np.asarray(W, np.float32)
    return W, (np.zeros(W.shape[0], np.float32) if b is None else np.asarray(b, np.float32))


def _new_head(s: RetrainSettings, d: int, c: int, cosine: bool, bias_init: float | None = None) -> nn.Module:
    scale = float(s.loss_params.get("s", 30.0)) if cosine else 1.0
    if s.model == "mlp":
        head = MLPHead(d, c, hidden=s.hidden, cosine=cosine, scale=scale)
        out = head.out
    elif cosine:
        return LinearHead(d, c, bias=False, normalize_input=True, normalize_weight=True, scale=scale)
    else:
        head = out = LinearHead(d, c)
    if bias_init is not None and out.bias is not None:  # the paper's prior init of sigmoid heads (Cui et al. 2019)
        with torch.no_grad():
            out.bias.fill_(float(bias_init))
    return head


def retrain(features: dict[str, np.ndarray], labels: dict[str, np.ndarray], n_classes: int,
            settings: RetrainSettings, *, classifier: ClassifierWeights | tuple | None = None,
            train_counts: np.ndarray | None = None, bin_scheme: str = "imagenet-lt",
            progress: Callable[[Progress], None] | None = None,
            cancel: threading.Event | Callable[[], bool] | None = None) -> RetrainResult:
    """Retrain (or re-derive) a classifier head on frozen features.

    Parameters
    ----------
    features : dict split -> ndarray (N_s, D) float32
        ``train`` is required; ``val`` (for curves and τ) and ``test`` are optional.
    labels : dict split -> ndarray (N_s,) int64
        Class indices 0..C-1 for the same splits.
    n_classes : int
        C.
    settings : RetrainSettings
    classifier : ClassifierWeights or (W (C, D), b (C,)), optional
        The joint classifier (needed as is by joint-as-loaded, LWS and τ-norm; without it they
        start from a linear head trained with instance-balanced cross-entropy).
    train_counts : ndarray (C,), optional
        Train samples per class for bins, priors and weights (default: counted from the train
        labels).
    bin_scheme : str
        Bins of the per-epoch validation curves (by train counts).
    progress, cancel : see :func:`lt_core.heads.fit_head`.

    Returns
    -------
    RetrainResult
    """
    s = settings
    d = np.shape(features["train"])[1] if "train" in features and np.ndim(features["train"]) == 2 else 0
    small = resolve_device(s.device).type == "cpu" and 2.0 * s.batch_size * d * n_classes < SMALL_STEP_FLOPS
    multi = any(hasattr(y, "indptr") or np.ndim(y) == 2 for y in labels.values())
    with _threads(1 if small else None):
        if multi:
            if not s.multi_label:
                s = RetrainSettings.from_dict({**s.to_dict(), "multi_label": True})
            return _retrain_multilabel(features, labels, n_classes, s, classifier=classifier,
                                       train_counts=train_counts, bin_scheme=bin_scheme, progress=progress,
                                       cancel=cancel)
        return _retrain(features, labels, n_classes, s, classifier=classifier, train_counts=train_counts,
                        bin_scheme=bin_scheme, progress=progress, cancel=cancel)


def _retrain(features, labels, n_classes, s: RetrainSettings, *, classifier, train_counts, bin_scheme, progress,
             cancel) -> RetrainResult:
    t0 = time.perf_counter()
    if "train" not in features or "train" not in labels:
        raise InputError("retraining needs train features and train labels", field="train")
    Xtr = np.asarray(features["train"], dtype=np.float32)
    ytr = np.asarray(labels["train"], dtype=np.int64)
    for split, X in features.items():
        if split not in labels:
            raise InputError(f"{split} features have no {split} labels", field=split)
        if len(X) != len(labels[split]):
            raise InputError(f"{split} features have {len(X)} rows, {split} labels {len(labels[split])}",
                             field=split)
        if X.ndim != 2 or X.shape[1] != Xtr.shape[1]:
            raise InputError(f"{split} features have shape {X.shape}, expected (N, {Xtr.shape[1]})", field=split)
        if not np.isfinite(X).all():
            raise InputError(f"{split} features contain NaN or infinite values", field=split)
    for split, y in labels.items():
        y = np.asarray(y)
        if len(y) and (y.min() < 0 or y.max() >= n_classes):
            raise InputError(f"{split} labels must be class indices 0..{n_classes - 1}", field=split)
    n_present = int((np.bincount(ytr, minlength=n_classes) > 0).sum()) if len(ytr) else 0
    if n_present < 2:
        raise InputError(f"the train labels hold {n_present} class{'' if n_present == 1 else 'es'} with samples; a "
                         "classifier needs at least two (with one, the loss is 0 and nothing is learned)",
                         field="train labels", hint="train on labels of at least two classes")
    counts = np.bincount(ytr, minlength=n_classes) if train_counts is None else np.asarray(train_counts)
    dev = resolve_device(s.device)
    wb = _as_wb(classifier)
    if wb is not None and wb[0].shape != (n_classes, Xtr.shape[1]):
        raise InputError(f"classifier weights have shape {wb[0].shape}, expected ({n_classes}, {Xtr.shape[1]})",
                         field="W")
    val = (features["val"], np.asarray(labels["val"], np.int64)) if "val" in features else None
    notes: list[str] = []
    history: list[dict] = []
    tau = None
    tau_search: list[dict] = []

    X_fit, y_fit = Xtr, ytr
    if s.smote and s.method in ("joint", "crt", "lws", "ncm"):
        if progress is not None:
            progress(Progress(phase=f"{s.smote} on the train features"))
        X_fit, y_fit, info = smote_resample(Xtr, ytr, method=s.smote, sampling_strategy=s.smote_strategy,
                                            k_neighbors=s.smote_k, seed=s.seed)
        X_fit = np.asarray(X_fit, np.float32)
        y_fit = np.asarray(y_fit, np.int64)
        notes.append(f"{s.smote}: {len(Xtr):,} -> {len(X_fit):,} training features (loss priors and weights "
                     "from the augmented counts; bins from the original train counts)")
    fit_counts = np.bincount(y_fit, minlength=n_classes) if y_fit is not ytr else counts

    def fit(head, loss, sampler):
        return fit_head(head, X_fit, y_fit, loss, n_classes=n_classes, epochs=s.epochs, batch_size=s.batch_size,
                        lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay, schedule=s.schedule,
                        sampler=sampler, sampler_params=s.sampler_params, seed=s.seed, device=dev, val=val,
                        train_counts=counts, bin_scheme=bin_scheme, progress=progress, cancel=cancel)

    def loss_for(cosine_head: bool):
        params = dict(s.loss_params)
        if s.loss == "ldam-drw" and not cosine_head:
            params["s"] = 1.0  # margins in logit units on a plain head
        return make_loss(s.loss, fit_counts, beta=s.beta, gamma=s.gamma, tau=s.tau, **params)

    def joint_base() -> tuple[np.ndarray, np.ndarray]:
        if wb is not None:
            return wb
        notes.append("no classifier loaded: trained a joint linear head first (instance sampling, CE)")
        torch.manual_seed(s.seed)
        base = LinearHead(Xtr.shape[1], n_classes)
        fit_head(base, Xtr, ytr, make_loss("ce", counts), n_classes=n_classes, epochs=s.epochs,
                 batch_size=s.batch_size, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay,
                 schedule=s.schedule, sampler="instance", seed=s.seed, device=dev, progress=progress, cancel=cancel)
        return base.weight.detach().cpu().numpy(), base.bias.detach().cpu().numpy()

    torch.manual_seed(s.seed)
    if s.method == "joint" and wb is not None and s._joint_as_loaded_possible:
        head = LinearHead(Xtr.shape[1], n_classes)
        with torch.no_grad():
            head.weight.copy_(torch.as_tensor(wb[0]))
            head.bias.copy_(torch.as_tensor(wb[1]))
        notes.append("the classifier as loaded (no training)")
    elif s.method in ("joint", "crt"):
        loss = loss_for(cosine_head=False)
        cosine = loss.wants_cosine_head
        loss = loss_for(cosine_head=cosine)
        head = _new_head(s, Xtr.shape[1], n_classes, cosine)
        history = fit(head, loss, s.resolved_sampler)
    elif s.method == "lws":
        W, b = joint_base()
        torch.manual_seed(s.seed)
        lws = LWSHead(W, b)
        history = fit(lws, loss_for(cosine_head=False), s.resolved_sampler)
        head = fold_lws(lws.cpu())
    elif s.method == "tau-norm":
        W, _ = joint_base()
        if s.tau_norm is not None:
            tau = float(s.tau_norm)
            notes.append(f"τ = {tau:g} fixed by the user")
        elif val is not None:
            tau, tau_search = choose_tau(val[0], val[1], W, s.tau_grid, s.tau_metric)
            notes.append(f"τ = {tau:g} chosen on val by {s.tau_metric}")
        else:
            tau = 1.0
            notes.append("no val split: τ = 1 (no tuning; Kang et al. 2020 tune it on val)")
        head = LinearHead(Xtr.shape[1], n_classes, bias=False)
        with torch.no_grad():
            head.weight.copy_(torch.as_tensor(tau_normalize(W, tau), dtype=torch.float32))
        notes.append("τ-norm drops the bias (scores = X @ W_τ.T)")
    else:  # ncm
        st = ncm_update(ncm_init(n_classes, Xtr.shape[1]), X_fit, y_fit)
        head = ncm_head(ncm_compute(st))

    head = head.cpu().eval()
    scores = {split: predict_logits(head, X, device=torch.device("cpu"))
              for split, X in features.items() if split in ("val", "test")}
    if s.method in ("tau-norm", "ncm") or (s.method == "joint" and not history):
        if val is not None:  # a single evaluation point so every run has a curve entry
            acc = per_bin_accuracy(val[1], scores["val"].argmax(1), counts, bin_scheme)
            history = [{"epoch": 0, "loss": float("nan"), "lr": float("nan"), "time_s": 0.0,
                        "samples": 0, **{f"val_{k}": v for k, v in acc.items()}}]
    return RetrainResult(name=s.label(), settings=s, head=head, history=history, scores=scores, tau=tau,
                         tau_search=tau_search, elapsed_s=time.perf_counter() - t0, device=str(dev),
                         notes=notes, bin_scheme=str(bin_scheme))


def _retrain_multilabel(features, labels, n_classes, s: RetrainSettings, *, classifier, train_counts, bin_scheme,
                        progress, cancel) -> RetrainResult:
    """:func:`retrain` for multi-label targets: joint / cRT / LWS with a sigmoid loss."""
    t0 = time.perf_counter()
    if "train" not in features or "train" not in labels:
        raise InputError("retraining needs train features and train labels", field="train")
    Xtr = np.asarray(features["train"], dtype=np.float32)
    dense = {}
    for split, y in labels.items():
        Y = y.dense() if hasattr(y, "dense") else np.asarray(y)
        if Y.ndim != 2 or Y.shape[1] != n_classes:
            raise InputError(f"{split} labels must be an (N, {n_classes}) 0/1 matrix, got shape {Y.shape}",
                             field=split)
        dense[split] = Y.astype(bool)
    for split, X in features.items():
        if split not in dense:
            raise InputError(f"{split} features have no {split} labels", field=split)
        if len(X) != len(dense[split]):
            raise InputError(f"{split} features have {len(X)} rows, {split} labels {len(dense[split])}", field=split)
        if X.ndim != 2 or X.shape[1] != Xtr.shape[1]:
            raise InputError(f"{split} features have shape {X.shape}, expected (N, {Xtr.shape[1]})", field=split)
        if not np.isfinite(X).all():
            raise InputError(f"{split} features contain NaN or infinite values", field=split)
    Ytr = dense["train"]
    counts = Ytr.sum(0).astype(np.int64) if train_counts is None else np.asarray(train_counts)
    dev = resolve_device(s.device)
    wb = _as_wb(classifier)
    if wb is not None and wb[0].shape != (n_classes, Xtr.shape[1]):
        raise InputError(f"classifier weights have shape {wb[0].shape}, expected ({n_classes}, {Xtr.shape[1]})",
                         field="W")
    val = (features["val"], dense["val"]) if "val" in features else None
    notes: list[str] = []
    history: list[dict] = []
    params = dict(s.loss_params)
    params.setdefault("n_train", len(Ytr))  # DB's priors need the number of train samples, not sum of positives
    loss = make_loss(s.loss, counts, beta=s.beta, gamma=s.gamma, tau=s.tau, **params)

    def fit(head, sampler):
        return fit_head(head, Xtr, Ytr, loss, n_classes=n_classes, epochs=s.epochs, batch_size=s.batch_size,
                        lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay, schedule=s.schedule,
                        sampler=sampler, sampler_params=s.sampler_params, seed=s.seed, device=dev, val=val,
                        train_counts=counts, bin_scheme=bin_scheme, progress=progress, cancel=cancel)

    torch.manual_seed(s.seed)
    if s.method == "joint" and wb is not None and s._joint_as_loaded_possible:
        head = LinearHead(Xtr.shape[1], n_classes)
        with torch.no_grad():
            head.weight.copy_(torch.as_tensor(wb[0]))
            head.bias.copy_(torch.as_tensor(wb[1]))
        notes.append("the classifier as loaded (no training)")
    elif s.method in ("joint", "crt"):
        head = _new_head(s, Xtr.shape[1], n_classes, False, getattr(loss, "bias_init", None))
        history = fit(head, s.resolved_sampler)
    else:  # lws on the joint (sigmoid) classifier
        if wb is None:
            notes.append("no classifier loaded: trained a joint linear head first (instance sampling, BCE)")
            base = LinearHead(Xtr.shape[1], n_classes)
            fit_head(base, Xtr, Ytr, make_loss("bce", counts), n_classes=n_classes, epochs=s.epochs,
                     batch_size=s.batch_size, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay,
                     schedule=s.schedule, sampler="instance", seed=s.seed, device=dev, progress=progress,
                     cancel=cancel)
            wb = (base.weight.detach().cpu().numpy(), base.bias.detach().cpu().numpy())
        torch.manual_seed(s.seed)
        lws = LWSHead(*wb)
        history = fit(lws, s.resolved_sampler)
        head = fold_lws(lws.cpu())
    head = head.cpu().eval()
    scores = {split: predict_logits(head, X, device=torch.device("cpu"))
              for split, X in features.items() if split in ("val", "test")}
    if not history and val is not None:
        acc = per_bin_map(val[1], scores["val"], counts, bin_scheme)
        history = [{"epoch": 0, "loss": float("nan"), "lr": float("nan"), "time_s": 0.0, "samples": 0,
                    **{f"val_{k}": v for k, v in acc.items()}}]
    return RetrainResult(name=s.label(), settings=s, head=head, history=history, scores=scores, tau=None,
                         tau_search=[], elapsed_s=time.perf_counter() - t0, device=str(dev), notes=notes,
                         bin_scheme=str(bin_scheme))


def retrain_dataset(ds: ClassificationDataset, settings: RetrainSettings, *, bin_scheme: str | None = None,
                    progress=None, cancel=None) -> RetrainResult:
    """:func:`retrain` on a :class:`~lt_core.data.ClassificationDataset` (its features, labels,
    classifier and train counts)."""
    if "train" not in ds.features or "train" not in ds.labels:
        raise InputError(f"dataset '{ds.name}' has no train features and labels to retrain on",
                         field="features", hint="load train features (.npy) and train labels")
    feats = {s: f.X for s, f in ds.features.items() if s in ds.labels}
    labs = {s: (ds.labels[s] if ds.multi_label else ds.labels[s].y) for s in feats}
    return retrain(feats, labs, ds.classes.n_classes, settings, classifier=ds.classifier,
                   train_counts=ds.classes.train_count, bin_scheme=bin_scheme or ds.default_bins,
                   progress=progress, cancel=cancel)
