"""Responsiveness of the app in a real browser (run by hand, not a test).

    .venv/bin/python benchmarks/bench_app.py [--sizes demo,imagenet-lt,lvis,examples] [--repeat 3] [--data DIR]

Starts ``tailscope app`` (this checkout) and drives it in headless Chromium (Playwright + Debian
chromium, as tests/test_browser.py), then prints one table: each page's **cold load** (a fresh
session's first visit to the page, from the click in the sidebar to the last change on screen: the
script has finished and every chart is drawn) and the **round trip** of each main control (β on
Rebalance, the sampler on Rebalance, τ on Thresholds, target precision on Detection, the bin scheme in
the sidebar: from the key press to the last change on screen). Goals (issue 11), on an idle 2-core
machine: every page <= 3 s cold, every control <= 0.5 s.

Sizes
-----
demo         the built-in demos (GoEmotions in its single-label view, 28 classes; LVIS-profile detection,
             1,000 images)
imagenet-lt  ImageNet-LT shaped: the real 1,000-class counts and val / test lists (tests/data), a train
             list with the real per-class counts (115,846 rows, generated names), two runs with val and
             test logits (20,000 / 50,000 x 1,000 float32, seeded; the true-class margin grows with the
             train count, model B lifts the tail)
lvis         the 5,000-image LVIS-like generated set (benchmarks/det_synth.py, real LVIS v1 profile,
             300 detections per image), as the detection dataset
examples     issue 12: a generated ImageNet-LT-style list whose most common class has 1,000 test images
             (JPEG, 500 x 375, lt_core.data.synth_images) and the list's image folder kept in the
             workspace; measured on the Metrics page: picking that class opens its examples (the first
             screen: 9 thumbnails made now, goal 1 s), the next page of 9, and the class opened again in
             a fresh session (thumbnails from the workspace's thumbs/ cache)

The sized data are made once under --data (default /tmp/tailscope_bench_app) and opened as workspaces
(``tailscope app --workspace DIR``), the way a user reopens their own. Times are medians of --repeat
round trips (pages: --page-repeat fresh sessions). Prints the load average: on a busy machine every
number is larger; compare runs made on the same machine state.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

PAGES = ["Data", "Distribution", "Metrics", "Detection", "Rebalance", "Thresholds", "Retrain"]
PAGE_GOAL_S, CONTROL_GOAL_S = 3.0, 0.5
READY_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  for (const c of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (!c.querySelector('.main-svg')) return false;
  }
  return true;
}"""
# the time of the last change of the page's content (elements added / removed / text changed)
WATCH_JS = """
window.__tsLast = performance.now();
const __tsObs = new MutationObserver(() => { window.__tsLast = performance.now(); });
const __tsStart = () => __tsObs.observe(document.documentElement, {subtree: true, childList: true, characterData: true});
if (document.documentElement) __tsStart(); else document.addEventListener('DOMContentLoaded', __tsStart);
"""
QUIET_S = 0.6
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-proxy-server",
         "--disable-dev-shm-usage"]


