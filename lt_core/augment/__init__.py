"""Fix the data for detectors: tail-aware copy-paste and photometric augmentation, written as a new dataset.

From a COCO / LVIS ground truth and its images, :func:`copy_paste` writes a new dataset (images,
COCO / LVIS JSON, a manifest of every paste, the class distribution before and after) in which
instances of under-represented classes are pasted onto other training images (Simple Copy-Paste,
Ghiasi et al., CVPR 2021), the number per class set by repeat factors (Gupta et al. 2019), effective
number weights (Cui et al. 2019) or explicit counts (:func:`paste_targets`).

    from lt_core.augment import CopyPasteConfig, copy_paste
    report = copy_paste("train.json", "images/", "augmented/", CopyPasteConfig(target="rfs:0.001", seed=0),
                        workers=2)
"""
from .config import UNCHANGED_MODES, CopyPasteConfig
from .paste import BLENDS
from .demo import DEMOS, PHOTO_ATTRIBUTION, photo_demo, scenes_demo
from .job import AugmentJob
from .pipeline import (OUTPUT_NAMES, AugmentCancelled, CopyPasteReport, PreparedCopyPaste, PreviewImage, copy_paste,
                       distribution_tables, planned_distribution, prepare_copy_paste, preview_copy_paste)
from .plan import PastePlan, image_rng, plan_copy_paste, plan_rng, tail_category_mask
from .targets import TARGET_HELP, PasteTargets, instance_counts, parse_target_spec, paste_targets

__all__ = ["CopyPasteConfig", "UNCHANGED_MODES", "BLENDS", "copy_paste", "prepare_copy_paste", "preview_copy_paste",
           "CopyPasteReport", "PreparedCopyPaste", "PreviewImage", "AugmentCancelled", "OUTPUT_NAMES", "PastePlan",
           "plan_copy_paste", "plan_rng", "image_rng", "tail_category_mask", "PasteTargets", "paste_targets",
           "parse_target_spec", "instance_counts", "TARGET_HELP", "planned_distribution", "distribution_tables",
           "AugmentJob", "DEMOS", "PHOTO_ATTRIBUTION", "photo_demo", "scenes_demo"]
