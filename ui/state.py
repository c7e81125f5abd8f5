"""Session state: the active datasets, the workspace they are kept in, the bin scheme, and small
shared widgets.

Pages call :func:`classification` / :func:`detection` to get the active dataset (the built-in
demo until the user loads something), :func:`bin_scheme` for the bins chosen in the sidebar (or
picked for the data), :func:`add_run` to add a run made on the page (it is kept in the workspace
with what made it), and :func:`show_error` / :func:`download_csv` for consistent messages and
downloads.

Workspaces (:mod:`lt_core.workspace`): every change of a dataset (a part loaded, replaced or
removed, a run added, renamed or removed) is saved at once into the active workspace; the first
change creates one under :func:`lt_core.workspace.default_root` (or the folder given by
``tailscope app --workspace DIR``, environment ``TAILSCOPE_WORKSPACE``). The workspace is named in
the URL (``?ws=NAME``), so a refresh or a server restart reopens it; the sidebar lists the others.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

import pandas as pd
import streamlit as st

import lt_core.plots.colors as _plot_colors
import lt_core.workspace as W
from lt_core.bins import choose_bin_scheme, parse_bins
from lt_core.data import (ClassificationDataset, DetectionDataset, load_classification_demo,
                          load_detection_demo)
from lt_core.data.demo import DEMO_VIEWS
from lt_core.data.parts import (BUILTIN_CLASSIFICATION, BUILTIN_DETECTION, ClassificationParts, DetectionParts,
                                FileRef, assemble_classification)
from lt_core.data.schema import Run
from lt_core.errors import InputError
from ui.errors import show_error  # noqa: F401 - the pages' error display (one line, no traceback)
from ui.files import save_uploads  # noqa: F401 - uploads: one folder per session, one sub-folder per widget

# Streamlit draws every chart in its own theme: lt_core's plotly template would only be built and sent
_plot_colors.TEMPLATE = None

CLS_KEY, DET_KEY, BINS_KEY = "ts_cls_dataset", "ts_det_dataset", "ts_bins"
WS_KEY = "ts_workspace"
#: who chose the bin scheme: "user" (the sidebar) or "data" (picked on load), and why
BINS_BY, BINS_WHY = "ts_bins_by", "ts_bins_reason"
WORKSPACE_ENV = "TAILSCOPE_WORKSPACE"
#: the GoEmotions demo's view: "multi-label" (every comment; the default) or "single-label"; the
#: environment variable TAILSCOPE_DEMO_VIEW sets the default of a new session
DEMO_VIEW_KEY = "ts_demo_view"


def _leave_pages_folder_mode() -> None:
    """app.py routes with ``st.navigation``; Streamlit only learns that once app.py has run.

    On a fresh server the first session that opens a page URL directly (``/Data``) would run the
    page in the legacy ``pages/`` folder mode (no sidebar, an "app" entry). Switch the flag that
    ``st.navigation`` itself sets, and rerun through app.py.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - other Streamlit layouts
        return
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_leave_pages_folder_mode()
MAX_UPLOAD_MB = 1024

#: what the pages import, heaviest last (lt_core.heads brings torch: seconds on 2 cores)
WARM_MODULES = ("lt_core.distribution", "lt_core.plots.distribution", "lt_core.metrics", "lt_core.plots.metrics",
                "lt_core.detection", "lt_core.plots.detection", "lt_core.rebalance", "lt_core.plots.rebalance",
                "lt_core.posthoc", "lt_core.plots.posthoc", "lt_core.heads", "lt_core.plots.heads")


def _warm_imports(delay_s: float = 1.5) -> None:
    """Import the pages' modules in a background thread once per server, shortly after the first page,
    so that opening a page for the first time does not wait for its imports (torch alone takes seconds)."""
    import importlib
    import threading
    import time as _time

    def work():
        _time.sleep(delay_s)
        for m in WARM_MODULES:
            try:
                importlib.import_module(m)
            except Exception:  # noqa: BLE001 - a page reports its own import errors
                pass

    threading.Thread(target=work, name="tailscope-warm-imports", daemon=True).start()


if not getattr(_plot_colors, "_tailscope_warmed", False):
    _plot_colors._tailscope_warmed = True  # a module attribute: once per process, not per session
    if os.environ.get("TAILSCOPE_WARM_IMPORTS", "1") != "0":
        _warm_imports()


