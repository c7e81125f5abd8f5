"""The examples behind a number, in the app: clicks on charts -> a selection -> its samples.

Pages draw a chart with ``on_select="rerun"``, pass the event to :func:`take_click` (which turns a
new click into a *target*: a class, a bin, a confusion cell, ...) and call :func:`show_examples`
beside the chart. The selection itself is computed by :mod:`lt_core.examples`; this module only
caches, pages and draws it:

* the per-sample table of a run is built once per (run, split, bins) and memoised per session;
* only the visible page of examples is rendered (9 thumbnails or 10 texts); thumbnails are made on
  demand into a capped cache folder (:class:`lt_core.images.ThumbnailCache`), one per workspace
  when there is one, else one per user under the temporary folder;
* every selection has a CSV download of all its rows (ids and fields), generated on click.

Streamlit reports no selection for ``go.Heatmap`` (streamlit issues #8760 / #15042), so the
confusion view is a scatter of square markers (:func:`lt_core.plots.metrics.confusion_cells_chart`);
every panel also has pickers (class, cell, bin) that do what a click does, for keyboards and tests.
The detection panels (boxes on their images) are in :mod:`ui.examples_detection`.
"""
from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import streamlit as st

from lt_core.errors import InputError
from lt_core.examples import (SampleContent, Selection, bin_flow, by_bin, by_class, confusion_cell, sample_content,
                              sample_table)

__all__ = ["take_click", "clicked_point", "target", "set_target", "show_examples", "show_selection", "base_table",
           "content_for", "thumbnail_cache", "image_root_section", "selection_for", "class_picker", "cell_picker",
           "bin_picker", "cell_target", "bin_target", "class_target", "flow_target", "chart_event",
           "chart_with_examples", "changes_panel", "class_of_point", "multilabel_panel", "multilabel_changes_panel",
           "PAGE_SIZE_IMAGES", "PAGE_SIZE_TEXT", "DISPLAY_CAP", "THUMB_SIDE"]

PAGE_SIZE_IMAGES = 9    # thumbnails on one page of examples (3 x 3 beside a chart)
PAGE_SIZE_TEXT = 10     # texts (or table rows) on one page
DISPLAY_CAP = 1000      # rows a panel pages through (the CSV download has them all)
THUMB_SIDE = 224        # longer side of a classification thumbnail, pixels
THUMB_CACHE_BYTES = 256 * 1024 ** 2
MEMO = "ex_memo"


# ---------------------------------------------------------------------------------------------- clicks
def clicked_point(event) -> dict | None:
    """The first selected point of a ``st.plotly_chart(..., on_select="rerun")`` event, or None."""
    if event is None:
        return None
    try:
        pts = event["selection"]["points"]
    except (KeyError, TypeError):
        pts = getattr(getattr(event, "selection", None), "points", None)
    return dict(pts[0]) if pts else None


def _signature(pt: dict | None) -> str | None:
    if pt is None:
        return None
    keep = {k: pt.get(k) for k in ("curve_number", "point_index", "point_number", "x", "y", "customdata")}
    return json.dumps(keep, sort_keys=True, default=str)


def take_click(event, key: str, to_target: Callable[[dict], dict | None]) -> bool:
    """Turn a NEW click of a chart into the panel's target (``st.session_state[key + "_target"]``).

    A plotly selection stays in the chart's state across reruns; only a selection that differs
    from the last one seen counts, so a picker change afterwards is not overwritten by the old
    click. Returns True when the target changed.
    """
    pt = clicked_point(event)
    sig = _signature(pt)
    seen = f"{key}_click"
    if sig == st.session_state.get(seen):
        return False
    st.session_state[seen] = sig
    if pt is None:
        return False
    tgt = to_target(pt)
    if tgt is None:
        return False
    set_target(key, tgt)
    return True


def target(key: str) -> dict | None:
    """The panel's current target (what was clicked or picked), or None."""
    return st.session_state.get(f"{key}_target")


