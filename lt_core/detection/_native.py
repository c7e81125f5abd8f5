"""The kernels' machine code without importing numba.

numba compiles the kernels of :mod:`lt_core.detection.kernels` once and caches their object code
on disk; to run them a process still pays for ``import numba`` (about 300 modules) and for
rebuilding numba's view of every cached function (0.2-0.3 s together: a third of an ``eval-det``
run on 2,000 LVIS images, more than any single step of the evaluation). This module keeps a
second, plain copy of the same object code per kernel and argument types (recorded from numba's
cache right after numba ran the kernel) and runs it through llvmlite's MCJIT (the loader numba
itself uses) and ``ctypes``; the machine code is byte for byte the one numba would run.

What a call does instead of numba's dispatcher: arrays are passed as numba's native function
receives them (the fields of its array structure; no reference count: the kernels allocate
nothing and return only numbers), scalars as themselves; the status and return values are read
back as numba's calling convention writes them. A kernel is recorded only when every symbol that
it (and what it calls) refers to is in the process (libpython / libc: so not a kernel that
allocates arrays or raises) — save numba's destructor call of a reference count that falls to
zero, never reached for arrays without a count — symbols that only numba's Python / C wrappers
in the object refer to being bound to ``abort`` when numba is not loaded (never reached), and
only for argument and return types this module can pass (arrays, integers, floats, booleans; numbers or tuples of them). Each
record is valid for one ``kernels.py`` (its bytes), numba and llvmlite install, Python version
and CPU; anything else — or ``TAILSCOPE_NATIVE=0`` — runs numba's dispatcher (and records).

Robustness: a record is only an optimisation. Whatever goes wrong with one — no llvmlite, a
missing, truncated or damaged file (its size and SHA-256 are checked), a record of another
``kernels.py``, numba / llvmlite version, Python, CPU or ``NUMBA_*`` setting (the stamp), a
folder that cannot be written, arguments ctypes cannot convert, a kernel that reports an error
— the call goes to numba's dispatcher, which computes the same numbers (or raises numba's
exception) and records again. A record is written whole, to a temporary file renamed into
place, so processes writing the same record at once leave one complete file; it is taken only
when numba's cache entry was compiled from the very bytes of ``kernels.py`` that the stamp hashes.

Files: ``<kernel>.<argument types>.<stamp>.native`` (a JSON header line, then the object code)
in ``TAILSCOPE_NATIVE_DIR`` when set, else ``NUMBA_CACHE_DIR/tailscope`` when that is set, else
``__pycache__/native`` next to this module when writable, else ``~/.cache/tailscope/native``.
Records of other stamps older than a day are removed when a record is written; the folder can
be deleted at any time.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import struct
import sys
import threading
from pathlib import Path

import numpy as np

__all__ = ["enabled", "lookup", "record", "cache_dir", "NativeFailed"]

_FORMAT = 1
_LOCK = threading.RLock()
_MISSING = object()
_ENTRIES: dict = {}       # (name, key) -> callable or None
_RECORDED: set = set()
_STAMP: list = []        # [stamp, numba source stamps of the hashed kernels.py: digest, (mtime, size)]
_LL: list = []            # [llvmlite.binding, abort address] once initialised
#: reached only when a reference count falls to zero: never, for the arrays passed here (no count)
_NO_COUNT = frozenset({"NRT_MemInfo_call_dtor"})
_CTYPES = {"ptr": ctypes.c_void_p, "i64": ctypes.c_int64, "i32": ctypes.c_int32, "i16": ctypes.c_int16,
           "i8": ctypes.c_int8, "i1": ctypes.c_bool, "double": ctypes.c_double, "float": ctypes.c_float}


class NativeFailed(Exception):
    """A native call that did not run (arguments ctypes cannot convert) or whose kernel reported
    an error: the caller runs numba's dispatcher instead (:func:`lt_core.detection._jit.kernel`)."""


def enabled() -> bool:
    """False with ``TAILSCOPE_NATIVE=0`` or ``NUMBA_DISABLE_JIT=1``."""
    return os.environ.get("TAILSCOPE_NATIVE", "1").strip() != "0" and \
        os.environ.get("NUMBA_DISABLE_JIT", "0").strip() in ("", "0")