@st.cache_resource(show_spinner="Loading the GoEmotions demo (real data, real model)…")
def _cls_demo(view: str = "multi-label") -> ClassificationDataset:
    return load_classification_demo(view)


def demo_view() -> str:
    """The GoEmotions demo view of this session ("multi-label" unless chosen otherwise)."""
    v = st.session_state.get(DEMO_VIEW_KEY) or os.environ.get("TAILSCOPE_DEMO_VIEW", "multi-label")
    return v if v in DEMO_VIEWS else "multi-label"


def is_demo(ds) -> bool:
    """Whether ``ds`` is (a session copy of) the built-in GoEmotions demo."""
    return isinstance(ds, ClassificationDataset) and ds.name.startswith("GoEmotions (demo")


def set_demo_view(view: str) -> None:
    """Switch the GoEmotions demo between its multi-label and single-label views."""
    st.session_state[DEMO_VIEW_KEY] = view
    if CLS_KEY not in st.session_state or is_demo(st.session_state[CLS_KEY]):
        st.session_state[CLS_KEY] = _session_copy(_cls_demo(view))


def kind_badge(ds) -> str:
    """The dataset's label kind as a markdown badge (said on every page)."""
    if ds is None:
        return ""
    return ":violet-badge[multi-label]" if getattr(ds, "multi_label", False) else ":gray-badge[single-label]"


@st.cache_resource(show_spinner="Building the LVIS-profile detection demo…")
def _det_demo() -> DetectionDataset:
    return load_detection_demo()


def _session_copy(ds):
    """A per-session copy of a cached dataset: runs/results dicts may be changed, arrays not."""
    c = copy.copy(ds)
    if isinstance(c, ClassificationDataset):
        c.runs = dict(ds.runs)
        c.labels = dict(ds.labels)
        c.features = dict(ds.features)
        view = "multi-label" if ds.multi_label else "single-label"
        c.parts = ClassificationParts(name=ds.name, builtin=f"{BUILTIN_CLASSIFICATION}:{view}")
        c.loaded = {}
    else:
        c.results = dict(ds.results)
        c.parts = DetectionParts(name=ds.name, builtin=BUILTIN_DETECTION)
    return c


BUILTINS_CLS = {BUILTIN_CLASSIFICATION: lambda: _cls_demo(demo_view()),
                **{f"{BUILTIN_CLASSIFICATION}:{v}": (lambda v=v: _cls_demo(v)) for v in DEMO_VIEWS}}
BUILTINS_DET = {BUILTIN_DETECTION: lambda: _det_demo()}


def classification() -> ClassificationDataset | None:
    """The active classification dataset (the GoEmotions demo unless the user loaded one)."""
    _leave_pages_folder_mode()
    _restore_workspace()
    if CLS_KEY not in st.session_state:
        st.session_state[CLS_KEY] = _session_copy(_cls_demo(demo_view()))
    return st.session_state[CLS_KEY]


def detection() -> DetectionDataset | None:
    """The active detection dataset (the LVIS-profile demo unless the user loaded one)."""
    _leave_pages_folder_mode()
    _restore_workspace()
    if DET_KEY not in st.session_state:
        st.session_state[DET_KEY] = _session_copy(_det_demo())
    return st.session_state[DET_KEY]


# ----------------------------------------------------------------------------------------------
# workspaces
# ----------------------------------------------------------------------------------------------
def workspace() -> W.Workspace | None:
    """The workspace this session keeps its data in (None until something is loaded or made)."""
    _restore_workspace()
    return st.session_state.get(WS_KEY)


def workspace_root() -> Path:
    """The folder the sidebar lists workspaces from."""
    fixed = os.environ.get(WORKSPACE_ENV)
    return Path(fixed).expanduser().parent if fixed else W.default_root()


def _restore_workspace() -> None:
    """Once per session: reopen the workspace named in the URL (``?ws=``) or given to the app."""
    if st.session_state.get("ts_ws_restored"):
        return
    st.session_state["ts_ws_restored"] = True
    name = st.query_params.get("ws")
    target = None
    if name:
        target = workspace_root() / W.slugify(name)
    elif os.environ.get(WORKSPACE_ENV):
        target = Path(os.environ[WORKSPACE_ENV]).expanduser()
    if target is None or not (target / W.MANIFEST).is_file():
        return
    try:
        open_workspace(target)
    except InputError as e:
        st.session_state["ts_ws_error"] = f"Could not reopen workspace {target.name}: {e}"
        st.query_params.pop("ws", None)