def set_target(key: str, tgt: dict | None) -> None:
    st.session_state[f"{key}_target"] = tgt


# ---------------------------------------------------------------------------------------------- data
def _memo(key: tuple, owners: tuple, make):
    from ui import state

    return state.memo(MEMO, key, owners, make, 24)


def base_table(ds, run: str, split: str, scheme: str) -> pd.DataFrame:
    """:func:`lt_core.examples.sample_table` of a run on a split, memoised while the same objects are loaded."""
    labels, preds = ds.labels[split], ds.runs[run].preds[split]
    return _memo(("base", run, split, scheme), (labels, preds, ds.classes),
                 lambda: sample_table(labels, preds, ds.classes, scheme))


def content_for(ds, split: str) -> SampleContent:
    """The texts / images behind a split's samples (the dataset's image root, or the labels' own)."""
    labels = ds.labels[split]
    root = getattr(ds, "image_root", None)

    def make():
        try:
            return sample_content(labels, root)
        except InputError as e:
            st.session_state[f"ex_root_error_{split}"] = str(e)
            return sample_content(labels, None) if getattr(labels, "image_root", None) is None else \
                SampleContent("text" if getattr(labels, "texts", None) is not None else "none",
                              getattr(labels, "texts", None), labels.sample_ids, None)
    return _memo(("content", split, str(root)), (labels,), make)


def _cache_folder() -> Path:
    """The thumbnail folder: the active workspace's ``thumbs/`` when there is one, else per user."""
    ws = st.session_state.get("ts_workspace")
    folder = getattr(ws, "folder", None) or getattr(ws, "path", None)
    if folder is not None:
        return Path(folder) / "thumbs"
    return Path(tempfile.gettempdir()) / f"tailscope-thumbs-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


@st.cache_resource(show_spinner=False, max_entries=8)
def _thumbs(folder: str):
    from lt_core.images import ThumbnailCache

    return ThumbnailCache(folder, max_bytes=THUMB_CACHE_BYTES)


def thumbnail_cache():
    """The :class:`~lt_core.images.ThumbnailCache` of this workspace (made on first use)."""
    return _thumbs(str(_cache_folder()))


# ---------------------------------------------------------------------------------------------- selections
def selection_for(base: pd.DataFrame, classes, tgt: dict) -> Selection:
    """The uncapped :class:`Selection` of a target (``what``: class / bin / cell / flow)."""
    what = tgt.get("what")
    if what == "class":
        return by_class(base, classes, int(tgt["class_id"]), role=tgt.get("role", "true"),
                        errors_only=bool(tgt.get("errors_only", False)), cap=None)
    if what == "bin":
        return by_bin(base, tgt["bin"], role=tgt.get("role", "true"), errors_only=bool(tgt.get("errors_only", False)),
                      cap=None)
    if what == "cell":
        return confusion_cell(base, classes, list(tgt["true"]), list(tgt["pred"]), cap=None)
    if what == "flow":
        return bin_flow(base, tgt["true_bin"], tgt["pred_bin"], errors_only=True, cap=None)
    raise InputError(f"unknown selection {what!r}", field="selection")


def _ids(text) -> list[int]:
    return [int(v) for v in str(text).split(",") if v.strip()]


def cell_target(pt: dict, run: str | None = None) -> dict | None:
    """A click on :func:`~lt_core.plots.metrics.confusion_cells_chart` -> a cell target."""
    cd = pt.get("customdata") or []
    if len(cd) < 6:
        return None
    return {"what": "cell", "true": _ids(cd[4]), "pred": _ids(cd[5]), "run": run}


def bin_target(pt: dict, run: str, errors_only: bool = True) -> dict | None:
    """A click on :func:`~lt_core.plots.metrics.bin_accuracy_chart` (customdata: ..., run, bin) -> a bin target."""
    cd = pt.get("customdata") or []
    b = cd[5] if len(cd) > 5 else pt.get("x")
    if b is None:
        return None
    return {"what": "bin", "bin": str(b), "errors_only": bool(errors_only), "run": cd[4] if len(cd) > 4 else run}


