"""Where the work runs: ``local:N`` (a LocalCluster this process starts and closes) or a scheduler.

``--dask local:N`` starts N worker *processes* (one thread each: the kernels are NumPy / numba
loops that hold the GIL between calls, and one thread per process keeps memory per worker
predictable), each with a memory limit of 80 % of this machine's memory / N; ``--dask
tcp://HOST:PORT`` (or ``tls://``) connects to a running scheduler (``dask scheduler`` /
``dask worker``, a Kubernetes or cloud cluster: docs/distributed.md). A
:class:`distributed.Client` made by the caller can be passed everywhere instead.
"""
from __future__ import annotations

import logging
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from ..errors import InputError

__all__ = ["DaskSpec", "parse_dask_spec", "dask_client", "MAX_LOCAL_WORKERS"]

MAX_LOCAL_WORKERS = 256
_LOCAL = re.compile(r"^local(?::(\d+))?$")
_ADDR = re.compile(r"^(tcp|tls)://[^\s/:]+:\d{1,5}$")


@dataclass(frozen=True)
class DaskSpec:
    """A parsed ``--dask`` value: ``local`` with ``n_workers``, or a scheduler ``address``."""

    text: str
    n_workers: int | None = None
    address: str | None = None

    @property
    def is_local(self) -> bool:
        return self.address is None


def parse_dask_spec(text: str) -> DaskSpec:
    """``local:N`` (1 <= N <= 256; ``local`` = one worker per core) or ``tcp://HOST:PORT``.

    Raises :class:`InputError` for anything else.
    """
    t = str(text).strip()
    m = _LOCAL.match(t)
    if m:
        n = int(m.group(1)) if m.group(1) else max(1, os.cpu_count() or 1)
        if not 1 <= n <= MAX_LOCAL_WORKERS:
            raise InputError(f"local:N needs 1 <= N <= {MAX_LOCAL_WORKERS} workers, got {n}", field="--dask")
        return DaskSpec(t, n_workers=n)
    if _ADDR.match(t) and 0 < int(t.rsplit(":", 1)[1]) < 65536:
        return DaskSpec(t, address=t)
    raise InputError(f"'{t}' is neither local:N nor a scheduler address", field="--dask",
                     hint="use local:4 (four worker processes on this machine) or tcp://HOST:8786")


def _memory_limit(n_workers: int) -> int:
    try:
        import psutil

        total = int(psutil.virtual_memory().total)
    except Exception:  # noqa: BLE001 - psutil comes with distributed; a stripped system still works
        total = 8 << 30
    return max(512 << 20, int(0.8 * total / max(1, n_workers)))


def _worker_setup(client) -> None:
    """Set up every worker of a LocalCluster this process started, also ones restarted later."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class _TailscopeWorker(WorkerPlugin):
        name = "tailscope-worker-setup"

        def setup(self, worker):
            from lt_core.memory import no_hugepage_madvise
            no_hugepage_madvise()

    client.register_plugin(_TailscopeWorker())


@contextmanager
def dask_client(spec, *, quiet: bool = True) -> Iterator:
    """A :class:`distributed.Client` for ``spec`` (str, :class:`DaskSpec` or an existing Client).

    ``local:N`` starts a LocalCluster of N worker processes (threads_per_worker=1, memory limit
    80 % of RAM / N, no dashboard, NumPy's huge-page requests off in the workers) and closes it on
    exit; an address connects (and disconnects,
    leaving the cluster running); a Client is yielded as it is and left open.
    """
    from distributed import Client

    if isinstance(spec, Client):
        yield spec
        return
    s = spec if isinstance(spec, DaskSpec) else parse_dask_spec(spec)
    level = logging.CRITICAL if quiet else logging.WARNING  # task errors come back as the run's message
    if s.is_local:
        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=s.n_workers, threads_per_worker=1, processes=True,
                               memory_limit=_memory_limit(s.n_workers), dashboard_address=None,
                               silence_logs=level)
        try:
            client = Client(cluster)
            try:
                _worker_setup(client)
                yield client
            finally:
                client.close()
        finally:
            cluster.close()
        return
    try:
        client = Client(s.address, timeout="10s")
    except (OSError, TimeoutError) as e:
        raise InputError(f"cannot reach the Dask scheduler ({' '.join(str(e).split())[:160]})", s.address, "--dask",
                         hint="start one with 'dask scheduler' and workers with 'dask worker ADDRESS', "
                              "or use --dask local:N") from None
    try:
        yield client
    finally:
        client.close()
