"""The server belongs to its user (issue 10), with a real server started as ``python3 dev.py app`` starts
it (the same streamlit command line, from the repository root, with dev.py's own arguments):

- it answers on 127.0.0.1 and NOT on this machine's other interfaces;
- in headless Chromium, an upload made on the Data page is written to the session's own folder, and
  that folder is removed when the browser goes away (the session-end hook, not a test shortcut).
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

from test_browser import FLAGS, READY_JS, _chromium

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _non_loopback_ipv4() -> str | None:
    """An IPv4 address of this machine that is not 127.x (None when it has none)."""
    cands = set()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            cands.add(s.getsockname()[0])
    except OSError:
        pass
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, timeout=5).stdout
        cands |= {w.split("/")[0] for line in out.splitlines() for w in line.split()[3:4]}
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        cands |= set(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    good = sorted(a for a in cands if a and not a.startswith("127.") and a != "0.0.0.0")
    return good[0] if good else None


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory):
    sys.path.insert(0, str(ROOT))
    import dev

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    uploads = tmp_path_factory.mktemp("uploads")
    log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)
    # exactly what `python3 dev.py app --server.port P` runs (dev.main execs this from ROOT)
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
           *dev.app_args(["--server.port", str(port), "--browser.gatherUsageStats", "false"])]
    env = dict(os.environ, TAILSCOPE_UPLOAD_DIR=str(uploads))
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for _ in range(600):
        try:
            if opener.open(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read().strip() == b"ok":
                break
        except OSError:
            time.sleep(0.1)
    else:
        os.killpg(proc.pid, signal.SIGTERM)
        pytest.fail("streamlit did not start:\n" + Path(log.name).read_text()[-3000:])
    yield port, uploads, opener
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)


def test_answers_on_loopback_and_not_on_other_interfaces(dev_server):
    port, _, opener = dev_server
    assert opener.open(f"http://127.0.0.1:{port}/_stcore/health", timeout=5).read().strip() == b"ok"
    addr = _non_loopback_ipv4()
    if addr is None:
        pytest.skip("this machine has no non-loopback IPv4 address to test against")
    with socket.socket() as s:
        s.settimeout(3)
        code = s.connect_ex((addr, port))
    assert code != 0, f"the server answered on {addr}:{port}"
    with pytest.raises(OSError):
        opener.open(f"http://{addr}:{port}/_stcore/health", timeout=3)


def test_upload_folder_is_removed_when_the_session_ends(dev_server, tmp_path):
    if _chromium() is None:
        pytest.skip("no chromium installed (apt-get install chromium)")
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    port, uploads, _ = dev_server
    labels = tmp_path / "labels.csv"
    labels.write_text("label\n" + "a\n" * 30 + "b\n" * 5 + "c\n" * 2)
    profile = tempfile.mkdtemp(prefix="tailscope-chromium-")
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(profile, executable_path=_chromium(), headless=True, args=FLAGS)
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"http://127.0.0.1:{port}/Data", wait_until="domcontentloaded")
        page.wait_for_function(READY_JS, polling=200)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(labels))
        page.locator('[data-testid="stFormSubmitButton"] button').first.click()
        page.wait_for_function("() => document.body.innerText.includes('my dataset')", polling=200)
        saved = list(uploads.glob("tailscope-uploads-*/*/up_tr/labels.csv"))
        assert len(saved) == 1, list(uploads.rglob("*"))
        session_dir = saved[0].parents[1]
        assert (session_dir.stat().st_mode & 0o777) == 0o700
        ctx.close()   # the browser goes away: the session disconnects
    for _ in range(200):
        if not session_dir.exists():
            break
        time.sleep(0.1)
    assert not session_dir.exists(), list(session_dir.rglob("*"))
