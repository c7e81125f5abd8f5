"""Detection evaluation: exact COCO / LVIS AP, per-class AP, PR curves, stealing, thresholds.

Public API
----------
evaluate_detections(gt, results, iou_type, style, max_dets) -> DetectionEvaluation
    AP / AP50 / AP75 / APs / APm / APl / APr / APc / APf and per-class AP, equal to pycocotools
    ``COCOeval`` (style ``coco``) and lvis-api ``LVISEval`` (style ``lvis``).
match_detections / merge / finish
    the mergeable sufficient statistics (update per image shard, merge, compute).
"""
from .accumulate import Accumulated, accumulate, summarize_ap
from .evaluator import (HEADLINE_KEYS, DetectionEvaluation, default_style, evaluate_detections, evaluate_state,
                        finish, match_detections)
from .matching import MatchState, empty_state, match_shard, merge, update
from .params import AREA_LABELS, EvalParams
from .prepare import DetTable, GTTable, prepare_dets, prepare_gt

__all__ = ["Accumulated", "accumulate", "summarize_ap", "HEADLINE_KEYS", "DetectionEvaluation", "default_style",
           "evaluate_detections", "evaluate_state", "finish", "match_detections", "MatchState", "empty_state",
           "match_shard", "merge", "update", "AREA_LABELS", "EvalParams", "DetTable", "GTTable", "prepare_dets",
           "prepare_gt"]
