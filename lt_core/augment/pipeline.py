"""Copy-paste a COCO / LVIS dataset into a new one: plan, per-image work (one or more processes), output.

Output folder (written as a whole with :func:`lt_core.io.atomic_dir`; the input is only read)::

    OUT/images/...            every image: changed ones re-encoded, the others copied (or hard-linked)
    OUT/annotations.json      COCO / LVIS JSON (pycocotools / lvis-api load it)
    OUT/manifest.json         what was pasted where, the settings and seed, what was dropped and why
    OUT/distribution.csv      instances per class before / after (and per bin in the manifest)

Determinism: the plan comes from ``SeedSequence(seed, spawn_key=(0,))``, each image's draws from
``SeedSequence(seed, spawn_key=(1, position))``; a task carries everything its image needs, so
one worker or several write byte-identical files.
"""
from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

import numpy as np
import pandas as pd

from ..errors import InputError
from ..images.roots import ImageIndex, resolve_gt_images
from .config import CopyPasteConfig
from .plan import PastePlan, plan_copy_paste
from .targets import PasteTargets, instance_counts, paste_targets
from .worker import ImageResult, ImageTask, PartnerRef, SourceRef, run_task

__all__ = ["copy_paste", "prepare_copy_paste", "preview_copy_paste", "planned_distribution", "distribution_tables", "CopyPasteReport", "PreparedCopyPaste",
           "PreviewImage", "AugmentCancelled", "OUTPUT_NAMES"]

OUTPUT_NAMES = ("images", "annotations.json", "manifest.json", "distribution.csv")


class AugmentCancelled(Exception):
    """Raised when the cancel flag is set; nothing is written."""


@dataclass
class PreparedCopyPaste:
    """A loaded GT, its images, the targets and the plan: everything before the pixel work."""

    gt: object
    index: ImageIndex
    cfg: CopyPasteConfig
    targets: PasteTargets
    plan: PastePlan
    anns_by_pos: list
    gt_path: str | None = None

    def task(self, position: int, out_root: str | None) -> ImageTask:
        gt, idx, cfg = self.gt, self.index, self.cfg
        images = gt.raw["images"]
        raw_anns = gt.raw["annotations"]
        rec = images[position]
        pastes = []
        for row in self.plan.per_image[position].tolist():
            a = raw_anns[row]
            sp = idx.position(a["image_id"])
            srec = images[sp]
            pastes.append(SourceRef(a, int(a["image_id"]), str(idx.paths[sp]), _hw(srec), idx.relpaths[sp]))

        def partner(p: int) -> PartnerRef:
            r = images[p]
            return PartnerRef(p, int(r["id"]), str(idx.paths[p]), _hw(r), self.anns_by_pos[p])

        out_rel = idx.relpaths[position]
        original_rel = None
        changed = bool(pastes) or bool(self.plan.jitter[position])
        if cfg.keep_originals and changed:
            p = PurePosixPath(out_rel)
            original_rel, out_rel = out_rel, str(p.with_name(f"{p.stem}_cp{p.suffix}"))
        return ImageTask(position, rec, str(idx.paths[position]), out_rel, self.anns_by_pos[position], pastes,
                         bool(self.plan.jitter[position]),
                         [partner(p) for p in self.plan.mosaic[position]] if position in self.plan.mosaic else None,
                         partner(self.plan.mixup[position]) if position in self.plan.mixup else None,
                         out_root, bool(gt.has_segmentation), str(getattr(gt, "source", "")), original_rel)


def _hw(rec: dict) -> tuple[int, int]:
    return int(rec.get("height") or 0), int(rec.get("width") or 0)


