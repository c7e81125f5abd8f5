"""Scale of the Dask path: LVIS-like detections and 100 M classification rows, local:1 / local:2.

For each size, every configuration runs in a process of its own (so peak RSS is its own):

* ``convert``: the streamed COCO results JSON -> Parquet partitions by image (one chunk in memory);
* ``single``: the single-process evaluator on the JSON (``load_results_fast`` +
  ``evaluate_detections``), up to ``--single-max`` detections (beyond, it does not fit);
* ``local:N``: ``lt_core.distributed.evaluate_detections`` on the converted folder, a LocalCluster
  of N worker processes: wall time, detections / s, peak RSS of each worker (sampled every
  0.2 s) and of the client, and the per-partition cost split read from Dask's task stream:
  matching (the map tasks: read the partition, prepare, match), shuffle (moving the class blocks
  between workers) and accumulation (the reduce tasks, one per block of classes).

Every Dask run is checked against the single-process numbers (headline and per-class AP, bit
for bit) where the single-process run fits. Classification: ``--cls-rows`` rows of (label,
predicted class) over 1,000 long-tailed classes through ``eval-cls``'s state on Dask, against
``classification_report`` in one process.

    python benchmarks/bench_distributed.py --dets 1000000 --cls-rows 10000000      # a quick look
    python benchmarks/bench_distributed.py --dets 10000000,50000000 --cls-rows 100000000

Data are generated (``det_synth.py``: the real LVIS v1 category profile, seeded) and cached in
``--out``. The machine this runs on is usually shared: the load average is printed with the
results.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

DETS_PER_IMAGE = 300


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------ workers (one process each)
def w_convert(gt_path, dt_path, out, partitions):
    from lt_core.data import load_detection_gt
    from lt_core.distributed.convert import convert_detections

    t0 = time.perf_counter()
    gt = load_detection_gt(gt_path)
    t1 = time.perf_counter()
    ds = convert_detections(dt_path, out, gt=gt, n_partitions=partitions)
    return {"wall": time.perf_counter() - t0, "convert": time.perf_counter() - t1, "peak_mb": _peak_mb(),
            "partitions": ds.n_partitions, "rows": ds.n_rows}


def w_single(gt_path, dt_path):
    from lt_core.data import load_detection_gt
    from lt_core.detection import evaluate_detections
    from lt_core.detection.fastjson import load_results_fast

    t0 = time.perf_counter()
    gt = load_detection_gt(gt_path)
    res = load_results_fast(dt_path, gt)
    t1 = time.perf_counter()
    ev = evaluate_detections(gt, res)
    t2 = time.perf_counter()
    return {"wall": t2 - t0, "load": t1 - t0, "evaluate": t2 - t1, "peak_mb": _peak_mb(), "n": len(res),
            "headline": ev.headline, "ap": [float(x) for x in ev.columns["AP"]]}


class _MemSampler:
    """Peak RSS of every worker process, sampled every 0.2 s through client.run."""

    def __init__(self, client):
        import threading

        self.client, self.peak, self.stop = client, {}, threading.Event()
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        import psutil

        def rss():
            return psutil.Process().memory_info().rss

        while not self.stop.is_set():
            try:
                for w, v in self.client.run(rss).items():
                    self.peak[w] = max(self.peak.get(w, 0), v)
            except Exception:  # noqa: BLE001 - a worker restarting
                pass
            self.stop.wait(0.2)

    def close(self):
        self.stop.set()
        self.t.join(5)
        return sorted(v / 2 ** 20 for v in self.peak.values())


def _task_split(stream) -> dict:
    """Seconds of compute per phase and of transfers, from Dask's task stream."""
    out = {"map": 0.0, "reduce": 0.0, "other": 0.0, "transfer": 0.0, "n_map": 0, "n_reduce": 0}
    for t in stream:
        k = str(t.get("key"))
        for ss in t.get("startstops", ()):
            d = ss["stop"] - ss["start"]
            if ss["action"] == "transfer":
                out["transfer"] += d
            elif ss["action"] == "compute":
                if "-map-" in k:
                    out["map"] += d
                    out["n_map"] += 1
                elif "-reduce-" in k:
                    out["reduce"] += d
                    out["n_reduce"] += 1
                else:
                    out["other"] += d
    return out


