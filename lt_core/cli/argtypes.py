"""argparse ``type=`` helpers: every numeric option is checked for its range when it is parsed.

A bad value is a one-line usage error naming the option (exit 2), before any file is read::

    error: python -m lt_core eval-cls: argument --seed: must be a whole number in [0, 4294967295], got '-1'

Use ``type=int_in(lo, hi)`` / ``type=float_in(lo, hi, ...)`` or the named ones below; the bounds are
stated in the message, so ``--help`` and the error agree.
"""
from __future__ import annotations

import argparse
import math
from typing import Callable

__all__ = ["int_in", "float_in", "SEED", "SEED_MAX", "POSITIVE_INT", "NONNEG_INT", "FINITE", "NONNEG", "POSITIVE",
           "PROBABILITY", "UNIT_OPEN", "MAX_COUNT", "Bounded"]

#: seeds are what ``numpy.random.default_rng`` / ``torch.manual_seed`` / scikit-learn all take
SEED_MAX = 2**32 - 1
#: the most rows / samples / resamples / epochs an option may ask for (an int64 list of this many
#: entries is 8 GB); larger values are refused with a message instead of failing on memory
MAX_COUNT = 1_000_000_000


def _fmt(x: float) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:,}" if isinstance(x, int) and abs(x) >= 100_000 else str(x)


class Bounded:
    """A callable argparse type with a readable name (argparse shows ``__name__`` on odd errors)."""

    def __init__(self, fn: Callable[[str], object], name: str, describe: str):
        self._fn, self.__name__, self.describe = fn, name, describe

    def __call__(self, text: str):
        return self._fn(text)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<{self.__name__}: {self.describe}>"


def int_in(lo: int | None = None, hi: int | None = None) -> Bounded:
    """A whole number in ``[lo, hi]`` (either bound may be None)."""
    if lo == 0 and hi == SEED_MAX:
        desc = "a whole number in [0, 2^32)"
    elif lo is not None and hi is not None:
        desc = f"a whole number in [{_fmt(lo)}, {_fmt(hi)}]"
    elif lo is not None:
        desc = f"a whole number >= {_fmt(lo)}"
    elif hi is not None:
        desc = f"a whole number <= {_fmt(hi)}"
    else:
        desc = "a whole number"

    def parse(text: str) -> int:
        t = str(text).strip().replace("_", "")
        try:
            v = int(t)
        except ValueError:
            try:
                f = float(t)
            except ValueError:
                f = None
            if f is not None and math.isfinite(f) and f.is_integer() and "." not in t and "e" in t.lower():
                v = int(f)  # 1e6 written for a million
            else:
                raise argparse.ArgumentTypeError(f"must be {desc}, got {text!r}") from None
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"must be {desc}, got {text!r}")
        return v

    return Bounded(parse, "int", desc)


def float_in(lo: float | None = None, hi: float | None = None, lo_open: bool = False,
             hi_open: bool = False) -> Bounded:
    """A finite number in the interval from ``lo`` to ``hi`` (closed unless ``*_open``)."""
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    if lo is not None and hi is not None:
        desc = f"a number in {left}{_fmt(lo)}, {_fmt(hi)}{right}"
    elif lo is not None:
        desc = f"a number {'>' if lo_open else '>='} {_fmt(lo)}"
    elif hi is not None:
        desc = f"a number {'<' if hi_open else '<='} {_fmt(hi)}"
    else:
        desc = "a finite number"

    def parse(text: str) -> float:
        try:
            v = float(str(text).strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {desc}, got {text!r}") from None
        if not math.isfinite(v):
            fin = "" if "finite" in desc else " (finite)"
            raise argparse.ArgumentTypeError(f"must be {desc}{fin}, got {text!r}")
        bad = ((lo is not None and (v < lo or (lo_open and v == lo)))
               or (hi is not None and (v > hi or (hi_open and v == hi))))
        if bad:
            raise argparse.ArgumentTypeError(f"must be {desc}, got {text!r}")
        return v

    return Bounded(parse, "float", desc)


SEED = int_in(0, SEED_MAX)
POSITIVE_INT = int_in(1, MAX_COUNT)
NONNEG_INT = int_in(0, MAX_COUNT)
FINITE = float_in()
NONNEG = float_in(0.0)
POSITIVE = float_in(0.0, lo_open=True)
PROBABILITY = float_in(0.0, 1.0)
UNIT_OPEN = float_in(0.0, 1.0, hi_open=True)
