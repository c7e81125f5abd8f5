"""Detection evaluation speed and memory: Tailscope vs hotcoco, vernier, ultrafast-pycocotools
(and, on request, lvis-api, faster-coco-eval, pycocotools), whole process and evaluate-only.

Seeded LVIS-like data on the real LVIS v1 category profile (``det_synth.py``; 1,203 categories,
300 detections per image), written to files; every tool then runs in its own process on the same
files. Tailscope is timed as a user runs it: ``python -m lt_core eval-det --gt --dt --out`` (its
imports, JSON reading, matching, accumulation, summary and report). The others: import, load both
files, evaluate the LVIS protocol (federated, 300 detections per image), summarise. Wall time, CPU
time (user + system, all threads) and peak RSS come from ``wait4``; "evaluate" is each tool's
evaluation step alone (after loading). Numba kernels are compiled once before timing (their
on-disk cache, as after the first run on a machine); the compile time is printed.

    python benchmarks/bench_detection.py --images 2000,5000,19809          # the table of the issue
    python benchmarks/bench_detection.py --images 2000 --tools ours,hotcoco,lvis,fce   # + references

The table prints ratios tool / Tailscope (> 1: Tailscope is faster / smaller) and the largest
difference between each tool's headline numbers and Tailscope's. ``--bootstrap 1000`` also times
1,000 image-bootstrap resamples (from the per-image match tables) against one hotcoco evaluation.
The machine's load average is printed with each table: timings on a busy machine are noisy.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

KEYS = ["AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf", "AR@300", "ARs@300", "ARm@300", "ARl@300"]


# ------------------------------------------------------------------ workers (one process each)
def _w_ours_parts(gt_path, dt_path):
    """Tailscope's steps timed in process (the evaluate-only column), as eval-det runs them."""
    from lt_core.cli.eval_det import _no_hugepage_madvise
    _no_hugepage_madvise()
    t0 = time.perf_counter()
    from lt_core.data.loaders import load_detection_gt
    from lt_core.detection.evaluator import evaluate_detections
    from lt_core.detection.fastjson import load_results_fast
    gt = load_detection_gt(gt_path)
    res = load_results_fast(dt_path, gt)
    t1 = time.perf_counter()
    ev = evaluate_detections(gt, res, style="lvis")
    t2 = time.perf_counter()
    return {k: ev.headline.get(k) for k in KEYS}, {"load": t1 - t0, "evaluate": t2 - t1}


def _w_boot(gt_path, dt_path):
    from lt_core.data.loaders import load_detection_gt
    from lt_core.detection.bootstrap import bootstrap_ci
    from lt_core.detection.evaluator import evaluate_detections
    from lt_core.detection.fastjson import load_results_fast
    gt = load_detection_gt(gt_path)
    ev = evaluate_detections(gt, load_results_fast(dt_path, gt), style="lvis")
    bootstrap_ci(ev, 4, 0)  # kernels loaded
    t0 = time.perf_counter()
    b = bootstrap_ci(ev, int(os.environ.get("BENCH_BOOT", "1000")), 0)
    t1 = time.perf_counter()
    return {"AP": ev.headline["AP"]}, {"bootstrap": t1 - t0, "ci_AP": list(b.ci["AP"])}


def _w_hotcoco(gt_path, dt_path):
    import hotcoco
    t0 = time.perf_counter()
    gt = hotcoco.COCO(gt_path)
    dt = gt.load_res(dt_path)
    E = hotcoco.COCOeval(gt, dt, "bbox", lvis_style=True)
    t1 = time.perf_counter()
    E.run()
    t2 = time.perf_counter()
    r = E.get_results()
    return {k: r.get(k) for k in KEYS}, {"load": t1 - t0, "evaluate": t2 - t1}


def _w_vernier(gt_path, dt_path):
    from vernier.instance import CocoDataset, Evaluator
    t0 = time.perf_counter()
    gt = CocoDataset.from_lvis_json(Path(gt_path).read_bytes())
    dt = Path(dt_path).read_bytes()
    t1 = time.perf_counter()
    s = Evaluator(max_dets=(1, 10, 300)).evaluate(gt, dt)
    t2 = time.perf_counter()
    st = s.stats
    return ({"AP": st[0], "AP50": st[1], "AP75": st[2], "APs": st[3], "APm": st[4], "APl": st[5], "AR@300": st[8]},
            {"load": t1 - t0, "evaluate": t2 - t1})


def _w_ultrafast(gt_path, dt_path):
    import contextlib
    import io
    from ultrafast_pycocotools import COCO, COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        gt = COCO(gt_path)
        dt = gt.loadRes(dt_path)
        E = COCOeval(gt, dt, "bbox", lvis_style=True)
        E.params.maxDets = [300]
        t1 = time.perf_counter()
        E.evaluate()
        E.accumulate()
        E.summarize()
        t2 = time.perf_counter()
    return dict(zip(KEYS, map(float, list(E.stats)[:13]))), {"load": t1 - t0, "evaluate": t2 - t1}


