"""A retraining running in a background thread, with progress and a cancel flag.

The Streamlit page starts a :class:`RetrainJob`, keeps it in session state and polls
``job.progress`` / ``job.status`` from a fragment that re-runs every half second; torch releases
the GIL inside its kernels, so the page stays responsive while the head trains.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from ..errors import InputError
from .train import Progress, TrainingCancelled

__all__ = ["RetrainJob"]


class RetrainJob:
    """Run ``fn(progress=..., cancel=...)`` in a daemon thread.

    Attributes
    ----------
    status : {"running", "done", "cancelled", "failed"}
    progress : Progress       the latest progress report
    result : Any              ``fn``'s return value once ``status == "done"``
    error : Exception or None the error once ``status == "failed"`` (InputError for bad input)
    started_at, finished_at : float   ``time.time()`` stamps
    """

    def __init__(self, fn: Callable[..., Any], *, label: str = "", start: bool = True):
        self.fn, self.label = fn, label
        self.status = "pending"
        self.progress = Progress(phase="starting")
        self.result: Any = None
        self.error: BaseException | None = None
        self.started_at = self.finished_at = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"retrain-{label}", daemon=True)
        if start:
            self.start()

    def start(self) -> "RetrainJob":
        self.status = "running"
        self.started_at = time.time()
        self._thread.start()
        return self

    def _on_progress(self, p: Progress) -> None:
        self.progress = p

    def _run(self) -> None:
        try:
            self.result = self.fn(progress=self._on_progress, cancel=self._cancel)
            self.status = "done"
            self.progress.phase = "done"
        except TrainingCancelled:
            self.status = "cancelled"
        except Exception as e:  # reported on the page, never lost
            self.error = e
            self.status = "failed"
        finally:
            self.finished_at = time.time()

    def cancel(self) -> None:
        """Ask the training loop to stop before its next step."""
        self._cancel.set()

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def finished(self) -> bool:
        return self.status in ("done", "cancelled", "failed")

    def wait(self, timeout: float | None = None) -> "RetrainJob":
        """Block until the thread ends (tests, scripts)."""
        self._thread.join(timeout)
        return self

    def message(self) -> str:
        """One line for the page: epoch, loss, time left (or the outcome)."""
        p = self.progress
        if self.status == "running":
            if p.phase == "starting" or p.epochs == 0:
                return f"{p.phase}…"
            eta = "–" if p.eta_s != p.eta_s else f"{p.eta_s:,.0f} s left"
            return f"epoch {p.epoch}/{p.epochs} · step {p.step}/{p.steps} · loss {p.loss:.4f} · {eta}"
        if self.status == "failed":
            kind = "" if isinstance(self.error, InputError) else f"{type(self.error).__name__}: "
            return f"failed: {kind}{self.error}"
        return self.status
