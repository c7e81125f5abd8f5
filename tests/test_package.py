"""`pip install .` into a fresh venv, then the `tailscope` command from another folder.

The fresh venv gets no packages downloaded: the dependencies come from the test's own environment
through a ``.pth`` file, and Tailscope itself is installed with ``--no-deps --no-build-isolation
--no-index`` from a copy of the sources (so the checkout gets no build/ or egg-info folders).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
SOURCES = ["lt_core", "app.py", "pages", "ui", ".streamlit", "pyproject.toml", "setup.py", "README.md",
           "requirements.txt"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("pkg")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        p = ROOT / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif p.exists():
            shutil.copy2(p, src / name)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    vpy = venv / "bin" / "python"
    site = subprocess.run([str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # the dependencies (numpy, streamlit, torch, ..., pip and setuptools) of this environment, not downloaded
    Path(site, "_tailscope_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    r = subprocess.run([str(vpy), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                        str(src)], env=env, capture_output=True, text=True, cwd=base)
    assert r.returncode == 0, r.stdout + r.stderr
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return {"venv": venv, "site": Path(site), "env": env, "cwd": elsewhere}


def test_tailscope_eval_det_from_another_folder_equals_python_m_lt_core(installed, data_dir, tmp_path):
    d = data_dir / "coco_val2014_100"
    gt, dt = d / "instances_val2014_100.json.gz", d / "instances_val2014_fakebbox100_results.json.gz"
    exe = installed["venv"] / "bin" / "tailscope"
    assert exe.is_file()
    out = installed["cwd"] / "report.json"
    r = subprocess.run([str(exe), "eval-det", "--gt", str(gt), "--dt", str(dt), "--out", str(out)],
                       env=installed["env"], cwd=installed["cwd"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "AP50" in r.stdout
    ref = tmp_path / "ref.json"
    r2 = subprocess.run([sys.executable, "-m", "lt_core", "eval-det", "--gt", str(gt), "--dt", str(dt), "--out",
                         str(ref)], cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r2.returncode == 0, r2.stderr
    assert json.loads(out.read_text()) == json.loads(ref.read_text())
    # bad input: the same one-line message and exit code 2, named as the installed command
    r3 = subprocess.run([str(exe), "eval-det", "--gt", str(dt), "--dt", str(dt)], env=installed["env"],
                        cwd=installed["cwd"], capture_output=True, text=True)
    assert r3.returncode == 2 and r3.stderr.startswith("error: ") and "Traceback" not in r3.stderr
    r4 = subprocess.run([str(exe), "eval-det"], env=installed["env"], cwd=installed["cwd"], capture_output=True,
                        text=True)
    assert r4.returncode == 2 and "tailscope eval-det" in r4.stderr


def test_installed_lt_core_and_app_are_the_installed_copies(installed):
    vpy = installed["venv"] / "bin" / "python"
    code = textwrap.dedent("""
        import json, lt_core, lt_core.cli.app as A
        print(json.dumps({"lt_core": lt_core.__file__, "app": str(A.app_dir()),
                          "assets": sorted(p.name for p in __import__("pathlib").Path(lt_core.__file__).parent.joinpath("assets").iterdir())}))
    """)
    r = subprocess.run([str(vpy), "-c", code], env=installed["env"], cwd=installed["cwd"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["lt_core"].startswith(str(installed["site"]))
    app = Path(info["app"])
    assert app == installed["site"] / "tailscope_app"
    assert (app / "app.py").is_file() and (app / "ui" / "state.py").is_file() and (app / "pages" / "1_Data.py").is_file()
    assert (app / ".streamlit" / "config.toml").is_file()
    assert "goemotions_demo.npz" in info["assets"]
    # `tailscope app` runs that app with the app's own settings, from any folder
    r = subprocess.run([str(installed["venv"] / "bin" / "tailscope"), "app", "--print-command", "--workspace",
                        str(installed["cwd"] / "ws"), "--server.port", "8599"], env=installed["env"],
                       cwd=installed["cwd"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert f"run {app / 'app.py'}" in r.stdout and "--server.maxUploadSize=" in r.stdout
    assert r.stdout.rstrip().endswith(f"TAILSCOPE_WORKSPACE={installed['cwd'] / 'ws'}")
    assert "--server.port 8599" in r.stdout


def test_installed_app_runs_its_pages_from_another_folder(installed):
    """The installed app.py through streamlit.testing: its ui/ and pages/ import from the install."""
    vpy = installed["venv"] / "bin" / "python"
    app = installed["site"] / "tailscope_app" / "app.py"
    code = textwrap.dedent(f"""
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({str(app)!r}, default_timeout=180)
        init = PagesManager.__init__
        def patched(self, *a, **k):
            init(self, *a, **k)
            PagesManager.uses_pages_directory = False
        PagesManager.__init__ = patched
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        import sys
        ui = sys.modules["ui.state"].__file__
        print(at.title[0].value, ui)
    """)
    r = subprocess.run([str(vpy), "-c", code], env={**installed["env"], "TAILSCOPE_HOME": str(installed["cwd"])},
                       cwd=installed["cwd"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    title, ui = r.stdout.split()[-2:]
    assert title == "Data" and ui.startswith(str(installed["site"] / "tailscope_app"))
