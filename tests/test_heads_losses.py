"""Losses of lt_core.heads against independent re-implementations of the papers' reference code."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lt_core.errors import InputError
from lt_core.heads import LOSSES, make_loss

C = 7
COUNTS = np.array([500, 200, 80, 30, 12, 5, 2])


def _batch(seed=0, n=64):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, C, generator=g) * 2
    y = torch.randint(0, C, (n,), generator=g)
    return logits, y


def _np_log_softmax(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def _cui_weights(counts, beta):
    """Cui et al. 2019 (vandit15/Class-balanced-loss-pytorch): (1-b)/(1-b^n), normalised to sum C."""
    eff = 1.0 - np.power(beta, counts)
    w = (1.0 - beta) / eff
    return w / w.sum() * len(counts)


def test_ce_matches_numpy():
    z, y = _batch()
    ref = -_np_log_softmax(z.numpy().astype(np.float64))[np.arange(len(y)), y.numpy()].mean()
    assert make_loss("ce", COUNTS)(z, y).item() == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize("beta", [0.9, 0.999, 0.9999])
def test_cb_is_weighted_mean_with_cui_weights(beta):
    z, y = _batch(1)
    w = _cui_weights(COUNTS.astype(float), beta)
    lp = _np_log_softmax(z.numpy().astype(np.float64))[np.arange(len(y)), y.numpy()]
    wy = w[y.numpy()]
    ref = -(wy * lp).sum() / wy.sum()   # torch's weighted mean, as kaidic/LDAM-DRW's CB/DRW CE
    assert make_loss("cb", COUNTS, beta=beta)(z, y).item() == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_focal_matches_formula(gamma):
    z, y = _batch(2)
    beta = 0.999
    w = _cui_weights(COUNTS.astype(float), beta)
    lp = _np_log_softmax(z.numpy().astype(np.float64))[np.arange(len(y)), y.numpy()]
    ref = (w[y.numpy()] * (1 - np.exp(lp)) ** gamma * -lp).mean()
    assert make_loss("focal", COUNTS, beta=beta, gamma=gamma)(z, y).item() == pytest.approx(ref, rel=1e-5)


def test_balanced_softmax_and_logit_adjusted():
    z, y = _batch(3)
    prior = COUNTS / COUNTS.sum()
    for tau in (0.5, 1.0, 2.0):
        adj = z.numpy().astype(np.float64) + tau * np.log(prior)
        ref = -_np_log_softmax(adj)[np.arange(len(y)), y.numpy()].mean()
        assert make_loss("logit-adjusted", COUNTS, tau=tau)(z, y).item() == pytest.approx(ref, rel=1e-5)
    assert make_loss("balanced-softmax", COUNTS)(z, y).item() == pytest.approx(
        make_loss("logit-adjusted", COUNTS, tau=1.0)(z, y).item(), rel=1e-6)


class _RefLDAM(torch.nn.Module):
    """kaidic/LDAM-DRW ``LDAMLoss`` (losses.py), re-typed."""

    def __init__(self, cls_num_list, max_m=0.5, weight=None, s=30):
        super().__init__()
        m_list = 1.0 / np.sqrt(np.sqrt(cls_num_list))
        m_list = m_list * (max_m / np.max(m_list))
        self.m_list = torch.FloatTensor(m_list)
        self.s, self.weight = s, weight

    def forward(self, x, target):
        index = torch.zeros_like(x, dtype=torch.uint8)
        index.scatter_(1, target.data.view(-1, 1), 1)
        index_float = index.float()
        batch_m = torch.matmul(self.m_list[None, :], index_float.transpose(0, 1)).view((-1, 1))
        output = torch.where(index.bool(), x - batch_m, x)
        return F.cross_entropy(self.s * output, target, weight=self.weight)


def test_ldam_drw_matches_reference_on_cosine_logits():
    cos, y = _batch(4)
    cos = torch.tanh(cos)  # cosine-like logits in (-1, 1)
    loss = make_loss("ldam-drw", COUNTS, beta=0.9999)  # s = 30, max_m = 0.5
    loss.start_epoch(0, 10)  # before DRW: no weights
    ref = _RefLDAM(COUNTS, s=30)(cos, y)
    assert loss(30 * cos, y).item() == pytest.approx(ref.item(), rel=1e-5)
    loss.start_epoch(8, 10)  # DRW from 80% of the epochs: effective-number weights (beta 0.9999)
    w = torch.tensor(_cui_weights(COUNTS.astype(float), 0.9999), dtype=torch.float32)
    ref = _RefLDAM(COUNTS, s=30, weight=w)(cos, y)
    assert loss(30 * cos, y).item() == pytest.approx(ref.item(), rel=1e-5)


def _ref_seesaw(cls_score, labels, cum_samples, p=0.8, q=2.0, eps=1e-2):
    """mmdet ``seesaw_ce_loss`` (mmdet/models/losses/seesaw_loss.py), re-typed, mean reduction."""
    num_classes = cls_score.shape[1]
    onehot = F.one_hot(labels, num_classes)
    w = cls_score.new_ones(onehot.size())
    ratio = cum_samples[None, :].clamp(min=1) / cum_samples[:, None].clamp(min=1)
    index = (ratio < 1.0).float()
    w = w * (ratio.pow(p) * index + (1 - index))[labels.long(), :]
    scores = F.softmax(cls_score.detach(), dim=1)
    self_scores = scores[torch.arange(0, len(scores)).long(), labels.long()]
    score_matrix = scores / self_scores[:, None].clamp(min=eps)
    index = (score_matrix > 1.0).float()
    w = w * (score_matrix.pow(q) * index + (1 - index))
    cls_score = cls_score + (w.log() * (1 - onehot))
    return F.cross_entropy(cls_score, labels, reduction="none").mean()


def test_seesaw_matches_mmdet_over_batches():
    loss = make_loss("seesaw", COUNTS)
    cum = torch.zeros(C)
    for seed in range(3):  # the counts accumulate batch after batch, as in mmdet
        z, y = _batch(10 + seed)
        for u in torch.unique(y):
            cum[u] += (y == u).sum()
        ref = _ref_seesaw(z, y, cum)
        assert loss(z, y).item() == pytest.approx(ref.item(), rel=1e-5)
    assert torch.equal(loss.cum_samples, cum)


class _RefEQLv2:
    """tztztztztz/eqlv2 ``EQLv2`` (mmdet/models/losses/eqlv2.py), re-typed without the background column."""

    def __init__(self, num_classes, gamma=12, mu=0.8, alpha=4.0):
        self.num_classes, self.gamma, self.mu, self.alpha = num_classes, gamma, mu, alpha
        self._pos_grad = self._neg_grad = None
        self.map_func = lambda x: 1 / (1 + torch.exp(-self.gamma * (x - self.mu)))

    def __call__(self, cls_score, label):
        n_i, n_c = cls_score.size()
        target = cls_score.new_zeros(n_i, n_c)
        target[torch.arange(n_i), label] = 1
        if self._pos_grad is None:
            self._pos_grad = cls_score.new_zeros(self.num_classes)
            self._neg_grad = cls_score.new_zeros(self.num_classes)
            neg_w = pos_w = cls_score.new_ones((n_i, n_c))
        else:
            neg_w = self.map_func(self._pos_grad / (self._neg_grad + 1e-10))
            pos_w = 1 + self.alpha * (1 - neg_w)
            neg_w, pos_w = neg_w.view(1, -1).expand(n_i, n_c), pos_w.view(1, -1).expand(n_i, n_c)
        weight = pos_w * target + neg_w * (1 - target)
        loss = torch.sum(F.binary_cross_entropy_with_logits(cls_score, target, reduction="none") * weight) / n_i
        prob = torch.sigmoid(cls_score.detach())
        grad = torch.abs(target * (prob - 1) + (1 - target) * prob)
        self._pos_grad += torch.sum(grad * target * weight, dim=0)
        self._neg_grad += torch.sum(grad * (1 - target) * weight, dim=0)
        return loss


def test_eqlv2_matches_reference_over_batches():
    loss, ref = make_loss("eqlv2", COUNTS), _RefEQLv2(C)
    for seed in range(4):
        z, y = _batch(20 + seed)
        assert loss(z, y).item() == pytest.approx(ref(z, y).item(), rel=1e-5)


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_has_finite_gradients(name):
    z, y = _batch(5)
    z.requires_grad_(True)
    loss = make_loss(name, COUNTS)
    loss.start_epoch(9, 10)
    val = loss(z if name != "ldam-drw" else 30 * torch.tanh(z), y)
    val.backward()
    assert torch.isfinite(val) and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0


def test_unknown_loss_is_input_error():
    with pytest.raises(InputError, match="unknown loss"):
        make_loss("hinge", COUNTS)
