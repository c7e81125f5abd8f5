"""Data model (schema), loaders (formats -> schema, all validation) and the built-in demos."""
from .assemble import build_classification_dataset, build_detection_dataset, resolve_classes
from .demo import load_classification_demo, load_detection_demo, load_multilabel_demo
from .loaders import (load_class_names, load_classifier, load_detection_gt, load_detection_results, load_features,
                      load_label_splits, load_labels, load_predictions, load_train_counts, read_json, sniff)
from .multilabel import MultiLabelRowsError, single_label_dataset
from .schema import (SPLITS, ClassificationDataset, ClassifierWeights, ClassTable, DetectionDataset,
                     DetectionGT, DetectionResults, Features, Labels, MultiLabels, Predictions, Run)
from .synth import make_lvis_like

__all__ = ["build_classification_dataset", "build_detection_dataset", "resolve_classes", "SPLITS", "ClassificationDataset", "ClassifierWeights", "ClassTable", "DetectionDataset",
           "DetectionGT", "DetectionResults", "Features", "Labels", "MultiLabels", "Predictions", "Run",
           "MultiLabelRowsError", "single_label_dataset", "load_multilabel_demo",
           "load_classification_demo", "load_detection_demo", "load_class_names", "load_classifier",
           "load_detection_gt", "load_detection_results", "load_features", "load_label_splits", "load_labels",
           "load_predictions", "load_train_counts", "read_json", "sniff", "make_lvis_like"]