def cache_dir() -> Path:
    """Where the records are kept (see the module docstring; ``TAILSCOPE_NATIVE_DIR`` overrides)."""
    own = os.environ.get("TAILSCOPE_NATIVE_DIR")
    if own:
        return Path(own)
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        return Path(env) / "tailscope"
    here = Path(__file__).resolve().parent / "__pycache__"
    if os.access(here if here.exists() else here.parent, os.W_OK):
        return here / "native"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tailscope" / "native"


def _arg_key(a) -> str | None:
    """A string naming the numba type ``a`` gets (None: not passed natively)."""
    if isinstance(a, np.ndarray):
        layout = "C" if a.flags.c_contiguous else ("F" if a.flags.f_contiguous else "A")
        return f"a{a.dtype.str}{a.ndim}{layout}{'w' if a.flags.writeable else 'r'}"
    if isinstance(a, (bool, np.bool_)):
        return "b"
    if type(a) is int:
        return "i" if -2 ** 63 <= a < 2 ** 63 else None
    if type(a) is float:
        return "f"
    if isinstance(a, (np.integer, np.floating)):
        return "s" + a.dtype.str
    return None


def _key(args) -> str | None:
    parts = [_arg_key(a) for a in args]
    return None if None in parts else ",".join(parts)


def _file(name: str, key: str) -> Path:
    return cache_dir() / f"{name}.{hashlib.sha1(key.encode()).hexdigest()[:20]}.{_stamp()[:16]}.native"


def _stamp() -> str:
    """What a record is valid for: kernels.py's bytes, numba / llvmlite installs (version files,
    paths, sizes, times), Python, CPU and the ``NUMBA_*`` settings that change the code."""
    if not _STAMP:
        import importlib.util

        src = Path(__file__).resolve().parent / "kernels.py"
        for _ in range(5):  # the bytes hashed are those of one version of the file (not one being written)
            st0 = os.stat(src)
            code = src.read_bytes()
            st1 = os.stat(src)
            if (st0.st_mtime_ns, st0.st_size) == (st1.st_mtime_ns, st1.st_size) and st1.st_size == len(code):
                break
        else:
            raise OSError(f"{src} keeps changing")
        digest = hashlib.sha256(code).digest()
        h = hashlib.sha256(digest)
        for mod in ("numba", "llvmlite"):
            spec = importlib.util.find_spec(mod)
            origin = spec.origin if spec is not None else None
            st = os.stat(origin) if origin else None
            h.update(f"{mod}:{origin}:{st.st_size if st else 0}:{st.st_mtime_ns if st else 0}".encode())
            version = Path(origin).with_name("_version.py") if origin else None
            if version is not None and version.is_file():
                h.update(version.read_bytes())
        h.update(sys.version.encode())
        for var in ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES", "NUMBA_OPT", "NUMBA_BOUNDSCHECK", "NUMBA_FASTMATH",
                    "NUMBA_LOOP_VECTORIZE", "NUMBA_SLP_VECTORIZE"):
            h.update(f"{var}={os.environ.get(var, '')}".encode())
        ll = _llvm()[0]
        h.update(ll.get_host_cpu_name().encode())
        h.update(ll.get_host_cpu_features().flatten().encode())
        _STAMP.extend([h.hexdigest(), (digest, (st1.st_mtime, st1.st_size))])
    return _STAMP[0]


def _llvm():
    if not _LL:
        import llvmlite.binding as ll

        ll.initialize_native_target()
        ll.initialize_native_asmprinter()
        abort = ctypes.cast(ctypes.CDLL(None).abort, ctypes.c_void_p).value
        _LL.extend([ll, abort])
    return _LL


def _process_symbol(name: str) -> int | None:
    try:
        return ctypes.cast(getattr(ctypes.CDLL(None), name), ctypes.c_void_p).value
    except (AttributeError, ValueError):
        return None


