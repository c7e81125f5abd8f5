"""The same mergeable states, mapped over Parquet partitions and merged on a Dask cluster.

Imported only when asked (``import lt_core`` never imports Dask; ``--dask`` on the command line
and this package do). The numbers equal the single-process ones bit for bit: every task returns
the state the single-process code builds for its rows, merges are exact (integer sums, or the
per-class concatenation that AP needs), and ``compute`` runs the single-process code on the
merged state.

Public API
----------
dask_client(spec)                       ``local:N`` / ``tcp://HOST:PORT`` / a Client, as a context
parse_dask_spec(text)                   the ``--dask`` value, checked
convert_scores / convert_labels         .npy / .npz scores, label files -> partitioned Parquet
convert_detections / convert_gt         COCO results JSON (streamed), COCO / LVIS GT -> Parquet by image
open_dataset(path) -> Dataset           a converted folder (manifest + partitions)
evaluate_classification(client, ...)    the eval-cls report (bootstrap CIs included)
evaluate_multilabel(client, ...)        the multi-label eval-cls report (point metrics)
evaluate_detections(client, gt, dt)     COCO / LVIS AP / AR, per class, image-bootstrap CIs
classification_state(client, ...)       the merged ConfusionState
class_counts(client, labels_dataset)    training samples per class (for re-weighting)
repeat_factors(client, gt, threshold)   LVIS repeat factor sampling, image counts on the workers
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "dask_client": "cluster", "parse_dask_spec": "cluster", "DaskSpec": "cluster",
    "convert_scores": "convert", "convert_labels": "convert", "convert_gt": "convert", "convert_detections": "convert",
    "write_scores_dataset": "convert", "write_labels_dataset": "convert", "write_detections_dataset": "convert",
    "write_annotations_dataset": "convert",
    "open_dataset": "layout", "is_dataset": "layout", "Dataset": "layout", "Partition": "layout",
    "PartitionError": "layout", "MANIFEST": "layout", "image_partition": "layout",
    "evaluate_classification": "classification", "classification_state": "classification",
    "evaluate_multilabel": "multilabel", "evaluate_detections": "detection", "DaskDetectionRun": "detection",
    "class_counts": "rebalance", "class_weights_table": "rebalance", "repeat_factors": "rebalance",
    "map_merge": "engine", "ProgressLine": "engine",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'lt_core.distributed' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value