def _w_lvis(gt_path, dt_path):
    import numpy as np
    np.float = float  # lvis 0.5.3 uses np.float
    from lvis import LVIS, LVISEval, LVISResults
    t0 = time.perf_counter()
    gt = LVIS(gt_path)
    dt = LVISResults(gt, dt_path, max_dets=300)
    E = LVISEval(gt, dt, "bbox")
    t1 = time.perf_counter()
    E.run()
    t2 = time.perf_counter()
    return {k: float(E.results[k]) for k in KEYS}, {"load": t1 - t0, "evaluate": t2 - t1}


def _w_fce(gt_path, dt_path):
    from faster_coco_eval import COCO, COCOeval_faster
    t0 = time.perf_counter()
    gt = COCO(gt_path)
    dt = gt.loadRes(dt_path)
    E = COCOeval_faster(gt, dt, "bbox", lvis_style=True, print_function=lambda *a, **k: None)
    E.params.maxDets = [300]
    t1 = time.perf_counter()
    E.evaluate()
    E.accumulate()
    E.summarize()
    t2 = time.perf_counter()
    s = E.stats_as_dict
    return ({"AP": s["AP_all"], "AP50": s["AP_50"], "AP75": s["AP_75"], "APs": s["AP_small"], "APm": s["AP_medium"],
             "APl": s["AP_large"], "APr": s["APr"], "APc": s["APc"], "APf": s["APf"]},
            {"load": t1 - t0, "evaluate": t2 - t1})


WORKERS = {"ours-parts": _w_ours_parts, "boot": _w_boot, "hotcoco": _w_hotcoco, "vernier": _w_vernier,
           "ultrafast": _w_ultrafast, "lvis": _w_lvis, "fce": _w_fce}
LABEL = {"ours": "Tailscope CLI (eval-det)", "hotcoco": "hotcoco 1.3.0", "vernier": "vernier 0.5.4",
         "ultrafast": "ultrafast-pycocotools 0.1.14", "lvis": "lvis-api 0.5.3 LVISEval",
         "fce": "faster-coco-eval 1.8.0 (lvis_style)"}


