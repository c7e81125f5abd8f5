"""Tailscope: see and fix the tail. ``streamlit run app.py``.

A thin shell: navigation over pages/, a sidebar with the active datasets and bin scheme.
"""
from pathlib import Path

import streamlit as st

from ui.errors import page_boundary
from ui.state import sidebar

st.set_page_config(page_title="Tailscope", page_icon=":material/insights:", layout="wide")

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
nav = st.navigation([st.Page(str(HERE / f), title=t, icon=i, url_path=t)
                     for f, t, i in PAGES if (HERE / f).exists()])
sidebar()
with page_boundary():  # an exception no page caught: one line (+ "please report"), never a traceback
    nav.run()
