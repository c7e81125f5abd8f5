"""From a number to the examples behind it.

Public API
----------
Selection
    rows behind a number (ordered worst first, capped, with the total count); ``to_csv()``.
sample_table(labels, preds, classes, scheme)
    one row per evaluated sample: true / predicted class and bin, confidence, margin.
by_class, by_bin, confusion_cell, tail_as_head, changes
    classification selections: a class's samples, a bin's, one confusion cell, tail samples
    predicted as head, the predictions two runs (or a τ / threshold change) fix and break.
"""
from .classification import by_bin, by_class, changes, confusion_cell, sample_table, tail_as_head
from .selection import Selection

__all__ = ["Selection", "sample_table", "by_class", "by_bin", "confusion_cell", "tail_as_head", "changes"]