def prepare_copy_paste(gt, image_root, cfg: CopyPasteConfig, *, index: ImageIndex | None = None
                       ) -> PreparedCopyPaste:
    """Load (if a path) and check the GT, find every image under ``image_root``, compute targets and plan.

    ``index`` (from :func:`lt_core.images.resolve_gt_images` of the same GT and root) skips the file
    look-ups, e.g. when only the settings changed. Raises :class:`InputError` when an image is missing or
    a setting is invalid.
    """
    from ..data.loaders import load_detection_gt

    cfg.validate()
    gt_path = None
    if isinstance(gt, (str, os.PathLike)):
        gt_path = str(gt)
        gt = load_detection_gt(gt)
    if gt.raw is None:
        raise InputError("copy-paste needs the ground truth's JSON (DetectionGT.raw)", getattr(gt, "source", ""))
    if index is None:
        index = resolve_gt_images(gt, image_root, require=True)
    else:
        index.require_all()
    targets = paste_targets(gt, cfg.target)
    plan = plan_copy_paste(gt, targets, cfg)
    pos = {int(i): k for k, i in enumerate(gt.image_ids.tolist())}
    by_pos: list[list] = [[] for _ in range(gt.n_images)]
    for a in gt.raw["annotations"]:
        by_pos[pos[int(a["image_id"])]].append(a)
    return PreparedCopyPaste(gt, index, cfg, targets, plan, by_pos, gt_path)


@dataclass
class PreviewImage:
    """One image as copy-paste makes it (nothing written): pixels, final annotations, what was pasted."""

    position: int
    image_id: int
    file: str
    pixels: np.ndarray
    anns: list
    pastes: list
    dropped: list
    photometric: dict
    original: np.ndarray | None = None
    original_anns: list = field(default_factory=list)

    def overlay(self, names: dict | None = None) -> dict:
        """``draw_annotations`` arguments: pasted objects yellow, occluded GT orange, the other GT white."""
        occluded = {o["annotation_id"] for p in self.pastes for o in p["occluded"] if o.get("annotation_id") is not None}
        boxes, labels, outcomes, masks = [], [], [], []
        for a in self.anns:
            boxes.append(a["bbox"])
            cid = a["category_id"]
            labels.append((names or {}).get(cid, str(cid)))
            outcomes.append("pasted" if "_paste" in a else ("occluded" if a.get("id") in occluded else "gt"))
            masks.append(a.get("segmentation") or None)
        return {"boxes": np.asarray(boxes, dtype=float).reshape(-1, 4), "labels": labels, "outcomes": outcomes,
                "masks": masks}


def preview_copy_paste(prep: PreparedCopyPaste, n: int = 4, positions: list[int] | None = None,
                       with_original: bool = True) -> list[PreviewImage]:
    """Run the first ``n`` images that receive pastes (or ``positions``) in this process, writing nothing.

    The pixels are exactly those :func:`copy_paste` writes for the same settings and seed (before
    JPEG encoding).
    """
    from ..images.read import read_image

    if positions is None:
        have = [p for p, rows in enumerate(prep.plan.per_image) if len(rows)]
        # images with a tail paste first, then the others, in image order
        tail = prep.plan.tail
        ci = prep.gt.categories.index_of(prep.gt.ann_category_id) if len(prep.gt.ann_id) else np.zeros(0, int)
        have.sort(key=lambda p: (not tail[ci[prep.plan.per_image[p]]].any(), p))
        positions = have[:n]
    out = []
    for p in positions:
        r = run_task(prep.task(int(p), None), prep.cfg)
        if r.anns is None:
            r.anns = list(prep.anns_by_pos[p])
        rec = prep.gt.raw["images"][p]
        orig = read_image(prep.index.paths[p], expected_hw=_hw(rec)) if with_original else None
        out.append(PreviewImage(int(p), int(rec["id"]), prep.index.relpaths[p], r.pixels, r.anns, r.pastes, r.dropped,
                                r.photometric, orig, list(prep.anns_by_pos[p])))
    return out


@dataclass
class CopyPasteReport:
    """What :func:`copy_paste` did.

    Attributes
    ----------
    out_dir : Path
    distribution : DataFrame
        Per category: ``category_id, name, bin, instances_before, images_before, requested, planned,
        pasted, pasted_covered, dropped, in_new_images, instances_after, images_after``.
    per_bin : DataFrame
        The same counts summed per bin (head first).
    """

    out_dir: Path
    cfg: CopyPasteConfig
    targets: PasteTargets
    plan: PastePlan
    distribution: pd.DataFrame
    per_bin: pd.DataFrame
    n_images_in: int
    n_images_out: int
    n_changed: int
    n_pasted: int
    n_dropped: int
    n_new_images: int
    bytes_written: int
    elapsed_s: float
    workers: int
    notes: list

    def summary(self) -> str:
        return (f"{self.n_pasted:,} objects pasted onto {self.n_changed:,} of {self.n_images_in:,} images "
                f"({self.n_dropped:,} covered objects dropped, {self.n_new_images:,} new mosaic / mixup images), "
                f"seed {self.cfg.seed}, {self.workers} worker{'s' if self.workers != 1 else ''}, "
                f"{self.elapsed_s:,.1f} s -> {self.out_dir}")