def class_target(pt: dict, run: str, role: str = "true") -> dict | None:
    """A click on :func:`~lt_core.plots.metrics.recall_vs_count_chart` (customdata[4] class id, [5] run)."""
    cd = pt.get("customdata") or []
    if len(cd) < 5:
        return None
    return {"what": "class", "class_id": int(cd[4]), "role": role, "run": cd[5] if len(cd) > 5 else run}


def flow_target(pt: dict, run: str) -> dict | None:
    """A click on :func:`~lt_core.plots.metrics.error_destination_chart` (customdata: errors, true bin, bin)."""
    cd = pt.get("customdata") or []
    if len(cd) < 3:
        return None
    return {"what": "flow", "true_bin": str(cd[1]), "pred_bin": str(cd[2]), "run": run}


# ---------------------------------------------------------------------------------------------- pickers
def class_picker(key: str, classes, scheme: str, label: str = "or pick a class", role_choice: bool = True) -> None:
    """A class selectbox (tail first) that sets the panel's target like a click does."""
    from lt_core.bins import parse_bins

    bins = classes.bins(parse_bins(scheme))
    order = np.argsort(classes.train_count, kind="stable")
    opts = [int(classes.ids[i]) for i in order]
    names = {int(classes.ids[i]): f"{classes.names[i]} ({bins[i]}, train {int(classes.train_count[i]):,})"
             for i in range(classes.n_classes)}
    tgt = target(key) or {}
    cur = int(tgt["class_id"]) if tgt.get("what") == "class" else None
    kp = f"{key}_pick_class"
    if st.session_state.get(kp) != cur and (cur is None or cur in names):
        st.session_state[kp] = cur

    def on_change():
        v = st.session_state.get(kp)
        old = target(key) or {}
        if v is not None:
            set_target(key, {"what": "class", "class_id": int(v), "role": old.get("role", "true"),
                             "errors_only": old.get("errors_only", False)})

    c = st.columns([3, 2]) if role_choice else [st.container()]
    c[0].selectbox(label, opts, index=None, format_func=names.get, key=kp, on_change=on_change,
                   placeholder="click a point, or type a class name",
                   help="Rarest classes first. The class's test samples, most confident mistakes first.")
    if role_choice and tgt.get("what") == "class":
        kr = f"{key}_role"
        st.session_state.setdefault(kr, tgt.get("role", "true"))

        def on_role():
            t = dict(target(key) or {})
            if t.get("what") == "class":
                t["role"] = st.session_state[kr]
                set_target(key, t)
        c[1].radio("samples", ["true", "predicted"], key=kr, horizontal=True, on_change=on_role,
                   format_func={"true": "of the class (recall)", "predicted": "predicted as it (precision)"}.get,
                   help="The class's own samples (its recall), or the samples predicted as the class (its precision).")


def cell_picker(key: str, classes, label: str = "or pick a cell") -> None:
    """Two selectboxes (true class, predicted class) that set a confusion-cell target."""
    tgt = target(key) or {}
    names = {int(i): str(n) for i, n in zip(classes.ids, classes.names)}
    opts = [int(classes.ids[i]) for i in np.argsort(classes.train_count, kind="stable")]
    kt, kp = f"{key}_pick_true", f"{key}_pick_pred"
    if tgt.get("what") == "cell" and len(tgt["true"]) == 1 and len(tgt["pred"]) == 1:
        st.session_state[kt], st.session_state[kp] = int(tgt["true"][0]), int(tgt["pred"][0])

    def on_change():
        a, b = st.session_state.get(kt), st.session_state.get(kp)
        if a is not None and b is not None:
            set_target(key, {"what": "cell", "true": [int(a)], "pred": [int(b)]})

    c = st.columns(2)
    c[0].selectbox(f"{label}: true class", opts, index=None, format_func=names.get, key=kt, on_change=on_change,
                   placeholder="true class", help="Rarest classes first.")
    c[1].selectbox("predicted as", opts, index=None, format_func=names.get, key=kp, on_change=on_change,
                   placeholder="predicted class")


