"""Files a user would bring, made from the real lists in tests/data (seeded).

The split lists and per-class train counts are real (ImageNet-LT, Places-LT); the models' scores
are generated here, as a user's two models would be: logits whose true-class margin grows with the
class's train count (head classes recognised better), model B flatter (better on the tail).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lt_core.data import load_labels, load_train_counts

DATA = Path(__file__).resolve().parent / "data"
PLACES_COUNTS = DATA / "places_lt/Places_LT_class_counts.csv"
PLACES_VAL = DATA / "places_lt/Places_LT_val.txt.gz"
PLACES_TEST = DATA / "places_lt/Places_LT_test.txt.gz"
IMAGENET_COUNTS = DATA / "imagenet_lt/ImageNet_LT_class_counts.csv"
IMAGENET_VAL = DATA / "imagenet_lt/ImageNet_LT_val.txt.gz"
IMAGENET_TEST = DATA / "imagenet_lt/ImageNet_LT_test.txt.gz"
GOEMOTIONS = DATA / "goemotions"


def model_scores(labels_path: Path, counts_path: Path, seed: int, tail_boost: float = 0.0,
                 n_rows: int | None = None, dtype=np.float32) -> np.ndarray:
    """(N, C) logits for the samples of a real split list: accuracy depends on the train count.

    The true-class margin is ``0.6 * log1p(n)`` for a class with n train samples, plus standard
    normal noise on every logit; ``tail_boost`` > 0 (model B) adds ``tail_boost * (1 - log1p(n) /
    log1p(max n))`` to the margin and lowers the head classes' logits a little (better tail, slightly
    worse head).
    """
    classes = load_train_counts(counts_path)
    lab, _ = load_labels(labels_path, classes)
    y = lab.y if n_rows is None else lab.y[:n_rows]
    rng = np.random.default_rng(seed)
    C = classes.n_classes
    tc = classes.train_count.astype(np.float64)
    z = rng.standard_normal((len(y), C)).astype(np.float32)
    rank = np.log1p(tc) / np.log1p(tc.max())
    margin = 0.6 * np.log1p(tc) + tail_boost * (1.0 - rank)
    z[np.arange(len(y)), y] += margin[y].astype(np.float32)
    z -= (0.5 * tail_boost * rank).astype(np.float32)[None, :]
    return z.astype(dtype)


def write_scores(path: Path, labels_path: Path, counts_path: Path, seed: int, tail_boost: float = 0.0,
                 **kw) -> Path:
    """Write :func:`model_scores` as ``.npy`` (or ``.csv`` wide score columns by class id)."""
    s = model_scores(labels_path, counts_path, seed, tail_boost, **kw)
    path = Path(path)
    if path.suffix == ".csv":
        pd.DataFrame(s, columns=[f"score_{j}" for j in range(s.shape[1])]).to_csv(path, index=False)
    else:
        with open(path, "wb") as fh:  # np.save(path) would append ".npy" to a temp name
            np.save(fh, s)
    return path


def write_predicted_ids(path: Path, labels_path: Path, counts_path: Path, seed: int, tail_boost: float = 0.0) -> Path:
    """Predicted class ids (argmax of :func:`model_scores`) as a 1-D ``.npy``: small even at 50,000 rows."""
    z = model_scores(labels_path, counts_path, seed, tail_boost)
    with open(path, "wb") as fh:
        np.save(fh, z.argmax(1).astype(np.int64))
    return Path(path)


def goemotions_parts_paths() -> dict:
    """The GoEmotions slice's files, by the Data page's form keys."""
    g = GOEMOTIONS
    return {"tr": g / "train_2000.tsv.gz", "cn": g / "emotions.txt", "va": g / "dev_600.tsv.gz",
            "te": g / "test_600.tsv.gz", "ftr": g / "train_2000_minilm.npy", "fva": g / "dev_600_minilm.npy",
            "fte": g / "test_600_minilm.npy"}


def write_goemotions_classifier(path: Path, C: float = 1.0) -> Path:
    """A real multinomial logistic regression (scikit-learn) on the slice's single-label train rows,
    as ``.npz`` with ``W`` (28 x 384) and ``b`` (28,); classes absent from the slice get W = 0 and a
    bias of -20 (never predicted)."""
    from sklearn.linear_model import LogisticRegression

    from lt_core.data import load_class_names, load_features
    from lt_core.data.parts import fit_features
    from lt_core.data.schema import ClassTable

    names = load_class_names(GOEMOTIONS / "emotions.txt")
    table = ClassTable(np.arange(len(names)), names, np.zeros(len(names), np.int64))
    lab, _ = load_labels(GOEMOTIONS / "train_2000.tsv.gz", table, split="train", multi_label="drop")
    X = fit_features(load_features(GOEMOTIONS / "train_2000_minilm.npy"), lab).X
    lr = LogisticRegression(C=C, max_iter=2000).fit(X, lab.y)
    W = np.zeros((len(names), X.shape[1]), np.float32)
    b = np.full(len(names), -20.0, np.float32)
    W[lr.classes_] = lr.coef_
    b[lr.classes_] = lr.intercept_
    np.savez(path, W=W, b=b)
    return Path(path)