def _init_worker() -> None:
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover
        pass


def _context():
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["lt_core.augment.worker"])
    return ctx


def run_tasks(tasks, n_tasks: int, cfg: CopyPasteConfig, workers: int = 1,
              progress: Callable[[int, int, str], None] | None = None, cancel=None) -> list[ImageResult]:
    """Run image tasks in this process (``workers <= 1``) or in a pool; results in position order."""
    results: dict[int, ImageResult] = {}
    t0 = time.time()

    def tick(done: int) -> None:
        if progress is not None:
            el = time.time() - t0
            rate = done / el if el > 0 else 0.0
            eta = (n_tasks - done) / rate if rate > 0 else float("nan")
            progress(done, n_tasks, f"{done:,} / {n_tasks:,} images · {rate:,.1f} images/s"
                     + (f" · {eta:,.0f} s left" if eta == eta else ""))

    if workers <= 1:
        for t in tasks:
            if cancel is not None and cancel.is_set():
                raise AugmentCancelled()
            r = run_task(t, cfg)
            results[r.position] = r
            tick(len(results))
    else:
        inflight = set()
        it = iter(tasks)
        with ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_init_worker) as ex:
            try:
                exhausted = False
                while True:
                    while not exhausted and len(inflight) < workers * 4:
                        try:
                            inflight.add(ex.submit(run_task, next(it), cfg))
                        except StopIteration:
                            exhausted = True
                    if not inflight:
                        break
                    done, inflight = wait(inflight, timeout=0.25, return_when=FIRST_COMPLETED)
                    for f in done:
                        r = f.result()
                        results[r.position] = r
                    if done:
                        tick(len(results))
                    if cancel is not None and cancel.is_set():
                        for f in inflight:
                            f.cancel()
                        raise AugmentCancelled()
            except BrokenProcessPool:
                ex.shutdown(wait=False, cancel_futures=True)
                raise InputError("the worker processes stopped before finishing (a script that runs copy-paste with "
                                 "workers > 1 needs Python's `if __name__ == \"__main__\":` guard; or the machine ran "
                                 "out of memory)", field="workers", hint="use workers=1, or add the guard") from None
            except BaseException:
                ex.shutdown(wait=True, cancel_futures=True)
                raise
    return [results[k] for k in sorted(results)]


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _clean(a: dict) -> dict:
    return {k: v for k, v in a.items() if not k.startswith("_")}