# ----------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------
def _logits(y: np.ndarray, counts: np.ndarray, seed: int, boost: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((len(y), len(counts)), dtype=np.float32)
    rank = np.log1p(counts) / np.log1p(counts.max())
    z[np.arange(len(y)), y] += (0.6 * np.log1p(counts) + boost * (1 - rank))[y].astype(np.float32)
    z -= (0.5 * boost * rank).astype(np.float32)[None, :]
    return z


def make_imagenet_lt(folder: Path) -> Path:
    """The ImageNet-LT-shaped workspace (made once)."""
    import lt_core.workspace as W
    from lt_core.data import ClassificationParts, FileRef, assemble_classification, load_labels, load_train_counts
    from lt_core.io import write_npy, write_text

    ws_dir = folder / "ws-imagenet-lt"
    if (ws_dir / "manifest.json").is_file():
        return ws_dir
    data = ROOT / "tests" / "data" / "imagenet_lt"
    files = folder / "imagenet-lt-files"
    files.mkdir(parents=True, exist_ok=True)
    classes = load_train_counts(data / "ImageNet_LT_class_counts.csv")
    counts = classes.train_count
    train = np.repeat(np.arange(len(counts)), counts)
    write_text(files / "ImageNet_LT_train_generated.txt",
               "".join(f"train/c{c:04d}/{i:07d}.JPEG {c}\n" for i, c in enumerate(train)))
    ys = {s: load_labels(data / f"ImageNet_LT_{s}.txt.gz", classes)[0].y for s in ("val", "test")}
    for run, boost, seed in (("A", 0.0, 1), ("B", 1.0, 2)):
        for s, y in ys.items():
            write_npy(files / f"{run}_{s}.npy", _logits(y, counts, seed * 10 + len(s), boost))
    parts = ClassificationParts(name="ImageNet-LT (benchmark)", train_labels=FileRef.of(files / "ImageNet_LT_train_generated.txt"),
                                train_counts=FileRef.of(data / "ImageNet_LT_class_counts.csv"),
                                val_labels=FileRef.of(data / "ImageNet_LT_val.txt.gz"),
                                test_labels=FileRef.of(data / "ImageNet_LT_test.txt.gz"))
    for run in ("A", "B"):
        for s in ("val", "test"):
            parts = parts.with_file("run", FileRef.of(files / f"{run}_{s}.npy"), s, f"model {run}")
    ws = W.Workspace(ws_dir, "ImageNet-LT benchmark")
    ds = assemble_classification(ws.import_parts(parts))
    ws.save(ds, bins={"spec": "imagenet-lt", "chosen_by": "data", "reason": "the counts file's shot_group column"})
    shutil.rmtree(files)
    return ws_dir


def make_lvis(folder: Path, images: int = 5000, dets: int = 300) -> Path:
    """The LVIS-sized workspace (made once): the detection dataset, the classification demo."""
    import lt_core.workspace as W
    from det_synth import write_lvis_like
    from lt_core.data import DetectionParts, FileRef

    ws_dir = folder / "ws-lvis"
    if (ws_dir / "manifest.json").is_file():
        return ws_dir
    files = folder / "lvis-files"
    gt, dt = write_lvis_like(files, images, dets, seed=0)
    ws = W.Workspace(ws_dir, "LVIS-size benchmark")
    ws.save(detection=DetectionParts(name=f"LVIS-like {images:,} images (generated)", gt=FileRef.of(gt),
                                     results={"generated 300/img": FileRef.of(dt)}))
    shutil.rmtree(files)
    return ws_dir


def make_examples(folder: Path, n: int = 1000, size=(500, 375)) -> Path:
    """The examples workspace (made once): ``n`` test images of class 0, one of each other class."""
    from PIL import Image

    import lt_core.workspace as W
    from lt_core.data import ClassificationParts, FileRef, assemble_classification
    from lt_core.data.synth_images import draw_sample
    from lt_core.io import write_npy, write_text

    ws_dir = folder / "ws-examples"
    images = folder / "examples-images"
    if (ws_dir / "manifest.json").is_file() and images.is_dir():
        return ws_dir
    c = 12
    y = np.concatenate([np.zeros(n, np.int64), np.arange(1, c)])
    lines = []
    for i, k in enumerate(y):
        rel = f"test/n{k:08d}/n{k:08d}_{i:05d}.JPEG"
        (images / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(draw_sample(int(k), c, i, size, 0)).save(images / rel, quality=90)
        lines.append(f"{rel} {k}\n")
    files = folder / "examples-files"
    files.mkdir(parents=True, exist_ok=True)
    write_text(files / "test.txt", "".join(lines))
    counts = (1000 * 0.6 ** np.arange(c)).astype(int) + 2
    write_text(files / "counts.csv", "class_id,count,name\n" + "".join(f"{k},{counts[k]},n{k:08d}\n" for k in range(c)))
    rng = np.random.default_rng(0)
    z = rng.standard_normal((len(y), c)).astype(np.float32)
    z[np.arange(len(y)), y] += rng.uniform(0, 2, len(y)).astype(np.float32)
    write_npy(files / "model_test.npy", z)
    parts = ClassificationParts(name="1,000 candidate images (generated)", train_counts=FileRef.of(files / "counts.csv"),
                                test_labels=FileRef.of(files / "test.txt"), image_root=str(images))
    parts = parts.with_file("run", FileRef.of(files / "model_test.npy"), "test", "model")
    ws = W.Workspace(ws_dir, "examples benchmark")
    ws.save(assemble_classification(ws.import_parts(parts)),
            bins={"spec": "imagenet-lt", "chosen_by": "user", "reason": "benchmark"})
    shutil.rmtree(files)
    return ws_dir


# ----------------------------------------------------------------------------------------------
# server and browser
# ----------------------------------------------------------------------------------------------
class Server:
    def __init__(self, home: Path, workspace: Path | None):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "lt_core", "app", "--server.headless", "true", "--server.address", "127.0.0.1",
               "--server.port", str(self.port), "--server.fileWatcherType", "none", "--server.runOnSave", "false",
               "--browser.gatherUsageStats", "false"]
        if workspace is not None:
            cmd[4:4] = ["--workspace", str(workspace)]
        # the single-label view of the GoEmotions demo: the controls measured here are the single-label pages'
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TAILSCOPE_HOME": str(home), "TAILSCOPE_DEMO_VIEW": "single-label"}
        env.pop("TAILSCOPE_WORKSPACE", None)
        self.log = tempfile.NamedTemporaryFile(prefix="bench-app-", suffix=".log", delete=False)
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        for _ in range(1200):
            try:
                if opener.open(self.url + "/_stcore/health", timeout=1).read().strip() == b"ok":
                    break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise SystemExit("server did not start:\n" + Path(self.log.name).read_text()[-3000:])
        self.start_s = time.perf_counter() - t0

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)


