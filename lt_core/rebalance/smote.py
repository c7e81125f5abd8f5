"""SMOTE family on feature vectors, through imbalanced-learn, with a lean path for large inputs.

Methods (``method``)
--------------------
``smote``             Chawla et al. 2002, imbalanced-learn ``SMOTE``.
``borderline-smote``  Han et al. 2005, imbalanced-learn ``BorderlineSMOTE`` (kind borderline-1).
``adasyn``            He et al. 2008, imbalanced-learn ``ADASYN`` (``n_neighbors`` = k_neighbors).
``random-over``       imbalanced-learn ``RandomOverSampler`` (copies, no synthesis).

Output layout is imbalanced-learn's: the N original rows first (unchanged, same order), then the
new rows class by class. For the same ``seed`` (imbalanced-learn's ``random_state``) the result is
identical to calling imbalanced-learn directly.

Lean path (``engine="tailscope"``, the default for ``smote``): the same per-class
``NearestNeighbors`` (scikit-learn) and the same random draws (``RandomState(seed)`` per class, as
imbalanced-learn's ``_make_samples``), but the output is allocated once and filled in chunks,
in the input dtype. imbalanced-learn builds a list of per-class arrays (with float64
temporaries of the size of each class's new rows), copies the input, and ``vstack``s them, so
its peak memory is about twice the output; this path peaks near the output itself. The values
are bit-identical (same float64 arithmetic per element, then cast to the input dtype).

Classes too small for ``k_neighbors`` (fewer than k + 1 samples): imbalanced-learn fails; here a
class with 2..k samples uses k = n - 1 neighbours, and a class with a single sample is
over-sampled by copying it (random over-sampling). ``info["classes"]`` says what was done.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["SMOTE_METHODS", "smote_resample", "smote_pca_view", "plan_targets"]

SMOTE_METHODS = ("smote", "borderline-smote", "adasyn", "random-over")
_CHUNK_ROWS = 16384


def _check_xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2:
        raise InputError(f"features must be a 2-D array (N, D), got shape {X.shape}", field="X")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise InputError(f"labels must be 1-D with one entry per feature row ({X.shape[0]}), got shape {y.shape}",
                         field="y")
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise InputError("features contain NaN or infinite values", field="X")
    if not np.issubdtype(y.dtype, np.integer):
        raise InputError(f"labels must be integer class indices, got dtype {y.dtype}", field="y")
    if np.unique(y).size < 2:
        raise InputError("over-sampling needs at least two classes in y", field="y")
    return X, y


def plan_targets(y, sampling_strategy="auto") -> "OrderedDict[int, int]":
    """New samples to generate per class, as imbalanced-learn computes them ({class: n_new})."""
    from imblearn.utils import check_sampling_strategy

    try:
        return check_sampling_strategy(sampling_strategy, np.asarray(y), "over-sampling")
    except (ValueError, TypeError) as e:
        raise InputError(f"invalid sampling_strategy {sampling_strategy!r}: {e}", field="sampling_strategy",
                         hint="'auto', 'minority', 'not majority', 'all', a float ratio (binary only) "
                              "or {class: target count}") from None


def _check_k(k_neighbors) -> int:
    try:
        k = int(k_neighbors)
    except (TypeError, ValueError):
        raise InputError(f"k_neighbors must be an integer >= 1, got {k_neighbors!r}", field="k_neighbors") from None
    if k < 1:
        raise InputError(f"k_neighbors must be >= 1, got {k}", field="k_neighbors")
    return k


def _smote_class_rows(Xc: np.ndarray, k: int, n_new: int, seed: int, out: np.ndarray) -> None:
    """Fill ``out`` (n_new, D) with SMOTE samples of one class exactly as imbalanced-learn draws them."""
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k + 1).fit(Xc)
    nns = nn.kneighbors(Xc, return_distance=False)[:, 1:]
    rs = np.random.RandomState(seed)
    sample_indices = rs.randint(low=0, high=nns.size, size=n_new)
    steps = rs.uniform(size=n_new)[:, np.newaxis]
    rows = np.floor_divide(sample_indices, nns.shape[1])
    cols = np.mod(sample_indices, nns.shape[1])
    for a in range(0, n_new, _CHUNK_ROWS):
        b = min(a + _CHUNK_ROWS, n_new)
        r, c = rows[a:b], cols[a:b]
        base = Xc[r]
        diffs = Xc[nns[r, c]] - base
        out[a:b] = base + steps[a:b] * diffs


def _copy_class_rows(Xc: np.ndarray, n_new: int, out: np.ndarray) -> None:
    out[:] = Xc[0]


def smote_resample(X, y, method: str = "smote", sampling_strategy="auto", k_neighbors: int = 5, seed: int = 0,
                   *, engine: str = "tailscope", progress=None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Over-sample features with the SMOTE family.

    Parameters
    ----------
    X : array (N, D) float
        Features (float32 stays float32).
    y : array (N,) int
        Class index per row.
    method : {"smote", "borderline-smote", "adasyn", "random-over"}
    sampling_strategy : str, float or dict
        imbalanced-learn's ``sampling_strategy`` (``"auto"`` = every class but the majority up to the
        majority count; a dict gives the target count per class).
    k_neighbors : int
        Neighbours used for interpolation (SMOTE k_neighbors, ADASYN n_neighbors).
    seed : int
        imbalanced-learn's ``random_state``.
    engine : {"tailscope", "imblearn"}
        ``smote`` only: the lean chunked path (default) or imbalanced-learn's own ``fit_resample``.
    progress : callable(fraction: float, text: str), optional
        Called after each class of the lean path (for progress bars).

    Returns
    -------
    X_res : ndarray (N + S, D), dtype of X
        Original rows first, then S synthetic rows.
    y_res : ndarray (N + S,)
    info : dict
        ``method``, ``seed``, ``k_neighbors``, ``sampling_strategy``, ``engine``, ``n_original`` (N),
        ``n_synthetic`` (S), ``classes``: list of {class, before, after, generated, k_used, action},
        ``notes``: list of sentences about classes handled differently.
    """
    if method not in SMOTE_METHODS:
        raise InputError(f"unknown over-sampling method '{method}'", field="method",
                         hint="use one of " + ", ".join(SMOTE_METHODS))
    if engine not in ("tailscope", "imblearn"):
        raise InputError(f"unknown engine '{engine}'", field="engine", hint="tailscope or imblearn")
    X, y = _check_xy(X, y)
    k = _check_k(k_neighbors)
    seed = int(seed)
    targets = plan_targets(y, sampling_strategy)
    classes, counts = np.unique(y, return_counts=True)
    count = dict(zip(classes.tolist(), counts.tolist()))
    N = X.shape[0]
    rows_info: dict[int, dict] = {int(c): {"class": int(c), "before": int(count[c]), "generated": 0,
                                           "k_used": None, "action": "unchanged"} for c in classes}
    notes: list[str] = []

    if method == "random-over":
        from imblearn.over_sampling import RandomOverSampler

        ros = RandomOverSampler(sampling_strategy=sampling_strategy, random_state=seed)
        X_res, y_res = ros.fit_resample(X, y)
        for c, m in targets.items():
            if m:
                rows_info[int(c)].update(generated=int(m), action="random copies")
        return X_res, y_res, _info(method, seed, k, sampling_strategy, "imblearn", N, rows_info, y_res, notes)

    small = {c: m for c, m in targets.items() if m > 0 and count[c] < k + 1}
    large = OrderedDict((c, m) for c, m in targets.items() if m > 0 and count[c] >= k + 1)

    if method == "smote" and engine == "tailscope":
        S = int(sum(m for m in targets.values() if m > 0))
        X_res = np.empty((N + S, X.shape[1]), dtype=X.dtype)
        y_res = np.empty(N + S, dtype=y.dtype)
        X_res[:N] = X
        y_res[:N] = y
        pos = N
        todo = [c for c, m in targets.items() if m > 0]
        for c, m in targets.items():  # imbalanced-learn's order: sorted classes
            if m == 0:
                continue
            if progress is not None:
                progress(todo.index(c) / max(len(todo), 1), f"class {c}: {m:,} new samples")
            Xc = X[y == c]
            n_c = Xc.shape[0]
            out = X_res[pos:pos + m]
            if n_c >= k + 1:
                _smote_class_rows(Xc, k, m, seed, out)
                rows_info[int(c)].update(generated=int(m), k_used=k, action="SMOTE")
            else:
                _small_class(Xc, c, n_c, m, k, seed, out, rows_info, notes)
            y_res[pos:pos + m] = c
            pos += m
        return X_res, y_res, _info(method, seed, k, sampling_strategy, engine, N, rows_info, y_res, notes)

    # imbalanced-learn for the classes with enough neighbours
    parts_X, parts_y = [X], [y]
    if large:
        est = _imblearn_estimator(method, {c: count[c] + m for c, m in large.items()}
                                  if small else sampling_strategy, k, seed)
        try:
            Xl, yl = est.fit_resample(X, y)
            parts_X, parts_y = [Xl], [yl]
            new_y = yl[N:]
            for c in large:
                g = int((new_y == c).sum())
                rows_info[int(c)].update(generated=g, k_used=k, action=_ACTION[method] if g else
                                         f"{_ACTION[method]}: no sample qualified, none generated")
        except RuntimeError:
            # ADASYN is undefined for a class none of whose neighbours belong to another class
            # (imbalanced-learn raises for the whole call): go class by class, SMOTE where undefined.
            for c, m in large.items():
                try:
                    Xl, yl = _imblearn_estimator(method, {c: count[c] + m}, k, seed).fit_resample(X, y)
                    parts_X.append(Xl[N:])
                    parts_y.append(yl[N:])
                    rows_info[int(c)].update(k_used=k, action=f"{_ACTION[method]} (class run alone)")
                except RuntimeError:
                    out = np.empty((m, X.shape[1]), dtype=X.dtype)
                    _smote_class_rows(X[y == c], k, m, seed, out)
                    parts_X.append(out)
                    parts_y.append(np.full(m, c, dtype=y.dtype))
                    rows_info[int(c)].update(k_used=k, action="SMOTE (ADASYN undefined: no neighbour of "
                                                              "another class)")
                    notes.append(f"class {c}: none of its samples has a neighbour of another class, so ADASYN's "
                                 f"density ratio is undefined; SMOTE was used for it")
            notes.append("ADASYN was run class by class (results differ from one joint run with this seed)")
    for c, m in small.items():
        Xc = X[y == c]
        n_c = Xc.shape[0]
        out = np.empty((m, X.shape[1]), dtype=X.dtype)
        _small_class(Xc, c, n_c, m, k, seed, out, rows_info, notes, via_smote=True)
        parts_X.append(out)
        parts_y.append(np.full(m, c, dtype=y.dtype))
    X_res = np.concatenate(parts_X) if len(parts_X) > 1 else parts_X[0]
    y_res = np.concatenate(parts_y) if len(parts_y) > 1 else parts_y[0]
    return X_res, y_res, _info(method, seed, k, sampling_strategy, "imblearn", N, rows_info, y_res, notes)