def _assemble(prep: PreparedCopyPaste, results: list[ImageResult]) -> tuple[dict, dict, dict]:
    """(annotations JSON, manifest parts, counts) from the per-image results."""
    gt, cfg = prep.gt, prep.cfg
    raw = gt.raw
    lvis = bool(gt.is_lvis)
    next_ann = int(gt.ann_id.max()) + 1 if len(gt.ann_id) else 1
    next_img = int(gt.image_ids.max()) + 1 if gt.n_images else 1
    images_out, anns_out, pastes_out, dropped_out, photo_out, new_out = [], [], [], [], [], []
    names = dict(zip(gt.categories.ids.tolist(), gt.categories.names.tolist()))
    has_url = any("coco_url" in im for im in raw["images"][:50])
    pasted_alive = np.zeros(gt.categories.n_classes, np.int64)
    pasted_covered = np.zeros(gt.categories.n_classes, np.int64)
    in_new = np.zeros(gt.categories.n_classes, np.int64)
    copied = np.zeros(gt.categories.n_classes, np.int64)
    cidx = {int(c): k for k, c in enumerate(gt.categories.ids.tolist())}
    dropped_gt = np.zeros(gt.categories.n_classes, np.int64)
    n_changed = 0

    def lvis_lists(rec: dict, present: set, parts: list[dict] | None = None) -> dict:
        if not lvis:
            return rec
        srcs = parts if parts is not None else [rec]
        neg = set(srcs[0].get("neg_category_ids", []))
        for s in srcs[1:]:
            neg &= set(s.get("neg_category_ids", []))
        nex = set()
        for s in srcs:
            nex |= set(s.get("not_exhaustive_category_ids", []))
        out = dict(rec)
        out["neg_category_ids"] = sorted(neg - present)
        out["not_exhaustive_category_ids"] = sorted(nex)
        return out

    images = raw["images"]
    for r in results:
        rec = dict(images[r.position])
        orig_rel = prep.index.relpaths[r.position]
        if not r.changed:
            rec["file_name"] = orig_rel
            images_out.append(rec)
            anns_out.extend(prep.anns_by_pos[r.position])
        else:
            n_changed += 1
            if cfg.keep_originals:
                keep = dict(rec)
                keep["file_name"] = orig_rel
                images_out.append(keep)
                anns_out.extend(prep.anns_by_pos[r.position])
                rec = dict(rec)
                rec["id"] = next_img
                next_img += 1
                if has_url:
                    rec["coco_url"] = r.out_rel
            rec["file_name"] = r.out_rel
            present = {int(a["category_id"]) for a in r.anns}
            rec = lvis_lists(rec, present)
            images_out.append(rec)
            paste_ids = {}
            for a in r.anns:
                a = dict(a)
                a["image_id"] = rec["id"]
                if "_paste" in a:
                    a["id"] = next_ann
                    paste_ids[a["_paste"]] = next_ann
                    next_ann += 1
                    pasted_alive[cidx[int(a["category_id"])]] += 1
                    if lvis:
                        a.pop("iscrowd", None)
                elif cfg.keep_originals:
                    a["_was"] = a["id"]
                    a["id"] = next_ann
                    next_ann += 1
                    copied[cidx[int(a["category_id"])]] += 1
                anns_out.append(_clean(a))
            for p in r.pastes:
                e = dict(p)
                e["annotation_id"] = paste_ids.get(p["paste"])
                e["category"] = names.get(p["category_id"], "")
                e["target_image_id"] = rec["id"]
                e["target_file"] = r.out_rel
                e["covered_later"] = e["annotation_id"] is None
                if e["covered_later"]:
                    pasted_covered[cidx[int(p["category_id"])]] += 1
                pastes_out.append(e)
            for d in r.dropped:
                dd = dict(d)
                dd["image_id"] = rec["id"]
                if "paste" in dd:
                    continue  # a pasted object covered by a later paste: in the paste's entry
                dropped_gt[cidx[int(d["category_id"])]] += 1
                dropped_out.append(dd)
            if r.photometric:
                photo_out.append({"image_id": rec["id"], **r.photometric})
        for n in r.new_images:
            src_recs = [images[prep.index.position(i)] for i in n["sources"]]
            nrec = {"id": next_img, "file_name": n["file_name"], "height": n["height"], "width": n["width"]}
            if has_url:
                nrec["coco_url"] = n["file_name"]
            next_img += 1
            present = {int(a["category_id"]) for a in n["anns"]}
            if lvis:
                nrec = lvis_lists(nrec, present, src_recs)
            images_out.append(nrec)
            for a in n["anns"]:
                a = dict(a)
                a["image_id"] = nrec["id"]
                a["id"] = next_ann
                next_ann += 1
                in_new[cidx[int(a["category_id"])]] += 1
                anns_out.append(_clean(a))
            new_out.append({"image_id": nrec["id"], "kind": n["kind"], "file_name": n["file_name"],
                            "source_image_ids": n["sources"], "geometry": n["geometry"],
                            "dropped": n["dropped"]})
    cats = [dict(c) for c in raw["categories"]]
    if all("image_count" in c for c in cats):
        C = len(cats)
        ci = np.array([cidx[int(a["category_id"])] for a in anns_out], dtype=np.int64)
        ii = np.array([int(a["image_id"]) for a in anns_out], dtype=np.int64)
        inst = np.bincount(ci, minlength=C)
        imgc = np.bincount(np.unique(np.stack([ii, ci]), axis=1)[1], minlength=C) if ci.size else np.zeros(C, int)
        for k, c in enumerate(cats):
            c["image_count"] = int(imgc[k])
            c["instance_count"] = int(inst[k])
    out = {k: v for k, v in raw.items() if k not in ("images", "annotations", "categories")}
    out["images"] = images_out
    out["annotations"] = anns_out
    out["categories"] = cats
    parts = {"pastes": pastes_out, "dropped": dropped_out, "photometric": photo_out, "new_images": new_out}
    counts = {"pasted": pasted_alive, "pasted_covered": pasted_covered, "dropped": dropped_gt, "in_new_images": in_new,
              "copied": copied, "n_changed": n_changed}
    return out, parts, counts