@st.cache_resource(max_entries=2, show_spinner=False)
def _opened_workspace(path: str, stamp: tuple) -> W.Workspace:
    """A workspace read from disk once per version of its manifest, shared by the sessions that open it
    (a browser refresh reopens it without reading its files again)."""
    return W.open(path, builtins_cls=BUILTINS_CLS, builtins_det=BUILTINS_DET)


def open_workspace(path: str | os.PathLike) -> W.Workspace:
    """Open a workspace folder: its datasets, runs and bin scheme become this session's."""
    man = Path(path) / W.MANIFEST
    try:
        st_ = man.stat()
        stamp = (st_.st_mtime_ns, st_.st_size)
    except OSError:
        stamp = (0, 0)
    with st.spinner(f"Opening workspace {Path(path).name}…"):
        ws = _opened_workspace(str(Path(path).resolve()), stamp).session_copy()
    st.session_state[WS_KEY] = ws
    st.session_state["ts_ws_restored"] = True
    st.session_state[CLS_KEY] = ws.classification or _session_copy(_cls_demo(demo_view()))
    st.session_state[DET_KEY] = ws.detection or _session_copy(_det_demo())
    if ws.bins.get("spec"):
        _set_bins(ws.bins["spec"], ws.bins.get("chosen_by", "data"), ws.bins.get("reason", ""))
    else:
        _choose_bins_for(st.session_state[CLS_KEY], force=True)
    st.query_params["ws"] = ws.path.name
    return ws


def close_workspace() -> None:
    """Stop keeping this session's data in the workspace (the folder stays as it is)."""
    st.session_state.pop(WS_KEY, None)
    st.query_params.pop("ws", None)


def new_workspace(name: str) -> W.Workspace:
    """Create a workspace and keep this session's datasets in it from now on."""
    fixed = os.environ.get(WORKSPACE_ENV)
    if fixed and not Path(fixed).expanduser().exists() and W.slugify(name) == Path(fixed).name:
        Path(fixed).expanduser().mkdir(parents=True)
        ws = W.Workspace(Path(fixed).expanduser(), name)
    else:
        ws = W.create(name, root=workspace_root())
    st.session_state[WS_KEY] = ws
    st.query_params["ws"] = ws.path.name
    _persist()
    return ws


def delete_workspace(path: str | os.PathLike) -> None:
    """Delete a workspace folder (explicit: the sidebar asks to confirm). The session keeps its data."""
    ws = st.session_state.get(WS_KEY)
    if ws is not None and Path(ws.path).resolve() == Path(path).resolve():
        close_workspace()
    W.delete(path)


def _ensure_workspace(name: str) -> W.Workspace:
    ws = workspace()
    if ws is not None:
        return ws
    fixed = os.environ.get(WORKSPACE_ENV)
    if fixed:
        p = Path(fixed).expanduser()
        p.mkdir(parents=True, exist_ok=True)
        ws = W.Workspace(p, name)
        st.session_state[WS_KEY] = ws
        st.query_params["ws"] = ws.path.name
        return ws
    return new_workspace(name)


def set_image_root(ds, root: str | None) -> None:
    """The examples' image folder of ``ds`` (classification or detection): set, kept in the dataset's
    recipe (so the workspace reopens with it) and saved into the active workspace."""
    from dataclasses import replace

    ds.image_root = root
    parts = getattr(ds, "parts", None)
    if isinstance(parts, ClassificationParts):
        ds.parts = replace(parts.copy(), image_root=root)
    elif isinstance(parts, DetectionParts):
        opts = {k: v for k, v in parts.options.items() if k != "image_root"}
        ds.parts = replace(parts, options={**opts, **({"image_root": root} if root else {})})
    _persist()


def _persist() -> None:
    """Save the session's datasets and bin scheme into the active workspace (if any)."""
    ws = st.session_state.get(WS_KEY)
    if ws is None:
        return
    bins = {"spec": bin_scheme(), "chosen_by": st.session_state.get(BINS_BY, "data"),
            "reason": st.session_state.get(BINS_WHY, "")}
    cls = st.session_state.get(CLS_KEY)
    det = st.session_state.get(DET_KEY)
    ws.save(cls if cls is not None and cls.parts is not None else None,
            det if det is not None and getattr(det, "parts", None) is not None else None, bins=bins)


