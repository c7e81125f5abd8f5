"""Adjustment files: what a deployment needs to apply a post-hoc fix in two lines of numpy.

One JSON object with ``format``, ``method``, the parameters, the per-class vector and ``usage``
(the two lines). Methods and their vectors:

==================== ============================ =================================================
method               vector                        the two lines
==================== ============================ =================================================
logit_adjustment     ``offset`` (C,)               ``pred = (logits + np.asarray(adj["offset"])).argmax(1)``
(probability input)  ``scale`` (C,)                ``pred = (probs * np.asarray(adj["scale"])).argmax(1)``
tau_normalization    ``weight_scale`` (C,)         ``pred = (X @ (W * np.asarray(adj["weight_scale"])[:, None]).T).argmax(1)``
thresholds           ``thresholds`` (C,)           ``pred = scores >= np.asarray(adj["thresholds"], dtype=float)``
bias                 ``bias`` (C,)                 ``pred = (scores + np.asarray(adj["bias"])).argmax(1)``
sigmoid_prior_corr.  ``offset`` (C,)               ``pred = (logits + np.asarray(adj["offset"])) >= adj["logit_threshold"]``
==================== ============================ =================================================

(``sigmoid_prior_correction``: multi-label / one-vs-rest logits, :mod:`lt_core.posthoc.multilabel`.)

A threshold of ``null`` (never predict the class) reads back as NaN, and ``score >= NaN`` is False.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import write_json
from .adjust import log_prior

__all__ = ["FORMAT", "USAGE", "logit_adjustment_spec", "tau_norm_spec", "thresholds_spec", "bias_spec",
           "write_adjustment", "read_adjustment", "apply_adjustment"]

FORMAT = "tailscope.adjustment/1"
LOAD = 'adj = json.load(open("adjustment.json"))'
USAGE = {
    ("logit_adjustment", "logits"): 'pred = (logits + np.asarray(adj["offset"])).argmax(1)',
    ("logit_adjustment", "probs"): 'pred = (probs * np.asarray(adj["scale"])).argmax(1)',
    ("tau_normalization", "features"): 'pred = (X @ (W * np.asarray(adj["weight_scale"])[:, None]).T).argmax(1)',
    ("thresholds", "scores"): 'pred = scores >= np.asarray(adj["thresholds"], dtype=float)',
    ("bias", "scores"): 'pred = (scores + np.asarray(adj["bias"])).argmax(1)',
}
_NEVER = -1e300   # bias of a class that must never win


def _classes(class_ids, class_names, C: int) -> dict:
    out = {}
    if class_ids is not None:
        out["class_ids"] = [int(i) for i in class_ids]
    if class_names is not None:
        out["class_names"] = [str(n) for n in class_names]
    for k, v in out.items():
        if len(v) != C:
            raise InputError(f"{k} has {len(v)} entries for {C} classes", field=k)
    return out


def _usage(method: str, input_kind: str) -> list[str]:
    return [LOAD, USAGE[(method, input_kind)]]


def logit_adjustment_spec(train_counts, tau: float, *, input_kind: str = "logits", pseudo_count: float = 0.0,
                          class_ids=None, class_names=None, tuning: dict | None = None) -> dict:
    """Logit adjustment (Menon et al. 2021) as a file: ``offset = -tau * log(prior)``.

    ``input_kind="probs"`` also writes ``scale = prior ** -tau`` (the rescaling form).
    """
    if input_kind not in ("logits", "probs"):
        raise InputError(f"input_kind must be logits or probs, got '{input_kind}'", field="input")
    lp = log_prior(train_counts, pseudo_count)
    offset = -float(tau) * lp
    spec = {"format": FORMAT, "method": "logit_adjustment", "input": input_kind, "tau": float(tau),
            "offset": offset.tolist(), "prior_counts": [int(c) for c in np.asarray(train_counts)],
            "pseudo_count": float(pseudo_count), "paper": "Menon et al., Long-tail learning via logit adjustment, ICLR 2021"}
    if input_kind == "probs":
        spec["scale"] = np.exp(offset).tolist()
    spec.update(_classes(class_ids, class_names, len(lp)))
    spec["tuning"] = tuning or {}
    spec["usage"] = _usage("logit_adjustment", input_kind)
    return spec


def tau_norm_spec(W: np.ndarray, tau: float, *, class_ids=None, class_names=None, tuning: dict | None = None) -> dict:
    """tau-normalisation (Kang et al. 2020) as a file: ``weight_scale = 1 / ||w_c|| ** tau``, bias dropped."""
    W = np.asarray(W, dtype=np.float64)
    norms = np.linalg.norm(W, axis=1)
    scale = np.ones_like(norms)
    scale[norms > 0] = 1.0 / norms[norms > 0] ** float(tau)     # tau_normalize(W, tau) == W * scale[:, None]
    spec = {"format": FORMAT, "method": "tau_normalization", "input": "features", "tau": float(tau),
            "weight_scale": scale.tolist(), "bias": "dropped",
            "paper": "Kang et al., Decoupling representation and classifier, ICLR 2020"}
    spec.update(_classes(class_ids, class_names, len(W)))
    spec["tuning"] = tuning or {}
    spec["usage"] = _usage("tau_normalization", "features")
    return spec


def thresholds_spec(thresholds, *, objective: str = "", targets=None, class_ids=None, class_names=None,
                    tuning: dict | None = None) -> dict:
    """Per-class thresholds (multi-label / one-vs-rest): ``scores >= thresholds``; +inf -> null."""
    t = np.asarray(thresholds, dtype=np.float64).ravel()
    spec = {"format": FORMAT, "method": "thresholds", "input": "scores", "objective": objective,
            "thresholds": [None if not np.isfinite(v) else float(v) for v in t],
            "targets": None if targets is None else [None if v != v else float(v) for v in np.asarray(targets)]}
    spec.update(_classes(class_ids, class_names, len(t)))
    spec["tuning"] = tuning or {}
    spec["usage"] = _usage("thresholds", "scores")
    return spec


def bias_spec(bias, *, objective: str = "", class_ids=None, class_names=None, tuning: dict | None = None) -> dict:
    """Per-class additive biases for single-label decisions: ``argmax(scores + bias)``."""
    b = np.asarray(bias, dtype=np.float64).ravel()
    b = np.where(np.isfinite(b), b, _NEVER)
    spec = {"format": FORMAT, "method": "bias", "input": "scores", "objective": objective, "bias": b.tolist()}
    spec.update(_classes(class_ids, class_names, len(b)))
    spec["tuning"] = tuning or {}
    spec["usage"] = _usage("bias", "scores")
    return spec


def write_adjustment(path, spec: dict) -> Path:
    """Write an adjustment file atomically (JSON)."""
    return write_json(path, spec)


_VECTOR = {"logit_adjustment": "offset", "tau_normalization": "weight_scale", "thresholds": "thresholds",
           "bias": "bias", "sigmoid_prior_correction": "offset"}


def read_adjustment(path) -> dict:
    """Read and check an adjustment file (never executes anything from it)."""
    p = Path(path)
    try:
        spec = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON ({e.msg} at line {e.lineno})", str(p))
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise InputError(f"not a Tailscope adjustment file (expected format '{FORMAT}')", str(p), "format")
    m = spec.get("method")
    if m not in _VECTOR:
        raise InputError(f"unknown method '{m}'", str(p), "method", hint=f"one of {sorted(_VECTOR)}")
    if not isinstance(spec.get(_VECTOR[m]), list):
        raise InputError(f"missing per-class list '{_VECTOR[m]}'", str(p), _VECTOR[m])
    return spec


def apply_adjustment(spec: dict, scores: np.ndarray | None = None, X: np.ndarray | None = None,
                     W: np.ndarray | None = None) -> np.ndarray:
    """Apply an adjustment exactly as its ``usage`` lines do (a reference for tests and the CLI)."""
    m, kind = spec["method"], spec.get("input")
    if m == "logit_adjustment":
        if kind == "probs":
            return (np.asarray(scores) * np.asarray(spec["scale"])).argmax(1)
        return (np.asarray(scores) + np.asarray(spec["offset"])).argmax(1)
    if m == "tau_normalization":
        return (np.asarray(X) @ (np.asarray(W) * np.asarray(spec["weight_scale"])[:, None]).T).argmax(1)
    if m == "thresholds":
        return np.asarray(scores) >= np.asarray(spec["thresholds"], dtype=float)
    if m == "bias":
        return (np.asarray(scores) + np.asarray(spec["bias"])).argmax(1)
    if m == "sigmoid_prior_correction":
        return (np.asarray(scores) + np.asarray(spec["offset"])) >= spec["logit_threshold"]
    raise InputError(f"unknown method '{m}'", field="method")