def bin_picker(key: str, bin_names: list[str], label: str = "or pick a bin") -> None:
    """A bin choice (and 'mistakes only') that sets a bin target."""
    tgt = target(key) or {}
    kb, ke = f"{key}_pick_bin", f"{key}_pick_err"
    if tgt.get("what") == "bin" and tgt["bin"] in bin_names:
        st.session_state[kb] = tgt["bin"]

    def on_change():
        b = st.session_state.get(kb)
        if b is not None:
            set_target(key, {"what": "bin", "bin": b, "errors_only": bool(st.session_state.get(ke, True))})

    c = st.columns([3, 2])
    c[0].selectbox(label, bin_names, index=None, key=kb, on_change=on_change, placeholder="click a bar, or pick a bin",
                   help="The test samples whose TRUE class is in the bin.")
    c[1].toggle("mistakes only", value=True, key=ke, on_change=on_change)


# ---------------------------------------------------------------------------------------------- drawing
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$])")


def _md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", "  \n")


def _pct(x) -> str:
    return "–" if x is None or x != x else f"{100 * float(x):.1f}%"


def _line(r: pd.Series) -> str:
    """``✗ true grief → predicted sadness · 91.2%`` for one row (classification or a change)."""
    if "change" in r.index and "class_name" in r.index:
        mark = "✓ fixed" if r["change"] == "fixed" else "✗ broken"
        olds = [c for c in r.index if c.startswith("outcome_")]
        how = f"{r[olds[0]]} → {r[olds[1]]}" if len(olds) == 2 else ""
        return (f"{mark} **{r['class_name']}** {how} · p {_pct(r['probability'])} · true: "
                f"{r['true_labels'] or '—'}")
    if "outcome" in r.index and "class_name" in r.index:
        mark = {"FN": "✗ missed", "FP": "✗ false positive", "TP": "✓ found", "TN": "· not predicted"}.get(r["outcome"],
                                                                                                       r["outcome"])
        pred = r.get("predicted_labels") or "nothing"
        return (f"{mark} **{r['class_name']}** · p {_pct(r['probability'])} · true: {r['true_labels'] or '—'} · "
                f"predicted: {pred}")
    if "change" in r.index:
        cols = [c for c in r.index if c.startswith("pred_name_")]
        before, after = (r[cols[0]], r[cols[1]]) if len(cols) == 2 else ("?", "?")
        mark = "✓ fixed" if r["change"] == "fixed" else "✗ broken"
        return f"{mark} · true **{r['true_name']}** · {before} → {after}"
    mark = "✓" if bool(r.get("correct", False)) else "✗"
    conf = r.get("confidence")
    tail = f" · {_pct(conf)}" if conf == conf and conf is not None else ""
    return f"{mark} true **{r['true_name']}** → **{r['pred_name']}**{tail}"


_TABLE_COLS = ["row", "sample_id", "true_name", "true_bin", "pred_name", "pred_bin", "correct", "confidence",
               "true_prob", "margin", "change", "class_name", "outcome", "probability", "true_labels",
               "predicted_labels", "text"]


def _table(rows: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in _TABLE_COLS if c in rows.columns]
    extra = [c for c in rows.columns if c.startswith(("pred_name_", "confidence_")) and c not in cols]
    return rows[cols[:5] + extra + cols[5:]] if extra else rows[cols]


