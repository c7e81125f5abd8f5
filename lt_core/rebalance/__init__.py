"""Fix the data: class re-weighting, re-sampling (index generators and torch Samplers), repeat
factor sampling, the SMOTE family, and exports a training pipeline can use. Multi-label data:
class-aware sampling per label and repeat factors over a sample's labels (:mod:`.multilabel`).

The torch ``Sampler`` classes are imported lazily (``from lt_core.rebalance import
ClassBalancedSampler`` imports torch only then).
"""
from .multilabel import (ML_STRATEGIES, expected_label_distribution, multilabel_epoch_indices,
                         multilabel_repeat_factors)
from .rfs import (RepeatFactors, RFSCounts, annotate_gt_json, category_repeat_factors, repeat_factors,
                  repeat_factors_from_arrays, rfs_epoch_indices)
from .sampling import (STRATEGIES, class_sampling_probabilities, epoch_indices, expected_class_distribution,
                       expected_epoch_length, expected_sample_repeats)
from .smote import SMOTE_METHODS, plan_targets, smote_pca_view, smote_resample
from .weights import (BETA_PRESETS, WEIGHT_SCHEMES, bin_weight_share, class_weights, count_init, count_merge,
                      count_update, effective_number, weights_table)

_SAMPLERS = ("RebalanceSampler", "InstanceBalancedSampler", "ClassBalancedSampler", "SquareRootSampler",
             "ProgressivelyBalancedSampler", "LabelShufflingSampler", "RandomOverSampler", "RandomUnderSampler",
             "RepeatFactorSampler")

__all__ = ["WEIGHT_SCHEMES", "BETA_PRESETS", "effective_number", "class_weights", "weights_table",
           "bin_weight_share", "count_init", "count_update", "count_merge",
           "STRATEGIES", "epoch_indices", "expected_class_distribution", "expected_epoch_length",
           "expected_sample_repeats", "class_sampling_probabilities",
           "category_repeat_factors", "repeat_factors", "repeat_factors_from_arrays", "RepeatFactors", "RFSCounts",
           "rfs_epoch_indices", "annotate_gt_json",
           "SMOTE_METHODS", "smote_resample", "smote_pca_view", "plan_targets",
           "ML_STRATEGIES", "multilabel_epoch_indices", "multilabel_repeat_factors", "expected_label_distribution",
           *_SAMPLERS]


def __getattr__(name: str):
    if name in _SAMPLERS:
        from . import samplers

        return getattr(samplers, name)
    raise AttributeError(f"module 'lt_core.rebalance' has no attribute {name!r}")
