"""Export and re-load a retrained head: weights (safetensors or a torch state_dict) + settings JSON.

Every exported head says what it is, so it can be used without Tailscope (format version 2):

``head.safetensors`` or ``head.pt``   plain tensors. Linear heads (joint, cRT, LWS, τ-norm, NCM, the
                                      cosine head of LDAM): ``weight`` (C, D) and ``bias`` (C,) —
                                      zeros where the method has no bias; a cosine head's weight
                                      normalisation and scale ``s`` are folded into ``weight``. MLP
                                      heads: ``hidden.weight``, ``hidden.bias``, ``out.weight``,
                                      ``out.bias`` (the layout of ``nn.Sequential(OrderedDict(hidden=
                                      nn.Linear(D, H), relu=nn.ReLU(), out=nn.Linear(H, C)))``).
``head.json``                         ``{"export": {kind, in_dim, n_classes, hidden, input_normalization,
                                      hidden_normalization, logits, prediction}, "arch": ...,
                                      "settings": ..., "tau": ..., "notes": ...}``; the safetensors
                                      header carries the same ``export`` fields as metadata.

``input_normalization`` is ``"l2"`` for heads that expect L2-normalised features (NCM, LDAM's cosine
head): ``x = F.normalize(X, dim=1)`` first; ``"none"`` otherwise. Logits are ``x @ weight.T + bias``
and the prediction is their argmax (column j = class index j). Use elsewhere::

    from lt_core.heads import load_head
    logits = load_head("out_dir").predict(X)          # X (N, D) float32 -> (N, C)

or, for any linear head, in plain PyTorch (``spec = json.load(open("out_dir/head.json"))["export"]``)::

    lin = torch.nn.Linear(spec["in_dim"], spec["n_classes"]); lin.load_state_dict(load_file("out_dir/head.safetensors"))
    pred = lin(F.normalize(X, dim=1) if spec["input_normalization"] == "l2" else X).argmax(1)
"""
from __future__ import annotations

import io as _io
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ..io import write_bytes, write_json
from .models import LinearHead, LWSHead, MLPHead, build_head, fold_lws
from .train import predict_logits

__all__ = ["HEAD_FORMATS", "EXPORT_VERSION", "head_state_bytes", "export_head", "head_metadata", "save_head",
           "load_head", "LoadedHead", "USAGE_SNIPPET", "exported_module"]

HEAD_FORMATS = ("safetensors", "torch")
EXPORT_VERSION = 2
USAGE_SNIPPET = ('from lt_core.heads import load_head\n'
                 'logits = load_head("{dir}").predict(X)  # X: (N, D) float32 features\n'
                 '# without Tailscope (any linear head: joint, cRT, LWS, tau-norm, NCM, LDAM):\n'
                 '# spec = json.load(open("{dir}/head.json"))["export"]\n'
                 '# lin = torch.nn.Linear(spec["in_dim"], spec["n_classes"]); '
                 'lin.load_state_dict(safetensors.torch.load_file("{dir}/head.safetensors"))\n'
                 '# pred = lin(F.normalize(X, dim=1) if spec["input_normalization"] == "l2" else X).argmax(1)')


def _effective(lin: LinearHead) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight, bias) of the plain affine map a :class:`LinearHead` applies after its input
    normalisation: weight normalisation and scale folded in, a zero bias where it has none."""
    w = lin.weight.detach().float().cpu()
    if lin.normalize_weight:
        w = F.normalize(w, dim=1)
    b = lin.bias.detach().float().cpu() if lin.bias is not None else torch.zeros(lin.n_classes)
    if lin.scale != 1.0:
        w, b = w * lin.scale, b * lin.scale
    return w.contiguous(), b.contiguous()


def export_head(head: nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The exported form of a head: (state dict of plain tensors, spec).

    The spec: ``kind`` (``linear`` / ``mlp``), ``in_dim``, ``n_classes`` (and ``hidden``),
    ``input_normalization`` (and ``hidden_normalization``) ``"l2"`` or ``"none"``, and the rule in
    words (``logits``, ``prediction``). See the module docstring.
    """
    if isinstance(head, LWSHead):
        head = fold_lws(head)
    if isinstance(head, LinearHead):
        w, b = _effective(head)
        spec = {"kind": "linear", "in_dim": head.in_dim, "n_classes": head.n_classes,
                "input_normalization": "l2" if head.normalize_input else "none",
                "logits": "x @ weight.T + bias, x = the features (L2-normalised per row when input_normalization "
                          "is l2)",
                "torch": "torch.nn.Linear(in_dim, n_classes)"}
        state = {"weight": w, "bias": b}
    elif isinstance(head, MLPHead):
        if head.hidden.normalize_input or head.hidden.normalize_weight or head.hidden.scale != 1.0:
            raise InputError("cannot export an MLP whose hidden layer is normalised", field="head")  # never built
        hw, hb = _effective(head.hidden)
        ow, ob = _effective(head.out)
        spec = {"kind": "mlp", "in_dim": head.in_dim, "n_classes": head.n_classes, "hidden": head.hidden_dim,
                "input_normalization": "none",
                "hidden_normalization": "l2" if head.out.normalize_input else "none",
                "logits": "h = relu(x @ hidden.weight.T + hidden.bias) (L2-normalised per row when "
                          "hidden_normalization is l2); logits = h @ out.weight.T + out.bias",
                "torch": "torch.nn.Sequential(OrderedDict(hidden=torch.nn.Linear(in_dim, hidden), "
                         "relu=torch.nn.ReLU(), out=torch.nn.Linear(hidden, n_classes)))"}
        state = {"hidden.weight": hw, "hidden.bias": hb, "out.weight": ow, "out.bias": ob}
    else:
        raise InputError(f"cannot export a {type(head).__name__}", field="head", hint="a LinearHead or MLPHead")
    spec.update({"prediction": "argmax of the logits over classes (column j = class index j)",
                 "format": "tailscope-head", "version": EXPORT_VERSION})
    return state, spec