def planned_distribution(prep: PreparedCopyPaste) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-class and per-bin instances before and as planned (before + planned pastes), no pixel work.

    What the written dataset will hold, up to the objects a paste hides completely (only known once the
    pixels are done) and the objects of mosaic / mixup images.
    """
    from ..bins import parse_bins

    gt = prep.gt
    sch = parse_bins(prep.cfg.bins)
    n0, i0 = instance_counts(gt)
    df = pd.DataFrame({"category_id": gt.categories.ids, "name": gt.categories.names,
                       "bin": gt.categories.bins(sch), "train_images": gt.categories.train_count,
                       "instances_before": n0, "images_before": i0, "sources": prep.plan.sources,
                       "factor": prep.targets.table["factor"].to_numpy(), "requested": prep.plan.requested,
                       "planned": prep.plan.planned})
    df["instances_planned"] = df["instances_before"] + df["planned"]
    order = sch.order(df["bin"].to_numpy())
    agg = df.groupby("bin", sort=False).agg(classes=("category_id", "size"),
                                            instances_before=("instances_before", "sum"),
                                            requested=("requested", "sum"), planned=("planned", "sum"),
                                            instances_planned=("instances_planned", "sum"))
    per_bin = agg.reindex(order).reset_index()
    per_bin["share_before"] = per_bin["instances_before"] / max(int(per_bin["instances_before"].sum()), 1)
    per_bin["share_planned"] = per_bin["instances_planned"] / max(int(per_bin["instances_planned"].sum()), 1)
    return df, per_bin


def distribution_tables(prep: PreparedCopyPaste, out_json: dict, counts: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-class and per-bin instance counts before and after."""
    from ..bins import parse_bins
    from ..data.loaders import _gt_from_dict

    gt = prep.gt
    sch = parse_bins(prep.cfg.bins)
    n0, i0 = instance_counts(gt)
    after = _gt_from_dict(out_json, "copy-paste output")
    n1, i1 = instance_counts(after)
    df = pd.DataFrame({
        "category_id": gt.categories.ids, "name": gt.categories.names,
        "bin": gt.categories.bins(sch), "train_images": gt.categories.train_count,
        "instances_before": n0, "images_before": i0,
        "requested": prep.plan.requested, "planned": prep.plan.planned, "pasted": counts["pasted"],
        "pasted_covered": counts["pasted_covered"], "dropped": counts["dropped"],
        "in_new_images": counts["in_new_images"], "copied": counts["copied"],
        "instances_after": n1, "images_after": i1})
    order = sch.order(df["bin"].to_numpy())
    agg = df.groupby("bin", sort=False).agg(
        classes=("category_id", "size"), instances_before=("instances_before", "sum"),
        requested=("requested", "sum"), pasted=("pasted", "sum"), dropped=("dropped", "sum"),
        in_new_images=("in_new_images", "sum"), instances_after=("instances_after", "sum"))
    per_bin = agg.reindex(order).reset_index()
    tot_b, tot_a = per_bin["instances_before"].sum(), per_bin["instances_after"].sum()
    per_bin["share_before"] = per_bin["instances_before"] / max(tot_b, 1)
    per_bin["share_after"] = per_bin["instances_after"] / max(tot_a, 1)
    return df, per_bin


