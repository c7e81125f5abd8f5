"""Post-hoc fixes of the decision (no retraining): logit adjustment, probability rescaling,
tau-normalisation, per-class thresholds / biases, tuning on validation, and exports."""
from .fast import AdjustIndex, build_adjust_index, dense_adjusted_argmax
from .tuning import (DEFAULT_TAUS, OBJECTIVES, SweepState, TauEvaluator, TauPoint, TuneResult, select_tau,
                     sweep_merge, sweep_table, sweep_update, tau_norm_predictor, tune_and_report, tune_tau,
                     tuning_split)
from .thresholds import (THRESHOLD_OBJECTIVES, ThresholdCounts, ThresholdResult, apply_thresholds,
                         binary_threshold, one_hot, predict_with_bias, threshold_counts, tune_thresholds)
from .export import (FORMAT, USAGE, apply_adjustment, bias_spec, logit_adjustment_spec, read_adjustment,
                     tau_norm_spec, thresholds_spec, write_adjustment)
from .adjust import (adjustment_offset, as_log_scores, log_prior, logit_adjust, rescale_probs, tau_norm_scores,
                     tau_normalize)

__all__ = ["FORMAT", "USAGE", "apply_adjustment", "bias_spec", "logit_adjustment_spec", "read_adjustment",
           "tau_norm_spec", "thresholds_spec", "write_adjustment", "THRESHOLD_OBJECTIVES", "ThresholdCounts", "ThresholdResult", "apply_thresholds", "binary_threshold",
           "one_hot", "predict_with_bias", "threshold_counts", "tune_thresholds", "DEFAULT_TAUS", "OBJECTIVES", "SweepState", "TauEvaluator", "TauPoint", "TuneResult", "select_tau",
           "sweep_merge", "sweep_table", "sweep_update", "tau_norm_predictor", "tune_and_report", "tune_tau",
           "tuning_split", "AdjustIndex", "build_adjust_index", "dense_adjusted_argmax", "adjustment_offset", "as_log_scores", "log_prior", "logit_adjust", "rescale_probs", "tau_norm_scores",
           "tau_normalize"]