def import_file(path: str | os.PathLike, name: str | None = None, origin: str = "local path",
                workspace_name: str = "my dataset") -> FileRef:
    """Copy a user's file into the workspace (created if needed) and return its reference.

    Uploads and local files alike: from here on the dataset is read from the copy, so the
    original is never needed again and never touched.
    """
    ws = _ensure_workspace(workspace_name)
    return ws.import_file(FileRef.of(path, name, origin))


# ----------------------------------------------------------------------------------------------
# datasets and runs
# ----------------------------------------------------------------------------------------------
def set_classification(ds: ClassificationDataset) -> None:
    """Make ``ds`` the active classification dataset; the bins follow the data unless the user chose."""
    st.session_state[CLS_KEY] = ds
    _choose_bins_for(ds)
    if ds.parts is not None and not (ds.parts.builtin and not ds.parts.runs):
        _ensure_workspace(ds.name)
    _persist()


def edit_classification(parts: ClassificationParts) -> ClassificationDataset:
    """Build the dataset of ``parts`` (re-reading only what changed) and make it active and kept.

    Files are copied into the workspace first. Raises :class:`InputError` (nothing changes) when a
    file cannot be read or the parts disagree.
    """
    fresh = workspace() is None
    ws = _ensure_workspace(parts.name or "my dataset")
    prev = st.session_state.get(CLS_KEY)
    try:
        parts = ws.import_parts(parts)
        ds = assemble_classification(parts, previous=prev if prev is not None and prev.parts is not None else None,
                                     builtins=BUILTINS_CLS)
    except BaseException:
        if fresh and not os.environ.get(WORKSPACE_ENV):  # a first load that failed leaves no empty workspace
            close_workspace()
            try:
                W.delete(ws.path)
            except (InputError, OSError):
                pass
        raise
    classes_changed = prev is None or ds.classes is not prev.classes
    st.session_state[CLS_KEY] = ds
    if classes_changed:
        _choose_bins_for(ds)
    _persist()
    return ds


def add_run(ds: ClassificationDataset, run: Run, artifacts: dict | None = None) -> bool:
    """Add a run made on a page to ``ds`` and keep it (and what made it) in the workspace.

    Parameters
    ----------
    ds : ClassificationDataset
        The active dataset (changed in place, as ``ds.add_run`` does).
    run : Run
        The new run. A run without predictions for any split (a head trained without val / test
        features) is not added: it is not a model to compare; its artifacts are still kept.
    artifacts : {kind: object}, optional
        What made it: ``{"adjustment": spec}``, ``{"thresholds": spec}`` (JSON-able dicts) or
        ``{"head": RetrainResult}`` (written as safetensors + head.json).

    Returns
    -------
    bool
        Whether the run was added.
    """
    ws = _ensure_workspace(ds.name)
    ids = []
    for kind, obj in (artifacts or {}).items():
        if obj is None:
            continue
        try:
            ids.append(ws.add_artifact(kind, obj, run.name))
        except (InputError, OSError, TypeError, AttributeError, KeyError, ValueError) as e:
            st.warning(f"The run is kept, but its {kind} could not be written to the workspace ({e}).",
                       icon=":material/warning:")
    if not run.preds:
        _persist()
        return False
    ds.add_run(run)
    if ds.parts is None:
        ds.parts = ClassificationParts(name=ds.name)
    try:
        ds.parts = ds.parts.with_derived_run(run, ids)
    except InputError:
        # a file run of the same name was replaced by this one: keep the new run under a new part
        ds.parts = ds.parts.without_run(run.name).with_derived_run(run, ids)
    if st.session_state.get(CLS_KEY) is not ds:
        st.session_state[CLS_KEY] = ds
    _persist()
    return True