def _page(key: str, n_rows: int, size: int, title: str) -> tuple[int, int]:
    """The visible slice [a, b) of ``n_rows``; the page resets when the selection changes."""
    n_pages = max(1, math.ceil(n_rows / size))
    kp, ks = f"{key}_page", f"{key}_page_of"
    if st.session_state.get(ks) != title or int(st.session_state.get(kp, 1)) > n_pages:
        st.session_state[ks] = title
        st.session_state[kp] = 1
    if n_pages > 1:
        c = st.columns([1, 3])
        c[0].number_input("page", 1, n_pages, step=1, key=kp, help=f"{n_pages:,} pages of {size}")
        c[1].caption(f"page {int(st.session_state[kp])} of {n_pages:,}")
    page = int(st.session_state.get(kp, 1))
    a = (page - 1) * size
    return a, min(n_rows, a + size)


def _short_line(r: pd.Series) -> str:
    """One line under a thumbnail: ``✗ grief → sadness 91%`` (the file name below it)."""
    if "class_name" in r.index:  # multi-label rows
        what = r["change"] if "change" in r.index else r["outcome"]
        return f"{what} {r['class_name']} {_pct(r['probability'])}"
    if "change" in r.index:
        cols = [c for c in r.index if c.startswith("pred_name_")]
        mark = "✓" if r["change"] == "fixed" else "✗"
        return f"{mark} {r['true_name']}: {r[cols[0]]} → {r[cols[1]]}" if len(cols) == 2 else _line(r)
    mark = "✓" if bool(r.get("correct", False)) else "✗"
    conf = r.get("confidence")
    tail = f" {100 * float(conf):.0f}%" if conf is not None and conf == conf else ""
    return f"{mark} {r['true_name']} → {r['pred_name']}{tail}"


def _short_name(name: str, n: int = 12) -> str:
    """A file name cut to its last ``n`` characters (``…_00379.jpg``: one line under a thumbnail beside
    a chart; the class is in the line above, the full path on hover)."""
    return name if len(name) <= n else f"…{name[-(n - 1):]}"


def _show_images(rows: pd.DataFrame, content: SampleContent, thumbs) -> None:
    paths = content.image_paths(rows["row"].tolist())
    cols = st.columns(3)
    for i, ((_, r), path) in enumerate(zip(rows.iterrows(), paths)):
        with cols[i % 3]:
            if path is None:
                st.caption(f"no image file for `{content.relpath(r['row'])}` under the image folder")
            else:
                try:
                    st.image(str(thumbs.get(path, THUMB_SIDE)), width="stretch")
                except InputError as e:
                    st.caption(f"cannot show `{content.relpath(r['row'])}`: {e}")
            st.caption(f"{_short_line(r)}  \n{_md_escape(_short_name(Path(str(r['sample_id'])).name))}",
                       help=f"{_line(r)} · {r['sample_id']}")


def _show_texts(rows: pd.DataFrame) -> None:
    for _, r in rows.iterrows():
        with st.container(border=True):
            st.caption(_line(r) + f" · id `{r['sample_id']}`")
            t = r.get("text")
            st.markdown(_md_escape(t) if isinstance(t, str) and t.strip() else "*(no text)*")


def show_selection(sel: Selection, content: SampleContent | None, key: str, *, csv_name: str,
                   cap: int = DISPLAY_CAP, thumbs=None) -> None:
    """Draw one selection: what it is, one page of its samples (images, texts or rows), its table
    and a CSV download of every row.

    Parameters
    ----------
    sel : Selection
        Uncapped (the download has every row); the panel pages through the first ``cap``.
    content : SampleContent or None
        The images / texts behind the rows.
    """
    shown = Selection(sel.title, sel.rows.head(cap), sel.total, sel.kind, sel.order)
    st.markdown(f"**{_md_escape(sel.title)}**")
    st.caption(shown.caption())
    if sel.total == 0:
        st.info("No samples here.", icon=":material/info:")
        return
    kind = content.kind if content is not None else "none"
    size = PAGE_SIZE_IMAGES if kind == "image" else PAGE_SIZE_TEXT
    a, b = _page(key, shown.shown, size, sel.title)
    rows = shown.rows.iloc[a:b]
    if kind == "image":
        _show_images(rows, content, thumbs or thumbnail_cache())
    elif kind == "text" or "text" in rows.columns:
        _show_texts(rows)
    else:
        st.dataframe(_table(rows), hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(c, format="percent")
                                    for c in ("confidence", "true_prob", "margin", "probability") if c in rows.columns})
    # stacked, not side by side: the panel beside a chart is narrow (a button label would be cut)
    st.download_button(f"CSV of all {sel.total:,}", data=sel.to_csv, file_name=csv_name, mime="text/csv",
                       key=f"{key}_csv", icon=":material/download:", on_click="ignore",
                       help="Every row of the selection: sample ids, true and predicted classes, bins, scores "
                            "(to relabel or to train on).")
    if kind in ("image", "text"):
        with st.expander(f"table of the first {shown.shown:,}"):
            st.dataframe(_table(shown.rows.drop(columns=["text"], errors="ignore")), hide_index=True,
                         width="stretch", height=260)