_ACTION = {"smote": "SMOTE", "borderline-smote": "Borderline-SMOTE", "adasyn": "ADASYN"}


def _small_class(Xc, c, n_c, m, k, seed, out, rows_info, notes, via_smote: bool = False) -> None:
    if n_c >= 2:
        _smote_class_rows(Xc, n_c - 1, m, seed, out)
        rows_info[int(c)].update(generated=int(m), k_used=n_c - 1,
                                 action=f"SMOTE with k_neighbors reduced to {n_c - 1}")
        notes.append(f"class {c}: {n_c} samples < k_neighbors + 1 = {k + 1}; SMOTE used k_neighbors = {n_c - 1}"
                     + (" (plain SMOTE, not the chosen variant)" if via_smote else ""))
    else:
        _copy_class_rows(Xc, m, out)
        rows_info[int(c)].update(generated=int(m), k_used=0, action="copied its single sample (random over-sampling)")
        notes.append(f"class {c}: a single sample has no neighbour to interpolate with; it was copied {m} times")


def _imblearn_estimator(method: str, sampling_strategy, k: int, seed: int):
    from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE

    if method == "smote":
        return SMOTE(sampling_strategy=sampling_strategy, k_neighbors=k, random_state=seed)
    if method == "borderline-smote":
        return BorderlineSMOTE(sampling_strategy=sampling_strategy, k_neighbors=k, random_state=seed)
    return ADASYN(sampling_strategy=sampling_strategy, n_neighbors=k, random_state=seed)


