"""A workspace folder: the user's input files (copied in), the runs made in the app, the artifacts
that made them, and a manifest that says what is what.

Layout (see ``docs/workspace.md``)::

    NAME/
      manifest.json                         what the workspace holds (written last, atomically)
      files/<sha256[:16]>/<original name>   copies of the user's input files (uploads too)
      runs/<id>/<split>_scores.npy          runs made in the app: scores (N, C) float32
      runs/<id>/<split>_pred.npy            ... and the exact decisions shown (N,) int64
      artifacts/<id>/...                    adjustment.json, thresholds.json, head.safetensors + head.json

Crash safety: every file is written to a temporary sibling and renamed into place
(:mod:`lt_core.io`); files are written before the manifest that lists them, the manifest is
replaced atomically, and nothing the previous manifest lists is removed before the new one is in
place. A save killed at any moment leaves the previous manifest and every file it names.
Unreferenced files (a failed load's copy, a removed run, a killed save's temporaries) are removed
by the next save.
"""
from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from ..data.parts import (ClassificationParts, DetectionParts, FileRef, RunPart, assemble_classification,
                          assemble_detection)
from ..data.schema import SPLITS, ClassificationDataset, DetectionDataset, Predictions, Run
from ..errors import InputError
from ..io import pid_alive, sweep_stale_temps, write_json, write_npy

__all__ = ["Workspace", "WorkspaceInfo", "Artifact", "MANIFEST", "FORMAT", "VERSION", "default_root", "slugify",
           "create", "open_workspace", "list_workspaces", "delete"]

MANIFEST = "manifest.json"
FORMAT = "tailscope-workspace"
VERSION = 1
#: unreferenced files younger than this are kept by the clean-up (another session may be saving)
GRACE_S = 120.0
_CHUNK = 8 << 20


def default_root() -> Path:
    """Where workspaces live: ``$TAILSCOPE_HOME/workspaces`` (default ``~/.tailscope/workspaces``)."""
    home = os.environ.get("TAILSCOPE_HOME") or os.path.join("~", ".tailscope")
    return Path(os.path.expanduser(home)) / "workspaces"


