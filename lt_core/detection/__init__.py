"""Detection evaluation: exact COCO / LVIS AP, per-class AP, PR curves, stealing, thresholds.

Public API
----------
evaluate_detections(gt, results, iou_type, style, max_dets) -> DetectionEvaluation
    AP / AP50 / AP75 / APs / APm / APl / APr / APc / APf and per-class AP, equal to pycocotools
    ``COCOeval`` (style ``coco``) and lvis-api ``LVISEval`` (style ``lvis``).
match_detections / merge / finish
    the mergeable sufficient statistics (update per image shard, merge, compute).
pr_curve, raw_pr_curve, pr_curves_by_bin, ap_by_bin
    PR curves per class and per frequency bin; AP per bin.
stealing_analysis
    ground truth of one class covered by detections of another (who steals the tail).
operating_thresholds, thresholds_to_json, write_thresholds
    per-class best-F1 / target-precision score thresholds and their JSON export.
load_results_fast
    low-memory reader for large COCO box-results files.
"""
from .accumulate import Accumulated, accumulate, summarize_ap
from .evaluator import (HEADLINE_KEYS, ap_by_bin, DetectionEvaluation, default_style, evaluate_detections, evaluate_state,
                        finish, match_detections)
from .matching import MatchState, empty_state, match_shard, merge, update
from .params import AREA_LABELS, EvalParams
from .prepare import DetTable, GTTable, prepare_dets, prepare_gt
from .curves import class_bins, iou_index, pr_curve, pr_curves_by_bin, raw_pr_curve
from .fastjson import load_results_fast
from .stealing import StealingResult, stealing_analysis
from .thresholds import operating_thresholds, thresholds_to_json, write_thresholds

__all__ = ["Accumulated", "accumulate", "summarize_ap", "HEADLINE_KEYS", "DetectionEvaluation", "default_style",
           "evaluate_detections", "evaluate_state", "finish", "match_detections", "MatchState", "empty_state",
           "match_shard", "merge", "update", "AREA_LABELS", "EvalParams", "DetTable", "GTTable", "prepare_dets",
           "prepare_gt", "class_bins", "iou_index", "pr_curve", "pr_curves_by_bin", "raw_pr_curve",
           "load_results_fast", "StealingResult", "stealing_analysis", "operating_thresholds",
           "thresholds_to_json", "write_thresholds", "ap_by_bin"]
