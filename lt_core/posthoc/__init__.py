"""Post-hoc fixes of the decision (no retraining): logit adjustment, probability rescaling,
tau-normalisation, per-class thresholds / biases, tuning on validation, and exports."""
from .fast import AdjustIndex, build_adjust_index, dense_adjusted_argmax
from .adjust import (adjustment_offset, log_prior, logit_adjust, rescale_probs, tau_norm_scores,
                     tau_normalize)

__all__ = ["AdjustIndex", "build_adjust_index", "dense_adjusted_argmax", "adjustment_offset", "log_prior", "logit_adjust", "rescale_probs", "tau_norm_scores",
           "tau_normalize"]