def _content_note(ds, split: str, content: SampleContent) -> None:
    err = st.session_state.pop(f"ex_root_error_{split}", None)
    if err:
        st.warning(f"The image folder cannot be used: {err}", icon=":material/warning:")
    if content.kind == "none":
        ids = ds.labels[split].sample_ids
        looks_like_paths = ids is not None and len(ids) and any("/" in str(v) for v in ids[:20])
        if looks_like_paths:
            st.caption("The sample ids are file paths: give their image folder on the **Data** page to see the "
                       "images.")


def show_examples(ds, run: str, split: str, scheme: str, key: str, *, hint: str,
                  pickers: Callable[[], None] | None = None, csv_prefix: str = "examples") -> None:
    """The examples panel of one chart: pickers, then the target's samples (or a hint).

    ``key`` names the panel (its target lives in ``st.session_state[key + "_target"]``).
    """
    tgt = target(key)
    if tgt is None:
        st.caption(hint)
    if pickers is not None:
        pickers()
    tgt = target(key)
    if tgt is None:
        return
    try:
        base = base_table(ds, run, split, scheme)
        sel = selection_for(base, ds.classes, tgt)
        content = content_for(ds, split)
    except InputError as e:
        from ui import state

        state.show_error(e, "examples")
        return
    _content_note(ds, split, content)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{csv_prefix}_{run}_{split}_{sel.title}")[:120]
    show_selection(sel, content, key, csv_name=f"{safe}.csv")


def changes_panel(ds, split: str, key: str, make: Callable[[str, Any], Selection], *, names: tuple[str, str],
                  csv_prefix: str = "changes", scheme: str | None = None) -> None:
    """What a decision change fixed and broke: which (broken / fixed / both), an optional class or
    bin (from a click on the chart beside it, or picked), and the samples.

    ``make(which, true_ids)`` returns the uncapped :class:`Selection`
    (:func:`lt_core.examples.decision_changes`); ``true_ids`` is None (all classes), a class id, or
    the class ids of a clicked bin (a ``{"what": "bin"}`` target; needs ``scheme``).
    """
    kw = f"{key}_which"
    c = st.columns([3, 2])
    which = c[0].segmented_control("show", ["broken", "fixed", "both"], default="broken", key=kw,
                                   format_func={"broken": f"broken by {names[1]}", "fixed": f"fixed by {names[1]}",
                                                "both": "both"}.get,
                                   help=f"broken: right with {names[0]}, wrong with {names[1]}; fixed: the other way.")
    tgt = target(key) or {}
    cls = tgt.get("class_id") if tgt.get("what") == "class" else None
    if tgt.get("what") == "bin" and scheme is not None:
        from lt_core.bins import parse_bins

        bins = np.asarray(ds.classes.bins(parse_bins(scheme)), dtype=object)
        cls = [int(i) for i in np.asarray(ds.classes.ids)[bins == tgt["bin"]]] or None
        if cls is not None:
            st.caption(f"The **{_md_escape(tgt['bin'])}** bin: {len(cls):,} classes.")
    if cls is not None and c[1].button("all classes", key=f"{key}_all", icon=":material/close:"):
        set_target(key, None)
        cls = None
    try:
        sel = make(which or "broken", cls)
        content = content_for(ds, split)
    except InputError as e:
        from ui import state

        state.show_error(e, "examples")
        return
    _content_note(ds, split, content)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{csv_prefix}_{split}_{sel.title}")[:120]
    show_selection(sel, content, key, csv_name=f"{safe}.csv")


