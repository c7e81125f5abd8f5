"""Long-tail losses for retraining a classifier head (torch).

Every loss is a ``torch.nn.Module`` called as ``loss(logits, y)`` with logits (B, C) float and
y (B,) int64 class indices, returning the mean loss over the batch (a scalar tensor). The
sigmoid losses (``bce``, ``cb-focal``, ``db``, ``asl``) also take multi-label targets y (B, C)
0/1 (``HeadLoss.sigmoid`` is True). ``start_epoch(epoch, num_epochs)`` is called by the training
loop before each epoch (LDAM-DRW switches its weights there). Build them by name with
:func:`make_loss`.

Normalisation of the sigmoid losses: every reference normalises differently (torch's BCE and the
DB reference average over B x C elements, ASL sums, Cui et al. divide by the number of positive
labels). A constant factor only rescales the learning rate, so by default
(``normalization="batch"``) they all sum over classes and average over the batch (the per-sample
loss, the scale of softmax cross-entropy), and one learning rate fits all;
``normalization="reference"`` reproduces each reference's own normalisation exactly.

=====================  ==================================================================
name                   loss (paper; reference implementation whose semantics it follows)
=====================  ==================================================================
``ce``                 softmax cross-entropy
``cb``                 cross-entropy weighted by inverse effective number (Cui et al. 2019)
``cb-softmax-focal``   class-balanced *softmax* focal loss (effective-number weights x (1 - p_y)^γ
                       on the softmax; the loss ``focal`` was before, kept as an alias)
``cb-focal``           class-balanced focal loss as Cui et al. 2019 define it: SIGMOID focal terms of
                       every class, weighted by the sample's class weight (richardaecn/class-balanced-loss)
``balanced-softmax``   cross-entropy on logits + log prior (Ren et al. 2020)
``ldam-drw``           LDAM margins + deferred re-weighting (Cao et al. 2019, kaidic/LDAM-DRW)
``logit-adjusted``     cross-entropy on logits + tau * log prior (Menon et al. 2021)
``seesaw``             Seesaw loss, p = 0.8, q = 2.0 (Wang et al. 2021, mmdetection)
``eqlv2``              Equalization loss v2, gamma = 12, mu = 0.8, alpha = 4 (Tan et al. 2021)
``bce``                binary cross-entropy of every class (one-vs-rest / multi-label baseline)
``db``                 distribution-balanced loss: re-balanced weighting + negative-tolerant
                       regularisation + focal (Wu et al., ECCV 2020, wutong16/DistributionBalancedLoss)
``asl``                asymmetric loss, γ- = 4, γ+ = 0, clip m = 0.05 (Ridnik et al., ICCV 2021,
                       Alibaba-MIIL/ASL)
=====================  ==================================================================

Renamed: ``ClassBalancedFocal`` is now the paper's sigmoid loss (``cb-focal``); the softmax
variant that had the name is :class:`ClassBalancedSoftmaxFocal` (``cb-softmax-focal``; the CLI /
settings name ``focal`` still means it, unchanged).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ._deps import class_weights

__all__ = ["LOSSES", "LOSS_NAMES", "ML_LOSSES", "LOSS_ALIASES", "LOSS_HELP", "HeadLoss", "CrossEntropy",
           "ClassBalancedCE", "ClassBalancedSoftmaxFocal", "ClassBalancedFocal", "BalancedSoftmax", "LDAMDRW",
           "LogitAdjusted", "Seesaw", "EQLv2", "BinaryCrossEntropy", "DistributionBalanced", "AsymmetricLoss",
           "make_loss", "canonical_loss"]

#: every loss name the CLI and the settings accept (``focal`` is the old name of ``cb-softmax-focal``)
LOSSES = ("ce", "cb", "focal", "balanced-softmax", "ldam-drw", "logit-adjusted", "seesaw", "eqlv2",
          "cb-softmax-focal", "cb-focal", "bce", "db", "asl")
LOSS_ALIASES = {"focal": "cb-softmax-focal"}
#: the losses without aliases (what a page lists)
LOSS_NAMES = tuple(n for n in LOSSES if n not in LOSS_ALIASES)
#: the losses that take multi-label targets (sigmoid)
ML_LOSSES = ("bce", "cb-focal", "db", "asl")

LOSS_HELP = {
    "ce": "Softmax cross-entropy (the plain baseline).",
    "cb": "Cross-entropy weighted by (1-β)/(1-β^n_c), the inverse effective number (Cui et al. 2019).",
    "focal": "Alias of cb-softmax-focal (the name before the sigmoid CB focal loss was added).",
    "cb-softmax-focal": "Class-balanced softmax focal loss: effective-number weights × (1-p_y)^γ on the softmax "
                        "(a softmax variant of Cui et al. 2019; Lin et al. 2017).",
    "cb-focal": "Class-balanced focal loss as Cui et al. 2019 define it: sigmoid focal terms of every class × "
                "(1-β)/(1-β^n_y) of the sample's class (multi-label: the mean weight of its labels); β = 0.9999, "
                "γ = 1.",
    "bce": "Binary cross-entropy of every class (one-vs-rest sigmoid; the multi-label baseline).",
    "db": "Distribution-balanced loss (Wu et al., ECCV 2020): re-balanced weights r̂ = α + σ(β(r − μ)) with "
          "α = 0.1, β = 10, μ = 0.2, negative-tolerant regularisation λ = 2, κ = 0.05, focal γ = 2.",
    "asl": "Asymmetric loss (Ridnik et al., ICCV 2021): focusing γ- = 4 on negatives, γ+ = 0 on positives, "
           "negatives' probability shifted by m = 0.05.",
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
    #: True when the loss is a sum of per-class sigmoid terms (it takes (B, C) multi-label targets)
    sigmoid = False
    #: the paper's initial bias of a freshly initialised head, or None (torch's default init)
    bias_init: float | None = None

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


class ClassBalancedSoftmaxFocal(HeadLoss):
    """Class-balanced *softmax* focal loss: ``w_y (1 - p_y)^γ (-log p_y)``, mean over the batch.

    ``w`` are effective-number weights (β) normalised to sum to C, as in Cui et al. 2019, but the
    focal term is on the softmax probability of the true class — a softmax variant, not the
    paper's sigmoid loss (that is :class:`ClassBalancedFocal`). ``γ = 0`` gives the
    class-balanced cross-entropy with a plain (unweighted-denominator) mean. Called ``focal``
    before the sigmoid loss was added (the name still works).
    """

    name = "cb-softmax-focal"

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


# ------------------------------------------------------------------------------------------------
# sigmoid (one-vs-rest / multi-label) losses
# ------------------------------------------------------------------------------------------------
def _targets(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(B,) class indices -> one-hot (B, C); (B, C) 0/1 -> float, as the logits."""
    if y.ndim == 1:
        return F.one_hot(y.long(), logits.shape[1]).to(logits.dtype)
    if y.shape != logits.shape:
        raise InputError(f"targets of shape {tuple(y.shape)} for logits of shape {tuple(logits.shape)}",
                         field="labels")
    return y.to(logits.dtype)


