"""Classifier heads on frozen features: linear (optionally cosine), a small MLP, and LWS.

Every head maps features X (B, D) float32 to logits (B, C). ``head.arch()`` returns a plain
dict from which :func:`build_head` rebuilds the same module (the export stores it next to the
weights). LWS is folded into a plain linear head by :func:`fold_lws` for export.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError

__all__ = ["LinearHead", "MLPHead", "LWSHead", "build_head", "fold_lws", "HEAD_MODELS"]

HEAD_MODELS = ("linear", "mlp")


class LinearHead(nn.Module):
    """``logits = n(X) @ n(W).T + b`` (state-dict keys ``weight`` (C, D) and ``bias`` (C,)).

    Parameters
    ----------
    in_dim, n_classes : int
        D and C.
    bias : bool
        Learn a bias (False for cosine heads).
    normalize_input, normalize_weight : bool
        L2-normalise the features / the class weight rows (``n``); both True gives a cosine
        classifier (LDAM's ``NormedLinear``, NCM on normalised means).
    scale : float
        Logits are multiplied by it (``s`` of a cosine head: ``s · cos``).
    """

    def __init__(self, in_dim: int, n_classes: int, bias: bool = True, normalize_input: bool = False,
                 normalize_weight: bool = False, scale: float = 1.0):
        super().__init__()
        self.in_dim, self.n_classes = int(in_dim), int(n_classes)
        self.normalize_input, self.normalize_weight = bool(normalize_input), bool(normalize_weight)
        self.scale = float(scale)
        self.weight = nn.Parameter(torch.empty(self.n_classes, self.in_dim))
        self.bias = nn.Parameter(torch.zeros(self.n_classes)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's ``nn.Linear`` initialisation (Kaiming-uniform weights, uniform bias)."""
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)
        if self.bias is not None:
            bound = 1 / self.in_dim ** 0.5
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.normalize_input:
            x = F.normalize(x, dim=1)
        w = F.normalize(self.weight, dim=1) if self.normalize_weight else self.weight
        out = F.linear(x, w, self.bias)
        return out * self.scale if self.scale != 1.0 else out

    def arch(self) -> dict[str, Any]:
        return {"type": "linear", "in_dim": self.in_dim, "n_classes": self.n_classes,
                "bias": self.bias is not None, "normalize_input": self.normalize_input,
                "normalize_weight": self.normalize_weight, "scale": self.scale}


class MLPHead(nn.Module):
    """Linear → ReLU → linear (or cosine) head; keys ``hidden.*`` and ``out.*``."""

    def __init__(self, in_dim: int, n_classes: int, hidden: int = 512, cosine: bool = False, scale: float = 1.0):
        super().__init__()
        self.in_dim, self.n_classes, self.hidden_dim = int(in_dim), int(n_classes), int(hidden)
        self.cosine, self.scale = bool(cosine), float(scale)
        self.hidden = LinearHead(in_dim, hidden)
        self.out = LinearHead(hidden, n_classes, bias=not cosine, normalize_input=cosine, normalize_weight=cosine,
                              scale=scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.hidden(x)))

    def arch(self) -> dict[str, Any]:
        return {"type": "mlp", "in_dim": self.in_dim, "n_classes": self.n_classes, "hidden": self.hidden_dim,
                "cosine": self.cosine, "scale": self.scale}


class LWSHead(nn.Module):
    """Learnable weight scaling (Kang et al. 2020): ``logits = (X @ W.T + b) * f``.

    ``W`` (C, D) and ``b`` (C,) are the frozen joint classifier; only the per-class scale
    ``f`` (C,) (initialised to 1) is learned, as ``scales`` in facebookresearch/classifier-balancing.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray | None = None):
        super().__init__()
        W = torch.as_tensor(np.asarray(W, dtype=np.float32))
        b = torch.zeros(W.shape[0]) if b is None else torch.as_tensor(np.asarray(b, dtype=np.float32))
        self.register_buffer("W", W.clone())
        self.register_buffer("b", b.clone())
        self.scales = nn.Parameter(torch.ones(W.shape[0]))
        self.in_dim, self.n_classes = int(W.shape[1]), int(W.shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.W, self.b) * self.scales

    def arch(self) -> dict[str, Any]:
        return fold_lws(self).arch()


def fold_lws(head: LWSHead) -> LinearHead:
    """The equivalent plain linear head: ``W' = f W``, ``b' = f b`` (same logits)."""
    out = LinearHead(head.in_dim, head.n_classes)
    with torch.no_grad():
        s = head.scales.detach()
        out.weight.copy_(head.W * s[:, None])
        out.bias.copy_(head.b * s)
    return out.to(head.W.device)


def build_head(arch: dict[str, Any]) -> nn.Module:
    """Rebuild an (uninitialised-weight) head from its ``arch()`` dict."""
    try:
        kind = arch["type"]
        if kind == "linear":
            return LinearHead(arch["in_dim"], arch["n_classes"], bias=arch.get("bias", True),
                              normalize_input=arch.get("normalize_input", False),
                              normalize_weight=arch.get("normalize_weight", False),
                              scale=arch.get("scale", 1.0))
        if kind == "mlp":
            return MLPHead(arch["in_dim"], arch["n_classes"], hidden=arch.get("hidden", 512),
                           cosine=arch.get("cosine", False), scale=arch.get("scale", 1.0))
    except (KeyError, TypeError) as e:
        raise InputError(f"head architecture is missing or has a bad value: {e}", field="arch") from None
    raise InputError(f"unknown head type {arch.get('type')!r}", field="arch", hint="expected linear or mlp")
