"""Fix the classifier: retrain a small head on frozen features (torch).

Decoupled methods of Kang et al. 2020 (joint, cRT, LWS, τ-norm, NCM), the long-tail losses
(CB, focal, balanced softmax, LDAM-DRW, logit-adjusted, seesaw, EQLv2) with any sampler of
:mod:`lt_core.rebalance`, a training loop on preloaded feature tensors, exports, and a
background job with progress and cancel for the app.
"""
from .export import HEAD_FORMATS, USAGE_SNIPPET, LoadedHead, head_metadata, head_state_bytes, load_head, save_head
from .job import RetrainJob
from .losses import LOSS_HELP, LOSSES, HeadLoss, make_loss
from .methods import (DEFAULT_SAMPLER, METHOD_HELP, METHOD_LABELS, METHODS, RetrainResult, RetrainSettings,
                      choose_tau, retrain, retrain_dataset)
from .models import HEAD_MODELS, LinearHead, LWSHead, MLPHead, build_head, fold_lws
from .report import experiment_row, kang_table, paired_deltas
from .ncm import NCMState, ncm_compute, ncm_head, ncm_init, ncm_merge, ncm_update
from .train import SAMPLERS, Progress, TrainingCancelled, fit_head, per_bin_accuracy, predict_logits, resolve_device

__all__ = ["HEAD_FORMATS", "USAGE_SNIPPET", "LoadedHead", "head_metadata", "head_state_bytes", "load_head",
           "save_head", "RetrainJob", "LOSS_HELP", "LOSSES", "HeadLoss", "make_loss", "DEFAULT_SAMPLER",
           "METHOD_HELP", "METHOD_LABELS", "METHODS", "RetrainResult", "RetrainSettings", "choose_tau", "retrain",
           "retrain_dataset", "HEAD_MODELS", "LinearHead", "LWSHead", "MLPHead", "build_head", "fold_lws",
           "NCMState", "ncm_compute", "ncm_head", "ncm_init", "ncm_merge", "ncm_update", "SAMPLERS", "Progress",
           "TrainingCancelled", "fit_head", "per_bin_accuracy", "predict_logits", "resolve_device", "experiment_row",
           "kang_table", "paired_deltas"]
