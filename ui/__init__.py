"""Streamlit-side helpers shared by app.py and pages/ (session state, sidebar, messages).

Everything here is thin UI glue; all computation lives in lt_core.
"""
