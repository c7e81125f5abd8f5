"""Post-hoc fixes of the decision (no retraining).

* :mod:`.adjust` — logit adjustment (Menon et al. 2021), probability rescaling, tau-normalisation
  (Kang et al. 2020).
* :mod:`.fast` — exact envelope index: a tau change costs a few candidate classes per row.
* :mod:`.tuning` — tau sweeps from mergeable counts, objectives, val-only selection.
* :mod:`.thresholds` — per-class thresholds / biases (binary, one-vs-rest, multi-label).
* :mod:`.multilabel` — multi-label (sigmoid) decisions: per-class thresholds and the sigmoid
  prior correction tuned on val, before / after per bin with paired CIs.
* :mod:`.export` — adjustment files applied in two lines of numpy.
"""
from .adjust import (adjustment_offset, as_log_scores, log_prior, logit_adjust, rescale_probs, tau_norm_scores,
                     tau_normalize)
from .export import (FORMAT, USAGE, apply_adjustment, bias_spec, logit_adjustment_spec, read_adjustment,
                     tau_norm_spec, thresholds_spec, write_adjustment)
from .multilabel import (ML_OBJECTIVES, PriorTuneResult, as_logits, compare_decisions, prior_correction_spec,
                         prior_corrected, sigmoid_log_prior, threshold_decisions, tune_prior_tau)
from .fast import AdjustIndex, build_adjust_index, dense_adjusted_argmax
from .thresholds import (THRESHOLD_OBJECTIVES, ThresholdCounts, ThresholdResult, apply_thresholds,
                         binary_threshold, one_hot, predict_with_bias, threshold_counts, tune_thresholds)
from .tuning import (DEFAULT_TAUS, OBJECTIVES, SweepState, TauEvaluator, TauPoint, TuneResult, select_tau,
                     sweep_merge, sweep_table, sweep_update, tau_norm_predictor, tune_and_report, tune_tau,
                     tuning_split)

__all__ = [
    # adjust
    "adjustment_offset", "as_log_scores", "log_prior", "logit_adjust", "rescale_probs", "tau_norm_scores",
    "tau_normalize",
    # fast
    "AdjustIndex", "build_adjust_index", "dense_adjusted_argmax",
    # tuning
    "DEFAULT_TAUS", "OBJECTIVES", "SweepState", "TauEvaluator", "TauPoint", "TuneResult", "select_tau",
    "sweep_merge", "sweep_table", "sweep_update", "tau_norm_predictor", "tune_and_report", "tune_tau",
    "tuning_split",
    # thresholds
    "THRESHOLD_OBJECTIVES", "ThresholdCounts", "ThresholdResult", "apply_thresholds", "binary_threshold",
    "one_hot", "predict_with_bias", "threshold_counts", "tune_thresholds",
    # multi-label
    "ML_OBJECTIVES", "PriorTuneResult", "as_logits", "compare_decisions", "prior_correction_spec", "prior_corrected",
    "sigmoid_log_prior", "threshold_decisions", "tune_prior_tau",
    # export
    "FORMAT", "USAGE", "apply_adjustment", "bias_spec", "logit_adjustment_spec", "read_adjustment",
    "tau_norm_spec", "thresholds_spec", "write_adjustment",
]
