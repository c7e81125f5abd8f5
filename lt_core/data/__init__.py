"""Data model (schema), loaders (formats -> schema, all validation) and the built-in demos.

Names are imported on first use (PEP 562), so ``from lt_core.data.schema import ...`` or a
detection loader does not import pandas, the demos or the classification loaders.
"""
from __future__ import annotations

import importlib

_NAMES = {
    "assemble": ["build_classification_dataset", "build_detection_dataset", "resolve_classes"],
    "demo": ["load_classification_demo", "load_detection_demo", "load_multilabel_demo"],
    "loaders": ["load_class_names", "load_classifier", "load_detection_gt", "load_detection_results",
                "load_features", "load_label_splits", "load_labels", "load_predictions", "load_train_counts",
                "read_json", "sniff"],
    "names": ["shown_as"],
    "multilabel": ["MultiLabelRowsError", "single_label_dataset"],
    "parts": ["ClassificationParts", "DetectionParts", "FileRef", "RunPart", "assemble_classification",
              "assemble_detection", "fit_features"],
    "schema": ["SPLITS", "ClassificationDataset", "ClassifierWeights", "ClassTable", "DetectionDataset",
               "DetectionGT", "DetectionResults", "Features", "Labels", "MultiLabels", "Predictions", "Run"],
    "synth": ["make_lvis_like"],
}
_WHERE = {name: mod for mod, names in _NAMES.items() for name in names}
__all__ = [n for names in _NAMES.values() for n in names]


def __getattr__(name: str):
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module 'lt_core.data' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
