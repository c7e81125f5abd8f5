"""Tailscope: see and fix the tail. ``streamlit run app.py``.

A thin shell: navigation over pages/, a sidebar with the active datasets and bin scheme.
"""
from pathlib import Path

import streamlit as st

from lt_core.memory import no_hugepage_madvise
from ui.errors import page_boundary
from ui.state import sidebar

st.set_page_config(page_title="Tailscope", page_icon=":material/insights:", layout="wide")
no_hugepage_madvise()  # the server process allocates the large score arrays (lt_core.memory; idempotent)

HERE = Path(__file__).parent
PAGES = [  # file, title, icon — one question per page (see ../shared/ux.md)
    ("pages/1_Data.py", "Data", ":material/database:"),
    ("pages/2_Distribution.py", "Distribution", ":material/bar_chart:"),
    ("pages/3_Metrics.py", "Metrics", ":material/monitoring:"),
    ("pages/4_Detection.py", "Detection", ":material/center_focus_strong:"),
    ("pages/5_Rebalance.py", "Rebalance", ":material/balance:"),
    ("pages/6_Thresholds.py", "Thresholds", ":material/tune:"),
    ("pages/7_Retrain.py", "Retrain", ":material/model_training:"),
    ("pages/8_Augment.py", "Augment", ":material/auto_awesome_mosaic:"),
]
pages = [(st.Page(str(HERE / f), title=t, icon=i, url_path=t), f, t) for f, t, i in PAGES if (HERE / f).exists()]


def _alias(page, name: str):
    """A hidden page at another spelling of a page's URL (``/data``, ``/1_Data``) that opens the page."""
    def go():
        st.switch_page(page)
    go.__name__ = f"alias_{name}"
    return go


# Every way a user may type a page's address opens that page, never "Page not found": Streamlit
# serves its default page at "/" only, so "/" is a hidden page that opens Data, and /Data is Data's
# own address; lower-case and file-name spellings (/data, /1_Data) are hidden aliases.
home = st.Page(_alias(pages[0][0], "home"), title=pages[0][2], url_path="home", visibility="hidden", default=True)
aliases = [st.Page(_alias(p, a), title=t, url_path=a, visibility="hidden")
           for p, f, t in pages for a in sorted({t.lower(), Path(f).stem, Path(f).stem.lower()} - {t, "home"})]
nav = st.navigation([home] + [p for p, _, _ in pages] + aliases)
sidebar()
with page_boundary():  # an exception no page caught: one line (+ "please report"), never a traceback
    nav.run()
