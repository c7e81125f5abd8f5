"""Tables of retraining results: one experiment row per run, and Kang et al. 2020's table.

Bin accuracies are those of the Metrics page and ``eval-cls`` (mean per-class recall over the
bin's classes; bins by TRAIN counts); ``all`` is the same over every class.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..bins import parse_bins
from ..data.schema import ClassTable
from .methods import METHOD_LABELS, RetrainResult
from .train import per_bin_accuracy

__all__ = ["experiment_row", "kang_table", "paired_deltas", "ml_experiment_row"]


def experiment_row(result: RetrainResult, y_true: np.ndarray, train_counts: np.ndarray, scheme: str,
                   split: str = "test") -> dict:
    """One row of the experiment table: the settings that matter and the per-bin results.

    Returns
    -------
    dict
        ``run``, ``method``, ``loss``, ``sampler``, ``model``, ``epochs``, ``lr``, ``batch``,
        ``seed``, ``beta``, ``gamma``, ``tau``, ``smote``, ``time_s``, ``split``, then one
        column per bin (head first), ``all`` and ``accuracy`` (fractions in [0, 1]).
    """
    s = result.settings
    trains = bool(result.history) and result.history[-1].get("epoch", 0) > 0
    acc = per_bin_accuracy(y_true, result.scores[split].argmax(1), train_counts, scheme)
    sch = parse_bins(scheme)
    row = {"run": result.name, "method": METHOD_LABELS[s.method],
           "loss": s.loss if trains else "–", "sampler": s.resolved_sampler if trains else "–",
           "model": s.model, "epochs": s.epochs if trains else 0, "lr": s.lr if trains else None,
           "batch": s.batch_size if trains else None, "seed": s.seed, "beta": s.beta, "gamma": s.gamma,
           "tau": result.tau if result.tau is not None else s.tau, "smote": s.smote or "",
           "time_s": round(result.elapsed_s, 2), "split": split}
    for b in sch.order():
        if b in acc:
            row[b] = acc[b]
    row["all"], row["accuracy"] = acc["all"], acc["accuracy"]
    return row


def kang_table(rows: list[dict], scheme: str) -> pd.DataFrame:
    """Kang et al. 2020 Table style: one row per run, columns many / medium / few / all (%, 1 decimal)."""
    sch = parse_bins(scheme)
    df = pd.DataFrame(rows)
    cols = [b for b in sch.order() if b in df.columns] + ["all"]
    out = df[["run"] + cols].copy()
    out[cols] = (100 * out[cols].astype(float)).round(1)
    return out


def paired_deltas(y_true: np.ndarray, ref_pred: np.ndarray, new_pred: np.ndarray, classes: ClassTable, scheme: str,
                  n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Change (new - reference) overall and per bin with paired bootstrap 95% CIs
    (:func:`lt_core.metrics.paired_bootstrap`; the same resample for both runs)."""
    from ..metrics import paired_bootstrap

    return paired_bootstrap(y_true, ref_pred, new_pred, classes, scheme, n_resamples=n_resamples, seed=seed).table


def ml_experiment_row(result: RetrainResult, Y_true, classes: ClassTable, scheme: str, split: str = "test",
                      threshold: float = 0.5) -> dict:
    """One experiment row of a multi-label retraining: settings, then mAP per bin, ``mAP``,
    ``macro_f1`` / ``micro_f1`` / ``samples_f1`` at ``threshold`` (fractions in [0, 1];
    :func:`lt_core.metrics.multilabel_report`)."""
    from ..metrics.multilabel import multilabel_report

    s = result.settings
    trains = bool(result.history) and result.history[-1].get("epoch", 0) > 0
    rep = multilabel_report(Y_true, result.scores[split], classes, scheme, kind="logits", threshold=threshold)
    row = {"run": result.name, "method": METHOD_LABELS[s.method], "loss": s.loss if trains else "–",
           "sampler": s.resolved_sampler if trains else "–", "model": s.model, "epochs": s.epochs if trains else 0,
           "lr": s.lr if trains else None, "batch": s.batch_size if trains else None, "seed": s.seed,
           "time_s": round(result.elapsed_s, 2), "split": split}
    for b, v in rep.bins["mAP"].items():
        row[f"mAP {b}"] = float(v)
    for k in ("mAP", "macro_f1", "micro_f1", "samples_f1"):
        row[k] = rep.overall[k]
    for b, v in rep.bins["macro_f1"].items():
        row[f"macro_f1 {b}"] = float(v)
    return row
