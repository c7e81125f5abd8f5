"""Several runs side by side: per-bin tables and per-class differences against a reference run."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .classification import ClassificationReport

__all__ = ["runs_bin_table", "runs_overall_table", "class_deltas", "MIN_SUPPORT"]

MIN_SUPPORT = 5  # below this many test samples a class's recall says little (greyed out)


def runs_bin_table(reports: dict[str, ClassificationReport]) -> pd.DataFrame:
    """Long table, one row per (run, bin): accuracy, ci_low, ci_high, macro_f1, ece, n_classes, n_samples."""
    frames = []
    for run, rep in reports.items():
        df = rep.bins.reset_index()
        df.insert(0, "run", run)
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def runs_overall_table(reports: dict[str, ClassificationReport]) -> pd.DataFrame:
    """One row per run with the overall metrics (and their CIs where bootstrapped)."""
    return pd.DataFrame([{"run": r, **rep.overall} for r, rep in reports.items()])


def class_deltas(reports: dict[str, ClassificationReport], reference: str, metric: str = "recall",
                 min_support: int = MIN_SUPPORT) -> pd.DataFrame:
    """Per-class change of ``metric`` of every run against ``reference``, tail first.

    Returns
    -------
    DataFrame
        One row per class: ``class_id``, ``name``, ``bin``, ``train_count``, ``support``,
        ``low_support`` (fewer than ``min_support`` test samples), ``<metric> <run>`` per run and
        ``delta <run>`` (run - reference) per other run. Sorted by bin (tail-most first) and, within
        a bin, by the largest absolute change of any run.
    """
    if reference not in reports:
        raise InputError(f"unknown reference run '{reference}'", field="reference")
    ref = reports[reference]
    pc = ref.per_class
    df = pc[["class_id", "name", "bin", "train_count", "support"]].copy()
    df["low_support"] = df["support"] < min_support
    df[f"{metric} {reference}"] = pc[metric].to_numpy()
    others = [r for r in reports if r != reference]
    for r in others:
        df[f"{metric} {r}"] = reports[r].per_class[metric].to_numpy()
    for r in others:
        df[f"delta {r}"] = df[f"{metric} {r}"] - df[f"{metric} {reference}"]
    order = {n: i for i, n in enumerate(ref.scheme.order(df["bin"].to_numpy()))}
    # "no training data" is tail-most of all
    df["_b"] = -df["bin"].map(lambda b: order.get(b, len(order)))
    df["_d"] = -df[[f"delta {r}" for r in others]].abs().max(axis=1) if others else 0.0
    df = df.sort_values(["_b", "_d", "train_count"], kind="stable").drop(columns=["_b", "_d"])
    return df.reset_index(drop=True)
