"""Fix the classifier: retrain a small head on frozen features (torch).

Decoupled methods of Kang et al. 2020 (joint, cRT, LWS, τ-norm, NCM), the long-tail losses
(CB, CB focal (sigmoid, Cui et al. 2019) and its softmax variant, balanced softmax, LDAM-DRW,
logit-adjusted, seesaw, EQLv2; for multi-label targets BCE, CB focal, distribution-balanced and
asymmetric losses) with any sampler of
:mod:`lt_core.rebalance`, a training loop on preloaded feature tensors, exports, and a
background job with progress and cancel for the app.
"""
from .export import HEAD_FORMATS, USAGE_SNIPPET, LoadedHead, head_metadata, head_state_bytes, load_head, save_head
from .job import RetrainJob
from .losses import LOSS_ALIASES, LOSS_HELP, LOSS_NAMES, LOSSES, ML_LOSSES, HeadLoss, canonical_loss, make_loss
from .methods import (DEFAULT_SAMPLER, METHOD_HELP, METHOD_LABELS, METHODS, ML_DEFAULT_SAMPLER, ML_METHODS,
                      RetrainResult, RetrainSettings, choose_tau, retrain, retrain_dataset)
from .models import HEAD_MODELS, LinearHead, LWSHead, MLPHead, build_head, fold_lws
from .report import experiment_row, kang_table, ml_experiment_row, paired_deltas
from .ncm import NCMState, ncm_compute, ncm_head, ncm_init, ncm_merge, ncm_update
from .train import (ML_SAMPLERS, SAMPLERS, Progress, TrainingCancelled, fit_head, per_bin_accuracy, per_bin_map,
                    predict_logits, resolve_device)

__all__ = ["HEAD_FORMATS", "USAGE_SNIPPET", "LoadedHead", "head_metadata", "head_state_bytes", "load_head",
           "save_head", "RetrainJob", "LOSS_HELP", "LOSSES", "HeadLoss", "make_loss", "DEFAULT_SAMPLER",
           "METHOD_HELP", "METHOD_LABELS", "METHODS", "RetrainResult", "RetrainSettings", "choose_tau", "retrain",
           "retrain_dataset", "HEAD_MODELS", "LinearHead", "LWSHead", "MLPHead", "build_head", "fold_lws",
           "NCMState", "ncm_compute", "ncm_head", "ncm_init", "ncm_merge", "ncm_update", "SAMPLERS", "Progress",
           "TrainingCancelled", "fit_head", "per_bin_accuracy", "predict_logits", "resolve_device", "experiment_row",
           "kang_table", "paired_deltas", "ML_LOSSES", "ML_METHODS", "ML_SAMPLERS", "ML_DEFAULT_SAMPLER", "LOSS_NAMES",
           "LOSS_ALIASES", "canonical_loss", "per_bin_map", "ml_experiment_row"]
