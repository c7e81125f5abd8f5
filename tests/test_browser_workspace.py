"""Real browser, real server: a fresh session opening /Data (or /data, /1_Data) never pops "Page not
found"; the user's files loaded through the Data page are kept in a workspace that survives a server
restart, with every number on the Metrics page identical after it is reopened.

Headless Debian chromium through Playwright (skipped without chromium), as tests/test_browser.py.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

import userdata as U
from test_browser import FLAGS, READY_JS, _chromium

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.browser, pytest.mark.slow]
SERVER_FLAGS = ["--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none", "--server.runOnSave", "false"]


class Server:
    """A Tailscope server: ``tailscope app`` of this checkout (or plain ``streamlit run app.py``)."""

    def __init__(self, home: Path, launcher: bool = True, port: int | None = None):
        self.home, self.launcher = home, launcher
        if port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = None

    def start(self) -> "Server":
        cmd = ([sys.executable, "-m", "lt_core", "app"] if self.launcher
               else [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")])
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TAILSCOPE_HOME": str(self.home)}
        env.pop("TAILSCOPE_WORKSPACE", None)
        self.log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(cmd + SERVER_FLAGS + ["--server.port", str(self.port)], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        for _ in range(900):
            try:
                if opener.open(self.url + "/_stcore/health", timeout=1).read().strip() == b"ok":
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail("the server did not start:\n" + Path(self.log.name).read_text()[-3000:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.proc = None


@pytest.fixture(scope="module")
def browser():
    if _chromium() is None:
        pytest.skip("no chromium installed (apt-get install chromium)")
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=_chromium(), headless=True, args=FLAGS)
        yield b
        b.close()


def _ready(page) -> None:
    page.wait_for_function(READY_JS, polling=200)
    time.sleep(0.4)  # a rerun right after the first run flips the state again
    page.wait_for_function(READY_JS, polling=200)


def _new_page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})  # a fresh session, no cookies
    page = ctx.new_page()
    page.set_default_timeout(180_000)
    return ctx, page


def _metrics(page) -> dict[str, str]:
    return page.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll(
        '[data-testid="stMain"] [data-testid="stMetric"]')).map(m => [
        m.querySelector('[data-testid="stMetricLabel"]')?.innerText.trim(),
        (m.querySelector('[data-testid="stMetricValue"]')?.innerText || '') + ' ' +
        (m.querySelector('[data-testid="stMetricDelta"]')?.innerText || '')]))""")


def _no_page_not_found(page, seconds: float = 3.0) -> None:
    t0 = time.time()
    while time.time() - t0 < seconds:
        assert "Page not found" not in page.evaluate("() => document.body.innerText")
        time.sleep(0.1)


@pytest.mark.parametrize("launcher", [True, False], ids=["tailscope app", "streamlit run"])
def test_a_fresh_session_opening_data_never_pops_page_not_found(browser, tmp_path, launcher):
    server = Server(tmp_path, launcher=launcher).start()
    try:
        ctx, page = _new_page(browser)
        page.goto(server.url + "/", wait_until="domcontentloaded")  # the server's first session
        _ready(page)
        ctx.close()
        paths = ["Data", "data", "1_Data", "Metrics"] if launcher else ["Data", "Metrics"]
        for path in paths:
            ctx, page = _new_page(browser)  # each a fresh session on a warm server
            page.goto(f"{server.url}/{path}", wait_until="domcontentloaded")
            _ready(page)
            _no_page_not_found(page)
            want = "Metrics" if path == "Metrics" else "Data"
            assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == want
            assert page.url.rstrip("/").endswith("/" + want)
            ctx.close()
    finally:
        server.stop()


def _fill(page, label: str, value: str) -> None:
    box = page.locator(f'[data-testid="stMain"] input[aria-label="{label}"]').first
    box.fill(value)


def _load(page, expect_runs: int) -> None:
    page.locator('[data-testid="stMain"] [data-testid="stFormSubmitButton"] button').first.click()
    page.wait_for_function(
        """(n) => Array.from(document.querySelectorAll('[data-testid="stMetric"]')).some(m =>
             (m.innerText || '').includes('Runs (models)') && (m.querySelector('[data-testid="stMetricValue"]')
             ?.innerText || '').trim() === String(n))""", arg=expect_runs, polling=200)
    _ready(page)


def test_workspace_survives_a_server_restart_with_every_number_identical(browser, tmp_path):
    scores = tmp_path / "scores"
    scores.mkdir()
    U.write_scores(scores / "resnet_test.npy", U.PLACES_TEST, U.PLACES_COUNTS, seed=1)
    U.write_scores(scores / "balanced_test.npy", U.PLACES_TEST, U.PLACES_COUNTS, seed=2, tail_boost=1.0)
    home = tmp_path / "home"
    server = Server(home).start()
    try:
        ctx, page = _new_page(browser)
        page.goto(server.url + "/Data", wait_until="domcontentloaded")
        _ready(page)
        page.locator('[data-testid="stMain"] [data-testid="stRadio"] label:has-text("Local path")').first.click()
        _ready(page)
        _fill(page, "Dataset name", "Places-LT")
        _fill(page, "…or train counts CSV (class_id,count[,name]) (local path)", str(U.PLACES_COUNTS))
        _fill(page, "Test labels (local path)", str(U.PLACES_TEST))
        _fill(page, "Run name", "resnet")
        _fill(page, "Run: test scores (local path)", str(scores / "resnet_test.npy"))
        _load(page, 1)
        _fill(page, "Run name", "balanced")
        _fill(page, "Run: test scores (local path)", str(scores / "balanced_test.npy"))
        _load(page, 2)
        assert "ws=Places-LT" in page.url
        page.locator('[data-testid="stSidebarNav"] a:has-text("Metrics")').first.click()
        page.wait_for_function("() => (document.querySelector('[data-testid=\"stMain\"] h1')?.innerText || '')"
                               ".includes('Metrics')", polling=200)
        _ready(page)
        before = _metrics(page)
        assert "few (71 classes)" in before and before["few (71 classes)"].strip().endswith("pp")
        url = page.url
        ctx.close()

        # the server restarts; the user reloads the page they had open
        server.stop()
        server = Server(home, port=server.port).start()
        ctx, page = _new_page(browser)
        page.goto(url, wait_until="domcontentloaded")
        _ready(page)
        assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == "Metrics"
        assert _metrics(page) == before
        side = page.locator('[data-testid="stSidebar"]').inner_text()
        assert "Places-LT" in side and "resnet" in side and "balanced" in side
        ctx.close()

        # a session without the address's ?ws= reopens it from the sidebar's list
        ctx, page = _new_page(browser)
        page.goto(server.url + "/Metrics", wait_until="domcontentloaded")
        _ready(page)
        assert _metrics(page) != before  # the demo
        pick = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Reopen a workspace")
        pick.click()
        page.keyboard.press("ArrowDown")  # opens the list (react-aria)
        page.locator('[role="option"]:has-text("Places-LT")').first.click(timeout=30_000)
        _ready(page)
        page.locator('[data-testid="stSidebar"] button:has-text("Open")').first.click()
        page.wait_for_function("() => (document.querySelector('[data-testid=\"stSidebar\"]')?.innerText || '')"
                               ".includes('kept in')", polling=200)
        _ready(page)
        assert _metrics(page) == before
        ctx.close()
    finally:
        server.stop()
