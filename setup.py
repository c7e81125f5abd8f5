"""Packaging details pyproject.toml cannot say: the app's files travel with lt_core.

``pip install .`` installs

* ``lt_core`` (every subpackage) with its data ``lt_core/assets/*``;
* ``tailscope_app/``: ``app.py``, ``pages/*.py``, ``ui/*.py`` and ``.streamlit/config.toml``, so
  ``tailscope app`` runs the same app from any folder (Streamlit puts the app's folder on
  ``sys.path``, so ``ui`` is imported from there, not installed as a top-level package);
* the ``tailscope`` command (``[project.scripts]`` in pyproject.toml).
"""
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
APP_PACKAGE = "tailscope_app"


def app_files() -> list[str]:
    files = ["app.py", ".streamlit/config.toml"]
    for folder in ("pages", "ui"):
        files += sorted(str(p.relative_to(ROOT)) for p in (ROOT / folder).glob("*.py"))
    return [f for f in files if (ROOT / f).is_file()]


class BuildWithApp(build_py):
    """build_py, plus the app's files copied into ``tailscope_app/`` of the build."""

    def run(self):
        super().run()
        target = Path(self.build_lib) / APP_PACKAGE
        for rel in app_files():
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            self.copy_file(str(ROOT / rel), str(out))
        (target / "__init__.py").write_text('"""The Tailscope app (app.py, pages/, ui/): run it with `tailscope app`."""\n')


setup(
    packages=find_packages(include=["lt_core", "lt_core.*"]),
    package_data={"lt_core": ["assets/*"]},
    include_package_data=False,
    cmdclass={"build_py": BuildWithApp},
)
