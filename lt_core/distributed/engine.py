"""Map partitions to states on a Dask cluster and merge them as they finish, with a progress line.

:func:`map_merge` submits one task per partition (``fn(partition) -> state``) and merges finished
states pairwise as they arrive (a tree of ``merge(a, b)`` tasks on the workers), so the client
only ever receives the one final state, and memory holds a few partial states, never all of them.
This is exact for states whose merge is a sum of integer counts (order does not matter).

A worker that dies while running a task (killed, out of memory) makes Dask run the task again
on another worker (``distributed.scheduler.allowed-failures`` times); a task that *raises* (a
damaged partition: :class:`~lt_core.distributed.layout.PartitionError`) fails the run at once
with that message, and the remaining tasks are cancelled.
"""
from __future__ import annotations

import sys
import time
import uuid
from typing import Any, Callable, Sequence

__all__ = ["ProgressLine", "map_merge", "map_gather", "task_prefix"]

ProgressArg = bool | Callable[[int, int], None] | None


class ProgressLine:
    """``label: 12/40 partitions [######......] 3.1 s`` on stderr, one line updated in place.

    On a terminal the line is redrawn (at most 10 times a second); elsewhere (logs, pipes) only
    the final line is written. ``callback(done, total)`` replaces the line (e.g. an app's bar).
    """

    def __init__(self, label: str, total: int, enabled: ProgressArg = True, stream=None):
        self.label, self.total = label, int(total)
        self.callback = enabled if callable(enabled) else None
        self.enabled = bool(enabled)
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = 0
        self.t0 = time.perf_counter()
        self._last = 0.0

    def _text(self) -> str:
        w = 24
        fill = int(w * self.done / max(1, self.total))
        return (f"{self.label}: {self.done:,}/{self.total:,} partitions [{'#' * fill}{'.' * (w - fill)}] "
                f"{time.perf_counter() - self.t0:.1f} s")

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.callback is not None:
            self.callback(self.done, self.total)
            return
        if not self.enabled or not self.tty:
            return
        now = time.perf_counter()
        if now - self._last >= 0.1 or self.done >= self.total:
            self._last = now
            self.stream.write("\r" + self._text())
            self.stream.flush()

    def close(self) -> None:
        if self.callback is not None or not self.enabled:
            return
        self.stream.write(("\r" if self.tty else "") + self._text() + "\n")
        self.stream.flush()


def task_prefix(label: str) -> str:
    """A unique key prefix for one computation's tasks: ``tailscope-LABEL-<8 hex>``."""
    return f"tailscope-{label}-{uuid.uuid4().hex[:8]}"


def _cancel(client, futs) -> None:
    try:
        client.cancel(list(futs))
    except Exception:  # noqa: BLE001 - best effort: the run is failing anyway
        pass


def map_merge(client, fn: Callable, items: Sequence, merge: Callable[[Any, Any], Any], *, label: str,
              progress: ProgressArg = True, extra: tuple = (), empty: Callable[[], Any] | None = None,
              per_item: Sequence | None = None):
    """``merge(fn(item_0, *extra), fn(item_1, *extra), ...)`` computed on the cluster.

    Parameters
    ----------
    client : distributed.Client
    fn : callable(item, *extra) -> state     runs on a worker, once per item (a partition)
    items : sequence                         small, picklable descriptions (e.g. Partition)
    merge : callable(a, b) -> state          associative and commutative (integer sums)
    label : str                              names the tasks (``tailscope-LABEL-...``) and the line
    progress : bool or callable(done, total)
    extra : tuple                            further arguments of ``fn`` (futures of scattered
                                             data are resolved on the worker)
    empty : callable, optional               the state of zero items
    per_item : sequence, optional            a second argument per item (``fn(item, per_item[i],
                                             *extra)``), e.g. futures of scattered slices

    Returns
    -------
    The merged state (fetched to the client).
    """
    from distributed import as_completed

    items = list(items)
    if not items:
        if empty is None:
            raise ValueError("nothing to compute")
        return empty()
    pre = task_prefix(label)
    second = [] if per_item is None else [list(per_item)]
    futs = client.map(fn, items, *second, *[[e] * len(items) for e in extra],
                      key=[f"{pre}-map-{i}" for i in range(len(items))], pure=False)
    maps = {f.key for f in futs}
    bar = ProgressLine(label, len(items), progress)
    ac = as_completed(futs)
    alive = set(futs)
    ready = []
    n_merge = 0
    try:
        for fut in ac:
            if fut.status == "error":
                exc = fut.exception()  # the task's exception (PartitionError: file and field)
                _cancel(client, alive - {fut})
                raise exc
            if fut.key in maps:
                bar.step()
            ready.append(fut)
            while len(ready) >= 2:
                a, b = ready.pop(), ready.pop()
                m = client.submit(merge, a, b, key=f"{pre}-merge-{n_merge}", pure=False)
                n_merge += 1
                alive.discard(a)
                alive.discard(b)
                alive.add(m)
                ac.add(m)
        result = ready[0].result()
    except BaseException:
        _cancel(client, alive)
        raise
    finally:
        bar.close()
    return result


