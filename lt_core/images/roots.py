"""Where the images of a dataset are: resolve image records and list paths under an image root.

Layouts handled
---------------
COCO            ``images[i]["file_name"]`` relative to the root (``val2017/`` or the split folder
                itself as the root).
LVIS v1         no ``file_name``; the path comes from ``coco_url``
                (``http://images.cocodataset.org/train2017/000000391895.jpg`` ->
                ``train2017/000000391895.jpg``), the way detectron2's LVIS loader builds it.
LVIS v0.5       ``file_name`` (``COCO_val2014_...jpg``) and ``coco_url`` (``val2017/...``): both tried.
ImageNet-LT /   list lines ``train/n01440764/n01440764_10026.JPEG label`` (Places-LT sometimes with a
Places-LT       leading ``/``): relative to the root, or to the split folder given as the root.
image folder    sample ids are paths relative to the tree's root (``cat/001.jpg``).

Nothing is read here except directory entries (``Path.is_file``); a path that would leave the root
(``..``, absolute paths) is refused.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..errors import InputError

__all__ = ["ImageIndex", "image_relpath", "candidate_relpaths", "resolve_gt_images", "resolve_list_paths",
           "safe_relpath"]


def safe_relpath(rel: str, source: str = "", field: str = "file_name") -> str:
    """A POSIX relative path with no ``..`` component and no root; raises :class:`InputError` otherwise."""
    r = str(rel).replace("\\", "/").strip()
    while r.startswith("./"):
        r = r[2:]
    p = PurePosixPath(r.lstrip("/"))
    if not r or any(part == ".." for part in p.parts) or not p.parts:
        raise InputError(f"'{rel}' is not a relative path inside the image root", source, field,
                         hint="image paths are relative to the image folder, without '..'")
    return str(p)


def _url_tail(url: str) -> list[str]:
    parts = [p for p in str(url).split("?")[0].split("/") if p]
    return parts[-2:] if len(parts) >= 2 else parts


def image_relpath(image: Mapping, source: str = "") -> str:
    """The canonical relative path of a COCO / LVIS image record (used for outputs too).

    ``file_name`` when present (COCO, LVIS v0.5), else ``split/name`` from ``coco_url`` (LVIS v1, as
    detectron2 builds it).
    """
    fn = image.get("file_name")
    if isinstance(fn, str) and fn.strip():
        return safe_relpath(fn, source, "images.file_name")
    url = image.get("coco_url")
    if isinstance(url, str) and url.strip():
        return safe_relpath("/".join(_url_tail(url)), source, "images.coco_url")
    raise InputError(f"image {image.get('id')} has neither 'file_name' nor 'coco_url'", source, "images.file_name",
                     hint="COCO images carry file_name; LVIS v1 images carry coco_url")


def candidate_relpaths(image: Mapping, source: str = "") -> list[str]:
    """Relative paths tried for an image record, most specific first (no duplicates)."""
    out: list[str] = []
    fn = image.get("file_name")
    url = image.get("coco_url")
    tail = _url_tail(url) if isinstance(url, str) and url.strip() else []
    if isinstance(fn, str) and fn.strip():
        rel = safe_relpath(fn, source, "images.file_name")
        out.append(rel)
        base = PurePosixPath(rel).name
        if len(tail) == 2:
            out.append(f"{tail[0]}/{base}")
        out.append(base)
    if tail:
        out.append("/".join(safe_relpath(t, source, "images.coco_url") for t in tail))
        out.append(safe_relpath(tail[-1], source, "images.coco_url"))
    seen: set[str] = set()
    return [r for r in out if not (r in seen or seen.add(r))]


def _inside(root: Path, p: Path) -> bool:
    try:
        p.resolve().relative_to(root)
        return True
    except ValueError:
        return False


@dataclass
class ImageIndex:
    """Image files of a COCO / LVIS ground truth under one root.

    Attributes
    ----------
    root : Path
        The image root (resolved).
    image_ids : ndarray (I,) int64
        In the order of the GT's ``images`` list.
    relpaths : list of str (I,)
        Canonical relative path of each image (:func:`image_relpath`), the layout outputs keep.
    paths : list of Path or None (I,)
        The file found for each image, or None when no candidate exists.
    tried : dict {image_id: [relative paths tried]}
        For the missing ones.
    """

    root: Path
    image_ids: np.ndarray
    relpaths: list[str]
    paths: list[Path | None]
    tried: dict[int, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._pos = {int(i): k for k, i in enumerate(self.image_ids.tolist())}

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def missing(self) -> list[int]:
        """Image ids with no file under the root."""
        return [int(i) for i, p in zip(self.image_ids.tolist(), self.paths) if p is None]

    @property
    def n_found(self) -> int:
        return sum(p is not None for p in self.paths)

    def position(self, image_id: int) -> int:
        try:
            return self._pos[int(image_id)]
        except KeyError:
            raise InputError(f"image id {image_id} is not in the ground truth", str(self.root), "image_id") from None

    def path_of(self, image_id: int) -> Path:
        """The file of an image; :class:`InputError` naming what was tried when it is missing."""
        k = self.position(image_id)
        p = self.paths[k]
        if p is None:
            tried = ", ".join(self.tried.get(int(image_id), [self.relpaths[k]]))
            raise InputError(f"no image file for image id {image_id} (tried {tried})", str(self.root),
                             "images.file_name", hint="is this the right image folder for this ground truth?")
        return p

    def require_all(self, what: str = "images") -> None:
        """Raise :class:`InputError` when any image is missing (names the first and the count)."""
        miss = self.missing
        if miss:
            first = miss[0]
            tried = ", ".join(self.tried.get(first, []))
            raise InputError(f"{len(miss):,} of {len(self.paths):,} {what} have no file under the image root; e.g. "
                             f"image id {first} (tried {tried})", str(self.root), "images.file_name",
                             hint="give the folder that holds the images named by file_name (COCO) or coco_url "
                                  "(LVIS v1), e.g. .../train2017")


def _as_records(gt) -> tuple[list[Mapping], str]:
    raw = getattr(gt, "raw", None)
    if raw is not None:
        return raw.get("images", []), getattr(gt, "source", "")
    if isinstance(gt, Mapping) and isinstance(gt.get("images"), list):
        return gt["images"], ""
    if isinstance(gt, Sequence):
        return list(gt), ""
    raise InputError("expected a DetectionGT, a COCO / LVIS dict or a list of image records", field="images")


def resolve_gt_images(gt, root, *, require: bool = False) -> ImageIndex:
    """Find every image of a COCO / LVIS ground truth under ``root``.

    Parameters
    ----------
    gt : DetectionGT, dict or list of image records
    root : path
        The image folder.
    require : bool
        Raise :class:`InputError` when any image is missing (else they are listed in ``missing``).
    """
    r = Path(root).expanduser()
    if not r.exists():
        raise InputError("no such image folder", str(root), hint="give the folder that holds the images")
    if not r.is_dir():
        raise InputError("expected a folder of images, got a file", str(root))
    rr = r.resolve()
    records, source = _as_records(gt)
    ids, rels, paths, tried = [], [], [], {}
    for im in records:
        iid = int(im["id"])
        cands = candidate_relpaths(im, source)
        ids.append(iid)
        rels.append(image_relpath(im, source))
        hit = None
        for c in cands:
            p = rr / c
            if p.is_file() and _inside(rr, p):
                hit = p
                break
        if hit is None:
            tried[iid] = cands
        paths.append(hit)
    idx = ImageIndex(rr, np.asarray(ids, dtype=np.int64), rels, paths, tried)
    if require:
        idx.require_all()
    return idx


def resolve_list_paths(root, relative_paths: Iterable[str], *, require: bool = False) -> list[Path | None]:
    """Files of classification samples given by relative paths (ImageNet-LT / Places-LT lists, image folders).

    Each path is tried as given (a leading ``/`` stripped) and without its first folder (when the root is
    the split folder itself, e.g. ``.../train`` for ``train/n01440764/x.JPEG``).
    """
    r = Path(root).expanduser()
    if not r.is_dir():
        raise InputError("no such image folder" if not r.exists() else "expected a folder of images, got a file",
                         str(root))
    rr = r.resolve()
    out: list[Path | None] = []
    for rel in relative_paths:
        s = safe_relpath(str(rel), str(root), "path")
        parts = PurePosixPath(s).parts
        cands = [s] + (["/".join(parts[1:])] if len(parts) > 1 else [])
        hit = None
        for c in cands:
            p = rr / c
            if p.is_file() and _inside(rr, p):
                hit = p
                break
        if hit is None and require:
            raise InputError(f"no image file '{rel}' under the image root (tried {', '.join(cands)})", str(root),
                             "path", hint="give the folder the list's relative paths start from")
        out.append(hit)
    return out