def run_tool(tool: str, gt: Path, dt: Path, timeout: float, mem_gb: float | None, out_json: Path) -> dict:
    if tool == "ours":
        cmd = [sys.executable, "-m", "lt_core", "eval-det", "--gt", str(gt), "--dt", str(dt), "--out", str(out_json)]
    else:
        cmd = [sys.executable, __file__, "--worker", tool, "--gt", str(gt), "--dt", str(dt)]
    # wait4 gives this child's own rusage (RUSAGE_CHILDREN is cumulative)
    t0 = time.perf_counter()

    def cap():
        if mem_gb:
            b = int(mem_gb * 2 ** 30)
            resource.setrlimit(resource.RLIMIT_AS, (b, b))

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=cap, cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        # drain pipes in the background while waiting with wait4
        import threading
        t_out = threading.Thread(target=lambda: fo.write(proc.stdout.read()))
        t_err = threading.Thread(target=lambda: fe.write(proc.stderr.read()))
        t_out.start()
        t_err.start()
        deadline = t0 + timeout
        status = None
        while True:
            pid, st, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status = st
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, st, ru = os.wait4(proc.pid, 0)
                status = "timeout"
                break
            time.sleep(0.02)
        wall = time.perf_counter() - t0
        t_out.join()
        t_err.join()
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read().decode(), fe.read().decode()
    r = {"tool": tool, "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "peak_gb": ru.ru_maxrss / 2 ** 20}
    if status == "timeout":
        r["error"] = f"timeout after {timeout:.0f} s"
    elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        if tool == "ours":
            rep = json.loads(out_json.read_text())
            r["headline"] = {k: rep.get(k) for k in KEYS}
        else:
            r.update(json.loads(out.strip().splitlines()[-1]))
    else:
        tail = err.strip().splitlines()[-1:] or ["killed"]
        r["error"] = f"failed ({'MemoryError / cap' if 'Memory' in err else tail[0][:120]})"
    return r


def _warm_kernels() -> float:
    """Compile the numba kernels once (on-disk cache), as the first run on a machine does."""
    t = time.perf_counter()
    code = ("import sys; sys.path.insert(0, 'tests'); from lt_core.data.loaders import _gt_from_dict, _results_from_list;"
            "from lt_core.detection import evaluate_detections, bootstrap_ci; from test_detection_exact import _tiny_scene;"
            "import json, numpy as np; from lt_core.detection.kernels import scan_results;"
            "g, d = _tiny_scene(0, True); gt = _gt_from_dict(g, 'g'); ev = evaluate_detections(gt, _results_from_list(d, gt, 'd', 'd'));"
            "bootstrap_ci(ev, 2, 0); scan_results(np.frombuffer(json.dumps(d).encode(), np.uint8))")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return time.perf_counter() - t


def _diff(a: dict, b: dict) -> tuple[float, list]:
    keys = [k for k in a if a.get(k) is not None and b.get(k) is not None]
    if not keys:
        return float("nan"), []
    return max(abs(float(a[k]) - float(b[k])) for k in keys), keys


def bench_size(n: int, a, tools: list[str]) -> list[dict]:
    from det_synth import write_lvis_like
    wd = Path(a.workdir) / f"n{n}_d{a.dets}_s{a.seed}"
    gt, dt = wd / "gt.json", wd / "dets.json"
    if not (gt.exists() and dt.exists()):
        t = time.perf_counter()
        write_lvis_like(wd, n, a.dets, a.seed)
        print(f"generated {n:,} images x {a.dets} detections in {time.perf_counter() - t:.1f} s (seed {a.seed}) -> {wd}")
    print(f"\n== {n:,} images: gt {gt.stat().st_size / 1e6:.0f} MB, results {dt.stat().st_size / 1e6:.0f} MB; "
          f"{os.cpu_count()} CPUs; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} ==", flush=True)
    rows = []
    out_json = Path(tempfile.mkdtemp()) / "report.json"
    for tool in tools:
        cap = None if tool == "ours" else a.ref_mem_gb
        r = run_tool(tool, gt, dt, a.timeout, cap, out_json)
        if tool == "ours":
            p = run_tool("ours-parts", gt, dt, a.timeout, None, out_json)
            r["parts"] = p.get("parts", {})
        rows.append(r)
    if a.bootstrap:
        os.environ["BENCH_BOOT"] = str(a.bootstrap)
        rows.append(run_tool("boot", gt, dt, a.timeout, None, out_json))
    base = next((r for r in rows if r["tool"] == "ours" and "headline" in r), None)
    print(f"{'tool':30s} {'wall s':>7s} {'CPU s':>7s} {'peak GB':>8s} {'evaluate s':>10s}   "
          f"{'wall x':>6s} {'CPU x':>6s} {'mem x':>6s}  max|diff| vs Tailscope")
    for r in rows:
        if r["tool"] == "boot":
            continue
        ev_s = r.get("parts", {}).get("evaluate")
        rat = ""
        if base is not None and r is not base and "error" not in r:
            d, keys = _diff(r.get("headline", {}), base["headline"])
            rat = (f"{r['wall_s'] / base['wall_s']:6.2f} {r['cpu_s'] / base['cpu_s']:6.2f} "
                   f"{r['peak_gb'] / base['peak_gb']:6.2f}  {d:.1e} over {len(keys)} numbers")
        print(f"{LABEL[r['tool']]:30s} {r['wall_s']:7.2f} {r['cpu_s']:7.2f} {r['peak_gb']:8.2f} "
              f"{(f'{ev_s:10.2f}' if ev_s is not None else '         -')}   {rat}{r.get('error', '')}", flush=True)
    boot = next((r for r in rows if r["tool"] == "boot"), None)
    hc = next((r for r in rows if r["tool"] == "hotcoco" and "parts" in r), None)
    if boot and "parts" in boot:
        bs = boot["parts"]["bootstrap"]
        ref = f"; one hotcoco evaluation: {hc['parts']['evaluate']:.2f} s evaluate, {hc['wall_s']:.2f} s whole process" \
            if hc else ""
        print(f"bootstrap: {a.bootstrap:,} image resamples of the per-image states in {bs:.2f} s wall{ref}")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default="2000", help="comma-separated sizes; LVIS v1 val has 19,809 images")
    ap.add_argument("--dets", type=int, default=300, help="detections per image (LVIS limit: 300)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default="/tmp/tailscope_det_bench")
    ap.add_argument("--tools", default="ours,hotcoco,vernier,ultrafast",
                    help="ours, hotcoco, vernier, ultrafast, lvis, fce")
    ap.add_argument("--bootstrap", type=int, default=1000, help="also time N bootstrap resamples (0: skip)")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--ref-mem-gb", type=float, default=16.0, help="address-space cap for the other tools")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--gt", help=argparse.SUPPRESS)
    ap.add_argument("--dt", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        head, parts = WORKERS[a.worker](a.gt, a.dt)
        print(json.dumps({"headline": head, "parts": parts}))
        return
    print(f"numba kernels compiled / loaded in {_warm_kernels():.1f} s (once per machine; cached on disk)")
    tools = a.tools.split(",")
    for n in [int(x) for x in a.images.split(",")]:
        bench_size(n, a, tools)


if __name__ == "__main__":
    main()
