"""The training loop for heads on frozen features: mini-batches by index tensors, no DataLoader.

The features are moved to the device once; each epoch draws its sample order from the
rebalancing toolkit's sampler (:func:`lt_core.rebalance.epoch_indices`), shuffles it with a
seeded ``torch.Generator``, and takes batches with ``index_select``. No per-sample Python code
runs. Deterministic on CPU for a given seed; runs on CUDA when it is there.
"""
from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ._deps import epoch_indices, multilabel_epoch_indices
from .losses import HeadLoss

__all__ = ["Progress", "TrainingCancelled", "fit_head", "resolve_device", "predict_logits",
           "per_bin_accuracy", "per_bin_map", "SAMPLERS", "ML_SAMPLERS"]

from ..rebalance import STRATEGIES as SAMPLERS  # noqa: E402  (the rebalancing toolkit's samplers)
from ..rebalance import ML_STRATEGIES as ML_SAMPLERS  # noqa: E402  (its multi-label samplers)


class TrainingCancelled(Exception):
    """Raised inside :func:`fit_head` when the cancel flag is set."""


@dataclass
class Progress:
    """Where a training run stands (sent to the progress callback after every step).

    Attributes
    ----------
    epoch : int          current epoch, 1-based
    epochs : int         total epochs
    step, steps : int    step within the epoch (1-based) and steps per epoch
    loss : float         mean training loss of the current epoch so far
    elapsed_s : float    seconds since training started
    eta_s : float        estimated seconds left
    phase : str          ``"train"``, ``"evaluate"`` or ``"done"``
    """

    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps: int = 0
    loss: float = float("nan")
    elapsed_s: float = 0.0
    eta_s: float = float("nan")
    phase: str = "train"

    @property
    def fraction(self) -> float:
        """Fraction of all steps done, in [0, 1]."""
        total = self.epochs * self.steps
        return 0.0 if total == 0 else min(1.0, ((self.epoch - 1) * self.steps + self.step) / total)


