"""Shared fixtures: paths to the real test data shipped in tests/data."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# workspaces made by the tests (and by the app servers they start) never go to the user's home
os.environ["TAILSCOPE_HOME"] = tempfile.mkdtemp(prefix="tailscope-test-home-")
os.environ.pop("TAILSCOPE_WORKSPACE", None)


@pytest.fixture(autouse=True)
def _own_workspaces(tmp_path_factory, monkeypatch):
    """Each test sees its own empty workspace root (``$TAILSCOPE_HOME/workspaces``)."""
    monkeypatch.setenv("TAILSCOPE_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("TAILSCOPE_WORKSPACE", raising=False)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def root_dir() -> Path:
    return ROOT


@pytest.fixture(autouse=True)
def _navigation_mode(monkeypatch):
    """AppTest resets Streamlit's 'pages/ folder' flag before every run; a real server clears it once,
    when app.py first calls st.navigation. Keep it cleared so each AppTest run routes through app.py."""
    from streamlit.runtime.pages_manager import PagesManager

    init = PagesManager.__init__

    def patched(self, *a, **k):
        init(self, *a, **k)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", patched)


@pytest.fixture(autouse=True)
def _data_roots_for_tests(monkeypatch, tmp_path_factory):
    """The app's local-path fields only read under the data roots (ui/files.py): in tests, the
    repository and pytest's temporary folders (tests that check the confinement set their own)."""
    monkeypatch.setenv("TAILSCOPE_DATA_ROOT", f"{ROOT}:{tmp_path_factory.getbasetemp()}")


@pytest.fixture(autouse=True, scope="session")
def _single_label_demo_by_default():
    """The app opens the GoEmotions demo in its multi-label view; the page tests written for the
    single-label view keep running on it (TAILSCOPE_DEMO_VIEW, set for the whole session so
    module-scoped AppTest fixtures see it too), and the multi-label page tests choose their view
    explicitly (``at.session_state["ts_demo_view"] = "multi-label"``);
    tests/test_multilabel_pages.py checks the real default without this variable."""
    import os

    before = os.environ.get("TAILSCOPE_DEMO_VIEW")
    os.environ["TAILSCOPE_DEMO_VIEW"] = "single-label"
    yield
    if before is None:
        os.environ.pop("TAILSCOPE_DEMO_VIEW", None)
    else:
        os.environ["TAILSCOPE_DEMO_VIEW"] = before
