"""Post-hoc fixes of the decision (no retraining): logit adjustment, probability rescaling,
tau-normalisation, per-class thresholds / biases, tuning on validation, and exports."""
from .fast import AdjustIndex, build_adjust_index, dense_adjusted_argmax
from .tuning import (DEFAULT_TAUS, OBJECTIVES, SweepState, TauEvaluator, TauPoint, TuneResult, select_tau,
                     sweep_merge, sweep_table, sweep_update, tau_norm_predictor, tune_and_report, tune_tau,
                     tuning_split)
from .adjust import (adjustment_offset, log_prior, logit_adjust, rescale_probs, tau_norm_scores,
                     tau_normalize)

__all__ = ["DEFAULT_TAUS", "OBJECTIVES", "SweepState", "TauEvaluator", "TauPoint", "TuneResult", "select_tau",
           "sweep_merge", "sweep_table", "sweep_update", "tau_norm_predictor", "tune_and_report", "tune_tau",
           "tuning_split", "AdjustIndex", "build_adjust_index", "dense_adjusted_argmax", "adjustment_offset", "log_prior", "logit_adjust", "rescale_probs", "tau_norm_scores",
           "tau_normalize"]