def _warm_up(client) -> None:
    """One tiny evaluation on every worker (the real COCO subset of the tests): imports, numba
    kernels loaded from their cache."""
    from lt_core.data import load_detection_gt
    from lt_core.distributed.detection import evaluate_detections

    d = ROOT / "tests" / "data" / "coco_val2014_100"
    gt = load_detection_gt(d / "instances_val2014_100.json.gz")
    n = max(1, len(client.scheduler_info()["workers"]))
    import tempfile

    from lt_core.distributed.convert import convert_detections

    with tempfile.TemporaryDirectory() as tmp:
        convert_detections(d / "instances_val2014_fakebbox100_results.json.gz", Path(tmp) / "ds", gt=gt,
                           n_partitions=2 * n)
        evaluate_detections(client, gt, Path(tmp) / "ds", progress=False)


def w_dask(gt_path, ds_path, workers):
    from distributed import get_task_stream

    from lt_core.data import load_detection_gt
    from lt_core.distributed import dask_client
    from lt_core.distributed.detection import evaluate_detections

    t0 = time.perf_counter()
    gt = load_detection_gt(gt_path)
    t_gt = time.perf_counter() - t0
    with dask_client(f"local:{workers}") as c:
        _warm_up(c)  # imports and compiled kernels loaded outside the timing
        sampler = _MemSampler(c)
        t1 = time.perf_counter()
        with get_task_stream(c) as ts:
            run = evaluate_detections(c, gt, ds_path, progress=False)
        wall = time.perf_counter() - t1
        peaks = sampler.close()
    ev = run.ev
    return {"wall": wall, "load_gt": t_gt, "peak_worker_mb": peaks, "peak_client_mb": _peak_mb(),
            "split": _task_split(ts.data), "partitions": run.n_partitions, "blocks": run.n_blocks,
            "headline": ev.headline, "ap": [float(x) for x in ev.columns["AP"]]}


def w_cls_single(ds_path):
    import numpy as np

    from lt_core.data.schema import ClassTable
    from lt_core.distributed import open_dataset
    from lt_core.distributed.layout import read_scores_partition
    from lt_core.metrics import classification_report

    ds = open_dataset(ds_path)
    t0 = time.perf_counter()
    ys, ps = [], []
    for p in ds.partitions:  # the whole label and prediction vectors in memory, as eval-cls holds them
        d = read_scores_partition(p, ds.n_classes, "pred", True)
        ys.append(d["label"])
        ps.append(d["pred"])
    y, pr = np.concatenate(ys), np.concatenate(ps)
    t1 = time.perf_counter()
    cls = ClassTable(np.arange(ds.n_classes), [str(i) for i in range(ds.n_classes)], np.asarray(ds.meta["train_count"]))
    rep = classification_report(y, pr, cls, "imagenet-lt")
    t2 = time.perf_counter()
    return {"wall": t2 - t0, "load": t1 - t0, "evaluate": t2 - t1, "peak_mb": _peak_mb(), "n": int(len(y)),
            "overall": {k: float(v) for k, v in rep.overall.items()}}


def w_cls_dask(ds_path, workers):
    import numpy as np

    from lt_core.data.schema import ClassTable
    from lt_core.distributed import dask_client, evaluate_classification, open_dataset

    ds = open_dataset(ds_path)
    cls = ClassTable(np.arange(ds.n_classes), [str(i) for i in range(ds.n_classes)], np.asarray(ds.meta["train_count"]))
    with dask_client(f"local:{workers}") as c:
        c.run(lambda: __import__("lt_core.distributed.classification"))
        sampler = _MemSampler(c)
        t0 = time.perf_counter()
        rep = evaluate_classification(c, ds_path, cls, "imagenet-lt", progress=False)
        wall = time.perf_counter() - t0
        peaks = sampler.close()
    return {"wall": wall, "peak_worker_mb": peaks, "peak_client_mb": _peak_mb(), "partitions": ds.n_partitions,
            "overall": {k: float(v) for k, v in rep.overall.items()}}


