"""Multi-label metrics from 100,000 x 1,000 scores: Tailscope's exact mergeable states vs scikit-learn.

Everything both sides compute, on the same data, in one run:

* per-class AP (``average_precision_score(average=None)``) and ROC-AUC (``roc_auc_score(average=None)``);
* F1 at a threshold with every average (None, micro, macro, weighted, samples) and ``hamming_loss``;
* Tailscope also gives the per-bin table (mAP, macro / micro / samples F1 per bin) in the same pass.

Data: seeded, long-tailed (class frequency from 20% down to 0.05%, Zipf-like), float32 scores that rank
positives higher; labels as an (N, C) bool matrix. Exactness is checked (max |difference| to sklearn) and
a 4-shard update + merge is checked to give bit-identical per-class APs. Goal: >= 10x faster, exact.

    python benchmarks/bench_multilabel.py                      # 100,000 x 1,000
    python benchmarks/bench_multilabel.py --n 20000 --c 200    # a quick run

Timings on a shared machine are noisy: run twice, read the second.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_data(n: int, c: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    freq = 0.2 * (np.arange(1, c + 1, dtype=np.float64) ** -1.1)
    freq = np.maximum(freq, 5e-4)
    Y = rng.random((n, c), dtype=np.float32) < freq.astype(np.float32)
    S = rng.standard_normal((n, c), dtype=np.float32)
    S += 2.0 * Y
    P = 1.0 / (1.0 + np.exp(-S))   # float32 probabilities (sigmoid), some ties from float32 rounding
    return Y, P.astype(np.float32), freq


def ours(Y, P, classes, threshold: float):
    from lt_core.metrics import MultiLabelCounts, RankState, decisions, multilabel_report_from_states
    from lt_core.metrics.multilabel import _bin_codes

    t0 = time.perf_counter()
    c0 = time.process_time()
    rank = RankState.empty(Y.shape[1]).update(Y, P)
    t_rank = time.perf_counter() - t0
    D = decisions(P, threshold, "probs")
    _, _, code = _bin_codes(classes, "quantile:3")
    counts = MultiLabelCounts.empty(Y.shape[1], code).update(Y, D)
    rep = multilabel_report_from_states(rank, counts, classes, "quantile:3", threshold=threshold)
    wall = time.perf_counter() - t0
    return rep, wall, time.process_time() - c0, t_rank


def sklearn_all(Y, P, threshold: float):
    from sklearn.metrics import average_precision_score, f1_score, hamming_loss, roc_auc_score

    out, times = {}, {}
    D = P >= threshold
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        out["ap"] = average_precision_score(Y, P, average=None)
        times["average_precision_score"] = time.perf_counter() - t
        t = time.perf_counter()
        out["auc"] = roc_auc_score(Y, P, average=None)
        times["roc_auc_score"] = time.perf_counter() - t
        t = time.perf_counter()
        out["f1"] = f1_score(Y, D, average=None, zero_division=0)
        for avg in ("micro", "macro", "weighted", "samples"):
            out[f"{avg}_f1"] = f1_score(Y, D, average=avg, zero_division=0)
        out["hamming"] = hamming_loss(Y, D)
        times["f1_score x5 + hamming_loss"] = time.perf_counter() - t
    return out, times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--c", type=int, default=1_000)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-sklearn", action="store_true")
    a = ap.parse_args()
    from lt_core.data import ClassTable
    from lt_core.metrics import RankState

    Y, P, freq = make_data(a.n, a.c, a.seed)
    classes = ClassTable(np.arange(a.c), [f"c{i}" for i in range(a.c)], Y.sum(0))
    print(f"{a.n:,} x {a.c:,} scores (float32), {int(Y.sum()):,} positive labels, "
          f"cardinality {Y.sum() / a.n:.2f}, classes without positives {int((~Y.any(0)).sum())}")
    ours(Y[:2000], P[:2000], classes, a.threshold)   # warm-up (imports, thread pools)
    rep, wall, cpu, t_rank = ours(Y, P, classes, a.threshold)
    print(f"Tailscope (RankState + MultiLabelCounts + per-bin report): {wall:.2f} s wall, {cpu:.2f} s CPU "
          f"(sorting {t_rank:.2f} s)")
    # shards merged give exactly the whole
    parts = np.array_split(np.arange(a.n), 4)
    t = time.perf_counter()
    st = RankState.empty(a.c)
    for p in parts:
        st = st.merge(RankState.empty(a.c).update(Y[p], P[p]))
    ap_m = st.per_class()[0]
    t_merge = time.perf_counter() - t
    same = np.array_equal(ap_m, rep.per_class["ap"].to_numpy(), equal_nan=True)
    print(f"4 shards updated and merged: {t_merge:.2f} s, per-class AP bit-identical to one pass: {same}")
    if a.skip_sklearn:
        return
    ref, times = sklearn_all(Y, P, a.threshold)
    total = sum(times.values())
    for k, v in times.items():
        print(f"  scikit-learn {k:<30}{v:8.2f} s")
    print(f"scikit-learn total: {total:.2f} s")
    has = Y.any(0)
    defined = has & ~Y.all(0)
    pc = rep.per_class
    diffs = {
        "AP": np.abs(pc["ap"].to_numpy()[has] - ref["ap"][has]).max(),
        "ROC-AUC": np.abs(pc["roc_auc"].to_numpy()[defined] - ref["auc"][defined]).max(),
        "per-class F1": np.abs(pc["f1"].to_numpy() - ref["f1"]).max(),
        **{f"{avg}-F1": abs(rep.overall[f"{avg}_f1"] - ref[f"{avg}_f1"]) for avg in ("micro", "macro", "weighted",
                                                                                     "samples")},
        "hamming loss": abs(rep.overall["hamming_loss"] - ref["hamming"]),
    }
    print("max |Tailscope - scikit-learn|: " + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()))
    ok = all(v <= 1e-12 for v in diffs.values())
    print(f"exact to 1e-12: {ok}")
    print(f"speed-up: {total / wall:.1f}x (goal >= 10x)")


if __name__ == "__main__":
    main()
