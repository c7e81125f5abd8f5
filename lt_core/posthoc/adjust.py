"""Post-hoc score adjustment: logit adjustment, probability rescaling, tau-normalisation.

No retraining: these change only how scores become decisions.

* Logit adjustment (Menon et al., "Long-tail learning via logit adjustment", ICLR 2021, eq. 9):
  ``adjusted = logits - tau * log(prior)`` with ``prior`` the TRAIN class frequencies.
* Probability rescaling (the "rescaling" form of threshold moving; Menon et al. 2021 sec. 4,
  Collell et al. 2016): ``p_c / prior_c ** tau`` -- same argmax as logit adjustment of ``log p``.
* tau-normalisation (Kang et al., "Decoupling representation and classifier", ICLR 2020, sec. 4):
  ``w_c / ||w_c|| ** tau``, bias dropped, scores recomputed from the features.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["as_log_scores", "log_prior", "adjustment_offset", "logit_adjust", "rescale_probs", "tau_normalize",
           "tau_norm_scores"]


def log_prior(train_counts: np.ndarray, pseudo_count: float = 0.0) -> np.ndarray:
    """Log of the train class prior, ``log((n_c + a) / sum(n + a))``.

    Parameters
    ----------
    train_counts : array (C,)
        Training samples per class.
    pseudo_count : float
        ``a``, added to every class (use > 0 when some class has no training sample).

    Returns
    -------
    ndarray (C,) float64
        Natural log of the prior (all finite).
    """
    n = np.asarray(train_counts, dtype=np.float64).ravel()
    if n.size == 0:
        raise InputError("no classes in the train counts", field="train_counts")
    if not np.isfinite(n).all() or (n < 0).any():
        raise InputError("train counts must be finite and >= 0", field="train_counts")
    if pseudo_count < 0:
        raise InputError(f"pseudo_count must be >= 0, got {pseudo_count}", field="pseudo_count")
    n = n + float(pseudo_count)
    if (n <= 0).any():
        zero = np.flatnonzero(n <= 0)
        raise InputError(f"{len(zero)} class(es) have no training samples (class index "
                         f"{zero[:10].tolist()}), so log(prior) is -inf", field="train_counts",
                         hint="pass a pseudo count (e.g. 1) so the prior of those classes is positive")
    return np.log(n) - np.log(n.sum())


def adjustment_offset(train_counts: np.ndarray, tau: float, pseudo_count: float = 0.0) -> np.ndarray:
    """Per-class additive offset ``-tau * log(prior)``, shape (C,) float64.

    A deployment applies it as ``(logits + offset).argmax(1)``.
    """
    return -float(tau) * log_prior(train_counts, pseudo_count)


def _check_scores(scores: np.ndarray, n_classes: int, what: str = "scores") -> np.ndarray:
    s = np.asarray(scores)
    if s.ndim != 2:
        raise InputError(f"expected a 2-D (N, C) array, got shape {s.shape}", field=what)
    if s.shape[1] != n_classes:
        raise InputError(f"has {s.shape[1]} columns but the prior has {n_classes} classes", field=what)
    return s


def logit_adjust(logits: np.ndarray, prior: np.ndarray, tau: float = 1.0, *, is_log: bool = False) -> np.ndarray:
    """Logit adjustment (Menon et al. 2021): ``logits - tau * log(prior)``.

    Parameters
    ----------
    logits : array (N, C)
        Raw scores (logits) of a trained model.
    prior : array (C,)
        Train class prior (or train counts: only ratios matter for the argmax, but the offset
        differs by a constant; pass ``prior = counts / counts.sum()`` to match the paper), or its
        natural log when ``is_log=True``.
    tau : float
        Strength; 0 gives the logits back, 1 is the Bayes-optimal correction for a balanced
        test distribution.

    Returns
    -------
    ndarray (N, C)
        Adjusted logits, dtype of ``logits`` when it is floating (float32 stays float32), the
        arithmetic done in float64.
    """
    lp = np.asarray(prior, dtype=np.float64).ravel()
    if not is_log:
        if (lp <= 0).any():
            raise InputError("prior must be > 0 for every class", field="prior",
                             hint="use log_prior(counts, pseudo_count=1) for classes with no training data")
        lp = np.log(lp)
    z = _check_scores(logits, lp.size, "logits")
    out_dtype = z.dtype if np.issubdtype(z.dtype, np.floating) else np.float64
    return (z - float(tau) * lp).astype(out_dtype, copy=False)


def rescale_probs(probs: np.ndarray, prior: np.ndarray, tau: float = 1.0, renormalize: bool = False) -> np.ndarray:
    """Probability rescaling (threshold moving): ``p_c / prior_c ** tau``.

    Same argmax as :func:`logit_adjust` applied to ``log p``.

    Parameters
    ----------
    probs : array (N, C)
        Class probabilities.
    prior : array (C,)
        Train class prior (> 0).
    tau : float
    renormalize : bool
        Divide each row by its sum so the result is a distribution again.

    Returns
    -------
    ndarray (N, C) float64
    """
    pr = np.asarray(prior, dtype=np.float64).ravel()
    if (pr <= 0).any():
        raise InputError("prior must be > 0 for every class", field="prior")
    p = _check_scores(probs, pr.size, "probs").astype(np.float64)
    out = p / pr ** float(tau)
    if renormalize:
        s = out.sum(axis=1, keepdims=True)
        out = np.divide(out, s, out=np.zeros_like(out), where=s > 0)
    return out


def tau_normalize(W: np.ndarray, tau: float = 1.0) -> np.ndarray:
    """tau-normalised classifier weights (Kang et al. 2020): ``w_c / ||w_c||_2 ** tau``.

    Parameters
    ----------
    W : array (C, D)
        One weight row per class. The bias is dropped by the method: score with ``X @ Wn.T``.
    tau : float
        0 keeps W, 1 gives unit-norm rows.

    Returns
    -------
    ndarray (C, D) float64
        A zero row stays zero.
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise InputError(f"expected classifier weights of shape (C, D), got {W.shape}", field="W")
    norms = np.linalg.norm(W, axis=1)
    scale = np.ones_like(norms)
    pos = norms > 0
    scale[pos] = norms[pos] ** float(tau)
    return W / scale[:, None]


