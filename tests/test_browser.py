"""Real browser: start the app, open every page in headless Chromium, fail on any exception shown.

Uses Debian's chromium through Playwright (never a downloaded browser). Skipped only when no
chromium is installed (``python3 dev.py test`` installs it where it can).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.browser

READY_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  for (const c of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (!c.querySelector('.main-svg')) return false;
  }
  return true;
}"""
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-proxy-server",
         "--disable-dev-shm-usage"]


def _chromium() -> str | None:
    for c in (os.environ.get("CHROMIUM_PATH"), "chromium", "chromium-browser"):
        if c and shutil.which(c):
            return shutil.which(c)
    return None


def _pages() -> list[str]:
    sys.path.insert(0, str(ROOT))
    src = (ROOT / "app.py").read_text()
    import re

    return [t for f, t in re.findall(r'\("(pages/[^"]+\.py)", "([^"]+)"', src) if (ROOT / f).exists()]


@pytest.fixture(scope="module")
def server():
    if _chromium() is None:
        pytest.skip("no chromium installed (apt-get install chromium)")
    pytest.importorskip("playwright")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                             "--server.headless", "true", "--server.address", "127.0.0.1",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false",
                             "--server.fileWatcherType", "none", "--server.runOnSave", "false"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for _ in range(600):
        try:
            if opener.open(url + "/_stcore/health", timeout=1).read().strip() == b"ok":
                break
        except OSError:
            time.sleep(0.1)
    else:
        os.killpg(proc.pid, signal.SIGTERM)
        pytest.fail("streamlit did not start:\n" + Path(log.name).read_text()[-3000:])
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser_page(server):
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="tailscope-chromium-")
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(profile, executable_path=_chromium(), headless=True, args=FLAGS,
                                                    viewport={"width": 1280, "height": 900})
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.set_default_timeout(180_000)
        yield page
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


def _exceptions(page) -> list[str]:
    return page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid="stException"]'))
        .map(e => e.innerText.slice(0, 1500))""")


@pytest.mark.parametrize("title", _pages())
def test_every_page_opens_without_exception(browser_page, server, title):
    page = browser_page
    page.goto(f"{server}/{title}", wait_until="domcontentloaded")
    page.wait_for_function(READY_JS, polling=200)
    time.sleep(0.5)  # a rerun right after the first run would flip the state again
    page.wait_for_function(READY_JS, polling=200)
    assert "Page not found" not in page.content()
    assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == title
    assert _exceptions(page) == []
    # the sidebar navigation lists every page, and the shared sidebar is drawn
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert all(t in nav for t in _pages())
    assert "Bins (by train count)" in page.locator('[data-testid="stSidebar"]').inner_text()