def _in_process(fn: str, *args, timeout: float = 7200):
    code = (f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
            f"import bench_distributed as b; print('RESULT' + json.dumps(b.{fn}(*{list(args)!r})))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT")]
    if r.returncode or not line:
        return {"error": (r.stderr or r.stdout)[-600:]}
    return json.loads(line[-1][6:])


# ------------------------------------------------------------------ data
def det_data(out: Path, n_dets: int, seed: int = 0) -> tuple[Path, Path]:
    from det_synth import write_lvis_like

    d = out / f"lvis_like_{n_dets}"
    g, t = d / "gt.json", d / "dets.json"
    if not (g.is_file() and t.is_file()):
        t0 = time.perf_counter()
        write_lvis_like(d, max(1, n_dets // DETS_PER_IMAGE), DETS_PER_IMAGE, seed)
        print(f"  generated {n_dets:,} detections ({t.stat().st_size / 2 ** 30:.2f} GiB JSON) in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    return g, t


def cls_data(out: Path, n_rows: int, n_classes: int = 1000, seed: int = 0) -> Path:
    """A scores dataset of (label, predicted class) rows: Zipf-like labels, 70 % right."""
    import numpy as np

    from lt_core.data.schema import ClassTable, Labels
    from lt_core.distributed.convert import convert_scores

    d = out / f"cls_{n_rows}"
    if (d / "tailscope_dataset.json").is_file():
        return d
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_classes + 1) ** 1.1
    p /= p.sum()
    y = rng.choice(n_classes, n_rows, p=p).astype(np.int32)
    pred = np.where(rng.random(n_rows) < 0.7, y, rng.integers(0, n_classes, n_rows)).astype(np.int64)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / f"cls_{n_rows}_pred.npy", pred)
    del pred
    train = np.maximum(1, np.round(p * 1e6)).astype(np.int64)
    cls = ClassTable(np.arange(n_classes), [str(i) for i in range(n_classes)], train)
    convert_scores(out / f"cls_{n_rows}_pred.npy", d, cls, Labels(y.astype(np.int64), "test"))
    os.unlink(out / f"cls_{n_rows}_pred.npy")
    import json as _j

    meta = _j.loads((d / "tailscope_dataset.json").read_text())
    meta["train_count"] = train.tolist()
    (d / "tailscope_dataset.json").write_text(_j.dumps(meta))
    return d


# ------------------------------------------------------------------ main
def _fmt_mb(v) -> str:
    if isinstance(v, list):
        return "/".join(f"{x:,.0f}" for x in v) if v else "-"
    return f"{v:,.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dets", default="10000000", help="comma-separated detection counts (default 10,000,000)")
    ap.add_argument("--workers", default="1,2", help="LocalCluster sizes (default 1,2)")
    ap.add_argument("--single-max", type=int, default=20_000_000,
                    help="run the single-process evaluator up to this many detections (default 20 M)")
    ap.add_argument("--partition-dets", type=int, default=1_000_000, help="detections per partition (default 1 M)")
    ap.add_argument("--cls-rows", type=int, default=0, help="classification rows (e.g. 100000000); 0 = skip")
    ap.add_argument("--out", default="/tmp/tailscope_bench_distributed")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    workers = [int(x) for x in a.workers.split(",") if x]
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
          f"on {os.cpu_count()} cores (a shared machine: timings are indicative)")
    rows = []
    for n in [int(x) for x in a.dets.split(",") if x]:
        print(f"\n== {n:,} LVIS-like detections ({n // DETS_PER_IMAGE:,} images x {DETS_PER_IMAGE})", flush=True)
        g, t = det_data(out, n)
        ds = out / f"lvis_like_{n}" / "parquet"
        parts = max(1, -(-n // a.partition_dets))
        if not (ds / "tailscope_dataset.json").is_file():
            r = _in_process("w_convert", str(g), str(t), str(ds), parts)
            print(f"  convert: {r.get('convert', float('nan')):.1f} s, peak RSS {r.get('peak_mb', 0):,.0f} MB, "
                  f"{r.get('partitions')} partitions" if "error" not in r else f"  convert failed: {r['error']}",
                  flush=True)
            rows.append(("convert", n, 1, r))
        single = None
        if n <= a.single_max:
            single = _in_process("w_single", str(g), str(t))
            rows.append(("single", n, 1, single))
            print(f"  single process: {single.get('wall', float('nan')):.1f} s "
                  f"(load {single.get('load', 0):.1f}, evaluate {single.get('evaluate', 0):.1f}), peak RSS "
                  f"{single.get('peak_mb', 0):,.0f} MB" if "error" not in single else f"  single failed: "
                  f"{single['error']}", flush=True)
        for w in workers:
            r = _in_process("w_dask", str(g), str(ds), w)
            if "error" in r:
                print(f"  local:{w} failed: {r['error']}", flush=True)
                continue
            if single and "ap" in single:
                r["exact"] = r["headline"] == single["headline"] and r["ap"] == single["ap"]
            rows.append((f"local:{w}", n, w, r))
            s = r["split"]
            print(f"  local:{w}: {r['wall']:.1f} s = {n / r['wall']:,.0f} dets/s; peak RSS per worker "
                  f"{_fmt_mb(r['peak_worker_mb'])} MB, client {r['peak_client_mb']:,.0f} MB; "
                  f"{r['partitions']} partitions, {r['blocks']} class blocks; exact: {r.get('exact', 'n/a')}", flush=True)
            print(f"      task seconds: matching {s['map']:.1f} ({s['map'] / max(1, s['n_map']):.2f} per partition of "
                  f"{n / r['partitions']:,.0f}), shuffle transfers {s['transfer']:.1f}, accumulation "
                  f"{s['reduce']:.1f} ({s['reduce'] / max(1, s['n_reduce']):.2f} per block), other {s['other']:.1f}",
                  flush=True)
    if a.cls_rows:
        n = a.cls_rows
        print(f"\n== {n:,} classification rows (label, predicted class), 1,000 classes", flush=True)
        t0 = time.perf_counter()
        d = cls_data(out, n)
        print(f"  dataset ready ({time.perf_counter() - t0:.0f} s)", flush=True)
        single = _in_process("w_cls_single", str(d))
        rows.append(("cls single", n, 1, single))
        if "error" not in single:
            print(f"  single process: {single['wall']:.1f} s (load {single['load']:.1f}, evaluate "
                  f"{single['evaluate']:.1f}), peak RSS {single['peak_mb']:,.0f} MB", flush=True)
        for w in workers:
            r = _in_process("w_cls_dask", str(d), w)
            if "error" in r:
                print(f"  local:{w} failed: {r['error']}", flush=True)
                continue
            r["exact"] = "overall" in single and json.dumps(r["overall"]) == json.dumps(single["overall"])
            rows.append((f"cls local:{w}", n, w, r))
            print(f"  local:{w}: {r['wall']:.1f} s = {n / r['wall']:,.0f} rows/s; peak RSS per worker "
                  f"{_fmt_mb(r['peak_worker_mb'])} MB; {r['partitions']} partitions; exact: {r['exact']}", flush=True)
    print(f"\nload average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    (out / "results.json").write_text(json.dumps([{"mode": m, "n": n, "workers": w, **r} for m, n, w, r in rows],
                                                 default=str, indent=1))
    print(f"results: {out / 'results.json'}")


if __name__ == "__main__":
    main()
