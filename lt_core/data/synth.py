"""Seeded generator of LVIS-like detection data on the real LVIS v1 category profile.

The categories (names, ``frequency``, ``image_count``, ``instance_count``) are the real LVIS v1
train metadata shipped in ``lt_core/assets/lvis_v1_categories.csv``. Images, boxes and
detections are GENERATED, with a detector whose quality depends on the class's training
frequency the way a real one does:

* which categories appear in an image is drawn with probability proportional to
  ``image_count ** 0.75`` (rare classes do appear, less often);
* a ground-truth box is found with probability ``0.25 + 0.65 * q_c`` where
  ``q_c = log(1 + image_count) / log(1 + max image_count)`` (frequent ~0.9, rare ~0.4);
  found boxes are jittered more for rare classes and scored lower;
* with probability ``0.35 * (1 - q_c)`` the detection of a found object carries the label of a
  frequent class instead ("the head steals the tail");
* background false positives, mostly of frequent classes, fill each image up to
  ``dets_per_image`` detections (a detector's usual fixed budget, 300 in LVIS);
* per image, LVIS federated fields: ``neg_category_ids`` (verified absent categories) and
  ``not_exhaustive_category_ids`` (5% of the present ones).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["lvis_v1_categories", "make_lvis_like"]

ASSETS = Path(__file__).resolve().parents[1] / "assets"


@lru_cache(maxsize=1)
def lvis_v1_categories() -> pd.DataFrame:
    """The real LVIS v1 train category profile (1,203 rows: id, name, synset, frequency,
    image_count, instance_count, synonyms, def)."""
    return pd.read_csv(ASSETS / "lvis_v1_categories.csv", keep_default_na=False)


def make_lvis_like(n_images: int = 1000, seed: int = 0, dets_per_image: int = 100,
                   neg_per_image: int = 8, categories: pd.DataFrame | None = None) -> tuple[dict, list[dict]]:
    """Generate LVIS-style ground truth and detector results.

    Parameters
    ----------
    n_images : int
        Number of images.
    seed : int
        Seed of every random step (same seed, same data).
    dets_per_image : int
        Detections per image after filling with background false positives (at most).
    neg_per_image : int
        Mean number of ``neg_category_ids`` per image.
    categories : DataFrame, optional
        Category profile; default the real LVIS v1 one.

    Returns
    -------
    gt : dict
        LVIS JSON (``images``, ``annotations``, ``categories``); boxes [x, y, w, h] in pixels.
    results : list of dict
        COCO results (``image_id``, ``category_id``, ``bbox``, ``score``).
    """
    rng = np.random.default_rng(seed)
    cats = lvis_v1_categories() if categories is None else categories
    cid = cats["id"].to_numpy(np.int64)
    C = len(cid)
    imgc = cats["image_count"].to_numpy(np.float64)
    inst = cats["instance_count"].to_numpy(np.float64)
    freq = cats["frequency"].to_numpy(object)
    q = np.log1p(imgc) / np.log1p(imgc.max())
    p_present = imgc ** 0.75
    p_present /= p_present.sum()
    p_fp = imgc / imgc.sum()
    head = np.flatnonzero(freq == "f")
    p_head = imgc[head] / imgc[head].sum()
    mean_inst = np.clip(inst / np.maximum(imgc, 1), 1, 20)

    H = rng.choice([480, 640], n_images)
    W = np.where(H == 480, 640, 480)
    images, anns, dets = [], [], []
    aid = 1
    for i in range(n_images):
        img_id = i + 1
        h, w = int(H[i]), int(W[i])
        k = 1 + rng.poisson(2.5)
        present = np.unique(rng.choice(C, size=k, p=p_present))
        n_inst = np.minimum(1 + rng.poisson(mean_inst[present] - 1), 30)
        c_obj = np.repeat(present, n_inst)
        m = len(c_obj)
        # box sizes: log-uniform area fraction 0.0005 .. 0.5 (small, medium and large objects)
        frac = np.exp(rng.uniform(np.log(5e-4), np.log(0.5), m))
        aspect = np.exp(rng.normal(0, 0.5, m))
        bw = np.clip(np.sqrt(frac * w * h * aspect), 2, w - 1)
        bh = np.clip(np.sqrt(frac * w * h / aspect), 2, h - 1)
        bx = rng.uniform(0, w - bw)
        by = rng.uniform(0, h - bh)
        boxes = np.stack([bx, by, bw, bh], 1).round(2)
        for j in range(m):
            x, y, bwj, bhj = boxes[j].tolist()
            anns.append({"id": aid, "image_id": img_id, "category_id": int(cid[c_obj[j]]),
                         "bbox": [x, y, bwj, bhj], "area": round(bwj * bhj * 0.85, 2), "iscrowd": 0,
                         "segmentation": [[x, y, x + bwj, y, x + bwj, y + bhj, x, y + bhj]]})
            aid += 1
        absent = np.setdiff1d(rng.choice(C, size=rng.poisson(neg_per_image) + 1, p=p_present), present)
        not_exh = present[rng.random(len(present)) < 0.05]
        images.append({"id": img_id, "height": h, "width": w, "file_name": f"generated_{img_id:06d}.jpg",
                       "neg_category_ids": cid[absent].tolist(), "not_exhaustive_category_ids": cid[not_exh].tolist()})
        # detections of the objects
        qo = q[c_obj]
        found = rng.random(m) < 0.25 + 0.65 * qo
        sig = 0.04 + 0.18 * (1 - qo)
        jit = rng.normal(0, 1, (m, 4)) * sig[:, None]
        db = boxes.copy()
        db[:, 0] += jit[:, 0] * boxes[:, 2]
        db[:, 1] += jit[:, 1] * boxes[:, 3]
        db[:, 2] *= np.exp(jit[:, 2])
        db[:, 3] *= np.exp(jit[:, 3])
        score = 1 / (1 + np.exp(-(rng.normal(0.4 + 2.4 * qo, 1.0))))
        label = c_obj.copy()
        steal = rng.random(m) < 0.35 * (1 - qo)
        label[steal] = head[rng.choice(len(head), int(steal.sum()), p=p_head)]
        tp_idx = np.flatnonzero(found)
        d_c, d_b, d_s = [label[tp_idx]], [db[tp_idx]], [score[tp_idx]]
        # duplicates of some found objects (lower scores)
        dup = tp_idx[rng.random(len(tp_idx)) < 0.15]
        if len(dup):
            jb = db[dup] * np.exp(rng.normal(0, 0.08, (len(dup), 4)) * [0, 0, 1, 1])
            d_c.append(label[dup]); d_b.append(jb); d_s.append(score[dup] * rng.uniform(0.3, 0.9, len(dup)))
        n_fp = max(dets_per_image - sum(len(c) for c in d_c), 0)
        if n_fp:
            fc = rng.choice(C, n_fp, p=p_fp)
            # a share of the false positives hit the image's verified-negative categories
            if len(absent):
                on_neg = rng.random(n_fp) < 0.1
                fc[on_neg] = rng.choice(absent, int(on_neg.sum()))
            fw = np.exp(rng.uniform(np.log(4), np.log(w * 0.6), n_fp))
            fh = np.exp(rng.uniform(np.log(4), np.log(h * 0.6), n_fp))
            fb = np.stack([rng.uniform(0, w - fw), rng.uniform(0, h - fh), fw, fh], 1)
            d_c.append(fc); d_b.append(fb); d_s.append(rng.beta(1.2, 6.0, n_fp))
        dc, dbx, ds = np.concatenate(d_c), np.concatenate(d_b), np.concatenate(d_s)
        dbx[:, 0] = np.clip(dbx[:, 0], 0, w - 1)
        dbx[:, 1] = np.clip(dbx[:, 1], 0, h - 1)
        dbx[:, 2] = np.clip(dbx[:, 2], 1, w - dbx[:, 0])
        dbx[:, 3] = np.clip(dbx[:, 3], 1, h - dbx[:, 1])
        keep = np.argsort(-ds, kind="stable")[:dets_per_image]
        dbx = dbx.round(2)
        ds = np.round(ds, 5)
        for j in keep.tolist():
            dets.append({"image_id": img_id, "category_id": int(cid[dc[j]]), "bbox": dbx[j].tolist(),
                         "score": float(ds[j])})
    cat_list = [{"id": int(r["id"]), "name": r["name"], "synset": r["synset"], "frequency": r.frequency,
                 "image_count": int(r.image_count), "instance_count": int(r.instance_count),
                 "synonyms": [s for s in str(r.synonyms).split("|") if s], "def": r["def"]}
                for _, r in cats.iterrows()]
    gt = {"info": {"description": f"GENERATED LVIS-like data (seed {seed}) on the real LVIS v1 category profile"},
          "licenses": [], "images": images, "annotations": anns, "categories": cat_list}
    return gt, dets
