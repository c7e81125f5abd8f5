"""Workspaces: everything loaded and made in Tailscope, kept in a folder that survives a restart.

A workspace holds the user's input files (copied in, uploads too), the runs made in the app (NPY),
the adjustments, threshold sets and retrained heads that made them (JSON, safetensors), and a
manifest written last and atomically. From Python::

    import lt_core.workspace as W
    ws = W.open("~/.tailscope/workspaces/places-lt")
    ws.classification.runs          # every run, loaded or made in the app
    ws.artifacts["head-…"].load()   # a retrained head (lt_core.heads.LoadedHead)

See ``docs/workspace.md`` for the layout and the manifest's fields.
"""
from __future__ import annotations

import os

from .store import (FORMAT, MANIFEST, VERSION, Artifact, Workspace, WorkspaceInfo, create, default_root, delete,
                    list_workspaces, open_workspace, slugify)

__all__ = ["open", "create", "delete", "list_workspaces", "default_root", "slugify", "Workspace", "WorkspaceInfo",
           "Artifact", "MANIFEST", "FORMAT", "VERSION"]


def open(path: str | os.PathLike, **builtins) -> Workspace:  # noqa: A001 - the documented name
    """Open a workspace folder: its datasets (re-read through the loaders), runs and artifacts.

    Parameters
    ----------
    path : str or Path
        The workspace folder (``~`` is expanded).

    Returns
    -------
    Workspace
        ``.classification`` / ``.detection`` (datasets or None), ``.runs``, ``.artifacts``, ``.bins``.
    """
    return open_workspace(os.path.expanduser(os.fspath(path)), **builtins)
