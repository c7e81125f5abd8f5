"""Export and re-load a retrained head: weights (safetensors or a torch state_dict) + settings JSON.

Files written into an output folder (atomically, with :mod:`lt_core.io`):

``head.safetensors`` or ``head.pt``   the state dict of a plain head (linear: ``weight`` (C, D),
                                      ``bias`` (C,) when it has one; MLP: ``hidden.*``, ``out.*``)
``head.json``                         ``{"arch": ..., "settings": ..., "tau": ..., "notes": ...}``

Use elsewhere::

    from lt_core.heads import load_head
    logits = load_head("out_dir").predict(X)          # X (N, D) float32 -> (N, C)
"""
from __future__ import annotations

import io as _io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ..io import write_bytes, write_json
from .models import build_head
from .train import predict_logits

__all__ = ["HEAD_FORMATS", "head_state_bytes", "head_metadata", "save_head", "load_head", "LoadedHead",
           "USAGE_SNIPPET"]

HEAD_FORMATS = ("safetensors", "torch")
USAGE_SNIPPET = ('from lt_core.heads import load_head\n'
                 'logits = load_head("{dir}").predict(X)  # X: (N, D) float32 features')


def _state(head: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()}


def head_state_bytes(head: nn.Module, fmt: str = "safetensors") -> bytes:
    """The head's state dict serialised as safetensors or ``torch.save`` bytes."""
    if fmt == "safetensors":
        from safetensors.torch import save

        return save(_state(head))
    if fmt == "torch":
        buf = _io.BytesIO()
        torch.save(_state(head), buf)
        return buf.getvalue()
    raise InputError(f"unknown head format '{fmt}'", field="format", hint="use safetensors or torch")


def head_metadata(result) -> dict[str, Any]:
    """The settings JSON of a :class:`~lt_core.heads.RetrainResult`."""
    return {"name": result.name, "arch": result.head.arch(), "settings": result.settings.to_dict(),
            "tau": result.tau, "bin_scheme": result.bin_scheme, "notes": list(result.notes),
            "elapsed_s": result.elapsed_s, "device": result.device, "history": result.history,
            "format_version": 1}


def save_head(result, out_dir: str | Path, fmt: str = "safetensors") -> dict[str, Path]:
    """Write ``head.safetensors`` (or ``head.pt``) and ``head.json`` into ``out_dir``.

    Returns
    -------
    dict with the paths under keys ``weights`` and ``settings``.
    """
    out = Path(out_dir)
    name = "head.safetensors" if fmt == "safetensors" else "head.pt"
    w = write_bytes(out / name, head_state_bytes(result.head, fmt))
    meta = head_metadata(result)
    meta["weights_file"] = name
    j = write_json(out / "head.json", meta)
    return {"weights": w, "settings": j}


class LoadedHead:
    """A head re-loaded from disk: ``.module`` (nn.Module), ``.meta`` (the JSON), ``.predict(X)``."""

    def __init__(self, module: nn.Module, meta: dict[str, Any]):
        self.module, self.meta = module.eval(), meta

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Logits (N, C) float32 for features X (N, D)."""
        return predict_logits(self.module, X, device=torch.device("cpu"))


def load_head(path: str | Path) -> LoadedHead:
    """Load a head written by :func:`save_head` (a folder, or its ``head.json``).

    torch files are read with ``weights_only=True``; nothing is unpickled.
    """
    p = Path(path)
    meta_path = p / "head.json" if p.is_dir() else p
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        wfile = meta_path.parent / meta.get("weights_file", "head.safetensors")
        arch = meta["arch"]
    except FileNotFoundError:
        raise InputError("no head.json here", str(meta_path), hint="point to a folder written by save_head") from None
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise InputError(f"not a head settings file ({e})", str(meta_path), "arch") from None
    if not wfile.exists():
        raise InputError("the weights file named in head.json is missing", str(wfile))
    try:
        if wfile.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(wfile))
        else:
            state = torch.load(str(wfile), map_location="cpu", weights_only=True)
    except Exception as e:  # unsafe pickle, corrupt file: a message, never an unpickled object
        raise InputError(f"cannot read the head weights ({type(e).__name__}: {str(e).splitlines()[0][:200]})",
                         str(wfile), hint="a state dict of tensors saved by save_head") from None
    module = build_head(arch)
    try:
        module.load_state_dict(state)
    except RuntimeError as e:
        raise InputError(f"weights do not match the architecture in head.json: {str(e).splitlines()[0]}",
                         str(wfile)) from None
    return LoadedHead(module, meta)
