"""Long-tail distribution analysis: counts, Lorenz curve and Gini, bins, effective number."""
from .stats import class_counts, effective_number, gini, head_share, imbalance_ratio, lorenz_curve
from .summary import DistributionSummary, distribution_summary, split_counts

__all__ = ["class_counts", "effective_number", "gini", "head_share", "imbalance_ratio", "lorenz_curve",
           "DistributionSummary", "distribution_summary", "split_counts"]
