"""The names files are shown by: the user's own name for a path (no heavy imports, so the detection
readers use it too).

An upload is saved under a temporary name and every input is read from its copy in a workspace;
inside :func:`shown_as`, messages and ``source`` fields name each such path as the user knows it.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

__all__ = ["shown_as", "display_name", "file_name"]

_SHOWN_AS: ContextVar[dict[str, str]] = ContextVar("tailscope_shown_as", default={})


@contextmanager
def shown_as(names: dict):
    """Inside this block, messages and ``source`` fields name each path by the user's name for it.

    ``names`` maps a path (as given to a loader) to what the user knows the file as, e.g. the
    original name of an upload saved under a temporary name, or of a copy in a workspace.
    """
    token = _SHOWN_AS.set({**_SHOWN_AS.get(), **{str(k): str(v) for k, v in names.items()}})
    try:
        yield
    finally:
        _SHOWN_AS.reset(token)


def display_name(path) -> str:
    """How messages name ``path`` (the user's name for it inside :func:`shown_as`, else the path)."""
    s = str(path)
    return _SHOWN_AS.get().get(s, s)


def file_name(path) -> str:
    """The file's own name as the user knows it (``data.csv`` for "data.csv (uploaded)")."""
    return Path(re.sub(r"\s+\([^()]*\)$", "", display_name(path))).name
