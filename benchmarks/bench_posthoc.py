"""Speed of post-hoc logit adjustment on an ImageNet-LT-sized problem (run by hand, not a test).

    .venv/bin/python benchmarks/bench_posthoc.py [--n 50000] [--repeat 7] [--seed 0]

Claims (issue 4): with 50,000 x 1,000 float32 scores loaded, one tau change recomputes everything
the Thresholds page shows (predictions, per-class recall and prediction counts, per-bin accuracy,
accuracy, balanced accuracy, macro-F1) in <= 25 ms on 2 cores, and a 41-point tau sweep (with the
same metrics per tau) takes <= 1 s. Reference: plain NumPy ``(logits - tau * log_prior).argmax(1)``
(prediction only, no metrics). The one-time index build per loaded run is printed too, and every
sweep prediction is checked to be identical to the NumPy argmax.

Data: the real ImageNet-LT train counts (tests/data/imagenet_lt, 1,000 classes, 1280..5) give the
prior and the bins; 50 test samples per class (the ImageNet-LT test layout); generated logits of a
head-biased model (noise + a boost for the true class + 0.9 * log prior).
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "2")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lt_core.data.schema import ClassTable  # noqa: E402
from lt_core.metrics import paired_bootstrap  # noqa: E402
from lt_core.posthoc import DEFAULT_TAUS, TauEvaluator, log_prior, sweep_table  # noqa: E402


def timed(f, repeat: int) -> tuple[float, float]:
    """(min, median) wall time in ms over ``repeat`` runs after one warm-up."""
    f()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return 1e3 * min(ts), 1e3 * float(np.median(ts))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50_000, help="test samples (spread evenly over the classes)")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    counts = pd.read_csv(ROOT / "tests/data/imagenet_lt/ImageNet_LT_class_counts.csv")["train_count"].to_numpy()
    C = len(counts)
    rng = np.random.default_rng(a.seed)
    y = np.repeat(np.arange(C), a.n // C + 1)[: a.n]
    lp = log_prior(counts)
    S = rng.standard_normal((a.n, C), dtype=np.float32)
    S[np.arange(a.n), y] += 2.5
    S += (0.9 * lp).astype(np.float32)
    scheme = "imagenet-lt"
    print(f"scores {a.n:,} x {C:,} float32 ({S.nbytes / 2**20:.0f} MiB), ImageNet-LT train counts "
          f"{counts.max()}..{counts.min()}, bins {scheme}, threads {os.environ['OMP_NUM_THREADS']}, "
          f"cores visible {os.cpu_count()}")

    t = time.perf_counter()
    ev = TauEvaluator(S, y, counts, scheme, (0.0, 2.0))
    build = 1e3 * (time.perf_counter() - t)
    print(f"index build (once per loaded run and split): {build:,.0f} ms; "
          f"mean candidate classes per row {ev.index.mean_candidates:.2f} of {C:,}")

    # exactness over the whole sweep
    exact = all(np.array_equal(ev.predict(tau), (S - tau * lp).argmax(1)) for tau in DEFAULT_TAUS)
    print(f"identical to NumPy argmax at all {len(DEFAULT_TAUS)} taus: {'yes' if exact else 'NO'}")

    taus = iter(np.tile(DEFAULT_TAUS, 1000))
    one_min, one_med = timed(lambda: ev.at(next(taus)), a.repeat)
    taus_np = iter(np.tile(DEFAULT_TAUS, 1000))
    np_min, np_med = timed(lambda: (S - next(taus_np) * lp).argmax(1), a.repeat)
    classes = ClassTable(np.arange(C), [str(i) for i in range(C)], counts)
    p0 = ev.at(0.0)

    def page_extras():
        p1 = ev.at(next(taus))
        ev.bin_table(p0, p1)
        ev.class_table(p0, p1)
        return p1

    ex_min, ex_med = timed(page_extras, a.repeat)
    p1 = ev.at(1.0)
    pb_min, pb_med = timed(lambda: paired_bootstrap(y, p0.pred, p1.pred, classes, scheme, n_resamples=1000, seed=0),
                           max(3, a.repeat // 2))
    sw_min, sw_med = timed(lambda: sweep_table(ev.sweep(DEFAULT_TAUS), counts, scheme), max(3, a.repeat // 2))
    npsw_min, npsw_med = timed(lambda: [(S - t_ * lp).argmax(1) for t_ in DEFAULT_TAUS], max(3, a.repeat // 2))

    print()
    print(f"{'':<44}{'min ms':>10}{'median ms':>12}{'target':>10}")
    print(f"{'one tau change, everything shown':<44}{one_min:>10.1f}{one_med:>12.1f}{'<= 25':>10}")
    print(f"{'  plain NumPy argmax (prediction only)':<44}{np_min:>10.1f}{np_med:>12.1f}")
    print(f"{'  + per-bin and per-class tables (page)':<44}{ex_min:>10.1f}{ex_med:>12.1f}")
    print(f"{'  paired bootstrap CI, 1,000 resamples':<44}{pb_min:>10.1f}{pb_med:>12.1f}{'(extra)':>10}")
    print(f"{'41-point sweep with all metrics':<44}{sw_min:>10.1f}{sw_med:>12.1f}{'<= 1000':>10}")
    print(f"{'  plain NumPy, 41 argmaxes':<44}{npsw_min:>10.1f}{npsw_med:>12.1f}")
    print()
    print(f"ratio NumPy / ours (median): one tau {np_med / one_med:.1f}x, sweep {npsw_med / sw_med:.1f}x; "
          f"index build = {build / np_med:.1f} NumPy argmaxes")
    ok = one_med <= 25 and sw_med <= 1000 and exact
    print("targets met" if ok else "TARGETS NOT MET")


if __name__ == "__main__":
    main()