def exported_module(spec: dict[str, Any]) -> nn.Module:
    """The module that computes an exported head (weights to be loaded from its state dict)."""
    try:
        kind, d, c = spec["kind"], int(spec["in_dim"]), int(spec["n_classes"])
        if kind == "linear":
            return LinearHead(d, c, bias=True, normalize_input=spec.get("input_normalization") == "l2")
        if kind == "mlp":
            m = MLPHead(d, c, hidden=int(spec["hidden"]))
            m.out = LinearHead(int(spec["hidden"]), c, bias=True,
                               normalize_input=spec.get("hidden_normalization") == "l2")
            return m
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"the export spec is missing or has a bad value: {e}", field="export") from None
    raise InputError(f"unknown head kind {spec.get('kind')!r}", field="export.kind", hint="expected linear or mlp")


def head_state_bytes(head: nn.Module, fmt: str = "safetensors") -> bytes:
    """The exported head (:func:`export_head`) as safetensors bytes (the spec in its metadata) or
    ``torch.save`` bytes of the tensors (load with ``weights_only=True``; the spec is in head.json)."""
    state, spec = export_head(head)
    if fmt == "safetensors":
        from safetensors.torch import save

        return save(state, metadata={k: v if isinstance(v, str) else json.dumps(v) for k, v in spec.items()})
    if fmt == "torch":
        buf = _io.BytesIO()
        torch.save(OrderedDict(state), buf)
        return buf.getvalue()
    raise InputError(f"unknown head format '{fmt}'", field="format", hint="use safetensors or torch")


def head_metadata(result) -> dict[str, Any]:
    """The settings JSON of a :class:`~lt_core.heads.RetrainResult` (``export``: how to use the weights)."""
    return {"name": result.name, "export": export_head(result.head)[1], "arch": result.head.arch(),
            "settings": result.settings.to_dict(), "tau": result.tau, "bin_scheme": result.bin_scheme,
            "notes": list(result.notes), "elapsed_s": result.elapsed_s, "device": result.device,
            "history": result.history, "format_version": EXPORT_VERSION}


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


def _read_state(wfile: Path) -> dict[str, torch.Tensor]:
    try:
        if wfile.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(wfile))
        return torch.load(str(wfile), map_location="cpu", weights_only=True)
    except Exception as e:  # unsafe pickle, corrupt file: a message, never an unpickled object
        from ..data.loaders import _torch_load_message

        what = _torch_load_message(e) if wfile.suffix != ".safetensors" else "is not a readable safetensors file"
        raise InputError(f"cannot read the head weights: the file {what}", str(wfile),
                         hint="a state dict of tensors saved by save_head") from None


def load_head(path: str | Path) -> LoadedHead:
    """Load a head written by :func:`save_head` (a folder, or its ``head.json``), or a ``.safetensors``
    file exported by :func:`head_state_bytes` (the app's download; its spec is in the metadata).

    torch files are read with ``weights_only=True``; nothing is unpickled. Format version 1 folders
    (before the ``export`` spec) still load.
    """
    p = Path(path)
    if p.suffix == ".safetensors" and p.is_file():
        from safetensors import safe_open

        try:
            with safe_open(str(p), "pt") as fh:
                md = fh.metadata() or {}
        except Exception:
            raise InputError("is not a readable safetensors file", str(p)) from None
        if md.get("format") != "tailscope-head":
            raise InputError("has no Tailscope head metadata", str(p), "metadata",
                             hint="load its folder (with head.json) instead")
        spec = {k: (v if k in ("kind", "input_normalization", "hidden_normalization", "logits", "prediction",
                                "torch", "format") else json.loads(v)) for k, v in md.items()}
        meta = {"export": spec, "format_version": int(spec.get("version", EXPORT_VERSION))}
        return _build(meta, _read_state(p), p)
    meta_path = p / "head.json" if p.is_dir() else p
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        wfile = meta_path.parent / meta.get("weights_file", "head.safetensors")
        if "export" not in meta:
            meta["arch"]  # noqa: B018 - a version 1 file must have its arch
    except FileNotFoundError:
        raise InputError("no head.json here", str(meta_path), hint="point to a folder written by save_head") from None
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError) as e:
        raise InputError(f"not a head settings file ({type(e).__name__})", str(meta_path), "arch") from None
    if not wfile.exists():
        raise InputError("the weights file named in head.json is missing", str(wfile))
    return _build(meta, _read_state(wfile), wfile)


def _build(meta: dict[str, Any], state: dict, wfile: Path) -> LoadedHead:
    module = exported_module(meta["export"]) if isinstance(meta.get("export"), dict) else build_head(meta["arch"])
    try:
        module.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as e:
        raise InputError(f"weights do not match the head described in head.json: {str(e).splitlines()[0][:200]}",
                         str(wfile)) from None
    return LoadedHead(module, meta)
