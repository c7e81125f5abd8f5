"""Shared helpers for the streamlit.testing (AppTest) page tests."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def run_clean(at: AppTest, timeout: float = 180) -> AppTest:
    """Run the app (or page) and fail with the page's exception messages if it shows any."""
    at.run(timeout=timeout)
    assert not at.exception, [e.value for e in at.exception]
    return at


def top_metrics(at: AppTest) -> dict:
    """{label: (value, delta)} of the page's st.metric elements (first occurrence of each label)."""
    out = {}
    for m in at.metric:
        out.setdefault(m.label, (m.value, m.delta))
    return out
