"""Process-wide memory settings for the large NumPy arrays Tailscope allocates.

NumPy asks the kernel for transparent huge pages (``madvise(MADV_HUGEPAGE)``) on every large
allocation. Where the kernel then compacts memory on the spot (THP ``defrag = madvise``, the default
of many distributions and common on VMs and shared machines), each fresh large array costs a page
compaction: measured on the 2-core CI-like machine, ``np.load`` of a 200 MB score file 1.1-1.7 s with
huge pages vs 0.11-0.13 s without, ``np.ones((50000, 1000), np.float32)`` 1.39 s vs 0.10 s; reading
LVIS v1 val-sized results 3 s of system time vs 0.4 s. Tailscope's work is allocation-heavy
(score matrices, match tables) and rarely TLB-bound, so every entry point (the command line, the app's
server process, Dask workers started by Tailscope) turns the request off. A user's own
``NUMPY_MADVISE_HUGEPAGE`` setting always wins.
"""
from __future__ import annotations

import os

__all__ = ["no_hugepage_madvise"]


def no_hugepage_madvise() -> bool:
    """Turn NumPy's huge-page requests off in this process (idempotent).

    Returns
    -------
    bool
        True when the setting was changed or already off, False when left alone (the user set
        ``NUMPY_MADVISE_HUGEPAGE``, or this NumPy has no such switch).
    """
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return False
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # pragma: no cover - other NumPy layouts
        return False
    _set_madvise_hugepage(False)
    return True
