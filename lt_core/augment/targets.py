"""How many instances of each class copy-paste adds: from repeat factors, effective-number weights, or a file.

Rules (``n_c`` = non-crowd instances of class c in the ground truth)
--------------------------------------------------------------------
``rfs:T``               repeat factor sampling (Gupta et al., LVIS, CVPR 2019) turned into instances: RFS shows an
                        image with class c ``r(c) = max(1, sqrt(T / f(c)))`` times per epoch (``f(c)`` the fraction
                        of images holding c, :func:`lt_core.rebalance.repeat_factors`); copy-paste adds
                        ``round((r(c) - 1) n_c)`` instances, so c is seen ``r(c) n_c`` times.
``effective-number:B``  class-balanced weights (Cui et al., CVPR 2019): ``w_c = 1 / E(n_c)`` with
                        ``E(n) = (1 - B^n) / (1 - B)``. Weighting by w is sampling in proportion to ``n_c w_c``; with
                        the largest class unchanged, class c is wanted ``n_c E(n_max) / E(n_c)`` times, so copy-paste
                        adds ``round(n_c (E(n_max) / E(n_c) - 1))``. B = 0 adds nothing; B -> 1 balances fully.
``FILE``                the Rebalance page's exports or explicit counts:
                        * ``rebalance weights`` JSON (``{"weights": [{class_id, weight}]}``) or CSV (``weight``
                          column): ``round(n_c (w_c / w_ref - 1))``, w_ref the weight of the largest class;
                        * ``rebalance rfs`` JSON (``{"categories": [{category_id, repeat_factor}]}``) or a CSV with
                          ``category_id,repeat_factor``: ``round((r_c - 1) n_c)``;
                        * a CSV ``category_id,add``: instances to add; ``category_id,target`` (or ``count``):
                          instances wanted after pasting (``max(0, target - n_c)`` added).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["PasteTargets", "paste_targets", "parse_target_spec", "instance_counts", "TARGET_HELP"]

TARGET_HELP = ("rfs:T (repeat factors, Gupta et al. 2019), effective-number:BETA (Cui et al. 2019), or a file: "
               "a weights / repeat-factor export of `rebalance`, or a CSV category_id,add | category_id,target")
_CID = ("category_id", "class_id", "id", "category", "class")


@dataclass
class PasteTargets:
    """Instances to add per category.

    Attributes
    ----------
    spec : str
        The target as given (``rfs:0.001``, ``effective-number:0.999``, a file path).
    rule : str
        The formula used, in words.
    table : DataFrame
        One row per category of the GT, in its order: ``category_id, name, instances, images, factor, add``
        (``factor``: the repeat factor or weight ratio behind ``add``; NaN for explicit counts).
    notes : list of str
        What was ignored or clipped, and why.
    """

    spec: str
    rule: str
    table: pd.DataFrame
    notes: list

    @property
    def add(self) -> np.ndarray:
        return self.table["add"].to_numpy(np.int64)

    @property
    def total(self) -> int:
        return int(self.add.sum())


def instance_counts(gt) -> tuple[np.ndarray, np.ndarray]:
    """(instances, images) per category of a DetectionGT, non-crowd annotations only, shape (C,) each."""
    C = gt.categories.n_classes
    keep = ~gt.ann_iscrowd
    ci = gt.categories.index_of(gt.ann_category_id[keep]) if keep.any() else np.zeros(0, np.int64)
    inst = np.bincount(ci, minlength=C).astype(np.int64)
    if ci.size:
        pairs = np.unique(np.stack([gt.ann_image_id[keep], ci]), axis=1)
        imgs = np.bincount(pairs[1], minlength=C).astype(np.int64)
    else:
        imgs = np.zeros(C, np.int64)
    return inst, imgs


def parse_target_spec(spec: str) -> tuple[str, float | Path]:
    """``"rfs:0.001"`` -> ("rfs", 0.001); ``"effective-number:0.999"`` -> ("effective-number", 0.999);
    anything else is a file -> ("file", Path)."""
    s = str(spec).strip()
    for kind in ("rfs", "effective-number"):
        if s.lower().startswith(kind + ":"):
            v = s.split(":", 1)[1]
            try:
                x = float(v)
            except ValueError:
                raise InputError(f"'{v}' is not a number", s, "--target", hint=TARGET_HELP) from None
            if kind == "rfs" and not (0 < x <= 1):
                raise InputError(f"the RFS threshold must be in (0, 1], got {x}", s, "--target",
                                 hint="LVIS uses rfs:0.001")
            if kind == "effective-number" and not (0 <= x < 1):
                raise InputError(f"beta must be in [0, 1), got {x}", s, "--target",
                                 hint="Cui et al. use 0.9, 0.99, 0.999, 0.9999")
            return kind, x
    if s.lower() in ("rfs", "effective-number"):
        raise InputError(f"'{s}' needs a value, e.g. rfs:0.001 or effective-number:0.999", s, "--target")
    p = Path(s)
    if not p.exists():
        raise InputError("is neither rfs:T, effective-number:BETA nor an existing file", s, "--target",
                         hint=TARGET_HELP)
    if p.is_dir():
        raise InputError("is a folder; expected rfs:T, effective-number:BETA or a counts / weights file", s,
                         "--target")
    return "file", p


def _effective(n: np.ndarray, beta: float) -> np.ndarray:
    from ..rebalance.weights import effective_number

    return effective_number(n, beta)


def _file_values(p: Path) -> tuple[str, dict[int, float]]:
    """(kind, {category_id: value}) of a target file; kind in add, target, weight, repeat_factor."""
    src = str(p)
    name = p.name.lower()
    if name.endswith(".json") or name.endswith(".json.gz"):
        from ..data.loaders import read_json

        d = read_json(p)
        if isinstance(d, dict) and isinstance(d.get("weights"), list):
            rows, key, cid = d["weights"], "weight", ("class_id", "category_id", "id")
        elif isinstance(d, dict) and isinstance(d.get("categories"), list) and d["categories"] and \
                "repeat_factor" in d["categories"][0]:
            rows, key, cid = d["categories"], "repeat_factor", ("category_id", "id", "class_id")
        else:
            raise InputError("a JSON target must be a `rebalance weights` export (a 'weights' list) or a "
                             "`rebalance rfs` export (a 'categories' list with repeat_factor)", src, "weights",
                             hint=TARGET_HELP)
        out = {}
        for i, r in enumerate(rows):
            k = next((c for c in cid if isinstance(r, dict) and c in r), None)
            if k is None or key not in r:
                raise InputError(f"entry {i} has no class id or no '{key}'", src, key)
            try:
                out[int(r[k])] = float(r[key])
            except (TypeError, ValueError):
                raise InputError(f"entry {i}: '{key}' must be a number", src, key) from None
        return key, out
    try:
        df = pd.read_csv(p, sep=None, engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise InputError(f"cannot be read as CSV ({e})", src, hint=TARGET_HELP) from None
    cols = {c.lower().strip(): c for c in df.columns}
    if "image_id" in cols and "repeat_factor" in cols:
        raise InputError("holds per-image repeat factors; copy-paste needs per-category ones", src, "image_id",
                         hint="use the JSON written by `rebalance rfs` (its 'categories' list) or rfs:T")
    cid = next((cols[c] for c in _CID if c in cols), None)
    if cid is None:
        raise InputError(f"no category id column (expected one of {', '.join(_CID)}; columns: "
                         f"{list(df.columns)[:10]})", src, "category_id", hint=TARGET_HELP)
    kind = next((k for k in ("add", "target", "weight", "repeat_factor", "count") if k in cols), None)
    if kind is None:
        raise InputError(f"no value column (expected add, target, count, weight or repeat_factor; columns: "
                         f"{list(df.columns)[:10]})", src, "add", hint=TARGET_HELP)
    vals = pd.to_numeric(df[cols[kind]], errors="coerce")
    ids = pd.to_numeric(df[cid], errors="coerce")
    bad = vals.isna() | ids.isna() | ~np.isfinite(vals.to_numpy(float))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"row {i + 2} is not a number: {df.iloc[i].tolist()}", src, cols[kind])
    if (vals < 0).any():
        raise InputError("values must be >= 0", src, cols[kind])
    if kind in ("add", "target", "count") and (vals != np.round(vals)).any():
        raise InputError("counts must be whole numbers", src, cols[kind])
    if ids.duplicated().any():
        raise InputError(f"duplicate category ids, e.g. {int(ids[ids.duplicated()].iloc[0])}", src, cid)
    return ("target" if kind == "count" else kind), {int(i): float(v) for i, v in zip(ids, vals)}


def paste_targets(gt, target: str) -> PasteTargets:
    """Instances to add per category of ``gt`` for a target spec (see the module docstring).

    Parameters
    ----------
    gt : DetectionGT
    target : str
        ``rfs:T``, ``effective-number:BETA`` or the path of a counts / weights / repeat-factor file.
    """
    from ..rebalance import repeat_factors

    kind, value = parse_target_spec(target)
    cats = gt.categories
    n, imgs = instance_counts(gt)
    notes: list[str] = []
    factor = np.full(cats.n_classes, np.nan)
    if kind == "rfs":
        rf = repeat_factors(gt, float(value))
        factor = rf.category_factors.astype(np.float64)
        add = np.rint((factor - 1.0) * n)
        rule = (f"repeat factors (Gupta et al. 2019), t = {value:g}: add round((r(c) - 1) x instances), "
                "r(c) = max(1, sqrt(t / f(c))), f(c) = fraction of images with c")
    elif kind == "effective-number":
        beta = float(value)
        e = _effective(n.astype(np.float64), beta)
        ref = e[n.argmax()] if n.size else 1.0
        factor = np.where(n > 0, ref / np.where(e > 0, e, 1.0), 1.0)
        add = np.rint(n * (factor - 1.0))
        rule = (f"effective number (Cui et al. 2019), beta = {beta:g}: add round(n x (E(n_max) / E(n) - 1)), "
                "E(n) = (1 - beta^n) / (1 - beta)")
    else:
        p = Path(value)
        fkind, vals = _file_values(p)
        unknown = sorted(set(vals) - set(cats.ids.tolist()))
        if unknown:
            raise InputError(f"{len(unknown)} category ids are not in the ground truth, e.g. {unknown[:5]}", str(p),
                             "category_id", hint="the file must use the ground truth's category ids")
        v = np.array([vals.get(int(c), np.nan) for c in cats.ids], dtype=np.float64)
        missing = int(np.isnan(v).sum())
        if missing:
            notes.append(f"{missing:,} categories are not in {p.name}: nothing is added for them")
        if fkind == "add":
            add = np.nan_to_num(v, nan=0.0)
            rule = f"explicit counts from {p.name}: instances to add"
        elif fkind == "target":
            add = np.maximum(0.0, np.nan_to_num(v, nan=0.0) - n) * ~np.isnan(v)
            below = int(((v < n) & ~np.isnan(v)).sum())
            if below:
                notes.append(f"{below:,} categories already hold more instances than their target: nothing removed")
            rule = f"explicit counts from {p.name}: instances wanted after pasting"
        elif fkind == "repeat_factor":
            factor = np.nan_to_num(v, nan=1.0)
            if (factor < 1).any():
                raise InputError("repeat factors must be >= 1", str(p), "repeat_factor")
            add = np.rint((factor - 1.0) * n)
            rule = f"repeat factors from {p.name}: add round((r(c) - 1) x instances)"
        else:  # weight
            w = v
            has = (n > 0) & ~np.isnan(w)
            if not has.any():
                raise InputError("no category of the ground truth has a weight", str(p), "weight")
            ref_i = np.flatnonzero(has)[np.argmax(n[has])]
            if w[ref_i] <= 0:
                raise InputError(f"the largest class (id {cats.ids[ref_i]}) has weight 0", str(p), "weight")
            factor = np.where(has, np.nan_to_num(w, nan=0.0) / w[ref_i], 1.0)
            lower = int(((factor < 1) & has).sum())
            if lower:
                notes.append(f"{lower:,} categories have a lower weight than the largest class: nothing removed")
            add = np.rint(n * np.maximum(factor - 1.0, 0.0))
            rule = (f"class weights from {p.name}: add round(n x (w / w_ref - 1)), w_ref = weight of the largest "
                    f"class ({cats.names[ref_i]})")
    add = np.where(n > 0, add, 0).astype(np.int64) if kind != "file" else add.astype(np.int64)
    if kind == "file":
        none = int(((add > 0) & (n == 0)).sum())
        if none:
            notes.append(f"{none:,} categories with a count have no instance to copy: they cannot be pasted")
    table = pd.DataFrame({"category_id": cats.ids, "name": cats.names, "instances": n, "images": imgs,
                          "factor": factor, "add": add})
    return PasteTargets(str(target), rule, table, notes)