def set_detection(ds: DetectionDataset, parts: DetectionParts | None = None,
                  train_frequencies: str | os.PathLike | None = None) -> None:
    """Make ``ds`` the active detection dataset and keep its files in the workspace.

    ``parts`` names the files it was read from (ground truth, results, any other file
    :func:`lt_core.data.build_detection_dataset` takes by keyword) with the user's names; without
    it the files are taken from the dataset's ``source`` paths, plus ``train_frequencies`` (the
    file the train counts were read from), so the workspace re-reads the same dataset.
    """
    if parts is None:
        parts = getattr(ds, "parts", None)
    if parts is None:
        gt = FileRef.of(ds.gt.source) if ds.gt.source and Path(ds.gt.source).is_file() else None
        res = {n: FileRef.of(r.source) for n, r in ds.results.items() if r.source and Path(r.source).is_file()}
        extra = {"train_frequencies": FileRef.of(train_frequencies)} if train_frequencies else {}
        parts = DetectionParts(name=ds.name, gt=gt, results=res, extra=extra) if gt is not None else None
    st.session_state[DET_KEY] = ds
    if parts is None or parts.builtin is not None:
        ds.parts = parts
        _persist()
        return
    ws = _ensure_workspace(ds.name)
    parts = ws.import_parts(parts)
    ds.parts = parts
    # show the user's file names, not the paths they were read from
    ds.gt.source = parts.gt.name
    for n, r in parts.results.items():
        if n in ds.results:
            ds.results[n].source = r.name
    _persist()


def reset_demo(kind: str) -> None:
    """Go back to the built-in demo of ``kind`` ("classification" or "detection").

    The workspace is closed first (it keeps what it holds; reopen it from the sidebar), so going
    back to the demo never replaces the user's data on disk.
    """
    if st.session_state.get(WS_KEY) is not None:
        close_workspace()
    st.session_state.pop(CLS_KEY if kind == "classification" else DET_KEY, None)
    if kind == "classification":
        st.session_state.pop(BINS_KEY, None)
        st.session_state.pop(BINS_BY, None)
        st.session_state.pop(BINS_WHY, None)


# ----------------------------------------------------------------------------------------------
# bins
# ----------------------------------------------------------------------------------------------
def _set_bins(spec: str, by: str, reason: str) -> None:
    st.session_state[BINS_KEY] = parse_bins(spec).spec
    st.session_state[BINS_BY] = by
    st.session_state[BINS_WHY] = reason


def _choose_bins_for(ds: ClassificationDataset | None, force: bool = False) -> None:
    """Switch the bins to the scheme that fits ``ds`` (lt_core.bins.choose_bin_scheme), unless the user chose."""
    if ds is None or (st.session_state.get(BINS_BY) == "user" and not force):
        return
    if ds.parts is not None and ds.parts.builtin is not None:
        _set_bins(ds.default_bins, "data", "the demo's default")
        return
    c = ds.classes
    choice = choose_bin_scheme(c.train_count, groups=c.groups, group_column=c.group_column, frequency=c.frequency,
                               default=ds.default_bins)
    _set_bins(choice.spec, "data", choice.reason)


def bin_scheme() -> str:
    """The classification bin scheme (spec string, e.g. ``imagenet-lt``): the user's choice in the
    sidebar, or the one picked for the data on load."""
    if BINS_KEY not in st.session_state:
        ds = classification()
        if BINS_KEY not in st.session_state:
            st.session_state[BINS_KEY] = ds.default_bins if ds is not None else "imagenet-lt"
            st.session_state.setdefault(BINS_BY, "data")
            st.session_state.setdefault(BINS_WHY, "the demo's default" if ds is not None and ds.generated is False
                                        and ds.parts is not None and ds.parts.builtin else "")
    return st.session_state[BINS_KEY]


def bin_scheme_note() -> str:
    """One line saying which bins are active and why (for page captions)."""
    by = st.session_state.get(BINS_BY, "data")
    why = st.session_state.get(BINS_WHY, "")
    who = "chosen by you" if by == "user" else (f"picked for the data: {why}" if why else "picked for the data")
    return f"bins **{bin_scheme()}** by TRAIN count ({who})"


def memo(store: str, key: tuple, owners: tuple, make, max_items: int = 32):
    """Per-session memo of ``make()`` under ``key`` in ``st.session_state[store]``.

    A hit counts only while the very same ``owners`` objects (labels, predictions, dataset parts the
    value was computed from) are still in use, so loading other data never returns a stale value.
    The oldest entries go first beyond ``max_items``.
    """
    cache: dict = st.session_state.setdefault(store, {})
    hit = cache.get(key)
    if hit is not None and len(hit[0]) == len(owners) and all(a is b for a, b in zip(hit[0], owners)):
        return hit[1]
    value = make()
    cache[key] = (owners, value)
    while len(cache) > max_items:
        cache.pop(next(iter(cache)))
    return value


