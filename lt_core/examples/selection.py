"""The result of every selection: rows behind a number, ordered, capped, counted."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["Selection"]


@dataclass
class Selection:
    """Rows behind one number.

    Attributes
    ----------
    title : str
        What was selected, in words (``"true grief → predicted sadness"``).
    rows : DataFrame
        The first ``cap`` matching rows, in the order a user looks at them (worst first).
    total : int
        How many rows matched before the cap.
    kind : {"classification", "detection"}
    order : str
        How the rows are ordered, in words (``"most confident mistakes first"``).
    """

    title: str
    rows: pd.DataFrame
    total: int
    kind: str = "classification"
    order: str = ""

    @property
    def shown(self) -> int:
        """Rows kept after the cap."""
        return len(self.rows)

    @property
    def capped(self) -> bool:
        return self.total > self.shown

    def caption(self) -> str:
        """``"12 of 340 samples (most confident mistakes first)"``-style line."""
        unit = "boxes" if self.kind == "detection" else "samples"
        if self.total == 1:
            unit = unit[:-2] if unit == "boxes" else unit[:-1]
        order = f" ({self.order})" if self.order and self.total > 1 else ""
        if self.capped:
            return f"{self.title}: the first {self.shown:,} of {self.total:,} {unit}{order}"
        return f"{self.title}: {self.total:,} {unit}{order}"

    def to_csv(self) -> bytes:
        """The rows as CSV bytes (ids and fields, to relabel or to train on)."""
        return self.rows.to_csv(index=False).encode("utf-8")
