"""Speed of one cRT epoch against the matrix multiplications it needs (issue 5).

One cRT epoch over 115,846 x 512 float32 features into 1,000 classes (ImageNet-LT train size),
class-balanced sampling, batch 512, SGD: it must cost at most twice the time of its matrix
multiplications (forward ``X_b @ W.T`` and weight gradient ``G.T @ X_b``, 4·N·D·C FLOPs),
timed with ``torch.mm`` at the same sizes on the same machine. Prints achieved GFLOP/s next to
``torch.mm`` GFLOP/s and the ratio. Features are random (the speed does not depend on them).

    .venv/bin/python benchmarks/bench_retrain.py [--n 115846 --d 512 --c 1000 --batch 512 --repeats 3]

``--table`` instead prints the Kang et al. 2020 style table on the demo's real GoEmotions features
(many / medium / few / all, test split, demo bins quantile:3 = head / medium / tail): every method
with cross-entropy, then every loss with instance sampling (a retrained joint head) and with
class-balanced sampling (cRT):

    .venv/bin/python benchmarks/bench_retrain.py --table [--epochs 10 --seeds 0,1,2]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lt_core.heads import LinearHead, fit_head, make_loss  # noqa: E402


def imagenet_lt_counts(n: int, c: int) -> np.ndarray:
    """Per-class counts: the real ImageNet-LT train counts when the shared data is there."""
    p = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "imagenet_lt" / "ImageNet_LT_class_counts.csv"
    if p.exists() and (n, c) == (115846, 1000):
        import pandas as pd

        df = pd.read_csv(p)
        col = [k for k in df.columns if "train" in k.lower()][0]
        return df[col].to_numpy(np.int64)
    w = 1.0 / np.arange(1, c + 1) ** 1.2
    cnt = np.maximum(1, np.floor(w / w.sum() * n)).astype(np.int64)
    cnt[0] += n - cnt.sum()
    return cnt


def time_mm(n: int, d: int, c: int, batch: int, repeats: int) -> float:
    """Seconds for the matmuls of one epoch: per batch X_b @ W.T and G.T @ X_b, full batches."""
    xb = torch.randn(batch, d)
    w = torch.randn(c, d)
    g = torch.randn(batch, c)
    steps_full, rest = divmod(n, batch)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(steps_full):
            torch.mm(xb, w.T)
            torch.mm(g.T, xb)
        if rest:
            torch.mm(xb[:rest], w.T)
            torch.mm(g[:rest].T, xb[:rest])
        best = min(best, time.perf_counter() - t)
    return best


def table(epochs: int, seeds: list[int]) -> None:
    """Print many / medium / few / all (%) on the demo for every method and every loss
    (mean over ``seeds``, with the standard deviation of the tail bin when several)."""
    from lt_core.data import load_classification_demo
    from lt_core.heads import LOSSES, RetrainSettings, experiment_row, kang_table, retrain_dataset

    ds = load_classification_demo()
    scheme = ds.default_bins
    y, tc = ds.labels["test"].y, ds.classes.train_count
    configs = [("Joint (as loaded)", dict(method="joint")), ("NCM", dict(method="ncm")),
               ("cRT", dict(method="crt")), ("τ-norm", dict(method="tau-norm")), ("LWS", dict(method="lws"))]
    configs += [(f"{loss} · instance", dict(method="joint", loss=loss, sampler="instance", use_loaded=False))
                for loss in LOSSES]
    configs += [(f"{loss} · class-balanced (cRT)", dict(method="crt", loss=loss)) for loss in LOSSES]
    rows = []
    print(f"{ds.name}: {ds.classes.n_classes} classes, train {len(ds.labels['train']):,}, test {len(y):,}; "
          f"bins {scheme} by train count; accuracy = mean per-class recall (Kang et al. 2020 on a balanced test); "
          f"epochs {epochs}, seeds {seeds}, lr 2.0, batch 512, cosine SGD")
    import pandas as pd

    for label, kw in configs:
        t = time.perf_counter()
        for seed in seeds:
            res = retrain_dataset(ds, RetrainSettings(epochs=epochs, seed=seed, **kw))
            row = experiment_row(res, y, tc, scheme, "test")
            row["run"] = label
            rows.append(row)
        print(f"  {label:<42} {time.perf_counter() - t:6.1f} s" + (f"  (tau {res.tau:g})" if res.tau is not None else ""),
              flush=True)
    kt = kang_table(rows, scheme)
    tail = kt.columns[-2]
    out = kt.groupby("run", sort=False).mean().round(1).reset_index()
    if len(seeds) > 1:
        out[f"{tail} sd"] = kt.groupby("run", sort=False)[tail].std(ddof=1).round(1).to_numpy()
    print()
    with pd.option_context("display.width", 200):
        print(out.to_string(index=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=115846)
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--c", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--table", action="store_true", help="print the method x loss table on the demo instead")
    ap.add_argument("--epochs", type=int, default=10, help="--table: epochs of every trained head")
    ap.add_argument("--seeds", default="0", help="--table: comma-separated seeds (mean over them; default 0)")
    a = ap.parse_args()
    if a.table:
        table(a.epochs, [int(x) for x in a.seeds.split(",")])
        return
    counts = imagenet_lt_counts(a.n, a.c)
    y = np.repeat(np.arange(a.c), counts)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((len(y), a.d), dtype=np.float32)
    flops = 4.0 * len(y) * a.d * a.c
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, N={len(y):,} D={a.d} C={a.c} "
          f"batch {a.batch}; {flops / 1e9:.1f} GFLOP of matmuls per epoch")
    # interleaved (mm, epoch) pairs, best of each: a busy machine slows both alike
    t_mm = best = float("inf")
    for r in range(a.repeats):
        t_mm = min(t_mm, time_mm(len(y), a.d, a.c, a.batch, 1))
        head = LinearHead(a.d, a.c)
        loss = make_loss("ce", counts)
        t = time.perf_counter()
        fit_head(head, X, y, loss, n_classes=a.c, epochs=1, batch_size=a.batch, lr=0.1, sampler="class-balanced",
                 seed=r, device="cpu")
        best = min(best, time.perf_counter() - t)
    head = LinearHead(a.d, a.c)
    t = time.perf_counter()
    fit_head(head, X, y, make_loss("ce", counts), n_classes=a.c, epochs=1, batch_size=a.batch, lr=0.1,
             sampler="class-balanced", seed=0, device="cpu", fused=False)
    t_auto = time.perf_counter() - t
    print(f"torch.mm only     : {t_mm:7.3f} s/epoch  {flops / t_mm / 1e9:7.1f} GFLOP/s")
    print(f"autograd + SGD    : {t_auto:7.3f} s/epoch  {flops / t_auto / 1e9:7.1f} GFLOP/s  (fused=False, once, "
          f"for comparison)")
    print(f"cRT epoch (fit)   : {best:7.3f} s/epoch  {flops / best / 1e9:7.1f} GFLOP/s")
    ratio = best / t_mm
    print(f"ratio epoch / mm  : {ratio:.2f}  (target <= 2.00: {'OK' if ratio <= 2.0 else 'MISSED'})")


if __name__ == "__main__":
    main()