def tau_norm_scores(X: np.ndarray, W: np.ndarray, tau: float = 1.0) -> np.ndarray:
    """Scores of the tau-normalised classifier, ``X @ tau_normalize(W, tau).T`` (no bias).

    Parameters
    ----------
    X : array (N, D)
        Features of one split.
    W : array (C, D)

    Returns
    -------
    ndarray (N, C) float32
    """
    X = np.asarray(X)
    W = np.asarray(W)
    if X.ndim != 2 or W.ndim != 2 or X.shape[1] != W.shape[1]:
        raise InputError(f"features {X.shape} and classifier weights {W.shape} do not fit "
                         "(need X (N, D) and W (C, D))", field="features")
    Wn = tau_normalize(W, tau).astype(np.float32)
    return X.astype(np.float32, copy=False) @ Wn.T


def as_log_scores(scores: np.ndarray, kind: str) -> np.ndarray:
    """Scores on the log scale that logit adjustment works on.

    Parameters
    ----------
    scores : array (N, C)
    kind : {"logits", "probs"}
        Logits are returned as they are; probabilities become ``log(clip(p, 1e-45, 1))``
        (float64), so ``argmax(log p - tau * lp) == argmax(p / prior ** tau)``.
    """
    if kind == "logits":
        return np.asarray(scores)
    if kind == "probs":
        return np.log(np.clip(np.asarray(scores, dtype=np.float64), 1e-45, None))
    raise InputError(f"need logits or probabilities, got '{kind}'", field="kind",
                     hint="predicted labels alone cannot be adjusted: load the model's scores")