_NORMALIZATIONS = ("batch", "reference")


def _float(logits: torch.Tensor) -> torch.Tensor:
    """float32 or float64 logits as they are (float64 for exact tests), anything else as float32."""
    return logits if logits.dtype in (torch.float32, torch.float64) else logits.float()


class _SigmoidLoss(HeadLoss):
    """Base of the sigmoid losses: ``normalization`` "batch" (sum over classes / batch size) or
    "reference" (the reference implementation's own)."""

    sigmoid = True

    def __init__(self, normalization: str = "batch"):
        super().__init__()
        if normalization not in _NORMALIZATIONS:
            raise InputError(f"unknown normalization '{normalization}'", field="normalization",
                             hint="use batch or reference")
        self.normalization = normalization


class BinaryCrossEntropy(_SigmoidLoss):
    """Binary cross-entropy of every class: ``sum_c BCE(z_c, y_c)``.

    Normalisation: "batch" = / B; "reference" = torch's ``binary_cross_entropy_with_logits``
    mean over the B x C elements.
    """

    name = "bce"

    def forward(self, logits, y):
        t = _targets(logits, y)
        el = F.binary_cross_entropy_with_logits(logits, t, reduction="none")
        return el.mean() if self.normalization == "reference" else el.sum() / len(logits)

    def params(self):
        return {"normalization": self.normalization}


