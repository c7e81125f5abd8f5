"""Long-tail losses for retraining a classifier head (torch).

Every loss is a ``torch.nn.Module`` called as ``loss(logits, y)`` with logits (B, C) float and
y (B,) int64 class indices, returning the mean loss over the batch (a scalar tensor).
``start_epoch(epoch, num_epochs)`` is called by the training loop before each epoch (LDAM-DRW
switches its weights there). Build them by name with :func:`make_loss`.

=====================  ==================================================================
name                   loss (paper; reference implementation whose semantics it follows)
=====================  ==================================================================
``ce``                 softmax cross-entropy
``cb``                 cross-entropy weighted by inverse effective number (Cui et al. 2019)
``focal``              class-balanced softmax focal loss (Cui et al. 2019; Lin et al. 2017)
``balanced-softmax``   cross-entropy on logits + log prior (Ren et al. 2020)
``ldam-drw``           LDAM margins + deferred re-weighting (Cao et al. 2019, kaidic/LDAM-DRW)
``logit-adjusted``     cross-entropy on logits + tau * log prior (Menon et al. 2021)
``seesaw``             Seesaw loss, p = 0.8, q = 2.0 (Wang et al. 2021, mmdetection)
``eqlv2``              Equalization loss v2, gamma = 12, mu = 0.8, alpha = 4 (Tan et al. 2021)
=====================  ==================================================================
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ._deps import class_weights

__all__ = ["LOSSES", "LOSS_HELP", "HeadLoss", "CrossEntropy", "ClassBalancedCE", "ClassBalancedFocal",
           "BalancedSoftmax", "LDAMDRW", "LogitAdjusted", "Seesaw", "EQLv2", "make_loss"]

LOSSES = ("ce", "cb", "focal", "balanced-softmax", "ldam-drw", "logit-adjusted", "seesaw", "eqlv2")

LOSS_HELP = {
    "ce": "Softmax cross-entropy (the plain baseline).",
    "cb": "Cross-entropy weighted by (1-β)/(1-β^n_c), the inverse effective number (Cui et al. 2019).",
    "focal": "Class-balanced focal loss: effective-number weights × (1-p_y)^γ (Cui et al. 2019; Lin et al. 2017).",
    "balanced-softmax": "Cross-entropy on logits + log train prior (Ren et al. 2020, Balanced Meta-Softmax).",
    "ldam-drw": "Label-distribution-aware margins n_c^-1/4 on a cosine head, deferred re-weighting "
                "after 80% of the epochs (Cao et al. 2019).",
    "logit-adjusted": "Cross-entropy on logits + τ·log prior (Menon et al. 2021).",
    "seesaw": "Seesaw loss: mitigation (p = 0.8) and compensation (q = 2.0) factors (Wang et al. 2021).",
    "eqlv2": "Equalization loss v2: sigmoid loss re-weighted by the accumulated positive/negative gradient "
             "ratio, γ = 12, μ = 0.8, α = 4 (Tan et al. 2021).",
}


def _prior(counts: np.ndarray) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64)
    c = np.maximum(c, 1e-12) if c.sum() > 0 else np.ones_like(c)
    return c / c.sum()


class HeadLoss(nn.Module):
    """Base class: ``forward(logits, y) -> scalar``; ``start_epoch`` hook for schedules."""

    name = "base"
    #: True when the loss expects cosine logits from a normalised head (LDAM)
    wants_cosine_head = False

    def start_epoch(self, epoch: int, num_epochs: int) -> None:  # noqa: D401
        """Called before each epoch (0-based)."""

    def params(self) -> dict[str, Any]:
        """The loss's hyper-parameters, for the settings JSON."""
        return {}

    def softmax_ce_terms(self) -> tuple[torch.Tensor | None, torch.Tensor | None] | None:
        """``(offset (C,), weight (C,))`` when the loss is ``CE(logits + offset, y)`` with torch's
        class-weighted mean (either may be None), so the training loop may use its fused step;
        None for every other loss."""
        return None