def multilabel_panel(ds, run: str, split: str, scheme: str, key: str, *, decided=None, threshold=0.5,
                     hint: str = "Click a class to see its missed positives and false positives.") -> None:
    """The multi-label examples of one class: missed positives / false positives (most confident first).

    ``decided`` are the run's decisions (N x C bool) the page judges; default ``p >= threshold``.
    """
    from lt_core.examples import MULTILABEL_WHICH, multilabel_class

    c = st.columns([3, 2])
    with c[0]:
        class_picker(key, ds.classes, scheme, role_choice=False)
    which = c[1].selectbox("show", list(MULTILABEL_WHICH), key=f"{key}_which",
                           help="errors: missed positives (FN) and false positives (FP) of the class at the page's "
                                "decision; positives: its true samples (found and missed); predicted: what the "
                                "decision gave the class.")
    tgt = target(key)
    if tgt is None or tgt.get("what") != "class":
        st.caption(hint)
        return
    p = ds.runs[run].preds[split]
    kind = p.kind if p.kind in ("probs", "logits") else "logits"
    try:
        sel = multilabel_class(ds.labels[split], p.scores, ds.classes, int(tgt["class_id"]), kind=kind,
                               decided=decided, threshold=threshold, which=which, cap=None)
        content = content_for(ds, split)
    except InputError as e:
        from ui import state

        state.show_error(e, "examples")
        return
    _content_note(ds, split, content)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"multilabel_{run}_{split}_{sel.title}")[:120]
    show_selection(sel, content, key, csv_name=f"{safe}.csv")


def multilabel_changes_panel(ds, split: str, key: str, scheme: str, before, after, *, scores=None,
                             kind: str = "logits", names: tuple[str, str] = ("before", "after")) -> None:
    """Multi-label: one class's samples whose decision a fix made right or wrong (click a class, or pick)."""
    from lt_core.examples import multilabel_changes

    c = st.columns([3, 2])
    with c[0]:
        class_picker(key, ds.classes, scheme, role_choice=False)
    which = c[1].segmented_control("show", ["broken", "fixed", "both"], default="broken", key=f"{key}_which",
                                   help=f"broken: right with {names[0]}, wrong with {names[1]}; fixed: the other way")
    tgt = target(key)
    if tgt is None or tgt.get("what") != "class":
        st.caption("Click a class in the chart (or pick one): the samples whose decision on it changed.")
        return
    try:
        sel = multilabel_changes(ds.labels[split], ds.classes, int(tgt["class_id"]), before, after, scores=scores,
                                 kind=kind, which=which or "broken", cap=None, names=names)
        content = content_for(ds, split)
    except InputError as e:
        from ui import state

        state.show_error(e, "examples")
        return
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"multilabel_changes_{split}_{sel.title}")[:120]
    show_selection(sel, content, key, csv_name=f"{safe}.csv")


