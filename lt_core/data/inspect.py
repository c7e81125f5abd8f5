"""Identify and summarise any input file (used by ``python -m lt_core info`` and the Data page)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..bins import parse_bins
from ..errors import InputError
from . import loaders as L
from .schema import ClassTable

__all__ = ["describe_file", "format_summary"]


def _class_stats(counts: np.ndarray, scheme: str) -> dict[str, Any]:
    counts = np.asarray(counts)
    pos = counts[counts > 0]
    sch = parse_bins(scheme)
    b = ClassTable(np.arange(len(counts)), [""] * len(counts), counts).bins(sch)
    return {
        "classes": int(len(counts)),
        "classes_with_samples": int((counts > 0).sum()),
        "max_count": int(counts.max()) if len(counts) else 0,
        "min_count": int(pos.min()) if len(pos) else 0,
        "imbalance_ratio": float(pos.max() / pos.min()) if len(pos) else float("inf"),
        "bin_scheme": sch.spec,
        "bins": {n: int((b == n).sum()) for n in sch.order(b)},
    }


def _gt_summary(g) -> dict[str, Any]:
    """Summary of a loaded COCO / LVIS ground truth (:class:`DetectionGT`)."""
    present = g.images_per_category()
    cats = (g.raw or {}).get("categories", [])
    counts_from = "image_count in the file" if cats and all("image_count" in c for c in cats) \
        else "images in this file"
    res = {"path": g.source, "kind": f"{'LVIS' if g.is_lvis else 'COCO'} detection ground truth",
           "images": g.n_images, "annotations": int(len(g.ann_id)), "crowd": int(g.ann_iscrowd.sum()),
           "categories_present": int((present > 0).sum()), "class_counts_from": counts_from,
           **_class_stats(g.categories.train_count, "lvis")}
    if g.categories.frequency is not None:
        f = g.categories.frequency
        res["frequency_field"] = {k: int((f == k).sum()) for k in ("r", "c", "f")}
    return res


def describe_file(path, gt=None, loaded_gt=None) -> dict[str, Any]:
    """Load ``path`` with the loader its content calls for and return a summary dict.

    Keys always present: ``path``, ``kind``. Raises :class:`InputError` for files that are
    not what they claim to be or fail validation. ``gt`` validates a results file;
    ``loaded_gt`` is this very file already loaded as ground truth (not parsed again).
    """
    if loaded_gt is not None:
        return _gt_summary(loaded_gt)
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", str(p))
    if p.is_dir():
        out, classes = L.load_label_splits(p)
        lab = next(iter(out.values()))
        return {"path": str(p), "kind": "image-folder labels (counts only, images not read)",
                "samples": len(lab), **_class_stats(lab.counts(classes.n_classes), "imagenet-lt")}
    L._check_file(p)
    ext = L._base_ext(p)
    kind = L.sniff(p)
    inner = kind
    if kind == "gzip":
        inner = "json" if L._first_line(p).lstrip()[:1] in ("{", "[") else "text"
    if ext == ".json" or inner == "json":
        d = L.read_json(p)
        if isinstance(d, dict) and "images" in d:
            return _gt_summary(L._gt_from_dict(d, str(p)))
        r = L._results_from_list(d, gt, p.name.split(".")[0], str(p))
        return {"path": str(p), "kind": "COCO detection results", "detections": len(r),
                "images": int(len(np.unique(r.image_id))), "categories": int(len(np.unique(r.category_id))),
                "score_min": float(r.score.min()), "score_max": float(r.score.max()),
                "masks": r.segmentation is not None,
                "checked_against_gt": gt is not None}
    if ext in (".npy", ".npz") or kind in ("npy",):
        arr, ids, key = L._load_array_file(p, ("scores", "logits", "probs", "X", "features", "preds", "labels"))
        what = ("N x C scores or N x D features" if arr.ndim == 2 and arr.dtype.kind == "f"
                else "N predicted class ids" if arr.ndim == 1 else "array")
        return {"path": str(p), "kind": f"numpy array ({what})", "key": key, "shape": list(arr.shape),
                "dtype": str(arr.dtype), "finite": bool(np.isfinite(arr).all()) if arr.dtype.kind == "f" else True,
                "sample_ids": ids is not None}
    if ext in (".pt", ".pth", ".safetensors", ".ckpt", ".bin"):
        w = L.load_classifier(p)
        return {"path": str(p), "kind": "classifier weights", "classes": int(w.W.shape[0]), "dim": int(w.W.shape[1])}
    # tables and text lists
    if ext in (".csv", ".tsv", ".parquet", ".tab") or (kind == "parquet"):
        if ext in (".tsv", ".tab") and L._is_goemotions_tsv(p):
            labs, _ = L.goemotions_rows(p)
            single = np.array(["," not in x for x in labs])
            out, classes = L.load_label_splits(p, multi_label="auto")
            lab = next(iter(out.values()))
            return {"path": str(p), "kind": "GoEmotions TSV (text, label ids, comment id)", "rows": int(len(labs)),
                    "single_label_rows": int(single.sum()), "multi_label_rows": int((~single).sum()),
                    "split": lab.split, **_class_stats(lab.counts(classes.n_classes), "imagenet-lt")}
        df = L._read_table(p)
        if L._find_col(df, L._COUNT_COLS, None, p, "count") is not None:
            t = L.load_train_counts(p)
            scheme = "lvis" if t.frequency is not None else "imagenet-lt"
            res = {"path": str(p), "kind": "per-class train counts", "total_count": int(t.train_count.sum()),
                   **_class_stats(t.train_count, scheme)}
            if t.frequency is not None:
                res["frequency_field"] = {k: int((t.frequency == k).sum()) for k in ("r", "c", "f")}
            return res
        out, classes = L.load_label_splits(p, multi_label="auto")
        return _labels_summary(p, out, classes, "label table")
    if L._looks_like_table(p):
        raise InputError("a comma/tab separated file with an unknown extension", str(p),
                         hint="name it .csv or .tsv")
    lines = [ln.strip() for ln in L._read_text(p).splitlines() if ln.strip()]
    if lines and all(len(ln.split()) == 1 for ln in lines):
        names = L.load_class_names(p)
        return {"path": str(p), "kind": "class-name list (line i = class id i)", "classes": len(names),
                "first": names[:3]}
    out, classes = L.load_label_splits(p, multi_label="auto")
    return _labels_summary(p, out, classes, "label list (path label)")


def _labels_summary(p, out, classes, kind) -> dict[str, Any]:
    counts = sum(lab.counts(classes.n_classes) for lab in out.values())
    multi = any(getattr(lab, "multi_label", False) for lab in out.values())
    n = int(sum(len(lab) for lab in out.values()))
    res = {"path": str(p), "kind": kind + (" (multi-label: counts are positives)" if multi else ""), "samples": n,
           "splits": {s: len(lab) for s, lab in out.items()}, **_class_stats(counts, "imagenet-lt")}
    if multi:
        res["label_cardinality"] = float(counts.sum() / n) if n else float("nan")
        res["multi_label_samples"] = int(sum(getattr(lab, "n_multi", 0) for lab in out.values()))
    if "train" not in out:
        res["note"] = "bins use this file's own counts; in an analysis they come from the TRAIN counts"
    return res


def format_summary(d: dict[str, Any]) -> str:
    """Readable multi-line text of a :func:`describe_file` summary."""
    lines = [f"{d['path']}", f"  kind: {d['kind']}"]
    for k, v in d.items():
        if k in ("path", "kind"):
            continue
        if isinstance(v, float):
            v = f"{v:,.2f}" if np.isfinite(v) else "inf"
        elif isinstance(v, int) and not isinstance(v, bool):
            v = f"{v:,}"
        elif isinstance(v, dict):
            v = ", ".join(f"{a} {b:,}" if isinstance(b, int) else f"{a} {b}" for a, b in v.items())
        lines.append(f"  {k.replace('_', ' ')}: {v}")
    return "\n".join(lines)
