"""Detection evaluation speed and memory: lt_core vs lvis-api, faster-coco-eval, pycocotools.

Seeded LVIS-like data on the real LVIS v1 category profile (``det_synth.py``), written to
files; every tool then runs in its own process on the same files, end to end (parse the JSON,
match, accumulate, summarise). The script prints wall time, CPU time and peak RSS per tool,
the speed ratios to lt_core, and the largest difference between each tool's numbers and ours.

    python benchmarks/bench_detection.py --images 2000                 # all tools
    python benchmarks/bench_detection.py --images 19809 --tools ours   # LVIS v1 val scale

The references keep every detection as a Python dict and are killed beyond a few GB: they get
an address-space cap (``--ref-mem-gb``, default 8) and a timeout; never run them at full scale
on a shared machine.
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

KEYS = ["AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf"]


# ------------------------------------------------------------------ workers (one process each)
def _w_ours(gt_path, dt_path, style):
    from lt_core.data import load_detection_gt
    from lt_core.detection import evaluate_detections
    from lt_core.detection.fastjson import load_results_fast
    t0 = time.perf_counter()
    gt = load_detection_gt(gt_path)
    t1 = time.perf_counter()
    res = load_results_fast(dt_path, gt)
    t2 = time.perf_counter()
    ev = evaluate_detections(gt, res, style=style)
    t3 = time.perf_counter()
    return ev.headline, {"load_gt": t1 - t0, "load_results": t2 - t1, "evaluate": t3 - t2}


def _w_lvis(gt_path, dt_path, style):
    import numpy as np
    np.float = float  # lvis 0.5.3 uses np.float
    from lvis import LVIS, LVISEval, LVISResults
    gt = LVIS(gt_path)
    dt = LVISResults(gt, dt_path, max_dets=300)
    E = LVISEval(gt, dt, "bbox")
    E.run()
    return {k: float(E.results[k]) for k in KEYS}, {}


def _w_fce(gt_path, dt_path, style):
    from faster_coco_eval import COCO, COCOeval_faster
    gt = COCO(gt_path)
    dt = gt.loadRes(dt_path)
    E = COCOeval_faster(gt, dt, "bbox", lvis_style=(style == "lvis"), print_function=lambda *a, **k: None)
    if style == "lvis":
        E.params.maxDets = [300]
    E.evaluate()
    E.accumulate()
    E.summarize()
    s = E.stats_as_dict
    out = {"AP": s["AP_all"], "AP50": s["AP_50"], "AP75": s["AP_75"], "APs": s["AP_small"],
           "APm": s["AP_medium"], "APl": s["AP_large"]}
    if style == "lvis":
        out.update({"APr": s["APr"], "APc": s["APc"], "APf": s["APf"]})
    return out, {}


def _w_coco(gt_path, dt_path, style):
    import contextlib
    import io
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        dt = gt.loadRes(dt_path)
        E = COCOeval(gt, dt, "bbox")
        E.evaluate()
        E.accumulate()
        E.summarize()
    return dict(zip(KEYS[:6], map(float, E.stats[:6]))), {}


WORKERS = {"ours": _w_ours, "lvis": _w_lvis, "fce": _w_fce, "pycocotools": _w_coco,
           "ours-coco": _w_ours}
STYLE = {"ours": "lvis", "lvis": "lvis", "fce": "lvis", "pycocotools": "coco", "ours-coco": "coco"}
LABEL = {"ours": "lt_core (lvis)", "lvis": "lvis-api LVISEval", "fce": "faster-coco-eval (lvis_style)",
         "pycocotools": "pycocotools COCOeval", "ours-coco": "lt_core (coco)"}


def run_tool(tool: str, gt: Path, dt: Path, timeout: float, mem_gb: float | None) -> dict:
    """Run one tool in a child process; wall / CPU seconds and peak RSS (GB) from wait4."""
    cmd = [sys.executable, __file__, "--worker", tool, "--gt", str(gt), "--dt", str(dt)]

    def cap():
        if mem_gb:
            b = int(mem_gb * 2 ** 30)
            resource.setrlimit(resource.RLIMIT_AS, (b, b))

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=cap, cwd=ROOT)
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
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    r = {"tool": tool, "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "peak_gb": ru.ru_maxrss / 2 ** 20}
    if status == "timeout":
        r["error"] = f"timeout after {timeout:.0f} s"
    elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        r.update(json.loads(out.strip().splitlines()[-1]))
    else:
        tail = err.strip().splitlines()[-1:] or ["killed"]
        r["error"] = f"failed ({'MemoryError / cap' if 'Memory' in err else tail[0][:120]})"
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=2000, help="LVIS v1 val has 19,809 images")
    ap.add_argument("--dets", type=int, default=300, help="detections per image (LVIS limit: 300)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default="/tmp/tailscope_det_bench")
    ap.add_argument("--tools", default="ours,lvis,fce,pycocotools,ours-coco")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--ref-mem-gb", type=float, default=8.0, help="address-space cap for the reference tools")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--gt", help=argparse.SUPPRESS)
    ap.add_argument("--dt", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        head, parts = WORKERS[a.worker](a.gt, a.dt, STYLE[a.worker])
        print(json.dumps({"headline": head, "parts": parts}))
        return

    from det_synth import write_lvis_like
    wd = Path(a.workdir) / f"n{a.images}_d{a.dets}_s{a.seed}"
    gt, dt = wd / "gt.json", wd / "dets.json"
    if not (gt.exists() and dt.exists()):
        t = time.perf_counter()
        write_lvis_like(wd, a.images, a.dets, a.seed)
        print(f"generated {a.images:,} images x {a.dets} detections in {time.perf_counter() - t:.1f} s "
              f"(seed {a.seed}) -> {wd}")
    print(f"files: gt {gt.stat().st_size / 1e6:.1f} MB, results {dt.stat().st_size / 1e6:.1f} MB; "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    rows = []
    for tool in a.tools.split(","):
        cap = None if tool.startswith("ours") else a.ref_mem_gb
        r = run_tool(tool, gt, dt, a.timeout, cap)
        rows.append(r)
        extra = ""
        if r.get("parts"):
            extra = "  (" + ", ".join(f"{k} {v:.2f} s" for k, v in r["parts"].items()) + ")"
        print(f"{LABEL[tool]:32s} wall {r['wall_s']:7.2f} s  cpu {r['cpu_s']:7.2f} s  peak {r['peak_gb']:5.2f} GB"
              f"  {r.get('error', '')}{extra}", flush=True)
    base = {STYLE[r["tool"]]: r for r in rows if r["tool"].startswith("ours") and "headline" in r}
    print("\nratios (tool time / lt_core time, same style) and max |difference| of the headline numbers:")
    for r in rows:
        if r["tool"].startswith("ours") or "headline" not in r:
            continue
        b = base.get(STYLE[r["tool"]])
        if b is None:
            continue
        keys = [k for k in r["headline"] if k in b["headline"]]
        diff = max(abs(r["headline"][k] - b["headline"][k]) for k in keys)
        print(f"  {LABEL[r['tool']]:32s} wall x{r['wall_s'] / b['wall_s']:5.1f}  cpu x{r['cpu_s'] / b['cpu_s']:5.1f}  "
              f"max|diff| {diff:.2e} over {', '.join(keys)}")
    for r in rows:
        if "headline" in r:
            print(f"  {LABEL[r['tool']]:32s} " + " ".join(f"{k} {100 * v:.2f}" for k, v in r["headline"].items()))


if __name__ == "__main__":
    main()
