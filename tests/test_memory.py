"""lt_core.memory: NumPy's huge-page requests are off in every Tailscope entry point, unless the user says."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = ("import sys; from lt_core.cli import main; from numpy._core.multiarray import _get_madvise_hugepage as g; "
         "before = g(); main(['info', sys.argv[1]]); print(before, g())")


def _probe(env_value: str | None, data_dir: Path) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("NUMPY_MADVISE_HUGEPAGE", None)
    if env_value is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = env_value
    f = data_dir / "places_lt" / "Places_LT_class_counts.csv"
    if not f.exists():  # pragma: no cover - the data folder layout
        pytest.skip("no Places-LT counts in tests/data")
    r = subprocess.run([sys.executable, "-c", PROBE, str(f)], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()[-2:]


def test_the_cli_turns_numpy_huge_page_requests_off(data_dir):
    before, after = _probe(None, data_dir)
    assert after == "False"


def test_a_users_numpy_madvise_hugepage_setting_wins(data_dir):
    assert _probe("1", data_dir) == ["True", "True"]
