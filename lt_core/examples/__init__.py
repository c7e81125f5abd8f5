"""From a number to the examples behind it.

Public API
----------
Selection
    rows behind a number (ordered worst first, capped, with the total count); ``to_csv()``.
sample_table(labels, preds, classes, scheme, rows=None)
    one row per evaluated sample: true / predicted class and bin, confidence, margin (and text).
by_class, by_bin, confusion_cell, bin_flow, tail_as_head, changes
    classification selections: a class's samples, a bin's, one confusion cell (or a pooled block),
    a bin's mistakes that land in another bin, tail samples predicted as head, the predictions two
    runs (or a τ / threshold change) fix and break.
worst_per_class(base, classes, n)
    the n worst samples of every class (``eval-cls --examples N``).
multilabel_class, multilabel_worst_per_class
    multi-label: one class's missed positives / false positives (most confident first).
SampleContent, sample_content(labels, image_root)
    the text or the image file behind each row.
box_table, boxes_of_class, stealing_pair, detections_at_threshold, pr_point_threshold
    detection: every box's outcome (on :func:`lt_core.detection.detection_outcomes`), a class's boxes by
    outcome (TP, FP by kind, missed), a stealing pair's boxes, the detections at a PR-curve point.
DetectionContent
    the image of a detection example with its boxes drawn by outcome (a canvas for generated data).
"""
from .classification import (CHANGES_NOTE, ORDER_NOTE, bin_flow, by_bin, by_class, changes, confusion_cell,
                             decision_changes,
                             sample_table, tail_as_head, worst_per_class)
from .content import DetectionContent, SampleContent, sample_content
from .detection import (DETECTION_ORDER, FP_KINDS, OUTCOME_LABELS, TIDE_OUTCOME, box_table, boxes_by_tide_error,
                        boxes_of_class, detections_at_threshold, pr_point_threshold, stealing_pair,
                        worst_boxes_per_class)
from .multilabel import MULTILABEL_WHICH, multilabel_changes, multilabel_class, multilabel_worst_per_class
from .selection import Selection

__all__ = ["Selection", "sample_table", "by_class", "by_bin", "confusion_cell", "bin_flow", "tail_as_head",
           "changes", "decision_changes", "worst_per_class", "SampleContent", "sample_content", "ORDER_NOTE", "CHANGES_NOTE",
           "multilabel_class", "multilabel_worst_per_class", "multilabel_changes", "MULTILABEL_WHICH", "DetectionContent", "box_table",
           "boxes_of_class", "boxes_by_tide_error", "TIDE_OUTCOME", "stealing_pair", "worst_boxes_per_class", "detections_at_threshold", "pr_point_threshold", "FP_KINDS",
           "OUTCOME_LABELS", "DETECTION_ORDER"]
