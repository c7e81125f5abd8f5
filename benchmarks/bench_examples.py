"""The examples behind a number open fast: 1,000 candidate images, first screen under a second.

A GENERATED ImageNet-LT-style image list (``lt_core.data.synth_images``) with ``--n`` test images of
one class (JPEG, ``--width`` x ``--height``, like ImageNet photos), a model's logits, and the
Metrics page (streamlit.testing AppTest) with that class picked: its examples panel pages through
the 1,000 candidates and renders one page of 9 thumbnails. Measured:

* ``fresh page``   a new session opening the Metrics page with the class chosen (the whole first
  screen: metrics, charts and one page of thumbnails made now);
* ``page, cold``   the Metrics page rerun that opens the class (thumbnails made now);
* ``page, warm``   the same rerun again (thumbnails from the cache);
* ``panel, cold / warm``  just lt_core: the selection + the first page's thumbnails;
* ``eager``        what a gallery that draws every candidate would pay: 1,000 thumbnails.

Run by hand (timings depend on the machine; on a busy one, rerun)::

    python benchmarks/bench_examples.py --n 1000
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _dataset(folder: Path, n: int, w: int, h: int, seed: int = 0):
    """n test images of class 0 (+ 1 of each other class so every class exists) as JPEG files."""
    from PIL import Image

    from lt_core.data import ClassificationDataset, ClassTable, Predictions, Run, load_labels
    from lt_core.data.synth_images import draw_sample

    c = 12
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.zeros(n, int), np.arange(1, c)])
    lines = []
    for i, k in enumerate(y):
        rel = f"train/n{k:08d}/n{k:08d}_{i:05d}.JPEG"
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(draw_sample(int(k), c, i, (w, h), seed)).save(p, quality=90)
        lines.append(f"{rel} {k}\n")
    (folder / "test.txt").write_text("".join(lines))
    counts = (1000 * 0.6 ** np.arange(c)).astype(int) + 2
    classes = ClassTable(np.arange(c), [f"n{k:08d}" for k in range(c)], counts)
    lab, _ = load_labels(folder / "test.txt", classes, split="test")
    z = rng.normal(size=(len(y), c)).astype(np.float32)
    z[np.arange(len(y)), y] += rng.uniform(0, 2, len(y)).astype(np.float32)
    ds = ClassificationDataset("generated image list", classes, {"test": lab}, generated=True, image_root=str(folder))
    ds.add_run(Run("model", {"test": Predictions("test", "logits", scores=z)}))
    return ds


def _time(fn, repeat: int = 1) -> float:
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="candidate images of the selected class")
    ap.add_argument("--width", type=int, default=500)
    ap.add_argument("--height", type=int, default=375)
    a = ap.parse_args()
    from streamlit.testing.v1 import AppTest

    from lt_core.examples import by_class, sample_content, sample_table
    from lt_core.images import ThumbnailCache
    from ui.examples import PAGE_SIZE_IMAGES, THUMB_SIDE

    with tempfile.TemporaryDirectory(prefix="bench-examples-") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        ds = _dataset(tmp / "images", a.n, a.width, a.height)
        print(f"generated {a.n + 11:,} JPEG images {a.width}x{a.height} in {time.perf_counter() - t:.1f} s")
        tempfile.tempdir = str(tmp / "tmpdir")  # the app's thumbnail cache goes here
        Path(tempfile.tempdir).mkdir()

        # ---- lt_core alone: the selection and the first page's thumbnails
        labels, preds = ds.labels["test"], ds.runs["model"].preds["test"]

        def panel(cache):
            base = sample_table(labels, preds, ds.classes, "imagenet-lt")
            sel = by_class(base, ds.classes, 0, cap=None)
            content = sample_content(labels, ds.image_root)
            rows = sel.rows["row"].to_numpy()[:PAGE_SIZE_IMAGES]
            for p in content.image_paths(rows):
                cache.get(p, THUMB_SIDE)
            return sel

        cache = ThumbnailCache(tmp / "thumbs_panel")
        cold_panel = _time(lambda: panel(cache))
        warm_panel = _time(lambda: panel(cache), repeat=5)
        sel = panel(cache)
        assert sel.total == a.n

        eager_cache = ThumbnailCache(tmp / "thumbs_eager")
        content = sample_content(labels, ds.image_root)
        rows = sel.rows["row"].to_numpy()
        eager = _time(lambda: [eager_cache.get(p, THUMB_SIDE) for p in content.image_paths(rows)])

        # ---- the Metrics page: open the class (cold thumbnails), then again (warm)
        at = AppTest.from_file(str(ROOT / "pages" / "3_Metrics.py"), default_timeout=300)
        at.session_state["ts_cls_dataset"] = ds
        at.session_state["ts_bins"] = "imagenet-lt"
        at.session_state["m_boot"] = 0  # the page's own bootstrap is not what is measured here
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        at.selectbox(key="m_ex_class_pick_class").set_value(0)
        t = time.perf_counter()
        at.run()
        cold_page = time.perf_counter() - t
        assert not at.exception and len(at.get("image")) == PAGE_SIZE_IMAGES
        warm = []
        for _ in range(3):
            t = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - t)
        warm_page = statistics.median(warm)
        at.number_input(key="m_ex_class_page").set_value(50)  # page 50 of 112: new thumbnails, still lazy
        t = time.perf_counter()
        at.run()
        later_page = time.perf_counter() - t
        # a fresh session that opens the page with the class already chosen (the whole first screen:
        # metrics, charts, the panel), thumbnails cleared first
        for f in Path(tempfile.tempdir).rglob("*.jpg"):
            f.unlink()
        fresh = AppTest.from_file(str(ROOT / "pages" / "3_Metrics.py"), default_timeout=300)
        fresh.session_state["ts_cls_dataset"] = ds
        fresh.session_state["ts_bins"] = "imagenet-lt"
        fresh.session_state["m_boot"] = 0
        fresh.session_state["m_ex_class_target"] = {"what": "class", "class_id": 0, "role": "true"}
        t = time.perf_counter()
        fresh.run()
        fresh_page = time.perf_counter() - t
        assert not fresh.exception and len(fresh.get("image")) == PAGE_SIZE_IMAGES

    print(f"\n{a.n:,} candidate images of one class; a page shows {PAGE_SIZE_IMAGES} thumbnails ({THUMB_SIDE} px)")
    print(f"{'what':<44}{'seconds':>10}")
    for name, v in (("fresh Metrics page, class open, cold thumbs", fresh_page),
                    ("Metrics page rerun opening the class, cold", cold_page),
                    ("Metrics page rerun, warm (cached thumbnails)", warm_page),
                    ("Metrics page rerun, page 50 of the class", later_page),
                    ("panel alone (selection + 9 thumbnails), cold", cold_panel),
                    ("panel alone, warm", warm_panel),
                    (f"eager: all {a.n:,} thumbnails (a non-lazy gallery)", eager)):
        print(f"{name:<44}{v:>10.3f}")
    print(f"\nratio eager / lazy (cold panel): {eager / cold_panel:,.0f}x; first screen under a second: "
          f"{'yes' if max(cold_page, fresh_page) < 1.0 else 'NO'} (fresh page {fresh_page:.2f} s, rerun {cold_page:.2f} s "
          f"cold, {warm_page:.2f} s warm)")


if __name__ == "__main__":
    main()