def slugify(name: str) -> str:
    """A folder name for a workspace name (letters, digits, ``-``, ``_``, ``.``)."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", str(name).strip()).strip("-.")
    return s[:80] or "workspace"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class Artifact:
    """Something made in the app and kept: an adjustment, a threshold set, a retrained head.

    Attributes
    ----------
    id : str
    kind : {"adjustment", "thresholds", "head"} or another kind a page keeps
    files : list of str        paths relative to the workspace
    run : str                  the run it made (may be renamed later; informative)
    created : str              ISO time
    """

    id: str
    kind: str
    files: list[str]
    run: str = ""
    created: str = ""
    root: Path | None = field(default=None, repr=False)

    def path(self, i: int = 0) -> Path:
        return Path(self.root) / self.files[i]

    def load(self):
        """The artifact: a dict for JSON artifacts, a :class:`~lt_core.heads.LoadedHead` for heads."""
        if self.kind == "head":
            from ..heads import load_head

            return load_head(Path(self.root) / Path(self.files[0]).parent)
        return json.loads(self.path().read_text(encoding="utf-8"))

    def to_json(self) -> dict:
        return {"kind": self.kind, "files": list(self.files), "run": self.run, "created": self.created}


@dataclass
class WorkspaceInfo:
    """One entry of :func:`list_workspaces`."""

    name: str
    path: Path
    saved: str
    summary: str
    readable: bool = True


class Workspace:
    """An open workspace folder.

    Attributes
    ----------
    path : Path
    name : str
    classification : ClassificationDataset or None
    detection : DetectionDataset or None
    bins : dict            {"spec", "chosen_by", "reason"} (the bin scheme in use when saved)
    artifacts : {id: Artifact}
    settings : dict        any other JSON-able state kept with the workspace
    notes : list of str    what could not be restored on open, in words
    """

    def __init__(self, path: str | os.PathLike, name: str | None = None):
        self.path = Path(path)
        self.name = name or self.path.name
        self.created = _now()
        self.classification: ClassificationDataset | None = None
        self.detection: DetectionDataset | None = None
        self.bins: dict = {}
        self.artifacts: dict[str, Artifact] = {}
        self.settings: dict = {}
        self.notes: list[str] = []

    # ------------------------------------------------------------------ convenience
    def session_copy(self) -> "Workspace":
        """A copy whose datasets, runs and artifacts can change without touching this one.

        The loaded arrays are shared (nothing in Tailscope writes into them), so one opened
        workspace serves many sessions (the app keeps it across browser refreshes).
        """
        c = copy.copy(self)
        c.artifacts = dict(self.artifacts)
        c.bins, c.settings, c.notes = dict(self.bins), dict(self.settings), list(self.notes)
        if self.classification is not None:
            d = copy.copy(self.classification)
            d.labels, d.runs, d.features = dict(d.labels), dict(d.runs), dict(d.features)
            d.parts = None if d.parts is None else d.parts.copy()
            d.loaded = dict(d.loaded)
            c.classification = d
        if self.detection is not None:
            d = copy.copy(self.detection)
            d.results = dict(d.results)
            d.parts = None if d.parts is None else replace(d.parts, results=dict(d.parts.results),
                                                            extra=dict(d.parts.extra), options=dict(d.parts.options))
            c.detection = d
        return c

    @property
    def runs(self) -> dict[str, Run]:
        """The classification dataset's runs (empty without one)."""
        return dict(self.classification.runs) if self.classification is not None else {}

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r}, runs={list(self.runs)})"

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """One writer at a time (an advisory lock on ``.lock``; a no-op where flock is missing)."""
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        with open(self.path / ".lock", "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    # ------------------------------------------------------------------ files
    def _inside(self, p: str | os.PathLike) -> bool:
        try:
            Path(os.path.realpath(p)).relative_to(os.path.realpath(self.path))
            return True
        except ValueError:
            return False

    def import_file(self, ref: FileRef) -> FileRef:
        """Copy an input file into ``files/`` (hashing it on the way); the copy's reference.

        The source is only read. A file already in the workspace is returned as is; a folder (an
        image-folder tree of class sub-folders) is not copied (it may hold the images) and stays a
        reference to its path.
        """
        if self._inside(ref.path) or ref.origin == "workspace":
            return ref
        src = Path(ref.path)
        if src.is_dir():
            return replace(ref, origin=ref.origin or "local folder")
        if not src.is_file():
            raise InputError("no such file", ref.name)
        files = self.path / "files"
        files.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(prefix=f".import.{os.getpid()}.", suffix=".tmp", dir=files)
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as fh:
                while True:
                    b = fh.read(_CHUNK)
                    if not b:
                        break
                    h.update(b)
                    out.write(b)
                out.flush()
                os.fsync(out.fileno())
            digest = h.hexdigest()
            name = Path(ref.name).name or src.name
            folder = files / digest[:16]
            target = folder / name
            if target.is_file() and target.stat().st_size == os.path.getsize(tmp):
                os.unlink(tmp)
            else:
                folder.mkdir(exist_ok=True)
                os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        st = target.stat()
        return FileRef(str(target), ref.name, st.st_size, st.st_mtime_ns, digest,
                       ref.origin if ref.origin not in ("", "workspace") else "local path", ref.original)

    def import_parts(self, parts):
        """The same parts with every file copied into the workspace (see :meth:`import_file`)."""
        if isinstance(parts, ClassificationParts):
            c = parts.copy()
            for part in ("train_labels", "train_counts", "class_names", "val_labels", "test_labels", "classifier"):
                ref = getattr(c, part)
                if ref is not None:
                    setattr(c, part, self.import_file(ref))
            c.features = {s: self.import_file(r) for s, r in c.features.items()}
            for rp in c.runs.values():
                rp.files = {s: self.import_file(r) for s, r in rp.files.items()}
            return c
        if isinstance(parts, DetectionParts):
            return replace(parts, gt=None if parts.gt is None else self.import_file(parts.gt),
                           results={n: self.import_file(r) for n, r in parts.results.items()},
                           extra={k: self.import_file(r) for k, r in parts.extra.items()}, options=dict(parts.options))
        raise TypeError(f"not dataset parts: {type(parts).__name__}")

    # ------------------------------------------------------------------ artifacts
    def add_artifact(self, kind: str, obj: Any, run: str = "") -> str:
        """Write an artifact now (files only; it is listed in the manifest by the next :meth:`save`).

        ``obj``: a JSON-able dict (adjustment, thresholds, ...) or, for ``kind="head"``, a
        :class:`~lt_core.heads.RetrainResult` (written with :func:`lt_core.heads.save_head`).
        """
        aid = f"{slugify(kind)}-{uuid.uuid4().hex[:10]}"
        folder = self.path / "artifacts" / aid
        if kind == "head":
            from ..heads import save_head

            written = save_head(obj, folder, "safetensors")
            files = [str(Path(written["weights"]).relative_to(self.path)),
                     str(Path(written["settings"]).relative_to(self.path))]
        else:
            target = folder / f"{slugify(kind)}.json"
            write_json(target, obj)
            files = [str(target.relative_to(self.path))]
        self.artifacts[aid] = Artifact(aid, kind, files, run, _now(), self.path)
        return aid

    # ------------------------------------------------------------------ runs made in the app
    def _store_run(self, rp: RunPart) -> dict:
        """Write a derived run's splits as NPY (once); returns the manifest entry's ``splits``."""
        run = rp.derived
        stored = dict(rp.stored)
        rid = None
        for split, p in run.preds.items():
            if split in stored and all((self.path / f).is_file() for f in stored[split].values()
                                       if isinstance(f, str) and f.endswith(".npy")) and (
                    ("thresholds" in stored[split]) == (getattr(p, "thresholds", None) is not None)):
                continue
            rid = rid or f"run-{uuid.uuid4().hex[:10]}"
            folder = self.path / "runs" / rid
            entry: dict[str, Any] = {"kind": p.kind}
            if p.scores is not None:
                write_npy(folder / f"{split}_scores.npy", np.ascontiguousarray(p.scores, dtype=np.float32))
                entry["scores"] = f"runs/{rid}/{split}_scores.npy"
            write_npy(folder / f"{split}_pred.npy", np.asarray(p.labels, dtype=np.int64))
            entry["pred"] = f"runs/{rid}/{split}_pred.npy"
            if getattr(p, "thresholds", None) is not None:  # multi-label decisions: scores >= thresholds
                write_npy(folder / f"{split}_thresholds.npy", np.asarray(p.thresholds, dtype=np.float64))
                entry["thresholds"] = f"runs/{rid}/{split}_thresholds.npy"
            stored[split] = entry
        rp.stored = stored
        return stored

    def _read_run(self, entry: dict, cls: ClassificationDataset | None) -> Run:
        name = str(entry["name"])
        preds = {}
        for split, e in entry.get("derived", {}).items():
            scores = np.load(self.path / e["scores"], allow_pickle=False) if e.get("scores") else None
            pred = np.load(self.path / e["pred"], allow_pickle=False)
            ids = None
            if cls is not None and split in cls.labels and len(cls.labels[split]) == len(pred):
                ids = cls.labels[split].sample_ids
            thr = np.load(self.path / e["thresholds"], allow_pickle=False) if e.get("thresholds") else None
            preds[split] = Predictions(split, e.get("kind", "logits" if scores is not None else "labels"),
                                       scores=scores, labels=pred.astype(np.int64), sample_ids=ids,
                                       source=entry.get("source", ""), thresholds=thr)
        return Run(name, preds, source=entry.get("source", ""), description=entry.get("description", ""))

    # ------------------------------------------------------------------ save / load
    def _file_entry(self, ref: FileRef) -> dict:
        inside = self._inside(ref.path)
        rel = str(Path(os.path.realpath(ref.path)).relative_to(os.path.realpath(self.path))) if inside else None
        return {"path": rel if inside else str(ref.path), "in_workspace": inside, "name": ref.name,
                "size": ref.size, "sha256": ref.sha256, "origin": ref.origin, "original": ref.original}

    def _parts_json(self, parts, files: dict) -> dict:
        def fid(ref: FileRef | None):
            if ref is None:
                return None
            e = self._file_entry(ref)
            key = (ref.sha256[:16] + ":" + ref.name) if ref.sha256 else f"ref:{ref.path}"
            files[key] = e
            return key

        if isinstance(parts, ClassificationParts):
            runs = []
            for name, rp in parts.runs.items():
                if rp.derived is not None:
                    runs.append({"name": name, "derived": self._store_run(rp), "source": rp.derived.source,
                                 "description": rp.derived.description, "artifacts": list(rp.artifacts)})
                else:
                    runs.append({"name": name, "files": {s: fid(r) for s, r in rp.files.items()},
                                 "description": rp.description, "artifacts": list(rp.artifacts)})
            return {"kind": "classification", "name": parts.name, "builtin": parts.builtin,
                    "multi_label": parts.multi_label, "image_root": parts.image_root,
                    "parts": {k: fid(getattr(parts, k)) for k in ("train_labels", "train_counts", "class_names",
                                                                  "val_labels", "test_labels", "classifier")}
                    | {"features": {s: fid(r) for s, r in parts.features.items()}},
                    "runs": runs}
        return {"kind": "detection", "name": parts.name, "builtin": parts.builtin, "gt": fid(parts.gt),
                "results": {n: fid(r) for n, r in parts.results.items()},
                "extra": {k: fid(r) for k, r in parts.extra.items()}, "options": dict(parts.options)}

    def save(self, classification: ClassificationDataset | ClassificationParts | None = None,
             detection: DetectionDataset | DetectionParts | None = None, *, bins: Mapping | None = None,
             settings: Mapping | None = None) -> Path:
        """Write the workspace: files first, then the manifest (atomically), then clean up.

        Datasets are given as built datasets (their ``parts``) or as parts. Files not yet in the
        workspace are copied in first (:meth:`import_parts`); runs made in the app are written as
        NPY. Returns the manifest path.
        """
        with self._lock():
            if classification is not None:
                self.classification = classification if isinstance(classification, ClassificationDataset) else None
            if detection is not None:
                self.detection = detection if isinstance(detection, DetectionDataset) else None
            if bins is not None:
                self.bins = dict(bins)
            if settings is not None:
                self.settings = dict(settings)
            files: dict[str, dict] = {}
            datasets = []
            for d in (classification if classification is not None else self.classification,
                      detection if detection is not None else self.detection):
                if d is None:
                    continue
                parts = d.parts if isinstance(d, (ClassificationDataset, DetectionDataset)) else d
                if parts is None:
                    continue
                parts = self.import_parts(parts)
                if isinstance(d, (ClassificationDataset, DetectionDataset)):
                    d.parts = parts  # from now on the dataset's recipe names the workspace copies
                datasets.append(self._parts_json(parts, files))  # also writes runs made in the app
            manifest = {"format": FORMAT, "version": VERSION, "name": self.name, "created": self.created,
                        "saved": _now(), "files": files, "datasets": datasets, "bins": self.bins,
                        "artifacts": {k: a.to_json() for k, a in self.artifacts.items()},
                        "settings": self.settings}
            sweep_stale_temps(self.manifest_path)  # a killed save's half-written manifest
            write_json(self.manifest_path, manifest)
            self._clean(manifest)
        return self.manifest_path

    def _referenced(self, manifest: dict) -> set[str]:
        refs = {MANIFEST, ".lock"}
        for e in manifest.get("files", {}).values():
            if e.get("in_workspace"):
                refs.add(e["path"])
        for d in manifest.get("datasets", []):
            for r in d.get("runs", []):
                for e in r.get("derived", {}).values():
                    refs.update(v for k, v in e.items() if k in ("scores", "pred", "thresholds") and v)
        for a in manifest.get("artifacts", {}).values():
            refs.update(a.get("files", []))
        return refs

    def _clean(self, manifest: dict) -> list[str]:
        """Remove files no manifest entry names (older than :data:`GRACE_S`), and empty folders."""
        import time

        keep = self._referenced(manifest)
        removed = []
        now = time.time()
        for top in ("files", "runs", "artifacts"):
            base = self.path / top
            if not base.is_dir():
                continue
            for f in sorted(base.rglob("*"), key=lambda x: -len(x.parts)):
                rel = str(f.relative_to(self.path))
                try:
                    if f.is_dir():
                        if not any(f.iterdir()):
                            f.rmdir()
                        continue
                    if rel in keep or now - f.stat().st_mtime < GRACE_S and not f.name.endswith(".tmp"):
                        continue
                    if f.name.endswith(".tmp"):
                        m = re.match(r"^\.(?:import|.+?)\.(\d+)\.", f.name)
                        if m and pid_alive(int(m.group(1))):
                            continue
                    f.unlink()
                    removed.append(rel)
                except OSError:
                    pass
        return removed

    @classmethod
    def load(cls, path: str | os.PathLike, builtins_cls: Mapping[str, Callable] | None = None,
             builtins_det: Mapping[str, Callable] | None = None) -> "Workspace":
        """Open a workspace: read the manifest and re-read every dataset through the loaders."""
        p = Path(path)
        man = p / MANIFEST
        if not man.is_file():
            raise InputError("not a Tailscope workspace (no manifest.json)", str(p),
                             hint="open a folder made by Tailscope, or create a new workspace")
        try:
            m = json.loads(man.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InputError(f"the manifest is not valid JSON ({e})", str(man))
        if not isinstance(m, dict) or m.get("format") != FORMAT:
            raise InputError("not a Tailscope workspace manifest", str(man), "format")
        if int(m.get("version", 0)) > VERSION:
            raise InputError(f"made by a newer Tailscope (workspace version {m.get('version')}, this one reads "
                             f"{VERSION})", str(man), "version", hint="upgrade Tailscope")
        ws = cls(p, m.get("name") or p.name)
        ws.created = m.get("created") or ws.created
        ws.bins = dict(m.get("bins") or {})
        ws.settings = dict(m.get("settings") or {})
        ws.artifacts = {k: Artifact(k, a["kind"], list(a.get("files", [])), a.get("run", ""), a.get("created", ""), p)
                        for k, a in (m.get("artifacts") or {}).items()}
        files = m.get("files") or {}

        def ref(key):
            if key is None:
                return None
            e = files.get(key)
            if e is None:
                raise InputError(f"the manifest names a file '{key}' it does not list", str(man), "files")
            fp = p / e["path"] if e.get("in_workspace") else Path(e["path"])
            r = FileRef.of(fp, e.get("name") or fp.name, e.get("origin") or "local path", e.get("sha256", ""),
                           e.get("original", ""))
            if r.size < 0:
                raise InputError("a file of the workspace is missing", f"{e.get('name')} ({fp})",
                                 hint="the workspace folder was changed by hand")
            return r

        for d in m.get("datasets") or []:
            kind = d.get("kind")
            try:
                if kind == "classification":
                    pj = d.get("parts") or {}
                    parts = ClassificationParts(name=d.get("name") or "my dataset", builtin=d.get("builtin"),
                                                multi_label=d.get("multi_label") or "error",
                                                image_root=d.get("image_root") or None,
                                                **{k: ref(pj.get(k)) for k in ("train_labels", "train_counts",
                                                                               "class_names", "val_labels",
                                                                               "test_labels", "classifier")},
                                                features={s: ref(k) for s, k in (pj.get("features") or {}).items()})
                    derived_entries = []
                    for r in d.get("runs") or []:
                        if "derived" in r:
                            parts.runs[r["name"]] = RunPart(description=r.get("description", ""),
                                                            artifacts=list(r.get("artifacts", [])),
                                                            stored=dict(r["derived"]))
                            derived_entries.append(r)
                        else:
                            parts.runs[r["name"]] = RunPart({s: ref(k) for s, k in r.get("files", {}).items()},
                                                            description=r.get("description", ""),
                                                            artifacts=list(r.get("artifacts", [])))
                    # runs made in the app: read back before assembling (the order is the manifest's)
                    file_only = parts.copy()
                    file_only.runs = {k: v for k, v in parts.runs.items() if not v.stored}
                    base = assemble_classification(file_only, builtins=builtins_cls)
                    for r in derived_entries:
                        parts.runs[r["name"]].derived = ws._read_run(r, base)
                    ws.classification = assemble_classification(parts, previous=base, builtins=builtins_cls)
                elif kind == "detection":
                    parts = DetectionParts(name=d.get("name") or "", builtin=d.get("builtin"), gt=ref(d.get("gt")),
                                           results={n: ref(k) for n, k in (d.get("results") or {}).items()},
                                           extra={k: ref(v) for k, v in (d.get("extra") or {}).items()},
                                           options=dict(d.get("options") or {}))
                    ws.detection = assemble_detection(parts, builtins=builtins_det)
                else:
                    ws.notes.append(f"a '{kind}' dataset is kept in the workspace but this version cannot open it")
            except InputError as e:
                raise InputError(f"cannot reopen the {kind} dataset '{d.get('name')}': {e.message}", e.source,
                                 e.field, e.hint) from None
        return ws


# ----------------------------------------------------------------------------------------------
# folder-level operations
# ----------------------------------------------------------------------------------------------
def create(name: str, root: str | os.PathLike | None = None, unique: bool = True) -> Workspace:
    """A new, empty workspace ``root/<slug of name>`` (``-2``, ``-3``... appended while taken).

    With ``unique=False`` an existing folder is an error. Nothing is written until the first save,
    except the folder itself.
    """
    base = Path(root) if root is not None else default_root()
    slug = slugify(name)
    path = base / slug
    k = 2
    while path.exists():
        if not unique:
            raise InputError("a workspace (or another folder) of this name exists", str(path), hint="choose another name")
        path = base / f"{slug}-{k}"
        k += 1
    path.mkdir(parents=True)
    ws = Workspace(path, name)
    ws.save()
    return ws


def open_workspace(path: str | os.PathLike, builtins_cls: Mapping[str, Callable] | None = None,
                   builtins_det: Mapping[str, Callable] | None = None) -> Workspace:
    """Open the workspace folder ``path`` (its datasets re-read through the loaders)."""
    return Workspace.load(path, builtins_cls, builtins_det)


def list_workspaces(root: str | os.PathLike | None = None) -> list[WorkspaceInfo]:
    """The workspaces under ``root`` (default :func:`default_root`), most recently saved first."""
    base = Path(root) if root is not None else default_root()
    out = []
    if not base.is_dir():
        return out
    for d in base.iterdir():
        man = d / MANIFEST
        if not d.is_dir() or not man.is_file():
            continue
        try:
            m = json.loads(man.read_text(encoding="utf-8"))
            if m.get("format") != FORMAT:
                continue
            bits = []
            for ds in m.get("datasets") or []:
                n_runs = len(ds.get("runs") or []) if ds.get("kind") == "classification" else len(ds.get("results") or {})
                what = "runs" if ds.get("kind") == "classification" else "results"
                if ds.get("builtin") and not n_runs:
                    continue  # the demo, untouched
                bits.append(f"{ds.get('name')} ({ds.get('kind')}, {n_runs} {what})")
            out.append(WorkspaceInfo(m.get("name") or d.name, d, m.get("saved", ""), "; ".join(bits) or "empty"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError, AttributeError, TypeError):
            out.append(WorkspaceInfo(d.name, d, "", "unreadable manifest", readable=False))
    out.sort(key=lambda w: w.saved, reverse=True)
    return out


def delete(path: str | os.PathLike) -> None:
    """Delete a workspace folder (only a folder that holds a Tailscope workspace manifest)."""
    p = Path(path)
    man = p / MANIFEST
    try:
        ok = json.loads(man.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        ok = False
    if not ok:
        raise InputError("not a Tailscope workspace; not deleted", str(p))
    trash = p.with_name(f".{p.name}.deleted-{uuid.uuid4().hex[:8]}")
    os.replace(p, trash)
    shutil.rmtree(trash, ignore_errors=True)