class ClassBalancedFocal(_SigmoidLoss):
    """Class-balanced focal loss as Cui et al. (CVPR 2019) define it: SIGMOID focal terms.

    ``CB_focal = sum_i alpha_i sum_c (1 - p_ic^t)^γ BCE(z_ic, y_ic) / sum y``, where p^t is the
    sigmoid probability of the target (p for a positive, 1 - p for a negative), and alpha_i =
    (1 - β) / (1 - β^n_y) of the sample's class, the weights normalised to sum to C — as
    ``focal_loss`` and the per-example weights of richardaecn/class-balanced-loss
    (``src/cifar_main.py``). The modulator is the reference's stable form
    ``exp(-γ y z - γ log(1 + exp(-z)))`` (with softplus). Multi-label: alpha_i is the mean weight
    of the sample's labels (``CB_mode='average_w'`` of wutong16/DistributionBalancedLoss; a
    single label gives exactly the paper's alpha); a sample without labels has alpha = 1 (the
    mean weight). Defaults β = 0.9999, γ = 1 (the reference's CIFAR-LT script). The paper
    initialises the last bias to ``-log((1 - π) / π)``, π = 0.1 (:attr:`bias_init`).

    Normalisation: "reference" = / sum of the targets (the number of positive labels, B for
    single-label data); "batch" = / B.
    """

    name = "cb-focal"
    bias_init = float(-np.log((1 - 0.1) / 0.1))

    def __init__(self, counts: np.ndarray, beta: float = 0.9999, gamma: float = 1.0, normalization: str = "batch"):
        super().__init__(normalization)
        self.beta, self.gamma = float(beta), float(gamma)
        w = class_weights(counts, scheme="effective-number", beta=self.beta)
        w = w * (len(w) / w.sum())
        self.register_buffer("weight", torch.as_tensor(w, dtype=torch.float64))

    def forward(self, logits, y):
        z = _float(logits)
        t = _targets(z, y)
        bce = F.binary_cross_entropy_with_logits(z, t, reduction="none")
        mod = torch.exp(-self.gamma * t * z - self.gamma * F.softplus(-z)) if self.gamma else 1.0
        n_lab = t.sum(1)
        alpha = torch.where(n_lab > 0, (t * self.weight.to(z.dtype)).sum(1) / n_lab.clamp(min=1),
                            torch.ones_like(n_lab))
        total = (alpha[:, None] * mod * bce).sum()
        if self.normalization == "reference":
            return total / t.sum().clamp(min=1)
        return total / len(z)

    def params(self):
        return {"beta": self.beta, "gamma": self.gamma, "normalization": self.normalization}


