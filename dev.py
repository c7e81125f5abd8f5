#!/usr/bin/env python3
"""Set-up and run Tailscope with nothing but Python 3.11 and pip.

    python3 dev.py app     # install what is needed, start the app on the built-in demo
    python3 dev.py test    # install what the tests need, run the whole suite

Everything goes into ./.venv (created on first use, re-installed when a requirements file
changes). Extra arguments go to the app (``--workspace DIR``, streamlit options such as
``--server.port 8502``) / pytest, e.g. ``python3 dev.py test -k loaders``.
The app listens on 127.0.0.1 only unless given ``--server.address`` (README.md, "Safety").
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def sh(*cmd, **kw) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)


def ensure_venv(dev: bool) -> None:
    if sys.version_info < (3, 10):
        sys.exit("Tailscope needs Python >= 3.10 (3.11 recommended)")
    if not PY.exists():
        sh(sys.executable, "-m", "venv", VENV)
    reqs = ["requirements.txt"] + (["requirements-dev.txt"] if dev else [])
    digest = hashlib.sha256(b"".join((ROOT / r).read_bytes() for r in reqs)).hexdigest()
    stamp = VENV / f".installed-{'dev' if dev else 'app'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    sh(PY, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--upgrade", "pip")
    args = [a for r in reqs for a in ("-r", r)]
    sh(PY, "-m", "pip", "install", "--disable-pip-version-check", "-q", *args)
    stamp.write_text(digest)


def ensure_chromium() -> None:
    """The browser tests drive Debian's chromium with Playwright (never a downloaded browser)."""
    if os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser"):
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        sh("apt-get", "update", "-qq")
        sh("apt-get", "install", "-y", "-qq", "chromium")
    else:
        print("note: no chromium found and cannot install it (needs root + apt-get); browser tests will be skipped",
              flush=True)


def app_args(rest: list[str]) -> list[str]:
    """streamlit options for ``dev.py app``: bound to 127.0.0.1 unless the user asks otherwise.

    The server reads files on this machine, so it only listens on the loopback interface by
    default (also set in .streamlit/config.toml, which Streamlit reads from the working folder:
    ``main`` runs from the repository root). To open it to a network deliberately, pass
    ``--server.address 0.0.0.0`` (see README.md, "Safety").
    """
    given = any(a == "--server.address" or a.startswith("--server.address=") for a in rest)
    return ([] if given else ["--server.address", "127.0.0.1"]) + list(rest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("app", "test"):
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    os.chdir(ROOT)  # Streamlit reads .streamlit/config.toml from the working folder
    if cmd == "app":
        ensure_venv(dev=False)
        # `tailscope app` of this checkout: the app's settings, every page routed by app.py from the start
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
        os.execve(str(PY), [str(PY), "-m", "lt_core", "app", *app_args(rest)], env)
    ensure_venv(dev=True)
    ensure_chromium()
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    return subprocess.run([str(PY), "-m", "pytest", *rest], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
