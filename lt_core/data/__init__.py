"""Data model (schema), loaders (formats -> schema, all validation) and the built-in demos."""
from .schema import (SPLITS, ClassificationDataset, ClassifierWeights, ClassTable, DetectionDataset,
                     DetectionGT, DetectionResults, Features, Labels, Predictions, Run)

__all__ = ["SPLITS", "ClassificationDataset", "ClassifierWeights", "ClassTable", "DetectionDataset",
           "DetectionGT", "DetectionResults", "Features", "Labels", "Predictions", "Run"]
