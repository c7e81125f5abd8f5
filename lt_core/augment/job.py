"""A copy-paste run in a background thread, with progress and a cancel flag (for the app).

Like :class:`lt_core.heads.job.RetrainJob`: the page keeps the job in session state and polls
``job.fraction`` / ``job.message()`` from a fragment; the pixel work runs in worker processes (or
this thread), so the page stays responsive. Cancelling stops before the next image and leaves
nothing on disk (the output folder is written as a whole).
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from ..errors import InputError
from .pipeline import AugmentCancelled

__all__ = ["AugmentJob"]


class AugmentJob:
    """Run ``fn(progress=..., cancel=...)`` in a daemon thread.

    Attributes
    ----------
    status : {"pending", "running", "done", "cancelled", "failed"}
    done, total : int        images finished / to do
    text : str               the latest progress line
    result : Any             ``fn``'s return value once done (a CopyPasteReport)
    error : Exception or None
    """

    def __init__(self, fn: Callable[..., Any], *, label: str = "", start: bool = True):
        self.fn, self.label = fn, label
        self.status = "pending"
        self.done = self.total = 0
        self.text = "starting…"
        self.result: Any = None
        self.error: BaseException | None = None
        self.started_at = self.finished_at = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"augment-{label}", daemon=True)
        if start:
            self.start()

    def start(self) -> "AugmentJob":
        self.status = "running"
        self.started_at = time.time()
        self._thread.start()
        return self

    def _progress(self, done: int, total: int, text: str) -> None:
        self.done, self.total, self.text = int(done), int(total), text

    def _run(self) -> None:
        try:
            self.result = self.fn(progress=self._progress, cancel=self._cancel)
            self.status = "done"
        except AugmentCancelled:
            self.status = "cancelled"
        except Exception as e:  # reported on the page, never lost
            self.error = e
            self.status = "failed"
        finally:
            self.finished_at = time.time()

    def cancel(self) -> None:
        """Stop before the next image; nothing is written."""
        self._cancel.set()

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def wait(self, timeout: float | None = None) -> "AugmentJob":
        self._thread.join(timeout)
        return self

    def message(self) -> str:
        if self.status == "running":
            return self.text
        if self.status == "failed":
            kind = "" if isinstance(self.error, InputError) else f"{type(self.error).__name__}: "
            return f"failed: {kind}{self.error}"
        return self.status
