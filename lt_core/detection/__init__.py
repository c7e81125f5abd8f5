"""Detection evaluation: exact COCO / LVIS AP and AR, per-class AP, PR curves, confidence
intervals, the TIDE error breakdown, stealing, thresholds.

Public API (imported on first use, so ``eval-det`` loads only what it runs)
-----------------------------------------------------------------------------
evaluate_detections(gt, results, iou_type, style, max_dets) -> DetectionEvaluation
    AP / AP50 / AP75 / APs / APm / APl / APr / APc / APf, the AR summary and per-class AP, equal
    to pycocotools ``COCOeval`` (style ``coco``) and lvis-api ``LVISEval`` (style ``lvis``).
match_detections / match_shard / merge / finish
    the mergeable sufficient statistics (per-image match tables: update per image shard, merge,
    compute).
bootstrap_ci, paired_bootstrap
    seeded image-bootstrap confidence intervals from the per-image states (AP, AP50, APr / APc /
    APf, AP per bin, per class) and the paired comparison of two results files.
tide_errors, detection_outcomes
    the TIDE error breakdown (Bolya et al. 2020) per bin and class, equal to ``tidecv``; the
    per-detection outcome table (TP, duplicate, wrong class, background, poor localisation,
    missed) behind it.
pr_curve, raw_pr_curve, pr_curves_by_bin, ap_by_bin
    PR curves per class and per frequency bin; AP per bin.
stealing_analysis
    ground truth of one class covered by detections of another (who steals the tail).
operating_thresholds, thresholds_to_json, write_thresholds
    per-class best-F1 / target-precision score thresholds and their JSON export.
load_results_fast
    fast, low-memory reader for large COCO results files (any JSON layout).
"""
from __future__ import annotations

import importlib

_NAMES = {
    "accumulate": ["Accumulated", "accumulate", "summarize_ap", "summarize_ar"],
    "evaluator": ["HEADLINE_KEYS", "COCO_AR_KEYS", "LVIS_AR_KEYS", "DetectionEvaluation", "default_style",
                  "evaluate_detections", "evaluate_state", "finish", "match_detections", "ap_by_bin",
                  "summary_numbers"],
    "matching": ["MatchState", "empty_state", "match_shard", "merge", "update"],
    "params": ["AREA_LABELS", "EvalParams"],
    "prepare": ["DetTable", "GTTable", "prepare_dets", "prepare_gt"],
    "curves": ["class_bins", "iou_index", "pr_curve", "pr_curves_by_bin", "raw_pr_curve"],
    "fastjson": ["load_results_fast"],
    "stealing": ["StealingResult", "stealing_analysis"],
    "thresholds": ["operating_thresholds", "thresholds_to_json", "write_thresholds"],
    "bootstrap": ["BootstrapResult", "bootstrap_ci", "paired_bootstrap", "CI_METRICS"],
    "tide": ["TideResult", "tide_errors", "detection_outcomes", "TIDE_ERRORS"],
    "frequencies": ["load_detection_frequencies", "apply_frequencies", "with_train_frequencies"],
}
_WHERE = {name: mod for mod, names in _NAMES.items() for name in names}
__all__ = [n for names in _NAMES.values() for n in names]


def __getattr__(name: str):
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module 'lt_core.detection' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
