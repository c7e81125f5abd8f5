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
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ._deps import epoch_indices
from .losses import HeadLoss

__all__ = ["Progress", "TrainingCancelled", "fit_head", "resolve_device", "predict_logits",
           "per_bin_accuracy", "SAMPLERS"]

SAMPLERS = ("instance", "class-balanced", "sqrt", "progressive", "label-shuffling", "over", "under", "rfs")


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
    Xt = torch.as_tensor(np.asarray(X, dtype=np.float32)) if not torch.is_tensor(X) else X
    outs = [head(Xt[i:i + batch_size].to(dev)).float().cpu() for i in range(0, len(Xt), batch_size)]
    if not outs:
        return np.zeros((0, getattr(head, "n_classes", 0)), dtype=np.float32)
    return torch.cat(outs).numpy()


def per_bin_accuracy(y_true: np.ndarray, y_pred: np.ndarray, bins: np.ndarray) -> dict[str, float]:
    """Accuracy over the samples of each bin's classes, plus ``"all"``.

    A bin's accuracy is (correct samples of its classes) / (samples of its classes), as the
    many / medium / few columns of Kang et al. 2020; a bin with no samples gives NaN.
    Computed from per-class (correct, total) counts, which are additive over shards.
    """
    bins = np.asarray(bins, dtype=object)
    c = len(bins)
    total = np.bincount(y_true, minlength=c)
    correct = np.bincount(y_true[y_true == y_pred], minlength=c)
    out = {"all": float(correct.sum() / total.sum()) if total.sum() else float("nan")}
    for name in dict.fromkeys(bins.tolist()):
        m = bins == name
        t = total[m].sum()
        out[str(name)] = float(correct[m].sum() / t) if t else float("nan")
    return out


def _lr_at(base_lr: float, schedule: str, step: int, total: int) -> float:
    if schedule == "cosine":
        return 0.5 * base_lr * (1 + math.cos(math.pi * step / max(total, 1)))
    return base_lr


def fit_head(head: nn.Module, X: np.ndarray, y: np.ndarray, loss: HeadLoss, *, n_classes: int,
             epochs: int = 10, batch_size: int = 512, lr: float = 0.1, momentum: float = 0.9,
             weight_decay: float = 5e-4, schedule: str = "cosine", sampler: str = "instance",
             sampler_params: dict | None = None, seed: int = 0, device: str | torch.device = "auto",
             val: tuple[np.ndarray, np.ndarray] | None = None, bins: np.ndarray | None = None,
             progress: Callable[[Progress], None] | None = None,
             cancel: threading.Event | Callable[[], bool] | None = None) -> list[dict]:
    """Train ``head`` in place with SGD on frozen features; return one record per epoch.

    Parameters
    ----------
    head : nn.Module
        Maps (B, D) float32 to (B, C) logits; its trainable parameters are optimised.
    X : ndarray (N, D) float32
        Training features.
    y : ndarray (N,) int64
        Training class indices.
    loss : HeadLoss
        From :func:`lt_core.heads.make_loss`.
    sampler : str
        Strategy of :func:`lt_core.rebalance.epoch_indices` (``instance``, ``class-balanced``,
        ``sqrt``, ``progressive``, ``label-shuffling``, ``over``, ``under``, ``rfs``);
        ``sampler_params`` are passed on.
    lr, momentum, weight_decay, schedule : SGD settings; ``schedule`` ``cosine`` (per step, as
        Kang et al. 2020) or ``constant``.
    val : (X_val, y_val), optional
        Evaluated after every epoch: overall and per-bin accuracy (``bins`` (C,) bin names).
    progress : callable, optional
        Called with a :class:`Progress` after every step.
    cancel : threading.Event or callable, optional
        Checked before every step; when set, :class:`TrainingCancelled` is raised.

    Returns
    -------
    list of dict
        Per epoch: ``epoch`` (1-based), ``loss`` (mean over the epoch's batches), ``lr`` (at the
        epoch's end), ``time_s``, ``samples``, and ``val_all`` plus ``val_<bin>`` accuracies.
    """
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
    Xt = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32)).to(dev)
    yt = torch.as_tensor(np.asarray(y, dtype=np.int64)).to(dev)
    y_np = np.asarray(y, dtype=np.int64)
    params = [p for p in head.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(int(seed))
    sp = dict(sampler_params or {})

    # the number of steps is only known per epoch (samplers may change the epoch length)
    first = epoch_indices(y_np, n_classes, sampler, epoch=0, seed=seed, num_epochs=epochs, **sp)
    steps_guess = max(1, math.ceil(len(first) / batch_size))
    total_steps = steps_guess * epochs
    history: list[dict] = []
    t0 = time.perf_counter()
    global_step = 0
    for ep in range(epochs):
        idx_np = first if ep == 0 else epoch_indices(y_np, n_classes, sampler, epoch=ep, seed=seed,
                                                       num_epochs=epochs, **sp)
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
            xb = Xt.index_select(0, bi)
            yb = yt.index_select(0, bi)
            cur_lr = _lr_at(lr, schedule, global_step, total_steps)
            for g in opt.param_groups:
                g["lr"] = cur_lr
            opt.zero_grad(set_to_none=True)
            val_loss = loss(head(xb), yb)
            val_loss.backward()
            opt.step()
            loss_sum += val_loss.detach()
            global_step += 1
            if progress is not None:
                el = time.perf_counter() - t0
                done = global_step
                left = max(total_steps - done, 0)
                progress(Progress(epoch=ep + 1, epochs=epochs, step=s + 1, steps=steps,
                                  loss=float(loss_sum) / (s + 1), elapsed_s=el,
                                  eta_s=el / done * left if done else float("nan")))
        if not torch.isfinite(loss_sum):
            raise InputError(f"training diverged in epoch {ep + 1} (the loss became NaN or infinite)",
                             field="lr", hint="lower the learning rate")
        rec = {"epoch": ep + 1, "loss": float(loss_sum) / steps, "lr": cur_lr,
               "time_s": time.perf_counter() - t_ep, "samples": int(len(order))}
        if val is not None and len(val[1]) and bins is not None:
            pred = predict_logits(head, val[0], device=dev).argmax(1)
            acc = per_bin_accuracy(np.asarray(val[1]), pred, bins)
            rec.update({f"val_{k}": v for k, v in acc.items()})
        history.append(rec)
    return history
