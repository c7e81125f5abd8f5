"""What a selected sample looks like: its text, or its image file under an image root.

Classification samples carry content in one of two ways:

* **text** — the label file had a text column (``text`` / ``sentence`` / ``comment``; the comment of
  a GoEmotions TSV), kept as :attr:`lt_core.data.Labels.texts`;
* **image** — the sample ids are relative paths (ImageNet-LT / Places-LT lists, image-folder trees)
  and an image root says where they start: the tree itself for an image folder
  (:attr:`Labels.image_root`), or the folder the user gives (:attr:`ClassificationDataset.image_root`).

Nothing is read when a :class:`SampleContent` is made; :meth:`SampleContent.image_paths` looks up only
the rows asked for (one page of examples), with :func:`lt_core.images.resolve_list_paths`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..images.roots import resolve_list_paths

__all__ = ["SampleContent", "sample_content", "DetectionContent"]


@dataclass
class SampleContent:
    """The content behind the rows of one split.

    Attributes
    ----------
    kind : {"image", "text", "none"}
        What the examples can show: images (an image root is known), texts, or only the table.
    texts : ndarray (N,) object or None
    sample_ids : ndarray (N,) object or None
        The relative paths the images are looked up by.
    image_root : Path or None
    """

    kind: str
    texts: np.ndarray | None = None
    sample_ids: np.ndarray | None = None
    image_root: Path | None = None
    _paths: dict = field(default_factory=dict, repr=False)

    @property
    def has_text(self) -> bool:
        return self.texts is not None

    @property
    def has_images(self) -> bool:
        return self.image_root is not None and self.sample_ids is not None

    def text_of(self, rows: Sequence[int]) -> list[str | None]:
        """The texts of these rows (None where the file had none)."""
        if self.texts is None:
            return [None] * len(rows)
        return [self.texts[int(r)] for r in rows]

    def image_paths(self, rows: Sequence[int]) -> list[Path | None]:
        """The image file of each row (None: no file under the root, or an id that is not a path).

        Looked up once per row and remembered: a page of 12 examples costs 12 ``stat`` calls.
        """
        if not self.has_images:
            return [None] * len(rows)
        out: list[Path | None] = []
        for r in rows:
            r = int(r)
            if r not in self._paths:
                try:
                    self._paths[r] = resolve_list_paths(self.image_root, [str(self.sample_ids[r])])[0]
                except InputError:  # an id with '..' or an absolute path: not an image under the root
                    self._paths[r] = None
            out.append(self._paths[r])
        return out

    def relpath(self, row: int) -> str | None:
        return None if self.sample_ids is None else str(self.sample_ids[int(row)])


def sample_content(labels, image_root=None) -> SampleContent:
    """The content of a split's samples (see the module docstring).

    Parameters
    ----------
    labels : Labels
        One split's labels (their ``texts``, ``sample_ids`` and ``image_root``).
    image_root : path, optional
        The folder the sample ids are relative to (ImageNet-LT / Places-LT lists); default the
        labels' own root (image-folder trees). A folder that does not exist is an :class:`InputError`.
    """
    texts = getattr(labels, "texts", None)
    root = image_root if image_root not in (None, "") else getattr(labels, "image_root", None)
    ids = getattr(labels, "sample_ids", None)
    rp = None
    if root is not None:
        rp = Path(root).expanduser()
        if not rp.is_dir():
            raise InputError("no such image folder" if not rp.exists() else "expected a folder of images, got a file",
                             str(root), "image root", hint="give the folder the samples' relative paths start from")
        rp = rp.resolve()
        if ids is None:
            rp = None  # no paths to look up: the images cannot be found
    kind = "image" if rp is not None else ("text" if texts is not None else "none")
    return SampleContent(kind, texts, ids, rp)


class DetectionContent:
    """The image of a detection example with its boxes: ground truth and detections drawn by outcome.

    Parameters
    ----------
    gt : DetectionGT
    results : DetectionResults
    table : DataFrame
        :func:`lt_core.examples.detection.box_table` of these files (the outcome of every box).
    image_root : path, optional
        The folder of the images (COCO ``file_name`` / LVIS v1 ``coco_url`` layout); None draws the
        boxes on a plain canvas of each image's size, labelled ``generated`` (the generated demo).
    masks : bool
        Draw mask outlines (ground-truth polygons / RLE and the results' RLE) when there are masks.

    Nothing is read when it is made; :meth:`overlay` and :meth:`source` look up one image.
    """

    def __init__(self, gt, results, table, image_root=None, masks: bool = True, generated_label: str = "generated"):
        self.gt, self.results, self.table = gt, results, table
        self.masks = bool(masks)
        self.label = generated_label
        self.image_root = None
        if image_root not in (None, ""):
            rp = Path(image_root).expanduser()
            if not rp.is_dir():
                raise InputError("no such image folder" if not rp.exists() else "expected a folder of images, got a "
                                 "file", str(image_root), "image root",
                                 hint="give the folder the ground truth's file_name paths start from")
            self.image_root = rp.resolve()
        self.kind = "image" if self.image_root is not None else "canvas"
        ids = np.asarray(gt.image_ids, np.int64)
        self._img_pos = {int(i): k for k, i in enumerate(ids.tolist())}
        self._rows_of = None
        self._gt_of = None
        self._paths: dict = {}
        self._ann_index = None

    # ---- lookups (built on first use)
    def _rows(self, image_id: int) -> np.ndarray:
        if self._rows_of is None:
            img = self.table["image_id"].to_numpy(np.int64)
            o = np.argsort(img, kind="stable")
            u, start = np.unique(img[o], return_index=True)
            end = np.r_[start[1:], len(o)]
            self._rows_of = {int(a): o[s:e] for a, s, e in zip(u, start, end)}
        return self._rows_of.get(int(image_id), np.zeros(0, np.int64))

    def _gts(self, image_id: int) -> np.ndarray:
        if self._gt_of is None:
            img = np.asarray(self.gt.ann_image_id, np.int64)
            o = np.argsort(img, kind="stable")
            u, start = np.unique(img[o], return_index=True)
            end = np.r_[start[1:], len(o)]
            self._gt_of = {int(a): o[s:e] for a, s, e in zip(u, start, end)}
        return self._gt_of.get(int(image_id), np.zeros(0, np.int64))

    def size_hw(self, image_id: int) -> tuple[int, int]:
        k = self._img_pos.get(int(image_id))
        if k is None:
            raise InputError(f"image id {image_id} is not in the ground truth", field="image_id")
        h, w = np.asarray(self.gt.image_sizes, np.float64)[k]
        return int(round(h)), int(round(w))

    def source(self, image_id: int) -> Path | None:
        """The image file (None on a canvas); :class:`InputError` naming what was tried when missing."""
        if self.image_root is None:
            return None
        iid = int(image_id)
        if iid not in self._paths:
            from ..images.roots import candidate_relpaths

            raw = getattr(self.gt, "raw", None) or {}
            recs = raw.get("images", [])
            k = self._img_pos.get(iid)
            rec = recs[k] if k is not None and k < len(recs) and int(recs[k].get("id", -1)) == iid else \
                next((r for r in recs if int(r.get("id", -1)) == iid), None)
            hit, tried = None, []
            if rec is not None:
                tried = candidate_relpaths(rec, str(getattr(self.gt, "source", "")))
                for c in tried:
                    p = self.image_root / c
                    if p.is_file():
                        hit = p
                        break
            self._paths[iid] = (hit, tried)
        hit, tried = self._paths[iid]
        if hit is None:
            raise InputError(f"no image file for image id {iid} (tried {', '.join(tried) or 'no file_name'})",
                             str(self.image_root), "images.file_name",
                             hint="is this the image folder of this ground truth?")
        return hit

    def _gt_segmentation(self, pos: np.ndarray) -> list:
        raw = getattr(self.gt, "raw", None) or {}
        anns = raw.get("annotations")
        if not anns or not getattr(self.gt, "has_segmentation", False):
            return [None] * len(pos)
        if self._ann_index is None:
            self._ann_index = {int(a["id"]): a for a in anns if "id" in a}
        ids = np.asarray(self.gt.ann_id, np.int64)[pos]
        return [self._ann_index.get(int(i), {}).get("segmentation") for i in ids]

    def overlay(self, image_id: int, highlight: dict | None = None, min_score: float = 0.3, max_dets: int = 30,
                class_names: bool = True, include_dets: tuple = (), labels_for: str = "all") -> dict:
        """The boxes to draw on one image (keyword arguments of :func:`lt_core.images.draw_annotations`).

        Ground truth: every box of the image, ``gt`` colour (``missed`` where no detection matched
        it). Detections: those of the image at or above ``min_score`` (at most ``max_dets``, highest
        first), coloured by outcome, with class name and score. ``highlight`` — a row of the box
        table (``det_index`` / ``ann_id``) — is drawn last, thick, the others dimmed; its score
        lowers ``min_score`` so it is always there; ``include_dets`` (results positions) are drawn
        whatever their score (e.g. the detection that steals the highlighted box). The ground truth the
        highlighted detection is about (``ann_id``) and the ``include_dets`` are drawn undimmed.
        ``labels_for="highlight"`` writes class names and scores on those boxes only (a small
        thumbnail stays readable); ``"all"`` on every box.
        """
        names = np.asarray(self.gt.categories.names, dtype=object)
        t = self.table.iloc[self._rows(image_id)]
        hi_det = int(highlight.get("det_index", -1)) if highlight is not None else -1
        hi_ann = int(highlight.get("ann_id", -1)) if highlight is not None else -1
        if hi_det >= 0 and highlight.get("score") == highlight.get("score") and highlight.get("score") is not None:
            min_score = min(float(min_score), float(highlight["score"]))
        dets = t[(t["det_index"] >= 0)]
        must = dets["det_index"].isin((hi_det, *include_dets))
        dets = dets[(dets["score"] >= min_score) | must]
        dets = dets.sort_values("score", ascending=False, kind="stable")
        if len(dets) > max_dets:
            forced = dets[dets["det_index"].isin((hi_det, *include_dets))]
            rest = dets[~dets["det_index"].isin((hi_det, *include_dets))].head(max(0, max_dets - len(forced)))
            dets = pd.concat([rest, forced]).sort_values("score", ascending=False, kind="stable")
        missed = set(t.loc[t["outcome"] == "missed", "ann_id"].to_numpy(np.int64).tolist())
        gpos = self._gts(image_id)
        g_ids = np.asarray(self.gt.ann_id, np.int64)[gpos]
        g_box = np.asarray(self.gt.ann_bbox, np.float64).reshape(-1, 4)[gpos]
        g_cat = self.gt.categories.index_of(np.asarray(self.gt.ann_category_id, np.int64)[gpos]) if len(gpos) \
            else np.zeros(0, np.int64)
        boxes = [*g_box.tolist(), *dets[["x", "y", "w", "h"]].to_numpy(np.float64).tolist()]
        outcomes = ["missed" if int(a) in missed else "gt" for a in g_ids] + dets["outcome"].astype(str).tolist()
        labels = ([str(names[c]) for c in g_cat] + dets["category"].astype(str).tolist()) if class_names else None
        scores = [None] * len(gpos) + dets["score"].astype(float).tolist()
        hl = None
        if hi_det >= 0:
            w = np.flatnonzero(dets["det_index"].to_numpy(np.int64) == hi_det)
            hl = len(gpos) + int(w[0]) if len(w) else None
        elif hi_ann >= 0:
            w = np.flatnonzero(g_ids == hi_ann)
            hl = int(w[0]) if len(w) else None
        also = []
        if hi_det >= 0 and hi_ann >= 0:
            also += [int(i) for i in np.flatnonzero(g_ids == hi_ann)]
        if include_dets:
            dpos = dets["det_index"].to_numpy(np.int64)
            also += [len(gpos) + int(i) for i in np.flatnonzero(np.isin(dpos, np.asarray(include_dets, np.int64)))]
        if labels_for == "highlight" and hl is not None:
            keep = set(also) | {hl}
            labels = None if labels is None else [t if i in keep else "" for i, t in enumerate(labels)]
            scores = [v if i in keep else None for i, v in enumerate(scores)]
        out = {"boxes": np.asarray(boxes, np.float64).reshape(-1, 4), "labels": labels, "scores": scores,
               "outcomes": outcomes, "highlight": hl, "also": also}
        if self.masks:
            gm = self._gt_segmentation(gpos)
            dm = [None] * len(dets)
            seg = getattr(self.results, "segmentation", None)
            if seg is not None:
                dm = [seg[int(i)] for i in dets["det_index"].to_numpy(np.int64)]
            if any(m is not None for m in gm + dm):
                out["masks"] = gm + dm
        return out