def copy_paste(gt, image_root, out_dir, cfg: CopyPasteConfig | None = None, *, workers: int = 1,
               progress: Callable[[int, int, str], None] | None = None, cancel=None,
               prepared: PreparedCopyPaste | None = None) -> CopyPasteReport:
    """Write a copy-paste augmented copy of a COCO / LVIS dataset into ``out_dir``.

    Parameters
    ----------
    gt : path or DetectionGT
        The training ground truth (COCO or LVIS JSON).
    image_root : path
        The folder its images are in (``file_name`` / LVIS ``coco_url`` layout).
    out_dir : path
        A new folder (or an earlier Tailscope output); written as a whole, never over an input.
    cfg : CopyPasteConfig
        Targets, seed, blend, limits, photometric options.
    workers : int
        Processes for the per-image work (1 = this process); the output is the same for any number.
    progress : callable (done, total, message), optional
    cancel : threading.Event, optional
        When set, the run stops before the next image and nothing is written (:class:`AugmentCancelled`).
    """
    import orjson

    from .. import io as ltio

    t0 = time.time()
    cfg = cfg or CopyPasteConfig()
    prep = prepared or prepare_copy_paste(gt, image_root, cfg)
    gt_path = prep.gt_path or (str(gt) if isinstance(gt, (str, os.PathLike)) else None)
    ltio.guard_outputs(ltio.IOPaths(inputs={"gt": gt_path, "images": str(image_root)},
                                    output_dirs={"out": (str(out_dir), OUTPUT_NAMES)}))
    root_r, out_r = Path(image_root).resolve(), Path(out_dir).resolve()
    if out_r == root_r or root_r in out_r.parents:
        raise InputError("is inside the image folder; the input dataset is never written to", str(out_dir), "out",
                         hint="write the new dataset next to it, e.g. ../augmented")
    workers = max(1, int(workers))
    n = prep.gt.n_images
    with ltio.atomic_dir(out_dir) as tmp:
        (tmp / "images").mkdir()
        root = str(tmp / "images")
        results = run_tasks((prep.task(p, root) for p in range(n)), n, prep.cfg, workers, progress, cancel)
        if progress is not None:
            progress(n, n, "writing annotations.json and manifest.json")
        out_json, parts, counts = _assemble(prep, results)
        dist, per_bin = distribution_tables(prep, out_json, counts)
        ltio.write_bytes(tmp / "annotations.json", orjson.dumps(out_json, option=orjson.OPT_SERIALIZE_NUMPY))
        ltio.write_csv(tmp / "distribution.csv", dist)
        manifest = {
            "method": "copy-paste (Ghiasi et al., CVPR 2021), targets per class; Tailscope lt_core.augment",
            "seed": prep.cfg.seed,
            "rng": "plan: SeedSequence(seed, spawn_key=(0,)); image at position p: SeedSequence(seed, "
                   "spawn_key=(1, p))",
            "config": prep.cfg.to_json(),
            "input": {"gt": gt_path, "gt_sha256": _sha256(gt_path) if gt_path else None,
                      "images": str(Path(image_root).resolve()), "n_images": n,
                      "n_annotations": int(len(prep.gt.ann_id)), "style": "lvis" if prep.gt.is_lvis else "coco"},
            "targets": {"spec": prep.targets.spec, "rule": prep.targets.rule,
                        "notes": prep.targets.notes + prep.plan.notes},
            "geometry": "crop [x0, y0, x1, y1] source pixels (end exclusive) is scaled to size [w, h], mirrored "
                        "when flip, and its top-left lands at offset [x, y] of the target; pixel centres map "
                        "linearly (bilinear); the pasted mask is the warped mask >= 0.5",
            "output": {"n_images": len(out_json["images"]), "n_annotations": len(out_json["annotations"]),
                       "n_changed_images": counts["n_changed"], "n_pasted": int(counts["pasted"].sum()),
                       "n_dropped": len(parts["dropped"])},
            "distribution_per_bin": per_bin.to_dict(orient="records"),
            **parts,
        }
        ltio.write_json(tmp / "manifest.json", manifest, indent=1)
        n_bytes = sum(r.n_bytes for r in results)
    return CopyPasteReport(Path(out_dir), prep.cfg, prep.targets, prep.plan, dist, per_bin, n,
                           len(out_json["images"]), counts["n_changed"], int(counts["pasted"].sum()),
                           len(parts["dropped"]), len(parts["new_images"]), n_bytes, time.time() - t0, workers,
                           prep.targets.notes + prep.plan.notes)

