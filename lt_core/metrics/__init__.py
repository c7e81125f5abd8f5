"""Classification metrics: per class, per frequency bin and overall, with bootstrap CIs.

Everything is computed from mergeable integer states (:class:`ConfusionState`,
:class:`PairedState`): ``state = update(state, shard)``, ``merge(a, b)``, ``report_from_state``.

Multi-label targets (a sample carries several classes): :class:`RankState` (exact AP / ROC-AUC)
and :class:`MultiLabelCounts` (F1s, hamming loss at thresholds), :func:`multilabel_report`, and
bootstrap CIs that resample samples (:mod:`.multilabel_bootstrap`).
"""
from .bootstrap import (PairedBootstrap, PairedState, bootstrap_bin_accuracy, bootstrap_confusion, bootstrap_report,
                        paired_bootstrap)
from .classification import (ClassificationReport, bin_accuracy, bin_table, classification_report,
                             ece_from_counts, overall_metrics, per_class_table, report_from_state)
from .compare import MIN_SUPPORT, class_deltas, runs_bin_table, runs_overall_table
from .confusions import error_destinations, frequency_order, ordered_confusion, top_confusions
from .scores import ScoreSummary, is_probability_matrix, summarize_scores
from .multilabel import (ML_OVERALL_KEYS, MultiLabelCounts, MultiLabelReport, decisions, ml_class_deltas,
                         ml_tail_confusions,
                         multilabel_report, multilabel_report_from_states, runs_ml_bin_table, runs_ml_overall_table,
                         thresholds_vector)
from .multilabel_bootstrap import bootstrap_distributions, bootstrap_multilabel, paired_bootstrap_multilabel
from .ranking import RankState, average_precision, micro_average_precision, roc_auc
from .state import ConfusionState, merge, update

__all__ = [
    "ConfusionState", "update", "merge", "report_from_state", "classification_report",
    "ClassificationReport", "bin_accuracy", "bin_table", "overall_metrics", "per_class_table",
    "ece_from_counts", "bootstrap_report", "bootstrap_bin_accuracy", "bootstrap_confusion", "paired_bootstrap",
    "PairedBootstrap", "PairedState", "summarize_scores", "ScoreSummary", "is_probability_matrix",
    "error_destinations", "frequency_order", "ordered_confusion", "top_confusions",
    "runs_bin_table", "runs_overall_table", "class_deltas", "MIN_SUPPORT",
    # multi-label
    "RankState", "MultiLabelCounts", "MultiLabelReport", "multilabel_report", "multilabel_report_from_states",
    "decisions", "thresholds_vector", "average_precision", "roc_auc", "micro_average_precision",
    "bootstrap_multilabel", "paired_bootstrap_multilabel", "bootstrap_distributions", "runs_ml_bin_table",
    "runs_ml_overall_table", "ml_class_deltas", "ML_OVERALL_KEYS", "ml_tail_confusions",
]