class DistributionBalanced(_SigmoidLoss):
    """Distribution-balanced loss (Wu et al., ECCV 2020), as ``ResampleLoss`` of
    wutong16/DistributionBalancedLoss with the paper's COCO-MLT configuration
    (``reweight_func='rebalance'``, focal γ = 2 with ``balance_param`` 2, ``logit_reg``
    neg_scale λ = 2 and init_bias κ = 0.05, ``map_param`` α = 0.1, β = 10, μ = 0.2).

    * Re-balanced weighting: for sample i and every class c,
      ``r_ic = (1 / n_c) / sum_{j in y_i} (1 / n_j)`` (the class-level over the instance-level
      sampling probability under class-aware sampling), smoothed ``r̂ = α + σ(β (r − μ))``.
    * Negative-tolerant regularisation: logits shifted by the class prior,
      ``z' = z + ν_c`` with ``ν_c = -κ log(N / n_c - 1) / λ`` (the reference after its bias fix),
      positives ``log(1 + exp(-z'))``, negatives ``(1 / λ) log(1 + exp(λ z'))``.
    * Focal: each term times ``(1 - p_t)^γ``, p_t from the regularised logits (σ(z') for a
      positive, σ(-λ z') for a negative), times ``balance_param``.

    ``n_c`` are the train positives (clipped to [1, N - 1]) and N the train samples. A sample
    without labels has r = inf, r̂ = 1 + α (as the reference's arithmetic gives).

    Normalisation: "reference" = mean over the B x C elements (mmcv's ``parse_losses`` averages
    the element-wise loss the reference returns); "batch" = sum / B.
    """

    name = "db"

    def __init__(self, counts: np.ndarray, n_train: int | None = None, map_alpha: float = 0.1, map_beta: float = 10.0,
                 map_mu: float = 0.2, neg_scale: float = 2.0, init_bias: float = 0.05, gamma: float = 2.0,
                 balance_param: float = 2.0, normalization: str = "batch"):
        super().__init__(normalization)
        n = np.asarray(counts, dtype=np.float64)
        N = float(n.sum() if n_train is None else n_train)
        if N < 2:
            raise InputError("the distribution-balanced loss needs at least 2 training samples", field="counts")
        n = np.clip(n, 1.0, N - 1.0)
        self.n_train = int(N)
        self.map_alpha, self.map_beta, self.map_mu = float(map_alpha), float(map_beta), float(map_mu)
        self.neg_scale, self.init_bias, self.gamma = float(neg_scale), float(init_bias), float(gamma)
        self.balance_param = float(balance_param)
        self.register_buffer("freq_inv", torch.as_tensor(1.0 / n, dtype=torch.float64))
        nu = -np.log(N / n - 1.0) * self.init_bias / self.neg_scale
        self.register_buffer("nu", torch.as_tensor(nu, dtype=torch.float64))

    def forward(self, logits, y):
        z = _float(logits)
        t = _targets(z, y)
        fi = self.freq_inv.to(z.dtype)
        repeat = (t * fi).sum(1, keepdim=True)
        r = fi[None, :] / repeat
        w = torch.sigmoid(self.map_beta * (r - self.map_mu)) + self.map_alpha
        zr = z + self.nu.to(z.dtype)
        lam = self.neg_scale
        zs = zr * (1 - t) * lam + zr * t
        w = w / lam * (1 - t) + w * t
        bce = F.binary_cross_entropy_with_logits(zs, t, reduction="none")
        el = bce * w
        if self.gamma:
            pt = torch.exp(-F.binary_cross_entropy_with_logits(zs, t, reduction="none"))
            el = ((1 - pt) ** self.gamma) * el
        el = self.balance_param * el
        return el.mean() if self.normalization == "reference" else el.sum() / len(z)

    def params(self):
        return {"n_train": self.n_train, "map_alpha": self.map_alpha, "map_beta": self.map_beta,
                "map_mu": self.map_mu, "neg_scale": self.neg_scale, "init_bias": self.init_bias, "gamma": self.gamma,
                "balance_param": self.balance_param, "normalization": self.normalization}


