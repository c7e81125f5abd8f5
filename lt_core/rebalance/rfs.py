"""Repeat factor sampling for detection (Gupta et al., "LVIS", CVPR 2019, Sec. 5).

For each category c, f(c) is the fraction of training images that contain c, and
``r(c) = max(1, sqrt(t / f(c)))``; an image's factor is the max of r over the categories it
contains (1 for images without annotations). Each epoch an image appears floor(r) times plus
once more with probability frac(r) (stochastic rounding). This matches detectron2's
``RepeatFactorTrainingSampler.repeat_factors_from_category_frequency`` (t = ``repeat_thresh``,
0.001 in the LVIS configs) and mmdetection's ``ClassBalancedDataset`` (t = ``oversample_thr``;
mmdetection repeats ``ceil(r)`` times instead of stochastic rounding).

The sufficient statistic is (number of images, images per category): :class:`RFSCounts`
(``update`` with a shard of whole images, ``merge``, ``compute``) gives exactly the category
factors of the union.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from .sampling import DEFAULT_RFS_THRESHOLD, rng_for, stochastic_repeat_indices

__all__ = ["category_repeat_factors", "repeat_factors", "repeat_factors_from_arrays", "RepeatFactors",
           "RFSCounts", "rfs_epoch_indices", "annotate_gt_json", "DEFAULT_RFS_THRESHOLD", "RFS_JSON_KEY"]

RFS_JSON_KEY = "repeat_factor"


def category_repeat_factors(image_fraction, threshold: float = DEFAULT_RFS_THRESHOLD) -> np.ndarray:
    """r(c) = max(1, sqrt(t / f(c))) per category, shape (C,) float64 (1 where f = 0: never sampled)."""
    f = np.asarray(image_fraction, dtype=np.float64)
    t = float(threshold)
    if not t > 0:
        raise InputError(f"the RFS threshold t must be > 0, got {threshold}", field="threshold",
                         hint="LVIS uses t = 0.001")
    if (f < 0).any() or (f > 1).any() or not np.isfinite(f).all():
        raise InputError("image fractions must be in [0, 1]", field="image_fraction")
    out = np.ones_like(f)
    pos = f > 0
    out[pos] = np.maximum(1.0, np.sqrt(t / f[pos]))
    return out


@dataclass
class RepeatFactors:
    """Repeat factors of a detection training set.

    Attributes
    ----------
    threshold : float
        t.
    n_images : int
        Images f(c) is measured over: the images of the file (those without annotations included),
        or ``n_train_images`` when f comes from a category table's ``image_count``.
    image_ids : ndarray (I,) int64
    image_factors : ndarray (I,) float64
        Per-image repeat factor (max over its categories; 1 without annotations).
    category_ids : ndarray (C,) int64
    category_names : ndarray (C,) object
    image_count : ndarray (C,) int64
        Training images containing each category.
    image_fraction : ndarray (C,) float64
        f(c) = image_count / I.
    category_factors : ndarray (C,) float64
        r(c).
    """

    threshold: float
    n_images: int
    image_ids: np.ndarray
    image_factors: np.ndarray
    category_ids: np.ndarray
    category_names: np.ndarray
    image_count: np.ndarray
    image_fraction: np.ndarray
    category_factors: np.ndarray
    image_categories: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def expected_epoch_length(self) -> float:
        """Expected images per epoch, sum of the image factors."""
        return float(self.image_factors.sum())

    def expected_images_per_category(self) -> np.ndarray:
        """Expected draws per epoch of images containing each category, shape (C,) float64."""
        if self.image_categories is None:
            return self.image_count * self.category_factors
        img, cat = self.image_categories
        return np.bincount(cat, weights=self.image_factors[img], minlength=len(self.category_ids))

    def images_frame(self) -> pd.DataFrame:
        """Columns image_id, repeat_factor (the per-image CSV export)."""
        return pd.DataFrame({"image_id": self.image_ids, "repeat_factor": self.image_factors})

    def categories_frame(self) -> pd.DataFrame:
        """Columns category_id, name, image_count, image_fraction, repeat_factor."""
        return pd.DataFrame({"category_id": self.category_ids, "name": self.category_names,
                             "image_count": self.image_count, "image_fraction": self.image_fraction,
                             "repeat_factor": self.category_factors})

    def to_json_dict(self) -> dict:
        """The ``rebalance rfs`` JSON: threshold, n_images, ``images`` and ``categories`` lists."""
        return {
            "method": "repeat factor sampling (Gupta et al. 2019): r(c) = max(1, sqrt(t / f(c))), "
                      "image factor = max over its categories",
            "threshold": self.threshold,
            "n_images": int(len(self.image_ids)),
            "frequency_images": self.n_images,
            "expected_epoch_length": self.expected_epoch_length,
            "images": [{"image_id": int(i), "repeat_factor": float(r)}
                       for i, r in zip(self.image_ids.tolist(), self.image_factors.tolist())],
            "categories": [{"category_id": int(c), "name": str(nm), "image_count": int(k),
                            "image_fraction": float(f), "repeat_factor": float(r)}
                           for c, nm, k, f, r in zip(self.category_ids.tolist(), self.category_names.tolist(),
                                                     self.image_count.tolist(), self.image_fraction.tolist(),
                                                     self.category_factors.tolist())],
        }


def repeat_factors_from_arrays(image_ids, ann_image_id, ann_category_id, category_ids=None, category_names=None,
                               threshold: float = DEFAULT_RFS_THRESHOLD, source: str = "", *,
                               image_count=None, n_train_images: int | None = None) -> RepeatFactors:
    """Repeat factors from columnar annotations.

    Parameters
    ----------
    image_ids : array (I,) int
        All training images (also those without annotations).
    ann_image_id, ann_category_id : array (A,) int
        Image and category of each annotation.
    category_ids : array (C,) int, optional
        All categories (default: those in the annotations, sorted).
    image_count : array (C,) int, optional
        Images per category of the full training set (e.g. LVIS ``image_count``); by default they are
        counted from these annotations. With it, f(c) = image_count / ``n_train_images``.
    n_train_images : int, optional
        Training images behind ``image_count`` (LVIS v1 train: 100,170). Default: I.
    """
    img = np.asarray(image_ids, dtype=np.int64).ravel()
    ai = np.asarray(ann_image_id, dtype=np.int64).ravel()
    ac = np.asarray(ann_category_id, dtype=np.int64).ravel()
    if img.size == 0:
        raise InputError("no images: repeat factors need at least one training image", source, "images")
    if ai.size != ac.size:
        raise InputError(f"{ai.size} annotation image ids but {ac.size} category ids", source, "annotations")
    if len(np.unique(img)) != img.size:
        raise InputError("duplicate image ids", source, "images.id")
    cats = np.unique(ac) if category_ids is None else np.asarray(category_ids, dtype=np.int64).ravel()
    names = (np.asarray([str(c) for c in cats], dtype=object) if category_names is None
             else np.asarray(category_names, dtype=object))
    # map ids to positions
    isort = np.argsort(img)
    ipos = np.searchsorted(img, ai, sorter=isort)
    ipos = np.clip(ipos, 0, img.size - 1)
    bad = img[isort[ipos]] != ai
    if bad.any():
        raise InputError(f"annotations refer to unknown image ids {np.unique(ai[bad])[:10].tolist()}",
                         source, "annotations.image_id")
    ii = isort[ipos]
    csort = np.argsort(cats)
    cpos = np.clip(np.searchsorted(cats, ac, sorter=csort), 0, max(cats.size - 1, 0))
    if cats.size == 0 or (cats[csort[cpos]] != ac).any():
        badc = ac if cats.size == 0 else ac[cats[csort[cpos]] != ac]
        raise InputError(f"annotations refer to unknown category ids {np.unique(badc)[:10].tolist()}",
                         source, "annotations.category_id")
    cc = csort[cpos]
    key = np.unique(ii * cats.size + cc)              # (image, category) pairs, each once
    pi, pc = key // cats.size, key % cats.size
    count = np.bincount(pc, minlength=cats.size).astype(np.int64)
    n_img = img.size
    if image_count is not None:
        count = np.asarray(image_count, dtype=np.int64).ravel()
        if count.size != cats.size or (count < 0).any():
            raise InputError(f"image_count must be {cats.size} counts >= 0, got {count.size}", source,
                             "categories.image_count")
        n_img = int(n_train_images) if n_train_images is not None else img.size
        if n_img < max(1, int(count.max())):
            raise InputError(f"n_train_images = {n_img} is below the largest image_count {int(count.max())}",
                             source, "n_train_images")
    frac = count / n_img
    cr = category_repeat_factors(frac, threshold)
    imf = np.ones(img.size, dtype=np.float64)
    if pi.size:
        # max over each image's categories: pairs are sorted by image, reduce per run
        starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
        imf[pi[starts]] = np.maximum.reduceat(cr[pc], starts)
    return RepeatFactors(float(threshold), int(n_img), img, imf, cats, names, count, frac, cr,
                         image_categories=(pi, pc))


def repeat_factors(gt, threshold: float = DEFAULT_RFS_THRESHOLD, *, frequency: str = "annotations",
                   n_train_images: int | None = None) -> RepeatFactors:
    """Repeat factors of a :class:`~lt_core.data.DetectionGT`.

    Parameters
    ----------
    frequency : {"annotations", "image_count"}
        Where f(c) comes from: images of this file containing c (the definition, for a training file),
        or the category table's ``image_count`` (LVIS metadata) over ``n_train_images`` images,
        e.g. to apply the real LVIS v1 train frequencies (100,170 images) to a subset.
    """
    if frequency not in ("annotations", "image_count"):
        raise InputError(f"unknown frequency source '{frequency}'", field="frequency",
                         hint="annotations or image_count")
    extra = {}
    if frequency == "image_count":
        if not getattr(gt, "has_image_count", True):
            raise InputError("frequency 'image_count' needs 'image_count' on every category, and this file's "
                             "categories have none", getattr(gt, "source", "") or None, "categories.image_count",
                             hint="use the annotations as the frequency source, or a ground truth whose categories "
                                  "carry LVIS image_count")
        extra = {"image_count": gt.categories.train_count, "n_train_images": n_train_images}
    return repeat_factors_from_arrays(gt.image_ids, gt.ann_image_id, gt.ann_category_id, gt.categories.ids,
                                      gt.categories.names, threshold, source=getattr(gt, "source", ""), **extra)


def rfs_epoch_indices(image_factors, *, epoch: int = 0, seed: int = 0) -> np.ndarray:
    """One seeded epoch of image positions (0..I-1), stochastic rounding, shuffled, int64."""
    r = np.asarray(image_factors, dtype=np.float64)
    if r.ndim != 1 or not np.isfinite(r).all() or (r < 0).any():
        raise InputError("image repeat factors must be a 1-D vector of finite values >= 0", field="repeat_factors")
    return stochastic_repeat_indices(r, rng_for(seed, epoch))


@dataclass
class RFSCounts:
    """Mergeable sufficient statistic of RFS: images seen and images per category.

    Shards must hold whole images (all annotations of an image in the same shard).
    """

    category_ids: np.ndarray
    n_images: int = 0
    image_count: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.category_ids = np.asarray(self.category_ids, dtype=np.int64)
        if self.image_count is None:
            self.image_count = np.zeros(self.category_ids.size, dtype=np.int64)

    def update(self, image_ids, ann_image_id, ann_category_id) -> "RFSCounts":
        """A new state with one shard of images (and their annotations) added."""
        rf = repeat_factors_from_arrays(image_ids, ann_image_id, ann_category_id, self.category_ids)
        return RFSCounts(self.category_ids, self.n_images + rf.n_images, self.image_count + rf.image_count)

    def merge(self, other: "RFSCounts") -> "RFSCounts":
        """The state of both shards together."""
        if not np.array_equal(self.category_ids, other.category_ids):
            raise InputError("cannot merge RFS counts over different category lists", field="categories")
        return RFSCounts(self.category_ids, self.n_images + other.n_images, self.image_count + other.image_count)

    def compute(self, threshold: float = DEFAULT_RFS_THRESHOLD) -> np.ndarray:
        """Category repeat factors r(c), shape (C,)."""
        if self.n_images == 0:
            raise InputError("no images counted yet", field="images")
        return category_repeat_factors(self.image_count / self.n_images, threshold)


def annotate_gt_json(raw: dict, rf: RepeatFactors, key: str = RFS_JSON_KEY) -> dict:
    """A copy of a COCO / LVIS GT dict with each image's factor under ``images[i][key]``.

    The input dict is not modified (new image dicts; other lists are shared, not copied).
    A top-level ``"repeat_factor_sampling"`` entry records the threshold and the rule.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("images"), list):
        raise InputError("expected a COCO/LVIS dict with an 'images' list", field="images")
    lut = dict(zip(rf.image_ids.tolist(), rf.image_factors.tolist()))
    images = []
    for im in raw["images"]:
        iid = im.get("id")
        if iid not in lut:
            raise InputError(f"image id {iid} has no repeat factor", field="images.id")
        images.append({**im, key: lut[iid]})
    out = dict(raw)
    out["images"] = images
    out["repeat_factor_sampling"] = {"threshold": rf.threshold, "key": key,
                                     "rule": "max over the image's categories of max(1, sqrt(t / f(c)))"}
    return out
