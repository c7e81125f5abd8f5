"""The built-in demos: real data, shipped in the repository (no network).

* :func:`load_classification_demo` — GoEmotions (Demszky et al. 2020; Reddit comments, 28 emotion
  classes) in two views of the same comments:

  - ``view="multi-label"`` (:func:`load_multilabel_demo`): EVERY row with all its emotions, train
    43,410 / val 5,426 / test 5,427 (16% of the comments carry several emotions); train positives
    from 14,219 (neutral) down to 77 (grief). Run "one-vs-rest": a real one-vs-rest logistic
    regression (28 sigmoid models) trained on every train comment;
  - ``view="single-label"`` (the default of this function, as before): the comments with exactly
    one emotion, train 36,308 / val 4,548 / test 4,590, train counts 12,823 (neutral) .. 39
    (grief). Run "joint": a real multinomial logistic regression on those train features.

  Features: real all-MiniLM-L6-v2 sentence embeddings, PCA to 256-d and 8-bit quantised
  (``scripts/make_goemotions_demo.py`` derives them); val and test logits are recomputed from the
  shipped model weights.
* :func:`load_detection_demo` — the real LVIS v1 category profile (1,203 categories with their
  train ``image_count``/``instance_count``/``frequency``) with GENERATED images, boxes and
  detections (:mod:`lt_core.data.synth`), tail classes detected worse.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError
from .schema import (ClassificationDataset, ClassifierWeights, ClassTable, DetectionDataset, Features, Labels,
                     MultiLabels, Predictions, Run)

__all__ = ["load_classification_demo", "load_multilabel_demo", "load_detection_demo", "GOEMOTIONS_NPZ",
           "DEMO_VIEWS"]

ASSETS = Path(__file__).resolve().parents[1] / "assets"
GOEMOTIONS_NPZ = ASSETS / "goemotions_demo.npz"
JOINT = "joint"
ONE_VS_REST = "one-vs-rest"
DEMO_VIEWS = ("multi-label", "single-label")

_GOEMOTIONS_ATTRIBUTION = (
    "GoEmotions (Demszky et al., ACL 2020), google-research, Apache-2.0; Reddit comments. "
    "Sentence embeddings: all-MiniLM-L6-v2 (Apache-2.0), PCA-256, int8.")


@lru_cache(maxsize=1)
def _goemotions_arrays() -> dict:
    z = np.load(GOEMOTIONS_NPZ, allow_pickle=False)
    out = {k: z[k] for k in z.files}
    out["scale"] = out["scale"].astype(np.float32)
    for s in ("train", "val", "test"):
        out[f"X_{s}"] = out[f"X_{s}"].astype(np.float32) * out["scale"]
        out[f"X_{s}"].setflags(write=False)
    return out


def _texts(z: dict, split: str) -> np.ndarray | None:
    """The comments of a split (every row, in asset order), decoded once; None if the asset has none."""
    key = f"text_cache_{split}"
    if key not in z:
        raw, off = z.get(f"text_bytes_{split}"), z.get(f"text_offsets_{split}")
        if raw is None or off is None:
            z[key] = None
        else:
            b = raw.tobytes()
            z[key] = np.array([b[off[i]:off[i + 1]].decode("utf-8") for i in range(len(off) - 1)], dtype=object)
    return z[key]


def load_classification_demo(view: str = "single-label") -> ClassificationDataset:
    """GoEmotions: 28 classes, real features, a real linear model (val/test logits).

    ``view="single-label"`` (default): the comments with one emotion and the multinomial "joint"
    model; ``view="multi-label"``: every comment (:func:`load_multilabel_demo`).
    """
    v = str(view).strip().lower()
    if v in ("multi-label", "multilabel", "multi"):
        return load_multilabel_demo()
    if v not in ("single-label", "single"):
        raise InputError(f"unknown demo view '{view}'", field="view", hint="use multi-label or single-label")
    z = _goemotions_arrays()
    names = [str(n) for n in z["class_names"]]
    C = len(names)
    labels, feats = {}, {}
    for s in ("train", "val", "test"):
        indptr = z[f"indptr_{s}"].astype(np.int64)
        one = np.diff(indptr) == 1
        y = z[f"labels_{s}"][indptr[:-1][one]].astype(np.int64)
        ids = z[f"ids_{s}"][one].astype(str).astype(object)
        n_multi = int((np.diff(indptr) > 1).sum())
        texts = _texts(z, s)
        labels[s] = Labels(y, s, ids, f"demo:goemotions/{s} (single-label view)",
                           (f"{n_multi:,} of {len(one):,} comments carry several emotions: not in this view (the "
                            "multi-label view has them)",), texts=None if texts is None else texts[one])
        feats[s] = Features(z[f"X_{s}"][one], s, ids, f"demo:goemotions/{s}")
    counts = labels["train"].counts(C)
    classes = ClassTable(np.arange(C), names, counts, source="demo:goemotions")
    clf = ClassifierWeights(z["W"].astype(np.float32), z["b"].astype(np.float32), "demo:goemotions joint model")
    run = Run(JOINT, {s: Predictions(s, "logits", scores=clf.logits(feats[s].X), sample_ids=labels[s].sample_ids,
                                     source="demo: logistic regression on long-tailed train features")
                      for s in ("val", "test")},
              source="demo: multinomial logistic regression (scikit-learn, C=1) on the train features",
              description="the joint (instance-balanced) model")
    ds = ClassificationDataset("GoEmotions (demo)", classes, labels, {}, feats, clf, generated=False,
                               description="Real Reddit comments, 28 emotions, single-label view (the comments with "
                                           "one emotion); real sentence-embedding features and a real linear model.",
                               attribution=_GOEMOTIONS_ATTRIBUTION, default_bins="quantile:3")
    ds.add_run(run)
    return ds


def load_multilabel_demo() -> ClassificationDataset:
    """GoEmotions multi-label: every comment with all its emotions (43,410 / 5,426 / 5,427), real
    features, a real one-vs-rest (sigmoid) logistic regression; bins by train positives."""
    z = _goemotions_arrays()
    names = [str(n) for n in z["class_names"]]
    C = len(names)
    labels, feats = {}, {}
    for s in ("train", "val", "test"):
        ids = z[f"ids_{s}"].astype(str).astype(object)
        labels[s] = MultiLabels(z[f"indptr_{s}"].astype(np.int64), z[f"labels_{s}"].astype(np.int32), C, s, ids,
                                f"demo:goemotions/{s} (every comment)", texts=_texts(z, s))
        feats[s] = Features(z[f"X_{s}"], s, ids, f"demo:goemotions/{s}")
    classes = ClassTable(np.arange(C), names, labels["train"].counts(C), source="demo:goemotions (train positives)")
    clf = ClassifierWeights(z["W_sigmoid"].astype(np.float32), z["b_sigmoid"].astype(np.float32),
                            "demo:goemotions one-vs-rest model")
    run = Run(ONE_VS_REST, {s: Predictions(s, "logits", scores=clf.logits(feats[s].X), sample_ids=labels[s].sample_ids,
                                           source="demo: one-vs-rest logistic regression on every train comment")
                            for s in ("val", "test")},
              source="demo: one-vs-rest logistic regression (scikit-learn, 28 binary models, C=1) on the train "
                     "features", description="the instance-balanced sigmoid (one-vs-rest) model")
    ds = ClassificationDataset("GoEmotions (demo, multi-label)", classes, labels, {}, feats, clf, generated=False,
                               description="Real Reddit comments, 28 emotions, EVERY comment with all its emotions "
                                           "(multi-label); real sentence-embedding features and a real one-vs-rest "
                                           "linear model.",
                               attribution=_GOEMOTIONS_ATTRIBUTION, default_bins="quantile:3")
    ds.add_run(run)
    return ds


@lru_cache(maxsize=2)
def _detection_demo_json(n_images: int, seed: int):
    from .synth import make_lvis_like

    return make_lvis_like(n_images=n_images, seed=seed, dets_per_image=100)


def load_detection_demo(n_images: int = 1000, seed: int = 0) -> DetectionDataset:
    """LVIS v1 real category profile, GENERATED images / boxes / detections (seeded)."""
    from .loaders import _gt_from_dict, _results_from_list

    gt_json, dets = _detection_demo_json(n_images, seed)
    gt = _gt_from_dict(gt_json, f"demo:lvis-v1-profile (generated, seed {seed})")
    res = _results_from_list(dets, gt, "generated detector", f"demo:generated detections (seed {seed})")
    return DetectionDataset("LVIS v1 profile (generated demo)", gt, {res.name: res}, generated=True,
                            description=f"Real LVIS v1 categories and train frequencies; {n_images:,} GENERATED "
                                        f"images, boxes and detections (seed {seed}); tail classes detected worse.",
                            attribution="LVIS v1 category metadata (Gupta et al. 2019), CC BY 4.0, via "
                                        "facebookresearch/Detic (Apache-2.0).")
