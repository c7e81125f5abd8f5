"""Post-hoc fixes of the decision (no retraining): logit adjustment, probability rescaling,
tau-normalisation, per-class thresholds / biases, tuning on validation, and exports."""
from .adjust import (adjustment_offset, log_prior, logit_adjust, rescale_probs, tau_norm_scores,
                     tau_normalize)

__all__ = ["adjustment_offset", "log_prior", "logit_adjust", "rescale_probs", "tau_norm_scores",
           "tau_normalize"]