def lookup(name: str, args):
    """The native version of kernel ``name`` for these arguments' types, or None."""
    key = _key(args)
    if key is None:
        return None
    ent = _ENTRIES.get((name, key), _MISSING)
    if ent is _MISSING:
        with _LOCK:
            ent = _ENTRIES.get((name, key), _MISSING)
            if ent is _MISSING:
                try:
                    ent = _load(name, key)
                except Exception:  # a damaged or foreign record: numba's dispatcher runs
                    ent = None
                _ENTRIES[(name, key)] = ent
    return ent


def _load(name: str, key: str):
    path = _file(name, key)
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    head, _, obj = raw.partition(b"\n")
    h = json.loads(head)
    if h.get("format") != _FORMAT or h.get("name") != name or h.get("key") != key or h.get("stamp") != _stamp():
        return None
    if len(obj) != h["size"] or hashlib.sha256(obj).hexdigest() != h["sha256"]:
        return None
    ll, abort = _llvm()
    for sym in h["symbols"] + h["wrapper_symbols"]:
        if ll.address_of_symbol(sym):  # registered already (numba's runtime, when numba is loaded)
            continue
        addr = _process_symbol(sym)
        if addr is None:
            if sym in h["symbols"] and sym not in _NO_COUNT:
                return None
            # only numba's wrappers in the object call these (never reached from the kernel);
            # numba registers its own functions under these names if it loads later (and wins)
            addr = abort
        ll.add_symbol(sym, addr)
    target = ll.Target.from_default_triple()
    tm = target.create_target_machine(codemodel="jitdefault", jit=True)
    engine = ll.create_mcjit_compiler(ll.parse_assembly(""), tm)
    engine.add_object_file(ll.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    addr = engine.get_function_address(h["function"])
    if not addr:
        return None
    cfunc = ctypes.CFUNCTYPE(ctypes.c_int32, *[_CTYPES[t] for t in h["llvm_args"]])(addr)
    return _caller(name, cfunc, h["args"], h["ret"], engine)


def _caller(name, cfunc, arg_kinds, ret, engine):
    fmt = "=" + ret.lstrip("T")
    ret_size = struct.calcsize(fmt)
    n_ret = max(ret_size // 8, 1)
    is_tuple = ret.startswith("T")

    def call(*args):
        flat = []
        for a, kind in zip(args, arg_kinds):
            if kind == "A":
                flat += [None, None, a.size, a.itemsize, a.ctypes.data, *a.shape, *a.strides]
            else:
                flat.append(a)
        out = (ctypes.c_int64 * n_ret)()
        exc = ctypes.c_void_p()
        try:
            status = cfunc(ctypes.byref(out), ctypes.byref(exc), *flat)
        except ctypes.ArgumentError as e:  # converted before the call: nothing ran
            raise NativeFailed(f"{name}: {e}") from None
        if status not in (0, -2):  # numba's RETCODE_OK / RETCODE_NONE: numba raises the exception
            raise NativeFailed(f"compiled kernel {name} reported status {status}")
        if not ret:
            return None
        vals = struct.unpack(fmt, bytes(out)[:ret_size])
        return vals if is_tuple else vals[0]

    call.engine = engine  # keeps the machine code mapped
    call.__name__ = f"native_{name}"
    return call


def _numba_kind(t):
    """How an argument of numba type ``t`` is passed: "A" (array fields) or a scalar kind; None."""
    from numba.core import types

    if isinstance(t, types.Array):
        return "A", 5 + 2 * t.ndim
    if isinstance(t, (types.Integer, types.Float, types.Boolean)):
        return "S", 1
    return None, 0


def _ret_format(t) -> str | None:
    """struct format of a return type (numbers or a tuple of 64-bit numbers); None otherwise."""
    from numba.core import types

    if t == types.none:
        return ""
    if isinstance(t, types.Integer) and t.bitwidth == 64:
        return "q" if t.signed else "Q"
    if t == types.float64:
        return "d"
    if isinstance(t, types.BaseTuple) and len(t) > 0:
        parts = [_ret_format(x) for x in t]
        if all(p in ("q", "Q", "d") for p in parts):
            return "T" + "".join(parts)  # T: a tuple
    return None


def _symbols(mod, entry: str) -> tuple[list, list]:
    """External symbols of an object's module: those the function ``entry`` (and what it calls)
    refers to, and those only the rest (numba's Python / C wrappers) refers to."""
    import re

    ref = re.compile(r'@(?:"([^"]+)"|([-A-Za-z$._0-9]+))')
    defined = {f.name: f for f in mod.functions if not f.is_declaration}
    external = {f.name for f in mod.functions if f.is_declaration and not f.name.startswith("llvm.")} | \
        {g.name for g in mod.global_variables if g.is_declaration}
    refs = {}
    for fname, f in defined.items():
        refs[fname] = {a or b for a, b in ref.findall(str(f))}
    reach, todo = set(), [entry]
    while todo:
        f = todo.pop()
        if f in reach or f not in defined:
            continue
        reach.add(f)
        todo.extend(r for r in refs[f] if r in defined and r not in reach)
    needed = set()
    for f in reach:
        needed |= refs[f] & external
    return sorted(needed), sorted(external - needed)


def record(name: str, disp, args) -> None:
    """Copy the object code numba just ran for ``name`` with these arguments into the native
    cache (once per process and argument types); never raises."""
    key = _key(args)
    if key is None or (name, key) in _RECORDED:
        return
    with _LOCK:
        if (name, key) in _RECORDED:
            return
        _RECORDED.add((name, key))
        try:
            _record(name, disp, args, key)
        except Exception:  # the cache is an optimisation: never a failure of the evaluation
            pass


def _record(name, disp, args, key):
    from numba.core.registry import cpu_target

    argtypes = tuple(disp.typeof_pyval(a) for a in args)
    if argtypes not in disp.overloads:
        return
    cache = disp._cache
    cache = getattr(cache, "_cache", cache)  # _jit.light_loading wraps numba's FunctionCache
    if not hasattr(cache, "_cache_file"):
        return
    _stamp()
    digest, stat = _STAMP[1]
    if getattr(cache._cache_file, "_source_stamp", None) not in (digest, stat):
        return  # numba's entries are of another version of kernels.py than the one hashed
    data = cache._cache_file.load(cache._index_key(argtypes, cpu_target.target_context.codegen()))
    if data is None:
        return
    (lib_name, kind, payload), fndesc = data[0], data[1]
    if kind != "object":
        return
    obj, bitcode = payload
    kinds = [_numba_kind(t) for t in fndesc.argtypes]
    ret = _ret_format(fndesc.restype)
    if ret is None or any(k is None for k, _ in kinds):
        return
    ll = _llvm()[0]
    mod = ll.parse_bitcode(bitcode)
    fn = mod.get_function(fndesc.llvm_func_name)
    llvm_args = [str(a.type) for a in fn.arguments]
    if len(llvm_args) != 2 + sum(n for _, n in kinds) or any(t not in _CTYPES for t in llvm_args):
        return
    needed, wrapper_only = _symbols(mod, fndesc.llvm_func_name)
    if any(_process_symbol(s) is None and s not in _NO_COUNT for s in needed):
        return  # the kernel itself needs numba's runtime (e.g. it allocates arrays): numba only
    head = {"format": _FORMAT, "name": name, "key": key, "stamp": _stamp(), "function": fndesc.llvm_func_name,
            "llvm_args": llvm_args, "args": [k for k, _ in kinds], "ret": ret, "symbols": needed,
            "wrapper_symbols": wrapper_only, "size": len(obj), "sha256": hashlib.sha256(obj).hexdigest()}
    path = _file(name, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(json.dumps(head).encode() + b"\n" + obj)
        os.replace(tmp, path)  # atomic: readers see no record or a whole one
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    _prune(path)


def _prune(path: Path, age_s: float = 86400.0) -> None:
    """Remove records of the same kernel and argument types for other stamps, older than a day
    (another ``kernels.py`` or install; a day: two checkouts sharing a folder keep theirs)."""
    import time

    stem = path.name.rsplit(".", 2)[0]  # <kernel>.<argument types>
    now = time.time()
    for other in [*path.parent.glob(f"{stem}.*.native"), path.parent / f"{stem}.native"]:  # (format 1 names)
        if other.name == path.name:
            continue
        try:
            if other.exists() and now - other.stat().st_mtime > age_s:
                other.unlink()
        except OSError:
            pass