class AsymmetricLoss(_SigmoidLoss):
    """Asymmetric loss (Ridnik et al., ICCV 2021), as ``AsymmetricLoss`` of Alibaba-MIIL/ASL.

    ``L = -sum [ y (1 - p)^γ+ log p + (1 - y) p_m^γ- log(1 - p_m) ]`` with p = σ(z) and the
    shifted probability ``p_m = max(p - m, 0)`` (the reference clamps ``1 - p + m`` at 1); logs
    of values below ``eps`` = 1e-8 are clamped. The paper's defaults γ- = 4, γ+ = 0, m = 0.05
    (the reference's MS-COCO training). ``focal_grad=False`` (the reference's training,
    ``disable_torch_grad_focal_loss=True``) treats the focusing weight as a constant in the
    backward pass; True differentiates it too.

    Normalisation: "reference" = the sum over the batch (the reference returns ``-loss.sum()``);
    "batch" = sum / B.
    """

    name = "asl"

    def __init__(self, gamma_neg: float = 4.0, gamma_pos: float = 0.0, clip: float = 0.05, eps: float = 1e-8,
                 focal_grad: bool = False, normalization: str = "batch"):
        super().__init__(normalization)
        self.gamma_neg, self.gamma_pos, self.clip, self.eps = float(gamma_neg), float(gamma_pos), float(clip), float(eps)
        self.focal_grad = bool(focal_grad)

    def forward(self, logits, y):
        z = _float(logits)
        t = _targets(z, y)
        p = torch.sigmoid(z)
        q = 1 - p
        if self.clip > 0:
            q = (q + self.clip).clamp(max=1)
        loss = t * torch.log(p.clamp(min=self.eps)) + (1 - t) * torch.log(q.clamp(min=self.eps))
        if self.gamma_neg > 0 or self.gamma_pos > 0:
            with torch.set_grad_enabled(self.focal_grad and torch.is_grad_enabled()):
                pt = p * t + q * (1 - t)
                w = torch.pow(1 - pt, self.gamma_pos * t + self.gamma_neg * (1 - t))
            loss = loss * w
        total = -loss.sum()
        return total if self.normalization == "reference" else total / len(z)

    def params(self):
        return {"gamma_neg": self.gamma_neg, "gamma_pos": self.gamma_pos, "clip": self.clip, "eps": self.eps,
                "focal_grad": self.focal_grad, "normalization": self.normalization}


def canonical_loss(name: str) -> str:
    """The loss a name means (``focal`` -> ``cb-softmax-focal``)."""
    key = str(name).strip().lower()
    return LOSS_ALIASES.get(key, key)


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
        Effective-number β for ``cb``, ``cb-softmax-focal`` / ``focal`` and ``cb-focal`` (default
        0.9999) and the DRW weights of ``ldam-drw``.
    gamma : float, optional
        Focusing γ of ``cb-softmax-focal`` / ``cb-focal`` (default 1.0), of ``db`` (default 2) or
        γ of ``eqlv2`` (default 12).
    tau : float, optional
        τ of ``logit-adjusted`` (default 1.0).
    **params
        Other loss parameters: ``max_m``, ``s``, ``drw_epoch`` (LDAM); ``p``, ``q`` (seesaw);
        ``mu``, ``alpha`` (EQLv2); ``n_train`` (train samples; default the sum of the counts),
        ``map_alpha``, ``map_beta``, ``map_mu``, ``neg_scale``, ``init_bias``, ``balance_param``
        (db); ``gamma_neg``, ``gamma_pos``, ``clip``, ``eps``, ``focal_grad`` (asl);
        ``normalization`` ("batch" or "reference") of every sigmoid loss.
    """
    counts = np.asarray(counts)
    c = len(counts)
    key = canonical_loss(name)

    def _opt(**kw):
        return {k: v for k, v in kw.items() if v is not None}

    try:
        if key == "ce":
            return CrossEntropy()
        if key == "cb":
            return ClassBalancedCE(counts, **_opt(beta=beta))
        if key == "cb-softmax-focal":
            return ClassBalancedSoftmaxFocal(counts, **_opt(beta=beta, gamma=gamma))
        norm = _opt(normalization=params.get("normalization"))
        if key == "cb-focal":
            return ClassBalancedFocal(counts, **_opt(beta=beta, gamma=gamma), **norm)
        if key == "bce":
            return BinaryCrossEntropy(**norm)
        if key == "db":
            return DistributionBalanced(counts, **_opt(gamma=gamma, **{k: params.get(k) for k in (
                "n_train", "map_alpha", "map_beta", "map_mu", "neg_scale", "init_bias", "balance_param")}), **norm)
        if key == "asl":
            return AsymmetricLoss(**_opt(**{k: params.get(k) for k in ("gamma_neg", "gamma_pos", "clip", "eps",
                                                                         "focal_grad")}), **norm)
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
