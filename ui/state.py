"""Session state: the active datasets, the bin scheme, and small shared widgets.

Pages call :func:`classification` / :func:`detection` to get the active dataset (the built-in
demo until the user loads something), :func:`bin_scheme` for the bins chosen in the sidebar,
and :func:`show_error` / :func:`download_csv` for consistent messages and downloads.
"""
from __future__ import annotations

import copy
import os

import pandas as pd
import streamlit as st

from lt_core.bins import parse_bins
from lt_core.data import (ClassificationDataset, DetectionDataset, load_classification_demo,
                          load_detection_demo)
from lt_core.data.demo import DEMO_VIEWS
from ui.errors import show_error  # noqa: F401 - the pages' error display (one line, no traceback)
from ui.files import save_uploads  # noqa: F401 - uploads: one folder per session, one sub-folder per widget

CLS_KEY, DET_KEY, BINS_KEY = "ts_cls_dataset", "ts_det_dataset", "ts_bins"
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
    else:
        c.results = dict(ds.results)
    return c


def classification() -> ClassificationDataset | None:
    """The active classification dataset (the GoEmotions demo unless the user loaded one)."""
    _leave_pages_folder_mode()
    if CLS_KEY not in st.session_state:
        st.session_state[CLS_KEY] = _session_copy(_cls_demo(demo_view()))
    return st.session_state[CLS_KEY]


def detection() -> DetectionDataset | None:
    """The active detection dataset (the LVIS-profile demo unless the user loaded one)."""
    _leave_pages_folder_mode()
    if DET_KEY not in st.session_state:
        st.session_state[DET_KEY] = _session_copy(_det_demo())
    return st.session_state[DET_KEY]


def set_classification(ds: ClassificationDataset) -> None:
    st.session_state[CLS_KEY] = ds
    st.session_state.pop(BINS_KEY, None)


def set_detection(ds: DetectionDataset) -> None:
    st.session_state[DET_KEY] = ds


def reset_demo(kind: str) -> None:
    """Go back to the built-in demo of ``kind`` ("classification" or "detection")."""
    st.session_state.pop(CLS_KEY if kind == "classification" else DET_KEY, None)
    if kind == "classification":
        st.session_state.pop(BINS_KEY, None)


def bin_scheme() -> str:
    """The classification bin scheme chosen in the sidebar (spec string, e.g. ``imagenet-lt``)."""
    if BINS_KEY not in st.session_state:
        ds = classification()
        st.session_state[BINS_KEY] = ds.default_bins if ds is not None else "imagenet-lt"
    return st.session_state[BINS_KEY]


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


def sidebar() -> None:
    """The sidebar on every page: active datasets, their runs and sources, and the bin scheme."""
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
        current = bin_scheme()
        options = ["imagenet-lt", "lvis", "quantile:3", "custom"]
        default = cls.default_bins if cls is not None else "imagenet-lt"
        if default not in options:
            options.insert(0, default)
        kind = current if current in options else "custom"
        choice = st.selectbox("Bins (by train count)", options, index=options.index(kind), key="ts_bins_choice",
                              help="imagenet-lt: many > 100, medium 20–100, few < 20 (Kang et al. 2020). "
                                   "lvis: rare 1–10, common 11–100, frequent > 100 (Gupta et al. 2019). "
                                   "quantile:3: thirds of the classes by train count. custom: your thresholds.")
        if choice == "custom":
            a0, b0 = 20, 100
            if current.startswith("custom:"):
                try:
                    a0, b0 = [int(float(x)) for x in current.split(":")[1].split(",")[:2]]
                except ValueError:
                    pass
            c1, c2 = st.columns(2)
            a = c1.number_input("few <", min_value=1, value=a0, step=1, key="ts_bins_a")
            b = c2.number_input("many >", min_value=int(a), value=max(b0, int(a)), step=1, key="ts_bins_b")
            spec = f"custom:{int(a)},{int(b)}"
        else:
            spec = choice
        parse_bins(spec)
        st.session_state[BINS_KEY] = spec