def resolve_device(device: str | None = "auto") -> torch.device:
    """``"auto"``: CUDA when available, else CPU."""
    if device in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise InputError(f"unknown device '{device}'", field="device", hint="use auto, cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError("CUDA was requested but is not available", field="device", hint="use --device auto")
    return dev


@torch.no_grad()
def predict_logits(head: nn.Module, X: np.ndarray | torch.Tensor, batch_size: int = 8192,
                   device: torch.device | None = None) -> np.ndarray:
    """Logits (N, C) float32 of a head on features X (N, D), computed in chunks."""
    dev = device or next(iter(head.buffers()), next(head.parameters())).device
    head.eval()
    Xt = torch.from_numpy(np.require(X, np.float32, ["C", "W"])) if not torch.is_tensor(X) else X
    outs = [head(Xt[i:i + batch_size].to(dev)).float().cpu() for i in range(0, len(Xt), batch_size)]
    if not outs:
        return np.zeros((0, getattr(head, "n_classes", 0)), dtype=np.float32)
    return torch.cat(outs).numpy()


def per_bin_accuracy(y_true: np.ndarray, y_pred: np.ndarray, train_counts: np.ndarray,
                     scheme: str = "imagenet-lt") -> dict[str, float]:
    """Bin accuracies as the Metrics page and ``eval-cls`` report them, plus ``all`` and ``accuracy``.

    A bin's accuracy is the mean per-class recall over its classes with samples
    (:func:`lt_core.metrics.bin_accuracy`; Kang et al. 2020 on a balanced test set); ``all`` is
    the same over every class (balanced accuracy, scikit-learn's ``balanced_accuracy_score``)
    and ``accuracy`` the plain fraction of correct samples.
    """
    from ..metrics import bin_accuracy

    y = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    c = len(train_counts)
    support = np.bincount(y, minlength=c)
    correct = np.bincount(y[y == p], minlength=c)
    m = support > 0
    out = {"all": float((correct[m] / support[m]).mean()) if m.any() else float("nan"),
           "accuracy": float(correct.sum() / support.sum()) if support.sum() else float("nan")}
    out.update(bin_accuracy(y, p, train_counts, scheme))
    return out


def per_bin_map(Y_true, scores: np.ndarray, train_counts: np.ndarray, scheme: str = "quantile:3") -> dict[str, float]:
    """Multi-label analogue of :func:`per_bin_accuracy`: mAP per bin, ``all`` (mAP over every class
    with positives) and ``macro_f1`` at 0.5 on the sigmoid of the logits (:mod:`lt_core.metrics.multilabel`)."""
    from ..data.schema import ClassTable
    from ..metrics.multilabel import multilabel_report

    c = len(train_counts)
    classes = ClassTable(np.arange(c), [str(i) for i in range(c)], np.asarray(train_counts))
    rep = multilabel_report(Y_true, scores, classes, scheme, kind="logits")
    out = {"all": rep.overall["mAP"], "macro_f1": rep.overall["macro_f1"]}
    out.update({str(b): float(v) for b, v in rep.bins["mAP"].items()})
    return out


class _FusedLinearCE:
    """SGD steps of a plain linear head under a softmax cross-entropy loss, without autograd.

    The same arithmetic as ``loss.backward(); torch.optim.SGD(momentum, weight_decay).step()``
    on ``CE(X W^T + b + offset, y)`` with class weights (torch's weighted mean), in fewer passes
    over memory: the bias rides along as an extra input column of ones (``[X, 1] [W, b]^T``, so
    the bias gradient comes out of the weight-gradient matmul), the softmax is one fused kernel,
    and the momentum update is fused into the gradient matmul (``buf = m·buf + α Gᵀ X``).
    Used by :func:`fit_head` when it applies; ``fused=False`` forces the autograd path (they
    agree to float rounding; tests check it).
    """

    def __init__(self, head, offset, weight, momentum: float, weight_decay: float):
        self.head = head
        self.has_bias = head.bias is not None
        with torch.no_grad():
            W = head.weight.detach()
            self.Wa = torch.cat([W, head.bias.detach()[:, None]], 1) if self.has_bias else W.clone()
        self.offset, self.weight = offset, weight
        self.m, self.wd = float(momentum), float(weight_decay)
        self.buf = torch.zeros_like(self.Wa)

    def augment(self, X: torch.Tensor) -> torch.Tensor:
        """The features the step expects: ``[X, 1]`` when the head has a bias."""
        return torch.cat([X, X.new_ones(len(X), 1)], 1) if self.has_bias else X

    @torch.no_grad()
    def step(self, xb: torch.Tensor, yb: torch.Tensor, lr: float) -> torch.Tensor:
        Z = torch.mm(xb, self.Wa.t())
        if self.offset is not None:
            Z += self.offset
        P = torch.softmax(Z, dim=1)
        py = P.gather(1, yb[:, None]).squeeze(1)
        ce = -py.clamp(min=1e-38).log()
        P.scatter_add_(1, yb[:, None], torch.full_like(py[:, None], -1.0))  # G = P - onehot
        if self.weight is not None:
            wy = self.weight[yb]
            coef = wy / wy.sum()
            loss = (ce * coef).sum()
            P *= coef[:, None]
            alpha = 1.0
        else:
            loss = ce.mean()
            alpha = 1.0 / len(yb)
        self.buf.addmm_(P.t(), xb, beta=self.m, alpha=alpha)
        if self.wd:
            self.buf.add_(self.Wa, alpha=self.wd)
        self.Wa.add_(self.buf, alpha=-lr)
        return loss

    @torch.no_grad()
    def sync(self) -> None:
        """Copy the working weights back into the head's parameters."""
        d = self.head.weight.shape[1]
        self.head.weight.copy_(self.Wa[:, :d])
        if self.has_bias:
            self.head.bias.copy_(self.Wa[:, d])


def _fusable(head: nn.Module, loss: HeadLoss):
    from .models import LinearHead

    if type(head) is not LinearHead or head.normalize_input or head.normalize_weight or head.scale != 1.0:
        return None
    if not head.weight.requires_grad:
        return None
    return loss.softmax_ce_terms()


@contextmanager
def _threads(n: int | None):
    """Run torch ops of this thread with ``n`` intra-op threads (None: unchanged), then restore."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


#: per-step matmul work (FLOPs) below which training runs on one CPU thread: small problems
#: gain nothing from threads and lose a lot to thread spin-waits on a busy machine
SMALL_STEP_FLOPS = 5e7


def _lr_at(base_lr: float, schedule: str, step: int, total: int) -> float:
    if schedule == "cosine":
        return 0.5 * base_lr * (1 + math.cos(math.pi * step / max(total, 1)))
    return base_lr


def fit_head(head: nn.Module, X: np.ndarray, y: np.ndarray, loss: HeadLoss, *, n_classes: int,
             epochs: int = 10, batch_size: int = 512, lr: float = 0.1, momentum: float = 0.9,
             weight_decay: float = 5e-4, schedule: str = "cosine", sampler: str = "instance",
             sampler_params: dict | None = None, seed: int = 0, device: str | torch.device = "auto",
             val: tuple[np.ndarray, np.ndarray] | None = None, train_counts: np.ndarray | None = None,
             bin_scheme: str = "imagenet-lt",
             progress: Callable[[Progress], None] | None = None,
             cancel: threading.Event | Callable[[], bool] | None = None, fused: bool = True,
             num_threads: int | str | None = "auto") -> list[dict]:
    """Train ``head`` in place with SGD on frozen features; return one record per epoch.

    Parameters
    ----------
    head : nn.Module
        Maps (B, D) float32 to (B, C) logits; its trainable parameters are optimised.
    X : ndarray (N, D) float32
        Training features.
    y : ndarray (N,) int64, or (N, C) 0/1 / MultiLabels
        Training class indices, or multi-label targets (then ``loss`` must be a sigmoid loss,
        ``sampler`` one of :data:`ML_SAMPLERS` and the validation curves are mAP per bin).
    loss : HeadLoss
        From :func:`lt_core.heads.make_loss`.
    sampler : str
        Strategy of :func:`lt_core.rebalance.epoch_indices` (``instance``, ``class-balanced``,
        ``sqrt``, ``progressive``, ``label-shuffling``, ``over``, ``under``, ``rfs``);
        ``sampler_params`` are passed on.
    lr, momentum, weight_decay, schedule : SGD settings; ``schedule`` ``cosine`` (per step, as
        Kang et al. 2020) or ``constant``.
    val : (X_val, y_val), optional
        Evaluated after every epoch with :func:`per_bin_accuracy` (bins from ``train_counts``
        (C,), default the counts of ``y``, under ``bin_scheme``).
    progress : callable, optional
        Called with a :class:`Progress` after every step.
    cancel : threading.Event or callable, optional
        Checked before every step; when set, :class:`TrainingCancelled` is raised.
    fused : bool
        Use the autograd-free step for a plain linear head under a softmax cross-entropy loss
        (ce, cb, balanced-softmax, logit-adjusted); False always uses autograd + torch SGD.
    num_threads : int, "auto" or None
        CPU threads for this training: ``auto`` uses one when a step's matmul is small
        (< :data:`SMALL_STEP_FLOPS`), else torch's setting; None leaves torch's setting.

    Returns
    -------
    list of dict
        Per epoch: ``epoch`` (1-based), ``loss`` (mean over the epoch's batches), ``lr`` (at the
        epoch's end), ``time_s``, ``samples``, and ``val_all``, ``val_accuracy`` plus
        ``val_<bin>`` accuracies.
    """
    n_threads = num_threads
    if num_threads == "auto":
        d = np.shape(X)[1] if np.ndim(X) == 2 else 0
        small = dev_is_cpu(device) and 2.0 * batch_size * d * n_classes < SMALL_STEP_FLOPS
        n_threads = 1 if small else None
    with _threads(n_threads):
        return _fit(head, X, y, loss, n_classes=n_classes, epochs=epochs, batch_size=batch_size, lr=lr,
                    momentum=momentum, weight_decay=weight_decay, schedule=schedule, sampler=sampler,
                    sampler_params=sampler_params, seed=seed, device=device, val=val, train_counts=train_counts,
                    bin_scheme=bin_scheme, progress=progress, cancel=cancel, fused=fused)


def dev_is_cpu(device) -> bool:
    """Whether ``device`` resolves to the CPU."""
    return (device if isinstance(device, torch.device) else resolve_device(device)).type == "cpu"


def _fit(head, X, y, loss, *, n_classes, epochs, batch_size, lr, momentum, weight_decay, schedule, sampler,
         sampler_params, seed, device, val, train_counts, bin_scheme, progress, cancel, fused) -> list[dict]:
    if epochs < 1:
        raise InputError(f"epochs must be >= 1, got {epochs}", field="epochs")
    if batch_size < 1:
        raise InputError(f"batch size must be >= 1, got {batch_size}", field="batch_size")
    if not np.isfinite(lr) or lr <= 0:
        raise InputError(f"learning rate must be a positive number, got {lr}", field="lr")
    dev = resolve_device(device) if not isinstance(device, torch.device) else device
    is_cancelled = cancel.is_set if isinstance(cancel, threading.Event) else (cancel or (lambda: False))
    head.to(dev)
    loss.to(dev)
    Xt = torch.from_numpy(np.require(X, np.float32, ["C", "W"])).to(dev)
    multi = hasattr(y, "indptr") or np.ndim(y) == 2
    if multi:  # multi-label: (N, C) targets, multi-label samplers, mAP curves
        Ydense = y.dense() if hasattr(y, "dense") else np.asarray(y).astype(bool)
        if not getattr(loss, "sigmoid", False):
            raise InputError(f"the loss '{loss.name}' is a softmax (single-label) loss; multi-label targets need a "
                             "sigmoid loss (bce, cb-focal, db, asl)", field="loss")
        if sampler not in ML_SAMPLERS:
            raise InputError(f"sampler '{sampler}' is for single-label data", field="sampler",
                             hint="multi-label samplers: " + ", ".join(ML_SAMPLERS))
        yt = torch.from_numpy(Ydense).to(dev)
        y_np = y if hasattr(y, "indptr") else Ydense

        def draw(ep: int) -> np.ndarray:
            return multilabel_epoch_indices(y_np, sampler, epoch=ep, seed=seed, **(sampler_params or {}))
    else:
        yt = torch.from_numpy(np.array(y, dtype=np.int64)).to(dev)
        y_np = np.asarray(y, dtype=np.int64)

        def draw(ep: int) -> np.ndarray:
            return epoch_indices(y_np, n_classes, sampler, epoch=ep, seed=seed, num_epochs=epochs,
                                 **(sampler_params or {}))
    params = [p for p in head.parameters() if p.requires_grad]
    terms = _fusable(head, loss) if fused and not multi else None
    fast = None if terms is None else _FusedLinearCE(head, terms[0], terms[1], momentum, weight_decay)
    opt = None if fast is not None else torch.optim.SGD(params, lr=lr, momentum=momentum,
                                                        weight_decay=weight_decay)
    Xs = Xt if fast is None else fast.augment(Xt)
    gen = torch.Generator().manual_seed(int(seed))

    # the number of steps is only known per epoch (samplers may change the epoch length)
    first = draw(0)
    steps_guess = max(1, math.ceil(len(first) / batch_size))
    total_steps = steps_guess * epochs
    history: list[dict] = []
    t0 = time.perf_counter()
    global_step = 0
    for ep in range(epochs):
        idx_np = first if ep == 0 else draw(ep)
        if len(idx_np) == 0:
            raise InputError(f"sampler '{sampler}' gave an empty epoch", field="sampler")
        order = torch.as_tensor(idx_np)[torch.randperm(len(idx_np), generator=gen)].to(dev)
        steps = math.ceil(len(order) / batch_size)
        loss.start_epoch(ep, epochs)
        head.train()
        t_ep = time.perf_counter()
        loss_sum = torch.zeros((), device=dev)
        for s in range(steps):
            if is_cancelled():
                raise TrainingCancelled(f"cancelled in epoch {ep + 1}")
            bi = order[s * batch_size:(s + 1) * batch_size]
            xb = Xs.index_select(0, bi)
            yb = yt.index_select(0, bi)
            cur_lr = _lr_at(lr, schedule, global_step, total_steps)
            if fast is not None:
                step_loss = fast.step(xb, yb, cur_lr)
            else:
                for g in opt.param_groups:
                    g["lr"] = cur_lr
                opt.zero_grad(set_to_none=True)
                step_loss = loss(head(xb), yb)
                step_loss.backward()
                opt.step()
            loss_sum += step_loss.detach()
            global_step += 1
            if progress is not None:
                el = time.perf_counter() - t0
                done = global_step
                left = max(total_steps - done, 0)
                progress(Progress(epoch=ep + 1, epochs=epochs, step=s + 1, steps=steps,
                                  loss=float(loss_sum) / (s + 1), elapsed_s=el,
                                  eta_s=el / done * left if done else float("nan")))
        if fast is not None:
            fast.sync()
        if not torch.isfinite(loss_sum):
            raise InputError(f"training diverged in epoch {ep + 1} (the loss became NaN or infinite)",
                             field="lr", hint="lower the learning rate")
        rec = {"epoch": ep + 1, "loss": float(loss_sum) / steps, "lr": cur_lr,
               "time_s": time.perf_counter() - t_ep, "samples": int(len(order))}
        if val is not None and len(val[1]) and multi:
            tc = Ydense.sum(0) if train_counts is None else train_counts
            acc = per_bin_map(val[1], predict_logits(head, val[0], device=dev), tc, bin_scheme)
            rec.update({f"val_{k}": v for k, v in acc.items()})
        elif val is not None and len(val[1]):
            pred = predict_logits(head, val[0], device=dev).argmax(1)
            tc = np.bincount(y_np, minlength=n_classes) if train_counts is None else train_counts
            acc = per_bin_accuracy(np.asarray(val[1]), pred, tc, bin_scheme)
            rec.update({f"val_{k}": v for k, v in acc.items()})
        history.append(rec)
    return history
