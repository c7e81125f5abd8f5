"""The compiled-kernel switch: numba when it is installed and not disabled, else plain Python.

``TAILSCOPE_KERNELS=numpy`` (or :func:`set_backend` ``("numpy")``) selects the pure-NumPy
reference path of the evaluator (:mod:`lt_core.detection.matching` /
:mod:`~lt_core.detection.accumulate`); the tests compare both paths on random scenes.
numba is imported only when a kernel is first used (:mod:`lt_core.detection.kernels` is imported
lazily), so ``import lt_core.detection`` stays light. Kernels are compiled once and cached on disk (``cache=True``, next to the sources or in
``NUMBA_CACHE_DIR``).
"""
from __future__ import annotations

import os

__all__ = ["backend", "set_backend", "use_kernels"]

_BACKEND = os.environ.get("TAILSCOPE_KERNELS", "numba").strip().lower() or "numba"


def backend() -> str:
    """``"numba"`` (compiled kernels) or ``"numpy"`` (the vectorised reference path)."""
    return _BACKEND


def set_backend(name: str) -> str:
    """Select ``"numba"`` or ``"numpy"``; returns the previous backend."""
    global _BACKEND
    if name not in ("numba", "numpy"):
        raise ValueError("backend must be 'numba' or 'numpy'")
    old, _BACKEND = _BACKEND, name
    return old


def use_kernels() -> bool:
    """True when the compiled kernels are selected and numba imports."""
    if _BACKEND != "numba":
        return False
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - numba is a pinned requirement
        return False
    return True
