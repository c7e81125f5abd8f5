"""The built-in demos: real data, shipped in the repository (no network).

* :func:`load_classification_demo` — GoEmotions (Demszky et al. 2020; Reddit comments, 28 emotion
  classes, the single-label subset: train 36,308 / val 4,548 / test 4,590; train counts from
  12,823 (neutral) down to 39 (grief)). Features: real all-MiniLM-L6-v2 sentence embeddings,
  PCA to 256-d and 8-bit quantised (``scripts/make_goemotions_demo.py`` derives them). Run
  "joint": a real multinomial logistic regression trained on the long-tailed train features; its
  val and test logits are recomputed from its shipped weights.
* :func:`load_detection_demo` — the real LVIS v1 category profile (1,203 categories with their
  train ``image_count``/``instance_count``/``frequency``) with GENERATED images, boxes and
  detections (:mod:`lt_core.data.synth`), tail classes detected worse.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .schema import (ClassificationDataset, ClassifierWeights, ClassTable, DetectionDataset, Features, Labels,
                     Predictions, Run)

__all__ = ["load_classification_demo", "load_detection_demo", "GOEMOTIONS_NPZ"]

ASSETS = Path(__file__).resolve().parents[1] / "assets"
GOEMOTIONS_NPZ = ASSETS / "goemotions_demo.npz"
JOINT = "joint"

_GOEMOTIONS_ATTRIBUTION = (
    "GoEmotions (Demszky et al., ACL 2020), google-research, Apache-2.0; Reddit comments. "
    "Sentence embeddings: all-MiniLM-L6-v2 (Apache-2.0), PCA-256, int8.")


def load_classification_demo() -> ClassificationDataset:
    """GoEmotions single-label: 28 classes, real features, a real joint model (val/test logits)."""
    z = np.load(GOEMOTIONS_NPZ, allow_pickle=False)
    names = [str(n) for n in z["class_names"]]
    C = len(names)
    scale = z["scale"].astype(np.float32)
    labels, feats = {}, {}
    for s in ("train", "val", "test"):
        X = z[f"X_{s}"].astype(np.float32) * scale
        ids = z[f"ids_{s}"].astype(str).astype(object)
        labels[s] = Labels(z[f"y_{s}"].astype(np.int64), s, ids, f"demo:goemotions/{s}")
        feats[s] = Features(X, s, ids, f"demo:goemotions/{s}")
    counts = labels["train"].counts(C)
    classes = ClassTable(np.arange(C), names, counts, source="demo:goemotions")
    clf = ClassifierWeights(z["W"].astype(np.float32), z["b"].astype(np.float32), "demo:goemotions joint model")
    run = Run(JOINT, {s: Predictions(s, "logits", scores=clf.logits(feats[s].X), sample_ids=labels[s].sample_ids,
                                     source="demo: logistic regression on long-tailed train features")
                      for s in ("val", "test")},
              source="demo: multinomial logistic regression (scikit-learn, C=1) on the train features",
              description="the joint (instance-balanced) model")
    ds = ClassificationDataset("GoEmotions (demo)", classes, labels, {}, feats, clf, generated=False,
                               description="Real Reddit comments, 28 emotions, single-label subset; real "
                                           "sentence-embedding features and a real linear model.",
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
