"""Exports a training pipeline can use without Tailscope (documented in ``docs/exports.md``).

Each export has a ``*_payload`` function giving the bytes (for the app's download buttons) and a
``write_*`` function writing them atomically with :mod:`lt_core.io`.

=====================  ==========================================================================
weights JSON           {"scheme", "beta", "normalisation", "n_classes", "weights": [{class_id, name,
                       count, weight}, ...]}
weights CSV            class_id,name,count,effective_number,weight
weights .pt            ``torch.save`` of a float32 tensor (C,) in class-table order
                       (``torch.load(path, weights_only=True)``)
repeat factors JSON    {"threshold", "n_images", "images": [{image_id, repeat_factor}],
                       "categories": [{category_id, name, image_count, image_fraction, repeat_factor}]}
repeat factors CSV     image_id,repeat_factor
annotated GT JSON      the COCO / LVIS file with ``images[i]["repeat_factor"]`` added
index list             .npy int64 (N,) or CSV with one column ``index``
SMOTE .npz             X (N+S, D), y (N+S,) class index, class_id (N+S,) raw class id,
                       is_synthetic (N+S,) bool, info_json (a JSON string)
=====================  ==========================================================================
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .. import io as ltio
from ..errors import InputError
from .rfs import RepeatFactors, annotate_gt_json

__all__ = ["weights_json_payload", "weights_csv_payload", "weights_pt_payload", "rfs_json_payload",
           "rfs_csv_payload", "rfs_gt_payload", "indices_payload", "smote_npz_payload", "write_weights",
           "write_rfs", "write_rfs_gt", "write_indices", "write_smote_npz"]


def _json_bytes(obj) -> bytes:
    return (json.dumps(ltio.to_jsonable(obj), indent=2, allow_nan=False) + "\n").encode("utf-8")


def weights_document(table: pd.DataFrame, scheme: str, beta: float | None) -> dict:
    """The weights JSON document from a :func:`~lt_core.rebalance.weights.weights_table` frame."""
    return {
        "scheme": scheme,
        "beta": beta if scheme == "effective-number" else None,
        "normalisation": "weights sum to the number of classes (Cui et al. 2019); 0 for classes without "
                         "training samples",
        "n_classes": int(len(table)),
        "weights": [{"class_id": int(r.class_id), "name": str(r.name), "count": int(r.count),
                     "weight": float(r.weight)} for r in table.itertuples(index=False)],
    }


def weights_json_payload(table: pd.DataFrame, scheme: str, beta: float | None) -> bytes:
    """The weights JSON document as UTF-8 bytes."""
    return _json_bytes(weights_document(table, scheme, beta))


def weights_csv_payload(table: pd.DataFrame) -> bytes:
    """class_id,name,count,effective_number,weight[,bin] as CSV bytes."""
    cols = [c for c in ("class_id", "name", "count", "effective_number", "weight", "bin") if c in table]
    return table[cols].to_csv(index=False).encode("utf-8")


def weights_pt_payload(weights) -> bytes:
    """``torch.save`` bytes of a float32 tensor (C,) (load with ``weights_only=True``)."""
    import torch

    buf = io.BytesIO()
    torch.save(torch.as_tensor(np.asarray(weights, dtype=np.float32)), buf)
    return buf.getvalue()


def write_weights(path, table: pd.DataFrame, scheme: str, beta: float | None) -> Path:
    """Write weights as JSON, CSV or .pt, chosen by the file extension."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext == ".json":
        data = weights_json_payload(table, scheme, beta)
    elif ext == ".csv":
        data = weights_csv_payload(table)
    elif ext in (".pt", ".pth"):
        data = weights_pt_payload(table["weight"].to_numpy())
    else:
        raise InputError(f"unknown output format '{ext}'", str(path), "--out", hint="use .json, .csv or .pt")
    return ltio.write_bytes(p, data)


def rfs_json_payload(rf: RepeatFactors) -> bytes:
    """The repeat-factor JSON (images + categories) as bytes."""
    return _json_bytes(rf.to_json_dict())


def rfs_csv_payload(rf: RepeatFactors) -> bytes:
    """image_id,repeat_factor as CSV bytes."""
    return rf.images_frame().to_csv(index=False).encode("utf-8")


def rfs_gt_payload(raw: dict, rf: RepeatFactors) -> bytes:
    """The GT JSON with each image's ``repeat_factor`` added, as bytes."""
    return (json.dumps(ltio.to_jsonable(annotate_gt_json(raw, rf))) + "\n").encode("utf-8")


def write_rfs(path, rf: RepeatFactors) -> Path:
    """Write repeat factors as JSON (images + categories) or CSV (per image), by extension."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext == ".json":
        return ltio.write_bytes(p, rfs_json_payload(rf))
    if ext == ".csv":
        return ltio.write_bytes(p, rfs_csv_payload(rf))
    raise InputError(f"unknown output format '{ext}'", str(path), "--out", hint="use .json or .csv")


def write_rfs_gt(path, raw: dict, rf: RepeatFactors) -> Path:
    """Write the GT JSON with each image's ``repeat_factor`` added (the input file is not touched)."""
    return ltio.write_bytes(path, rfs_gt_payload(raw, rf))


def indices_payload(indices, fmt: str = "npy") -> bytes:
    """An index list as .npy (int64) or CSV (column ``index``) bytes."""
    idx = np.asarray(indices, dtype=np.int64)
    if fmt == "csv":
        return pd.DataFrame({"index": idx}).to_csv(index=False).encode("utf-8")
    buf = io.BytesIO()
    np.save(buf, idx, allow_pickle=False)
    return buf.getvalue()


def write_indices(path, indices) -> Path:
    """Write a re-sampled index list as .npy (int64) or .csv (column ``index``)."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in (".npy", ".csv"):
        raise InputError(f"unknown output format '{ext}'", str(path), "--out", hint="use .npy or .csv")
    return ltio.write_bytes(p, indices_payload(indices, ext[1:]))


def smote_npz_payload(X_res, y_res, info: dict, class_ids=None) -> bytes:
    """Compressed .npz bytes: X, y, is_synthetic, info_json [, class_id]; no pickled objects."""
    y_res = np.asarray(y_res, dtype=np.int64)
    n = int(info["n_original"])
    arrays = {"X": np.asarray(X_res), "y": y_res,
              "is_synthetic": np.arange(y_res.size) >= n,
              "info_json": np.array(json.dumps(ltio.to_jsonable(info)))}
    if class_ids is not None:
        arrays["class_id"] = np.asarray(class_ids, dtype=np.int64)[y_res]
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def write_smote_npz(path, X_res, y_res, info: dict, class_ids=None) -> Path:
    """Write SMOTE-augmented features (.npz, loadable with ``np.load(path)``, no pickle)."""
    return ltio.write_bytes(path, smote_npz_payload(X_res, y_res, info, class_ids))
