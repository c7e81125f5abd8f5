"""``tailscope app``: start the Tailscope app (Streamlit), from any folder."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError

NAME = "app"
HELP = "start the Tailscope app in the browser (Streamlit), optionally on a workspace folder"
DESCRIPTION = """Start the Tailscope app (http://localhost:8501 by default).

The app is the one installed with Tailscope (or the one of this source checkout); its own
Streamlit settings (.streamlit/config.toml) apply from whatever folder you start it in.
--workspace DIR keeps everything you load and make in DIR (created if new; an existing folder
must be empty or a Tailscope workspace) and reopens it in every new browser session; without it
workspaces live under ~/.tailscope/workspaces ($TAILSCOPE_HOME/workspaces) and the sidebar lists
them. Other options (e.g. --server.port 8502) go to `streamlit run`.

example:
  tailscope app --workspace ~/lt/places-lt --server.port 8502"""
#: main() passes options this module does not know on to run() as ``args.extra``
ACCEPTS_EXTRA = True


def add_arguments(p) -> None:
    p.add_argument("--workspace", metavar="DIR",
                   help="keep the session's data in this workspace folder and reopen it in every new session")
    p.add_argument("--print-command", action="store_true",
                   help="print the streamlit command (and the workspace) instead of starting the app")


def app_dir() -> Path:
    """The folder holding ``app.py``, ``pages/``, ``ui/`` and ``.streamlit/config.toml``.

    The source checkout next to this ``lt_core`` when there is one, else the installed
    ``tailscope_app`` package (see ``pyproject.toml`` / ``setup.py``).
    """
    import importlib.util

    here = Path(__file__).resolve().parents[2]
    if (here / "app.py").is_file() and (here / "ui" / "state.py").is_file():
        return here
    spec = importlib.util.find_spec("tailscope_app")
    if spec is not None and spec.submodule_search_locations:
        d = Path(list(spec.submodule_search_locations)[0])
        if (d / "app.py").is_file():
            return d
    raise InputError("the app files are not installed next to lt_core", str(here),
                     hint="reinstall Tailscope (pip install .) or run from the source checkout")


def config_flags(folder: Path) -> list[str]:
    """``--section.key=value`` flags for every setting of ``folder/.streamlit/config.toml``."""
    cfg = folder / ".streamlit" / "config.toml"
    if not cfg.is_file():
        return []
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        return []
    data = tomllib.loads(cfg.read_text(encoding="utf-8"))
    flags = []
    for section, values in data.items():
        if not isinstance(values, dict):
            continue
        for key, v in values.items():
            if isinstance(v, (dict, list)):
                continue
            val = str(v).lower() if isinstance(v, bool) else str(v)
            flags.append(f"--{section}.{key}={val}")
    return flags


def _check_workspace(path: str | None) -> Path | None:
    if not path:
        return None
    p = Path(os.path.expanduser(path)).resolve()
    if p.exists() and not p.is_dir():
        raise InputError("is a file; a workspace is a folder", str(path), "--workspace",
                         hint="give a new or empty folder, or a Tailscope workspace")
    if p.is_dir() and any(p.iterdir()) and not (p / "manifest.json").is_file():
        raise InputError("exists and holds other files but no Tailscope manifest", str(path), "--workspace",
                         hint="give a new or empty folder, or a folder Tailscope made")
    p.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(p.parent, os.W_OK):
        raise InputError(f"the folder '{p.parent}' is not writable", str(path), "--workspace")
    return p


def streamlit_argv(args) -> list[str]:
    """The ``streamlit`` arguments: run APP, the app's config as flags, then the user's own options."""
    folder = app_dir()
    extra = list(getattr(args, "extra", []) or [])
    return ["run", str(folder / "app.py"), *config_flags(folder), *extra]


def run(args) -> int:
    ws = _check_workspace(args.workspace)
    argv = streamlit_argv(args)
    if ws is not None:
        os.environ["TAILSCOPE_WORKSPACE"] = str(ws)
    if args.print_command:
        print("streamlit " + " ".join(argv))
        if ws is not None:
            print(f"TAILSCOPE_WORKSPACE={ws}")
        return 0
    # route every page through app.py's st.navigation from the first session on (without this,
    # Streamlit starts in its legacy pages/ folder mode until app.py first runs)
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli as stcli

    PagesManager.uses_pages_directory = False
    return int(stcli.main(args=argv, prog_name="streamlit", standalone_mode=False) or 0)


def io_paths(args):
    from ..io import IOPaths

    # the workspace is read and written by the app itself (atomically, lt_core.workspace); no other output
    return IOPaths(inputs={"--workspace": args.workspace})