def _chromium() -> str:
    for c in (os.environ.get("CHROMIUM_PATH"), "chromium", "chromium-browser"):
        if c and shutil.which(c):
            return shutil.which(c)
    raise SystemExit("no chromium (apt-get install chromium)")


def settle(page, t0: float, title: str | None = None, timeout_s: float = 600.0, no_change_s: float = 60.0) -> float:
    """Seconds from ``t0`` (page clock) to the last change on screen, once the app is idle and quiet
    (NaN when nothing changed within ``no_change_s``)."""
    deadline = time.time() + timeout_s
    started = time.time()
    while time.time() < deadline:
        st = page.evaluate(f"""(t0) => {{
            const ready = ({READY_JS})();
            const h1 = document.querySelector('[data-testid="stMain"] h1')?.innerText?.trim() || '';
            return {{ready, h1, last: window.__tsLast, now: performance.now(), t0}};
        }}""", t0)
        if st["ready"] and st["last"] > t0 and st["now"] - st["last"] > QUIET_S * 1000 and (
                title is None or st["h1"] == title):
            if page.evaluate("() => document.body.innerText").find("Traceback") >= 0:
                raise SystemExit("the page shows a traceback")
            return (st["last"] - t0) / 1000.0
        if st["ready"] and st["last"] <= t0 and time.time() - started > no_change_s:
            return float("nan")
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {title or 'the page'}")


def now(page) -> float:
    return page.evaluate("() => performance.now()")


def goto_page(page, title: str) -> float:
    t0 = now(page)
    page.locator(f'[data-testid="stSidebarNav"] a:has-text("{title}")').first.click()
    return settle(page, t0, title)


def slider_steps(page, label: str, n: int, key: str = "ArrowRight") -> list[float]:
    """Round trips of ``n`` one-step moves of the slider labelled ``label`` (keyboard, one rerun each)."""
    thumb = page.locator('[data-testid="stMain"] [data-testid="stSlider"]').filter(has_text=label).locator(
        'input[type="range"]').first
    times = []
    for _ in range(n):
        thumb.focus()
        t0 = now(page)
        page.keyboard.press(key)
        times.append(settle(page, t0))
    return times