def map_gather(client, fn: Callable, items: Sequence, *, label: str, progress: ProgressArg = True,
               extra: tuple = (), per_item: Sequence | None = None) -> list:
    """``[fn(item, [per_item[i],] *extra) for item in items]`` on the cluster, in item order."""
    from distributed import as_completed

    items = list(items)
    if not items:
        return []
    pre = task_prefix(label)
    second = [] if per_item is None else [list(per_item)]
    futs = client.map(fn, items, *second, *[[e] * len(items) for e in extra],
                      key=[f"{pre}-map-{i}" for i in range(len(items))], pure=False)
    bar = ProgressLine(label, len(items), progress)
    try:
        for fut in as_completed(futs):
            if fut.status == "error":
                exc = fut.exception()
                _cancel(client, [f for f in futs if f is not fut])
                raise exc
            bar.step()
        return client.gather(futs)
    except BaseException:
        _cancel(client, futs)
        raise
    finally:
        bar.close()


def _pick(value, k: int):
    return value[k]


def _tree_merge(client, futs: list, merge: Callable, prefix: str):
    """A future of the pairwise merge of futures (a balanced tree of merge tasks)."""
    level, n = list(futs), 0
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level) - 1, 2):
            nxt.append(client.submit(merge, level[i], level[i + 1], key=f"{prefix}-side-merge-{n}", pure=False))
            n += 1
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def map_buckets(client, fn: Callable, items: Sequence, n_buckets: int, reduce: Callable, *, label: str,
                side_merge: Callable | None = None, progress: ProgressArg = True, extra: tuple = (),
                reduce_extra: tuple = (), per_bucket: Sequence | None = None):
    """Map, then shuffle by bucket and reduce each bucket on one worker.

    ``fn(item, *extra)`` returns ``(side, pieces)``: a small state merged over items with
    ``side_merge`` (a tree of tasks), and ``n_buckets`` pieces; ``reduce(k, [piece_k of every
    item], [per_bucket[k],] *reduce_extra)`` runs once per bucket on the pieces of bucket k (moved
    between workers by Dask, never through the client). Returns ``(merged side, [reduce result
    per bucket])``.
    """
    from distributed import as_completed, wait

    items = list(items)
    pre = task_prefix(label)
    futs = client.map(fn, items, *[[e] * len(items) for e in extra], key=[f"{pre}-map-{i}" for i in range(len(items))],
                      pure=False)
    bar = ProgressLine(label, len(items), progress)
    try:
        for fut in as_completed(futs):
            if fut.status == "error":
                exc = fut.exception()
                _cancel(client, [f for f in futs if f is not fut])
                raise exc
            bar.step()
    except BaseException:
        _cancel(client, futs)
        raise
    finally:
        bar.close()
    sides = [client.submit(_pick, f, 0, key=f"{pre}-side-{i}", pure=False) for i, f in enumerate(futs)]
    pieces = [client.submit(_pick, f, 1, key=f"{pre}-pieces-{i}", pure=False) for i, f in enumerate(futs)]
    del futs
    cells = [[client.submit(_pick, p, k, key=f"{pre}-cell-{i}-{k}", pure=False) for k in range(n_buckets)]
             for i, p in enumerate(pieces)]
    del pieces
    pb = [() if per_bucket is None else (per_bucket[k],) for k in range(n_buckets)]
    reds = [client.submit(reduce, k, [row[k] for row in cells], *pb[k], *reduce_extra, key=f"{pre}-reduce-{k}",
                          pure=False) for k in range(n_buckets)]
    side = _tree_merge(client, sides, side_merge, pre) if side_merge is not None and sides else None
    wait(reds + ([side] if side is not None else []))
    for f in reds + ([side] if side is not None else []):
        if f.status == "error":
            raise f.exception()
    return (side.result() if side is not None else None), client.gather(reds)