def download_csv(df: pd.DataFrame, file_name: str, label: str = "Download CSV", key: str | None = None) -> None:
    """A CSV download button for a table (every table in the app has one)."""
    st.download_button(label, df.to_csv(index=False).encode("utf-8"), file_name=file_name,
                       mime="text/csv", key=key or f"dl_{file_name}", icon=":material/download:")


def fmt_count(n) -> str:
    return f"{int(n):,}"


def fmt_pct(x) -> str:
    return "–" if x is None or x != x else f"{100 * float(x):.1f}%"


def _on_bins_changed() -> None:
    """The user picked a scheme in the sidebar: it sticks until they pick another (loading data keeps it)."""
    st.session_state[BINS_BY] = "user"
    st.session_state[BINS_WHY] = ""
    choice = st.session_state.get("ts_bins_choice")
    if choice and choice != "custom":
        st.session_state[BINS_KEY] = choice
    else:
        a = int(st.session_state.get("ts_bins_a", 20))
        b = int(st.session_state.get("ts_bins_b", 100))
        st.session_state[BINS_KEY] = parse_bins(f"custom:{a},{max(a, b)}").spec


def _sidebar_bins(cls: ClassificationDataset | None) -> None:
    current = bin_scheme()
    options = ["imagenet-lt", "lvis", "quantile:3", "custom"]
    default = cls.default_bins if cls is not None else "imagenet-lt"
    if default not in options:
        options.insert(0, default)
    kind = current if current in options else "custom"
    # the scheme may have been switched for newly loaded data: the widgets follow it
    if st.session_state.get("ts_bins_choice") != kind:
        st.session_state["ts_bins_choice"] = kind
    a0, b0 = 20, 100
    if current.startswith("custom:"):
        try:
            cuts = [int(float(x)) for x in current.split(":")[1].split(",")]
            a0, b0 = cuts[0], cuts[-1]
        except ValueError:
            pass
        if st.session_state.get("ts_bins_a") != a0 or st.session_state.get("ts_bins_b") != b0:
            st.session_state["ts_bins_a"], st.session_state["ts_bins_b"] = a0, b0
    st.session_state.setdefault("ts_bins_a", a0)
    st.session_state.setdefault("ts_bins_b", b0)
    choice = st.selectbox("Bins (by train count)", options, key="ts_bins_choice", on_change=_on_bins_changed,
                          help="imagenet-lt: many > 100, medium 20–100, few < 20 (Kang et al. 2020). "
                               "lvis: rare 1–10, common 11–100, frequent > 100 (Gupta et al. 2019). "
                               "quantile:3: thirds of the classes by train count. custom: your thresholds. "
                               "Loading data switches to the scheme that fits it, unless you chose one here.")
    if choice == "custom":
        c1, c2 = st.columns(2)
        a = c1.number_input("few <", min_value=1, step=1, key="ts_bins_a", on_change=_on_bins_changed)
        if st.session_state["ts_bins_b"] < a:
            st.session_state["ts_bins_b"] = int(a)
        c2.number_input("many >", min_value=int(a), step=1, key="ts_bins_b", on_change=_on_bins_changed)
    parse_bins(bin_scheme())
    by = st.session_state.get(BINS_BY, "data")
    why = st.session_state.get(BINS_WHY, "")
    st.caption(f"Active: **{bin_scheme()}** — " + ("chosen by you." if by == "user" else
                                                   f"picked for the data{': ' + why if why else ''}."))


def _root_stamp(root: Path) -> tuple:
    """Changes when a workspace is added, removed or saved under ``root`` (folder and manifest mtimes)."""
    try:
        return tuple(sorted((e.name, (Path(e.path) / W.MANIFEST).stat().st_mtime_ns)
                            for e in os.scandir(root) if e.is_dir() and (Path(e.path) / W.MANIFEST).exists()))
    except OSError:
        return ()


@st.cache_data(max_entries=8, show_spinner=False)
def _listed_workspaces(root: str, stamp: tuple) -> list:
    """:func:`lt_core.workspace.list_workspaces`, read again only when a manifest changed (the sidebar
    is drawn on every rerun of every page)."""
    return W.list_workspaces(root)