def _info(method, seed, k, strategy, engine, N, rows_info, y_res, notes) -> dict:
    after = dict(zip(*np.unique(y_res, return_counts=True)))
    classes = []
    for c, r in rows_info.items():
        r = dict(r)
        r["after"] = int(after.get(c, 0))
        r["generated"] = r["after"] - r["before"]
        classes.append(r)
    return {"method": method, "seed": seed, "k_neighbors": k,
            "sampling_strategy": strategy if isinstance(strategy, (str, float, int)) else
            {int(a): int(b) for a, b in dict(strategy).items()},
            "engine": engine, "n_original": int(N), "n_synthetic": int(len(y_res) - N),
            "classes": classes, "notes": notes}


def smote_pca_view(X, y, X_res, y_res, n_original: int, cls: int, *, max_points: int = 2000,
                   seed: int = 0) -> pd.DataFrame:
    """2-D PCA of one class: real rows and synthetic rows projected on the real rows' principal axes.

    Returns
    -------
    DataFrame with columns pc1, pc2, kind ("real" / "synthetic"), row (index in X_res);
    at most ``max_points`` rows of each kind (seeded subsample).
    """
    from sklearn.decomposition import PCA

    X_res = np.asarray(X_res)
    y_res = np.asarray(y_res)
    real = np.flatnonzero(y_res[:n_original] == cls)
    syn = n_original + np.flatnonzero(y_res[n_original:] == cls)
    if real.size == 0:
        raise InputError(f"class {cls} has no samples", field="class")
    rng = np.random.default_rng(seed)
    if real.size > max_points:
        real = np.sort(rng.choice(real, max_points, replace=False))
    if syn.size > max_points:
        syn = np.sort(rng.choice(syn, max_points, replace=False))
    Xr = X_res[real].astype(np.float64)
    if real.size >= 2:
        pca = PCA(n_components=min(2, real.size, Xr.shape[1]), random_state=seed).fit(Xr)
        proj = lambda A: pca.transform(A.astype(np.float64))  # noqa: E731
    else:
        proj = lambda A: A.astype(np.float64)[:, :2] - Xr[:, :2]  # noqa: E731
    P = np.vstack([proj(Xr), proj(X_res[syn])]) if syn.size else proj(Xr)
    if P.shape[1] < 2:
        P = np.hstack([P, np.zeros((P.shape[0], 2 - P.shape[1]))])
    return pd.DataFrame({"pc1": P[:, 0], "pc2": P[:, 1],
                         "kind": ["real"] * real.size + ["synthetic"] * syn.size,
                         "row": np.concatenate([real, syn])})
