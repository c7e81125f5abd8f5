"""'Run on Dask': a page hands a long evaluation to lt_core.distributed (the same numbers).

A page shows :func:`dask_option` (an expander with the scheduler address, empty = this process)
and, when it returns a spec, computes its state with the functions here instead of in process.
The LocalCluster (``local:N``) or the connection (``tcp://HOST:PORT``) is kept for the server's
life (``st.cache_resource``), so reruns do not start a new cluster. In-memory predictions are
written to a temporary Parquet dataset (``TAILSCOPE_DASK_TMP``; shared storage for a remote
cluster) and removed afterwards. Dask is imported only when a spec is given.
"""
from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np
import streamlit as st

__all__ = ["dask_option", "confusion_state_on_dask", "detections_on_dask", "shutdown"]


def dask_option(key: str) -> str | None:
    """An expander 'Run on Dask' with the scheduler field; the checked spec text, or None."""
    with st.expander("Run on Dask", icon=":material/lan:"):
        text = st.text_input("Scheduler", value="", key=key, placeholder="local:2  or  tcp://scheduler:8786",
                             help="Empty: compute here. local:N starts N worker processes on this machine (kept while "
                                  "the app runs); tcp://HOST:PORT uses a running Dask scheduler. The numbers are the "
                                  "same bit for bit (docs/distributed.md).")
        text = (text or "").strip()
        if not text:
            return None
        from lt_core.distributed.cluster import parse_dask_spec
        from lt_core.errors import InputError

        try:
            spec = parse_dask_spec(text)
        except InputError as e:
            st.error(f"{e.message} ({e.hint})" if e.hint else e.message, icon=":material/error:")
            return None
        st.caption(f"Computing on Dask: {spec.text}")
        return spec.text


_OPEN: list = []  # the cluster contexts this server started or opened (closed at exit, or by shutdown())


@st.cache_resource(show_spinner="Starting / connecting to the Dask cluster…")
def _client(spec: str):
    import atexit

    from lt_core.distributed.cluster import dask_client

    cm = dask_client(spec)
    client = cm.__enter__()
    if not _OPEN:
        atexit.register(shutdown)
    _OPEN.append(cm)
    return cm, client


def shutdown() -> None:
    """Close every cluster / connection the app opened (a LocalCluster's workers end)."""
    _client.clear()
    while _OPEN:
        cm = _OPEN.pop()
        try:
            cm.__exit__(None, None, None)
        except Exception:  # noqa: BLE001 - closing at exit: best effort
            pass


def confusion_state_on_dask(spec: str, y: np.ndarray, preds, classes, max_k: int):
    """The ConfusionState of one run computed on Dask (what the page computes in process)."""
    from lt_core.data.schema import Labels
    from lt_core.distributed.classification import classification_state, temp_root
    from lt_core.distributed.convert import write_scores_dataset

    _, client = _client(spec)
    tmp = tempfile.mkdtemp(prefix="tailscope-app-dask-", dir=temp_root())
    bar = st.progress(0.0, text="partitions done on Dask")
    try:
        arr = preds.scores if preds.scores is not None else classes.ids[preds.labels]
        np.save(f"{tmp}/preds.npy", arr)
        folder = f"{tmp}/ds"
        os.mkdir(folder)
        ds = write_scores_dataset(folder, f"{tmp}/preds.npy", classes, Labels(np.asarray(y), "test"))
        state, _ = classification_state(client, ds, classes, None, top_k=(1, max(1, int(max_k))),
                                        kind=preds.kind if preds.scores is not None else None,
                                        progress=lambda d, t: bar.progress(d / max(t, 1),
                                                                           text=f"{d}/{t} partitions done on Dask"))
        return state
    finally:
        bar.empty()
        shutil.rmtree(tmp, ignore_errors=True)


def detections_on_dask(spec: str, gt, results, iou_type: str, style: str, max_dets: int, progress=None):
    """A DetectionEvaluation computed on Dask, with the full per-detection state gathered back (so
    every view of the page works on it): the numbers of the in-process evaluator."""
    from lt_core.distributed.classification import temp_root
    from lt_core.distributed.convert import write_detections_dataset
    from lt_core.distributed.detection import evaluate_detections

    _, client = _client(spec)
    tmp = tempfile.mkdtemp(prefix="tailscope-app-dask-", dir=temp_root())
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        folder = f"{tmp}/ds"
        os.mkdir(folder)
        ds = write_detections_dataset(folder, results, n_partitions=max(2 * n_workers, -(-len(results) // 1_000_000)))
        run = evaluate_detections(client, gt, ds, iou_type=iou_type, style=style, max_dets=max_dets,
                                  name=results.name, gather_state=True,
                                  progress=(lambda d, t: progress(d / max(t, 1), f"{d}/{t} partitions matched on Dask"))
                                  if progress else False)
        return run.ev
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