def class_of_point(pt: dict) -> dict | None:
    """A click on a chart whose markers carry the class id as their last ``customdata`` column."""
    cd = pt.get("customdata") or []
    if not len(cd):
        return None
    try:
        return {"what": "class", "class_id": int(cd[-1])}
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------- Data page
def folder_input(owner, key: str, *, label: str, placeholder: str, help: str,
                 probe: Callable[[str], str | None]) -> None:
    """A local folder for ``owner.image_root``: applied when the user presses Enter (no button, so the
    page's other buttons keep their places); confined to the data roots; ``probe(root)`` says what
    was found there."""
    from ui import files
    from ui.errors import message

    if st.session_state.get(f"{key}_of") is not owner:  # another dataset: show its own folder
        st.session_state[f"{key}_of"] = owner
        st.session_state[key] = getattr(owner, "image_root", None) or ""

    def apply() -> None:
        txt = str(st.session_state.get(key) or "").strip()
        try:
            root = files.confine(txt, "image folder") if txt else None
            if root is not None and not Path(root).is_dir():
                raise InputError("is not a folder", txt, "image folder")
        except InputError as e:
            st.session_state[f"{key}_msg"] = ("error", message(e, "image folder")[0])
            return
        from ui import state

        state.set_image_root(owner, root)  # kept with the dataset in the workspace
        st.session_state.get(MEMO, {}).clear()
        st.session_state[f"{key}_msg"] = ("success", probe(root)) if root else \
            ("info", "No image folder: the examples show their texts, tables or a plain canvas.")

    st.text_input(label, key=key, placeholder=placeholder, on_change=apply, help=help + " Press Enter to use it.")
    msg = st.session_state.pop(f"{key}_msg", None)
    if msg and msg[1]:
        {"error": st.error, "success": st.success, "info": st.info}[msg[0]](msg[1], icon=":material/image:")
    elif getattr(owner, "image_root", None):
        st.caption(f"Images from `{owner.image_root}`.")


def image_root_section(ds) -> None:
    """Where the images of a classification dataset are: a local folder (inside the data roots)."""
    own = {s: l.image_root for s, l in ds.labels.items() if getattr(l, "image_root", None)}
    st.markdown("**Images of the examples**")
    if own:
        st.caption("Image-folder labels: the images are shown from their own folders ("
                   + ", ".join(f"{s}: `{r}`" for s, r in own.items()) + ").")

    def probe(root: str) -> str | None:
        found, tried, split = _probe(ds, root)
        return f"{found:,} of the first {tried:,} {split} samples have an image under `{root}`." if tried else None

    folder_input(ds, "ex_image_root", label="Image folder (local path)",
                 placeholder="the folder your list's relative paths start from, e.g. /data/imagenet",
                 help="ImageNet-LT / Places-LT lists name images by relative path (train/n01440764/x.JPEG): give the "
                      "folder they start from (or the split folder itself). Only folders inside the data roots are "
                      "read; images are read only to make the thumbnails you look at.", probe=probe)


def _probe(ds, root: str, n: int = 200) -> tuple[int, int, str]:
    split = next((s for s in ("test", "val", "train") if s in ds.labels and ds.labels[s].sample_ids is not None), None)
    if split is None:
        return 0, 0, ""
    c = sample_content(ds.labels[split], root)
    k = min(n, len(ds.labels[split]))
    return sum(p is not None for p in c.image_paths(range(k))), k, split


def chart_event(fig, key: str, **kw) -> Any:
    """``st.plotly_chart`` with point selections on (the caller passes the event to :func:`take_click`)."""
    return st.plotly_chart(fig, key=key, on_select="rerun", selection_mode="points", **kw)


def chart_with_examples(fig, chart_key: str, panel_key: str, to_target: Callable[[dict], dict | None], *, ds,
                        split: str, scheme: str, default_run: str, hint: str,
                        pickers: Callable[[], None] | None = None, below_chart: Callable[[], None] | None = None,
                        ratio: tuple[int, int] = (3, 2)) -> None:
    """A chart on the left and, beside it, the samples behind what is clicked in it (or picked).

    The target remembers the run it was clicked on (a bar of run B shows run B's samples).
    """
    left, right = st.columns(list(ratio))
    with left:
        event = chart_event(fig, chart_key)
        if below_chart is not None:
            below_chart()
    with right:
        take_click(event, panel_key, to_target)
        tgt = target(panel_key) or {}
        run = tgt.get("run")
        if run not in ds.runs or split not in ds.runs[run].preds:
            run = default_run
        show_examples(ds, run, split, scheme, panel_key, hint=hint, pickers=pickers)