def _sidebar_workspace() -> None:
    ws = workspace()
    if ws is not None and st.query_params.get("ws") != ws.path.name:
        st.query_params["ws"] = ws.path.name  # page switches drop query parameters: the address keeps naming it
    st.markdown("**Workspace**")
    err = st.session_state.pop("ts_ws_error", None)
    if err:
        st.warning(err, icon=":material/warning:")
    if ws is not None:
        st.caption(f"**{ws.name}** — everything loaded and made here is kept in `{ws.path}`.")
    else:
        st.caption("None open: loading a file or keeping a run creates one, so it survives a refresh or restart.")
    infos = [w for w in _listed_workspaces(str(workspace_root()), _root_stamp(workspace_root()))
             if ws is None or w.path != ws.path]
    if infos:
        labels = {str(w.path): f"{w.name} — {w.summary}" for w in infos}
        pick = st.selectbox("Reopen a workspace", list(labels), format_func=labels.get, key="ts_ws_pick", index=None,
                            placeholder=f"{len(infos)} kept in {workspace_root()}",
                            help="Workspaces keep the files you loaded (copies), the runs, adjustments, thresholds "
                                 "and heads you made. Opening one replaces what this session shows.")
        c1, c2 = st.columns(2)
        if c1.button("Open", key="ts_ws_open", disabled=pick is None, icon=":material/folder_open:"):
            try:
                open_workspace(pick)
                st.rerun()
            except InputError as e:
                show_error(e, "Could not open the workspace")
        if c2.button("Delete…", key="ts_ws_del", disabled=pick is None, icon=":material/delete:"):
            st.session_state["ts_ws_confirm"] = pick
        target = st.session_state.get("ts_ws_confirm")
        if target and target == pick:
            st.warning(f"Delete **{labels.get(target, target)}** and every file in it? This cannot be undone.",
                       icon=":material/delete_forever:")
            d1, d2 = st.columns(2)
            if d1.button("Yes, delete", key="ts_ws_del_yes", type="primary"):
                try:
                    delete_workspace(target)
                except InputError as e:
                    show_error(e, "Could not delete")
                st.session_state.pop("ts_ws_confirm", None)
                st.rerun()
            if d2.button("Cancel", key="ts_ws_del_no"):
                st.session_state.pop("ts_ws_confirm", None)
                st.rerun()
    with st.popover("New workspace", icon=":material/create_new_folder:", width="stretch"):
        name = st.text_input("Name", key="ts_ws_new_name", placeholder="e.g. places-lt resnet runs")
        if st.button("Create and keep this session in it", key="ts_ws_new", disabled=not (name or "").strip()):
            try:
                new_workspace(name.strip())
                st.rerun()
            except (InputError, OSError) as e:
                show_error(e, "Could not create the workspace")


def sidebar() -> None:
    """The sidebar on every page: active datasets, their runs and sources, the workspace, the bin scheme."""
    with st.sidebar:
        cls = classification()
        det = detection()
        st.markdown("**Classification**")
        if cls is not None:
            tag = " · generated" if cls.generated else ""
            st.caption(f"{cls.name}{tag} · **{cls.label_kind}** — {cls.classes.n_classes:,} classes, "
                       + ", ".join(f"{s} {len(l):,}" for s, l in cls.labels.items()))
            if is_demo(cls):
                views = list(DEMO_VIEWS)
                pick = st.radio("GoEmotions view", views, index=views.index(demo_view()), horizontal=True,
                                key="ts_demo_view_choice",
                                help="multi-label: every comment with all its emotions (43,410 train); single-label: "
                                     "the 36,308 train comments with one emotion (the other 7,102 left out).")
                if pick != demo_view():
                    set_demo_view(pick)
                    st.rerun()
            for r in cls.runs.values():
                st.caption(f"• run **{r.name}** ({', '.join(r.splits)})" + (f" — {r.source}" if r.source else ""))
        st.markdown("**Detection**")
        if det is not None:
            tag = " · generated" if det.generated else ""
            st.caption(f"{det.name}{tag} — {det.gt.n_images:,} images, {det.classes.n_classes:,} categories")
            for name, r in det.results.items():
                st.caption(f"• results **{name}** ({len(r):,} detections)")
        st.divider()
        _sidebar_bins(cls)
        st.divider()
        _sidebar_workspace()
