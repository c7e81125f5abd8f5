"""The compiled-kernel switch: numba when it is installed and not disabled, else plain Python.

``TAILSCOPE_KERNELS=numpy`` (or :func:`set_backend` ``("numpy")``) selects the pure-NumPy
reference path of the evaluator (:mod:`lt_core.detection.matching` /
:mod:`~lt_core.detection.accumulate`); the tests compare both paths on random scenes.
numba is imported only when a kernel is first used (:mod:`lt_core.detection.kernels` is imported
lazily), so ``import lt_core.detection`` stays light. Kernels are compiled once and cached on disk
(``cache=True``, next to the sources or in ``NUMBA_CACHE_DIR``).

Start-up cost. A process that only runs cached kernels pays for ``import numba`` and for loading
each kernel; two of numba's habits make both dearer than they need to be, and
:func:`import_numba` / :func:`light_loading` avoid them without changing any compiled code:

* ``import numba`` imports SciPy (only to check its version) and PyYAML (only to read a
  ``.numba_config.yaml`` in the working directory). Neither is imported for it here when it is
  not already loaded (PyYAML still is where such a file exists).
* Loading an overload from the disk cache first calls ``target_context.refresh()``, which
  imports and registers every typing and lowering registry of numba (``numba.np.linalg``, which
  imports ``scipy.linalg``, ``numba.typed``, ``numba.np.random``...): the registries are used
  to *compile*, not to run machine code that is already compiled. :func:`light_loading` makes
  the kernels' cache load only initialise numba's runtime (NRT, which the compiled wrappers
  call); on a cache miss numba's compiler refreshes the contexts itself, as always.
"""
from __future__ import annotations

import os
import sys

__all__ = ["backend", "set_backend", "use_kernels", "import_numba", "light_loading", "kernel"]

_BACKEND = os.environ.get("TAILSCOPE_KERNELS", "numba").strip().lower() or "numba"
_NUMBA = None  # None: not tried; False: not importable; else the module


def backend() -> str:
    """``"numba"`` (compiled kernels) or ``"numpy"`` (the vectorised reference path)."""
    return _BACKEND


def set_backend(name: str) -> str:
    """Select ``"numba"`` or ``"numpy"``; returns the previous backend."""
    global _BACKEND
    if name not in ("numba", "numpy"):
        raise ValueError("backend must be 'numba' or 'numpy'")
    old, _BACKEND = _BACKEND, name
    return old


def use_kernels() -> bool:
    """True when the compiled kernels are selected and numba is installed (it is imported only
    when a kernel has no native record, see :func:`kernel`)."""
    if _BACKEND != "numba":
        return False
    global _HAVE_NUMBA
    if _HAVE_NUMBA is None:
        if _NUMBA is not None:
            _HAVE_NUMBA = bool(_NUMBA)
        else:
            import importlib.util
            _HAVE_NUMBA = importlib.util.find_spec("numba") is not None
    return _HAVE_NUMBA


_HAVE_NUMBA = None
_KERNELS: dict = {}


def kernel(name: str):
    """The compiled kernel ``name`` of :mod:`lt_core.detection.kernels`, callable with its
    arguments: the native record of its machine code for these argument types when there is one
    (:mod:`lt_core.detection._native`: numba is not imported), else numba's dispatcher (which
    compiles or loads it; its object code is then recorded for the next process)."""
    k = _KERNELS.get(name)
    if k is None:
        k = _KERNELS[name] = _Kernel(name)
    return k


class _Kernel:
    __slots__ = ("name", "_disp")

    def __init__(self, name: str):
        self.name = name
        self._disp = None

    def dispatcher(self):
        """numba's dispatcher of the kernel (imports numba)."""
        if self._disp is None:
            from . import kernels
            self._disp = getattr(kernels, self.name)
        return self._disp

    @property
    def py_func(self):
        return self.dispatcher().py_func

    def __call__(self, *args):
        from . import _native
        native = _native.enabled()
        if native:
            f = _native.lookup(self.name, args)
            if f is not None:
                try:
                    return f(*args)
                except _native.NativeFailed:  # numba's dispatcher computes it (or raises numba's error)
                    pass
        disp = self.dispatcher()
        out = disp(*args)
        if native:
            _native.record(self.name, disp, args)
        return out


class _SkipImports:
    """A ``sys.meta_path`` finder that makes the named top-level packages unimportable."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ImportError(f"{name} is not imported while numba starts (lt_core.detection._jit)")
        return None


def import_numba():
    """``import numba`` without importing SciPy / PyYAML for it (see the module docstring).

    Returns the module, or None when numba is not installed. The import blocker is in place only
    while numba's own modules are imported and is removed right after; SciPy imports normally
    afterwards (numba's linear algebra, compiled later, finds it then).
    """
    global _NUMBA
    if _NUMBA is not None:
        return _NUMBA or None
    if "numba" in sys.modules:
        import numba
        _NUMBA = numba
        return numba
    skip = [m for m in ("scipy", "yaml") if m not in sys.modules]
    if "yaml" in skip and os.path.isfile(".numba_config.yaml"):
        skip.remove("yaml")  # numba reads that file with PyYAML
    blocker = _SkipImports(skip)
    sys.meta_path.insert(0, blocker)
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a pinned requirement
        _NUMBA = False
        return None
    finally:
        sys.meta_path.remove(blocker)
    _NUMBA = numba
    return numba


class _LightCache:
    """Wraps a dispatcher's ``FunctionCache``: loading initialises only numba's runtime."""

    def __init__(self, cache):
        self._cache = cache

    def __getattr__(self, name):
        if name == "_cache":  # not set yet (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self._cache, name)

    def load_overload(self, sig, target_context):
        from numba.core.runtime import rtsys

        rtsys.initialize(target_context)  # the compiled wrappers call the NRT's C helpers
        with self._cache._guard_against_spurious_io_errors():
            return self._cache._load_overload(sig, target_context)


def light_loading(dispatcher):
    """Make ``dispatcher`` (an ``@njit(cache=True)`` function) load from the disk cache without
    refreshing numba's typing / lowering registries; returns it.

    Only the cache load changes: a cache miss compiles as usual (numba's compiler refreshes the
    contexts, and numba's extension entry points are initialised first).
    """
    cache = getattr(dispatcher, "_cache", None)
    if cache is None or not hasattr(cache, "_load_overload") or isinstance(cache, _LightCache):
        return dispatcher
    dispatcher._cache = _LightCache(cache)
    # numba runs its extension entry points before typing the arguments of a first call; they can
    # only matter to a compilation, so they run just before one
    compiler = dispatcher._compiler
    compile_fn = compiler.compile

    def compile_with_entrypoints(args, return_type, _compile=compile_fn):
        from numba.core import entrypoints

        entrypoints.init_all()
        return _compile(args, return_type)

    compiler.compile = compile_with_entrypoints
    dispatcher._compilation_chain_init_hook = _no_hook
    return dispatcher


def _no_hook():
    return None