class CrossEntropy(HeadLoss):
    """Softmax cross-entropy, optionally with per-class weights (C,) (``weight`` of torch)."""

    name = "ce"

    def __init__(self, weight: np.ndarray | None = None):
        super().__init__()
        self.register_buffer("weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32))

    def forward(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, y, weight=self.weight)

    def softmax_ce_terms(self):
        return None, self.weight


class ClassBalancedCE(HeadLoss):
    """Cross-entropy weighted by the inverse effective number (Cui et al. 2019).

    Weights ``w_c ∝ (1 - β) / (1 - β^{n_c})`` from :func:`lt_core.rebalance.class_weights`; the
    batch loss is ``sum_i w_{y_i} CE_i / sum_i w_{y_i}`` (torch's weighted mean, as the CB / DRW
    cross-entropy of kaidic/LDAM-DRW).
    """

    name = "cb"

    def __init__(self, counts: np.ndarray, beta: float = 0.9999):
        super().__init__()
        self.beta = float(beta)
        w = class_weights(counts, scheme="effective-number", beta=self.beta)
        self.register_buffer("weight", torch.as_tensor(w, dtype=torch.float32))

    def forward(self, logits, y):
        return F.cross_entropy(logits, y, weight=self.weight)

    def softmax_ce_terms(self):
        return None, self.weight

    def params(self):
        return {"beta": self.beta}


class ClassBalancedFocal(HeadLoss):
    """Class-balanced softmax focal loss: ``w_y (1 - p_y)^γ (-log p_y)``, mean over the batch.

    ``w`` are effective-number weights (β) normalised to sum to C, as in Cui et al. 2019;
    ``γ = 0`` gives the class-balanced cross-entropy with a plain (unweighted-denominator) mean.
    """

    name = "focal"

    def __init__(self, counts: np.ndarray, beta: float = 0.9999, gamma: float = 1.0):
        super().__init__()
        self.beta, self.gamma = float(beta), float(gamma)
        w = class_weights(counts, scheme="effective-number", beta=self.beta)
        w = w * (len(w) / w.sum())
        self.register_buffer("weight", torch.as_tensor(w, dtype=torch.float32))

    def forward(self, logits, y):
        logp = F.log_softmax(logits.float(), dim=1).gather(1, y[:, None]).squeeze(1)
        mod = (1.0 - logp.exp()).clamp(min=0.0).pow(self.gamma) if self.gamma else 1.0
        return (self.weight[y] * mod * (-logp)).mean()

    def params(self):
        return {"beta": self.beta, "gamma": self.gamma}


class BalancedSoftmax(HeadLoss):
    """Balanced softmax: cross-entropy on ``logits + log π`` (π = train prior; Ren et al. 2020)."""

    name = "balanced-softmax"

    def __init__(self, counts: np.ndarray):
        super().__init__()
        self.register_buffer("log_prior", torch.as_tensor(np.log(_prior(counts)), dtype=torch.float32))

    def forward(self, logits, y):
        return F.cross_entropy(logits + self.log_prior, y)

    def softmax_ce_terms(self):
        return self.log_prior, None


class LogitAdjusted(HeadLoss):
    """Logit-adjusted loss: cross-entropy on ``logits + τ log π`` (Menon et al. 2021)."""

    name = "logit-adjusted"

    def __init__(self, counts: np.ndarray, tau: float = 1.0):
        super().__init__()
        self.tau = float(tau)
        self.register_buffer("log_prior", torch.as_tensor(np.log(_prior(counts)), dtype=torch.float32))

    def forward(self, logits, y):
        return F.cross_entropy(logits + self.tau * self.log_prior, y)

    def softmax_ce_terms(self):
        return self.tau * self.log_prior, None

    def params(self):
        return {"tau": self.tau}


class LDAMDRW(HeadLoss):
    """LDAM loss with the deferred re-weighting schedule (Cao et al. 2019, kaidic/LDAM-DRW).

    Margins ``m_c ∝ n_c^{-1/4}`` scaled so the largest is ``max_m``; the loss is
    ``CE(logits - s · m_y e_y, y)``. With a cosine head of scale ``s`` (logits ``s · cos``, the
    reference's ``NormedLinear`` with s = 30) this is the paper's ``CE(s (cos - m_y e_y), y)``;
    on a plain head (LWS) use ``s = 1``. From epoch ``drw_epoch`` on (default: 80% of the epochs,
    160 of 200 in the paper) the samples are weighted by effective-number weights (β = 0.9999).
    """

    name = "ldam-drw"
    wants_cosine_head = True

    def __init__(self, counts: np.ndarray, max_m: float = 0.5, s: float = 30.0, beta: float = 0.9999,
                 drw_epoch: int | None = None):
        super().__init__()
        n = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
        m = 1.0 / np.sqrt(np.sqrt(n))
        m = m * (max_m / m.max())
        self.max_m, self.s, self.beta, self.drw_epoch = float(max_m), float(s), float(beta), drw_epoch
        self.register_buffer("margins", torch.as_tensor(m, dtype=torch.float32))
        w = class_weights(counts, scheme="effective-number", beta=self.beta)
        self.register_buffer("drw_weight", torch.as_tensor(w, dtype=torch.float32))
        self.active_weight: torch.Tensor | None = None

    def start_epoch(self, epoch, num_epochs):
        start = self.drw_epoch if self.drw_epoch is not None else int(0.8 * num_epochs)
        self.active_weight = self.drw_weight if epoch >= start else None

    def forward(self, logits, y):
        z = logits.scatter_add(1, y[:, None], -self.s * self.margins[y][:, None].to(logits.dtype))
        return F.cross_entropy(z, y, weight=self.active_weight)

    def params(self):
        return {"max_m": self.max_m, "s": self.s, "beta": self.beta, "drw_epoch": self.drw_epoch}


class Seesaw(HeadLoss):
    """Seesaw loss (Wang et al. 2021), as ``mmdet.models.losses.SeesawLoss`` without the
    objectness branch.

    For a sample of class i, the logit of each other class j is shifted by
    ``log(M_ij · C_ij)``: mitigation ``M_ij = (N_j / N_i)^p`` when ``N_j < N_i`` (N = labels
    seen so far in training, accumulated batch by batch), compensation
    ``C_ij = (σ_j / σ_i)^q`` when the predicted probability of j exceeds that of i.
    """

    name = "seesaw"

    def __init__(self, n_classes: int, p: float = 0.8, q: float = 2.0, eps: float = 1e-2):
        super().__init__()
        self.p, self.q, self.eps = float(p), float(q), float(eps)
        self.register_buffer("cum_samples", torch.zeros(n_classes, dtype=torch.float32))

    def forward(self, logits, y):
        self.cum_samples += torch.bincount(y, minlength=self.cum_samples.numel()).to(self.cum_samples)
        onehot = F.one_hot(y, logits.shape[1]).to(logits.dtype)
        w = torch.ones_like(logits)
        if self.p > 0:
            cs = self.cum_samples.clamp(min=1)
            ratio = cs[None, :] / cs[:, None]
            idx = (ratio < 1.0).to(logits.dtype)
            w = w * (ratio.pow(self.p) * idx + (1 - idx))[y]
        if self.q > 0:
            sc = F.softmax(logits.detach(), dim=1)
            self_sc = sc.gather(1, y[:, None]).clamp(min=self.eps)
            mat = sc / self_sc
            idx = (mat > 1.0).to(logits.dtype)
            w = w * (mat.pow(self.q) * idx + (1 - idx))
        return F.cross_entropy(logits + w.log() * (1 - onehot), y)

    def params(self):
        return {"p": self.p, "q": self.q}


class EQLv2(HeadLoss):
    """Equalization loss v2 (Tan et al. 2021), as tztztztztz/eqlv2 without the background column.

    Per-class sigmoid cross-entropy; negatives of class j are weighted by
    ``f(g_j) = 1 / (1 + exp(-γ (g_j - μ)))`` and positives by ``1 + α (1 - f(g_j))``, where
    ``g_j`` is the accumulated positive / negative gradient ratio of class j (all ones before the
    first batch). Loss = sum over classes / batch size. Predictions are the logits (sigmoid scores).
    """

    name = "eqlv2"

    def __init__(self, n_classes: int, gamma: float = 12.0, mu: float = 0.8, alpha: float = 4.0):
        super().__init__()
        self.gamma, self.mu, self.alpha = float(gamma), float(mu), float(alpha)
        self.register_buffer("pos_grad", torch.zeros(n_classes))
        self.register_buffer("neg_grad", torch.zeros(n_classes))
        self.started = False

    def _map(self, x):
        return 1.0 / (1.0 + torch.exp(-self.gamma * (x - self.mu)))

    def forward(self, logits, y):
        n, c = logits.shape
        target = F.one_hot(y, c).to(logits.dtype)
        if self.started:
            neg_w = self._map(self.pos_grad / (self.neg_grad + 1e-10))
            pos_w = 1 + self.alpha * (1 - neg_w)
            weight = pos_w[None, :] * target + neg_w[None, :] * (1 - target)
        else:
            weight = torch.ones_like(logits)
        loss = (F.binary_cross_entropy_with_logits(logits, target, reduction="none") * weight).sum() / n
        with torch.no_grad():
            prob = torch.sigmoid(logits.detach())
            grad = (target * (prob - 1) + (1 - target) * prob).abs()
            self.pos_grad += (grad * target * weight).sum(0)
            self.neg_grad += (grad * (1 - target) * weight).sum(0)
            self.started = True
        return loss

    def params(self):
        return {"gamma": self.gamma, "mu": self.mu, "alpha": self.alpha}


def make_loss(name: str, counts: np.ndarray, *, beta: float | None = None, gamma: float | None = None,
              tau: float | None = None, **params: Any) -> HeadLoss:
    """Build a head loss by name.

    Parameters
    ----------
    name : str
        One of :data:`LOSSES`.
    counts : ndarray (C,)
        Training samples per class (before any resampling), for priors, weights and margins.
    beta : float, optional
        Effective-number β for ``cb``, ``focal`` (default 0.9999) and the DRW weights of ``ldam-drw``.
    gamma : float, optional
        Focusing γ of ``focal`` (default 1.0) or γ of ``eqlv2`` (default 12).
    tau : float, optional
        τ of ``logit-adjusted`` (default 1.0).
    **params
        Other loss parameters: ``max_m``, ``s``, ``drw_epoch`` (LDAM); ``p``, ``q`` (seesaw);
        ``mu``, ``alpha`` (EQLv2).
    """
    counts = np.asarray(counts)
    c = len(counts)
    key = str(name).strip().lower()

    def _opt(**kw):
        return {k: v for k, v in kw.items() if v is not None}

    try:
        if key == "ce":
            return CrossEntropy()
        if key == "cb":
            return ClassBalancedCE(counts, **_opt(beta=beta))
        if key == "focal":
            return ClassBalancedFocal(counts, **_opt(beta=beta, gamma=gamma))
        if key == "balanced-softmax":
            return BalancedSoftmax(counts)
        if key == "ldam-drw":
            return LDAMDRW(counts, **_opt(beta=beta, max_m=params.get("max_m"), s=params.get("s"),
                                          drw_epoch=params.get("drw_epoch")))
        if key == "logit-adjusted":
            return LogitAdjusted(counts, **_opt(tau=tau))
        if key == "seesaw":
            return Seesaw(c, **_opt(p=params.get("p"), q=params.get("q")))
        if key == "eqlv2":
            return EQLv2(c, **_opt(gamma=gamma, mu=params.get("mu"), alpha=params.get("alpha")))
    except TypeError as e:  # pragma: no cover - bad keyword
        raise InputError(str(e), field="loss") from None
    raise InputError(f"unknown loss '{name}'", field="loss", hint=f"use one of {', '.join(LOSSES)}")
