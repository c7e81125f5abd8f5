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

from ..errors import InputError
from ..images.roots import resolve_list_paths

__all__ = ["SampleContent", "sample_content"]


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
