"""Long-tail distribution analysis: counts, Lorenz curve and Gini, bins, effective number; for multi-label
data label cardinality / density and the co-occurrence of tail labels with head labels."""
from .cooccurrence import CooccurrenceState, cooccurrence_state, label_statistics, tail_head_cooccurrence
from .stats import class_counts, effective_number, gini, head_share, imbalance_ratio, lorenz_curve
from .summary import DistributionSummary, distribution_summary, split_counts

__all__ = ["class_counts", "effective_number", "gini", "head_share", "imbalance_ratio", "lorenz_curve",
           "DistributionSummary", "distribution_summary", "split_counts", "CooccurrenceState", "cooccurrence_state",
           "label_statistics", "tail_head_cooccurrence"]
