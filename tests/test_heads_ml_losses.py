"""The sigmoid (one-vs-rest / multi-label) losses against independent plain-torch implementations of
the papers' formulas, values AND gradients, with the papers' default hyper-parameters:

- BCE;
- class-balanced focal loss, Cui et al. CVPR 2019 (sigmoid focal terms, effective-number weights;
  richardaecn/class-balanced-loss ``focal_loss``);
- distribution-balanced loss, Wu et al. ECCV 2020 (re-balanced weighting + negative-tolerant
  regularisation + focal; wutong16/DistributionBalancedLoss ``ResampleLoss``, COCO-MLT config);
- asymmetric loss, Ridnik et al. ICCV 2021 (γ- = 4, γ+ = 0, m = 0.05; Alibaba-MIIL/ASL).

Each reference below is written from the formula in float64, independently of lt_core's code.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lt_core.errors import InputError
from lt_core.heads import ML_LOSSES, make_loss
from lt_core.heads.losses import (AsymmetricLoss, BinaryCrossEntropy, ClassBalancedFocal, ClassBalancedSoftmaxFocal,
                                  DistributionBalanced)

C = 9
COUNTS = np.array([4000, 1500, 600, 250, 90, 40, 15, 6, 2])
N_TRAIN = 5000


def _batch(seed: int, multi: bool, n: int = 48):
    g = torch.Generator().manual_seed(seed)
    z = (torch.randn(n, C, generator=g) * 2.5).float()
    if multi:
        y = (torch.rand(n, C, generator=g) < torch.linspace(0.5, 0.05, C)).float()
        y[0] = 0  # a sample without labels
        y[1] = 1  # a sample with every label
    else:
        y = torch.randint(0, C, (n,), generator=g)
    return z, y


def _onehot(y, c=C):
    return torch.nn.functional.one_hot(y, c).double() if y.ndim == 1 else y.double()


def _value_and_grad(fn, z, y):
    zz = z.detach().double().clone().requires_grad_(True)
    v = fn(zz, y)
    v.backward()
    return v.item(), zz.grad.numpy()


def _ours(loss, z, y, dtype=torch.float64):
    zz = z.detach().to(dtype).clone().requires_grad_(True)
    v = loss(zz, y)
    v.backward()
    return v.item(), zz.grad.double().numpy()


def _check(loss, ref, z, y):
    """float64: equal to 1e-10; the float32 training path: to float32 rounding."""
    rv, rg = _value_and_grad(ref, z, y)
    v, g = _ours(loss, z, y)
    assert v == pytest.approx(rv, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(g, rg, rtol=1e-9, atol=1e-12)
    v32, g32 = _ours(loss, z, y, torch.float32)
    assert v32 == pytest.approx(rv, rel=1e-5)
    np.testing.assert_allclose(g32, rg, rtol=2e-3, atol=1e-6 * max(1.0, np.abs(rg).max()))


# ---------------------------------------------------------------- plain formulas (float64)
def _sig(z):
    return 1.0 / (1.0 + torch.exp(-z))


def bce_ref(z, y, norm="batch"):
    t = _onehot(y)
    p = _sig(z)
    el = -(t * torch.log(p) + (1 - t) * torch.log(1 - p))
    return el.mean() if norm == "reference" else el.sum() / len(z)


def cui_weights(counts, beta):
    w = (1.0 - beta) / (1.0 - np.power(beta, counts.astype(np.float64)))
    return w / w.sum() * len(counts)


def cb_focal_ref(z, y, beta=0.9999, gamma=1.0, norm="batch"):
    """Cui et al. 2019, Eq. 8 with sigmoid: -sum_i alpha_i sum_c (1 - p_t)^gamma log p_t."""
    t = _onehot(y)
    p = _sig(z)
    pt = t * p + (1 - t) * (1 - p)
    fl = -((1 - pt) ** gamma) * torch.log(pt)
    w = torch.as_tensor(cui_weights(COUNTS, beta))
    nlab = t.sum(1)
    alpha = torch.where(nlab > 0, (t * w).sum(1) / nlab.clamp(min=1), torch.ones_like(nlab))
    total = (alpha[:, None] * fl).sum()
    return total / t.sum() if norm == "reference" else total / len(z)


def db_ref(z, y, alpha=0.1, beta=10.0, mu=0.2, lam=2.0, kappa=0.05, gamma=2.0, balance=2.0, norm="batch",
           n_train=N_TRAIN):
    t = _onehot(y)
    n = torch.as_tensor(COUNTS.astype(np.float64))
    # re-balanced weighting: r = P^C / P^I = (1 / n_c) / sum_{j in y_i} 1 / n_j, smoothed
    r = (1.0 / n)[None, :] / (t * (1.0 / n)[None, :]).sum(1, keepdim=True)
    rhat = alpha + 1.0 / (1.0 + torch.exp(-beta * (r - mu)))
    # negative-tolerant regularisation with the class-prior shift nu = -kappa log(N / n - 1) / lambda
    nu = -kappa * torch.log(n_train / n - 1.0) / lam
    zr = z + nu[None, :]
    pos = torch.log1p(torch.exp(-zr))                      # -log sigmoid(z')
    neg = torch.log1p(torch.exp(lam * zr)) / lam           # (1/lambda) log(1 + exp(lambda z'))
    pt = torch.where(t > 0, _sig(zr), _sig(-lam * zr))
    el = balance * (1 - pt) ** gamma * rhat * torch.where(t > 0, pos, neg)
    return el.mean() if norm == "reference" else el.sum() / len(z)


def asl_ref(z, y, gneg=4.0, gpos=0.0, m=0.05, focal_grad=False, norm="batch"):
    """Ridnik et al. 2021: L+ = (1 - p)^g+ log p, L- = p_m^g- log(1 - p_m), p_m = max(p - m, 0)."""
    t = _onehot(y)
    p = _sig(z)
    pm = torch.clamp(p - m, min=0.0)
    wp = (1 - p) ** gpos
    wn = pm ** gneg
    if not focal_grad:
        wp, wn = wp.detach(), wn.detach()
    el = -(t * wp * torch.log(p) + (1 - t) * wn * torch.log(1 - pm))
    return el.sum() if norm == "reference" else el.sum() / len(z)


# ---------------------------------------------------------------- tests
@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("norm", ["batch", "reference"])
def test_bce(multi, norm):
    z, y = _batch(0, multi)
    _check(BinaryCrossEntropy(norm), lambda a, b: bce_ref(a, b, norm), z, y)


@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("beta,gamma,norm", [(0.9999, 1.0, "batch"), (0.9999, 1.0, "reference"),
                                             (0.999, 0.5, "batch"), (0.99, 2.0, "reference"), (0.9, 0.0, "batch")])
def test_cb_focal_is_cuis_sigmoid_loss(multi, beta, gamma, norm):
    z, y = _batch(1, multi)
    _check(ClassBalancedFocal(COUNTS, beta, gamma, norm), lambda a, b: cb_focal_ref(a, b, beta, gamma, norm), z, y)


def test_cb_focal_defaults_are_the_papers():
    loss = make_loss("cb-focal", COUNTS)
    assert (loss.beta, loss.gamma) == (0.9999, 1.0)
    assert loss.bias_init == pytest.approx(-np.log(9.0))  # b = -log((1 - pi) / pi), pi = 0.1
    z, y = _batch(2, False)
    _check(loss, cb_focal_ref, z, y)


def test_sigmoid_and_softmax_cb_focal_differ_and_the_old_name_keeps_its_meaning():
    z, y = _batch(3, False)
    sig = make_loss("cb-focal", COUNTS)(z, y).item()
    soft = make_loss("cb-softmax-focal", COUNTS)(z, y).item()
    assert make_loss("focal", COUNTS)(z, y).item() == soft   # the CLI name 'focal' is unchanged
    assert isinstance(make_loss("focal", COUNTS), ClassBalancedSoftmaxFocal)
    assert abs(sig - soft) > 0.1 * soft                      # two different losses, not a rename of one


@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("norm", ["batch", "reference"])
def test_distribution_balanced_loss(multi, norm):
    z, y = _batch(4, multi)
    loss = DistributionBalanced(COUNTS, n_train=N_TRAIN, normalization=norm)
    _check(loss, lambda a, b: db_ref(a, b, norm=norm), z, y)


def test_distribution_balanced_defaults_are_the_papers():
    loss = make_loss("db", COUNTS, n_train=N_TRAIN)
    assert (loss.map_alpha, loss.map_beta, loss.map_mu) == (0.1, 10.0, 0.2)
    assert (loss.neg_scale, loss.init_bias, loss.gamma, loss.balance_param) == (2.0, 0.05, 2.0, 2.0)
    z, y = _batch(5, True)
    _check(loss, db_ref, z, y)
    # other hyper-parameters follow the formula too
    other = make_loss("db", COUNTS, n_train=N_TRAIN, map_alpha=0.3, map_beta=5.0, map_mu=0.5, neg_scale=5.0,
                      init_bias=0.1, gamma=0.0, balance_param=1.0)
    _check(other, lambda a, b: db_ref(a, b, 0.3, 5.0, 0.5, 5.0, 0.1, 0.0, 1.0), z, y)


@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("focal_grad", [False, True])
@pytest.mark.parametrize("norm", ["batch", "reference"])
def test_asymmetric_loss(multi, focal_grad, norm):
    z, y = _batch(6, multi)
    _check(AsymmetricLoss(focal_grad=focal_grad, normalization=norm),
           lambda a, b: asl_ref(a, b, focal_grad=focal_grad, norm=norm), z, y)


def test_asymmetric_defaults_are_the_papers():
    loss = make_loss("asl", COUNTS)
    assert (loss.gamma_neg, loss.gamma_pos, loss.clip, loss.focal_grad) == (4.0, 0.0, 0.05, False)
    z, y = _batch(7, True)
    _check(loss, asl_ref, z, y)
    _check(make_loss("asl", COUNTS, gamma_pos=1.0, clip=0.1),
           lambda a, b: asl_ref(a, b, gpos=1.0, m=0.1), z, y)


def test_every_multilabel_loss_takes_targets_of_both_kinds():
    z, y = _batch(8, False)
    Y = torch.nn.functional.one_hot(y, C).float()
    for name in ML_LOSSES:
        loss = make_loss(name, COUNTS)
        assert loss.sigmoid
        assert loss(z, y).item() == pytest.approx(loss(z, Y).item(), rel=1e-6)


def test_bad_normalization_and_target_shape_are_input_errors():
    with pytest.raises(InputError):
        make_loss("bce", COUNTS, normalization="per-pixel")
    z, _ = _batch(9, True)
    with pytest.raises(InputError):
        make_loss("bce", COUNTS)(z, torch.zeros(len(z), C + 1))
