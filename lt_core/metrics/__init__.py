"""Classification metrics: per class, per frequency bin and overall, with bootstrap CIs.

Everything is computed from mergeable integer states (:class:`ConfusionState`,
:class:`PairedState`): ``state = update(state, shard)``, ``merge(a, b)``, ``report_from_state``.
"""
from .bootstrap import (PairedBootstrap, PairedState, bootstrap_bin_accuracy, bootstrap_confusion, bootstrap_report,
                        paired_bootstrap)
from .classification import (ClassificationReport, bin_accuracy, bin_table, classification_report,
                             ece_from_counts, overall_metrics, per_class_table, report_from_state)
from .compare import MIN_SUPPORT, class_deltas, runs_bin_table, runs_overall_table
from .confusions import error_destinations, frequency_order, ordered_confusion, top_confusions
from .scores import ScoreSummary, is_probability_matrix, summarize_scores
from .state import ConfusionState, merge, update

__all__ = [
    "ConfusionState", "update", "merge", "report_from_state", "classification_report",
    "ClassificationReport", "bin_accuracy", "bin_table", "overall_metrics", "per_class_table",
    "ece_from_counts", "bootstrap_report", "bootstrap_bin_accuracy", "bootstrap_confusion", "paired_bootstrap",
    "PairedBootstrap", "PairedState", "summarize_scores", "ScoreSummary", "is_probability_matrix",
    "error_destinations", "frequency_order", "ordered_confusion", "top_confusions",
    "runs_bin_table", "runs_overall_table", "class_deltas", "MIN_SUPPORT",
]