def select_option(page, label: str, option: str, where: str = "stMain") -> float:
    box = page.locator(f'[data-testid="{where}"] [data-testid="stSelectbox"]').filter(has_text=label).first
    opt = page.get_by_role("option", name=option, exact=True).first
    for _ in range(10):  # open the list (react-aria: a click focuses, ArrowDown opens)
        box.click()
        page.keyboard.press("ArrowDown")
        try:
            opt.wait_for(state="attached", timeout=2000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError; try again
            page.keyboard.press("Escape")
    t0 = now(page)
    opt.click()
    return settle(page, t0)


# ----------------------------------------------------------------------------------------------
# the measurements
# ----------------------------------------------------------------------------------------------
def _median(ts: list[float]) -> float:
    ok = [t for t in ts if t == t]
    return statistics.median(ok) if ok else float("nan")


def measure(browser, server: Server, size: str, repeat: int, page_repeat: int) -> list[tuple[str, str, float, float]]:
    rows: list[tuple[str, str, float, float]] = []  # (size, what, seconds, goal)
    cold: dict[str, list[float]] = {p: [] for p in PAGES}
    for r in range(page_repeat):
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        ctx.add_init_script(WATCH_JS)
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        t0 = time.perf_counter()
        page.goto(server.url + "/Data", wait_until="domcontentloaded")
        first = settle(page, 0.0, "Data") + 0 * t0
        cold["Data"].append(first)
        for p in PAGES[1:]:
            cold[p].append(goto_page(page, p))
        if r < page_repeat - 1:
            ctx.close()
    for p in PAGES:
        rows.append((size, f"page {p} (cold{', opens the workspace' if p == 'Data' and size != 'demo' else ''})",
                     _median(cold[p]), PAGE_GOAL_S))
    # controls, in the last session (each page already visited once)
    goto_page(page, "Rebalance")
    t = slider_steps(page, "β (effective number)", repeat)
    rows.append((size, "Rebalance: β one step", _median(t), CONTROL_GOAL_S))
    t0 = now(page)
    page.locator('[data-testid="stMain"] [data-testid="stRadio"] label:has-text("Re-sampling")').first.click()
    rows.append((size, "Rebalance: open Re-sampling", settle(page, t0), PAGE_GOAL_S))
    ts = [select_option(page, "Sampling strategy", opt) for opt in ["sqrt", "class-balanced", "sqrt"][:max(1, repeat)]]
    rows.append((size, "Rebalance: sampler change", _median(ts), CONTROL_GOAL_S))
    goto_page(page, "Thresholds")
    t = slider_steps(page, "τ", repeat)
    rows.append((size, "Thresholds: τ one step", _median(t), CONTROL_GOAL_S))
    goto_page(page, "Detection")
    t0 = now(page)
    view = page.get_by_role("tab", name="Operating thresholds")  # the page's views: tabs, or a segmented control
    if not view.count():
        view = page.locator('[data-testid="stMain"] button:has-text("Operating thresholds")')
    view.first.click()
    settle(page, t0)
    t = slider_steps(page, "Target precision", repeat)
    rows.append((size, "Detection: target precision one step", _median(t), CONTROL_GOAL_S))
    goto_page(page, "Metrics")
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Bins (by train count)")
    current = box.first.inner_text().split("\n")[-1].strip()
    cycle = [o for o in ["imagenet-lt", "lvis", "quantile:3"] if o != current] + [current]
    ts = [select_option(page, "Bins (by train count)", opt, "stSidebar") for opt in cycle[:max(1, repeat)]]
    rows.append((size, "sidebar: bin scheme change (on Metrics)", _median(ts), CONTROL_GOAL_S))
    ctx.close()
    return rows


def _shown_images(page) -> int:
    return page.locator('[data-testid="stMain"] [data-testid="stImage"] img').count()


def measure_examples(browser, server: Server, workspace: Path, repeat: int) -> list[tuple[str, str, float, float]]:
    """Issue 12: the examples of a class with 1,000 candidate images open fast (see the module docstring)."""
    from ui.examples import PAGE_SIZE_IMAGES

    rows = []
    label = "n00000000 (many, train 1,002)"
    opened, nexts, warm = [], [], []
    for r in range(max(1, repeat)):
        shutil.rmtree(workspace / "thumbs", ignore_errors=True)  # cold thumbnails
        for fresh_cache in (True, False):
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            ctx.add_init_script(WATCH_JS)
            page = ctx.new_page()
            page.set_default_timeout(60_000)
            page.goto(server.url + "/Metrics", wait_until="domcontentloaded")
            cold_page = settle(page, 0.0, "Metrics")
            if r == 0 and fresh_cache:
                rows.append(("examples", "page Metrics (cold, opens the workspace)", cold_page, PAGE_GOAL_S))
            t = select_option(page, "or pick a class", label)
            if _shown_images(page) < PAGE_SIZE_IMAGES:
                raise SystemExit(f"the examples panel shows {_shown_images(page)} images, expected {PAGE_SIZE_IMAGES}")
            (opened if fresh_cache else warm).append(t)
            if fresh_cache:
                step = page.locator('[data-testid="stMain"] [data-testid="stNumberInput"]').filter(has_text="page")
                box = step.first.locator("input").first
                box.fill("2")
                t0 = now(page)
                box.press("Enter")
                nexts.append(settle(page, t0))
            ctx.close()
    n_thumbs = len(list((workspace / "thumbs").rglob("*.jpg")))
    rows.append(("examples", "Metrics: open a class of 1,000 images (9 new thumbs)", _median(opened), 1.0))
    rows.append(("examples", "Metrics: its next page (9 new thumbnails)", _median(nexts), 1.0))
    rows.append(("examples", "fresh session: open it again (cached thumbs)", _median(warm), 1.0))
    print(f"examples: {n_thumbs} thumbnails in {workspace / 'thumbs'} (of 1,000 candidates)")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="demo,imagenet-lt,lvis,examples")
    ap.add_argument("--repeat", type=int, default=3, help="round trips per control (median)")
    ap.add_argument("--page-repeat", type=int, default=1, help="fresh sessions per page's cold load (median)")
    ap.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "tailscope_bench_app"))
    ap.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    a = ap.parse_args()
    folder = Path(a.data)
    folder.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    sizes = [s.strip() for s in a.sizes.split(",") if s.strip()]
    workspaces = {}
    for s in sizes:
        t0 = time.perf_counter()
        if s == "imagenet-lt":
            workspaces[s] = make_imagenet_lt(folder)
        elif s == "lvis":
            workspaces[s] = make_lvis(folder)
        elif s == "examples":
            workspaces[s] = make_examples(folder)
        elif s == "demo":
            workspaces[s] = None
        else:
            raise SystemExit(f"unknown size {s}")
        if workspaces[s] is not None:
            print(f"{s}: workspace {workspaces[s]} ready ({time.perf_counter() - t0:.0f} s)", flush=True)
    rows = []
    load0 = os.getloadavg()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), headless=True, args=FLAGS)
        for s in sizes:
            home = folder / f"home-{s}"
            shutil.rmtree(home, ignore_errors=True)
            server = Server(home, workspaces[s])
            try:
                print(f"{s}: server up in {server.start_s:.1f} s; measuring...", flush=True)
                rows += (measure_examples(browser, server, workspaces[s], a.repeat) if s == "examples" else
                         measure(browser, server, s, a.repeat, a.page_repeat))
            finally:
                server.stop()
        browser.close()
    load1 = os.getloadavg()
    print()
    print(f"{'size':<12} {'what':<52} {'seconds':>8} {'goal':>6}")
    for size, what, sec, goal in rows:
        verdict = "no change seen" if sec != sec else ("OK" if sec <= goal else "OVER")
        print(f"{size:<12} {what:<52} {sec:8.2f} {goal:6.1f}  {verdict}")
    print(f"\nload average (1 min) {load0[0]:.2f} at the start, {load1[0]:.2f} at the end, on {os.cpu_count()} cores "
          "(other work on the machine makes every number larger)")
    if a.json:
        Path(a.json).write_text(json.dumps([dict(size=s, what=w, seconds=v, goal=g) for s, w, v, g in rows], indent=1))


if __name__ == "__main__":
    main()
